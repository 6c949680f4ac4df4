"""Re-record the command text in check fixtures after a reviewed change to a declared command.

``python -m tests.checks.rerecord [CHECK_ID ...]`` rewrites each fixture's ``outputs.<name>.command``
to what the check now declares. Use it only when the output a host prints is unchanged (quoting,
a command moved into a fact); a change of output needs new recordings instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scanner.checking.loader import load_checks
from scanner.inventory.profile import parse_profile
from scanner.model.vocabulary import Platform

FIXTURES = Path(__file__).parent


def main(only: set[str]) -> None:
    checks = {c.id: c for c in load_checks()}
    for path in sorted(FIXTURES.glob("*/*.json")):
        check = checks.get(path.parent.name)
        if check is None or (only and check.id not in only):
            continue
        fixture = json.loads(path.read_text(encoding="utf-8"))
        ps = Platform.WINDOWS in check.platforms and Platform.LINUX not in check.platforms
        changed = False
        for name, cmd in check.collect.items():
            recorded = fixture["outputs"].get(name)
            if recorded is not None and recorded["command"] != (
                now := cmd.render(parse_profile(fixture.get("vars", {}), lambda name: name), ps)
            ):
                recorded["command"], changed = now, True
        if changed:
            path.write_text(
                json.dumps(fixture, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            print("re-recorded", path)


if __name__ == "__main__":
    main(set(sys.argv[1:]))
