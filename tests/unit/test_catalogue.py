"""The generated catalogue is current, and every check documents itself."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.checking.loader import load_checks
from scanner.cli.main import main
from scanner.report.catalogue import catalogue_md

ROOT = Path(__file__).resolve().parents[2]


def test_docs_checks_md_is_current() -> None:
    on_disk = (ROOT / "docs" / "checks.md").read_text()
    assert on_disk == catalogue_md(load_checks()), "docs/checks.md is stale: run `make catalogue`"


def test_every_check_is_documented_in_the_catalogue() -> None:
    md = catalogue_md(load_checks())
    for c in load_checks():
        assert f"### {c.id}" in md
        assert c.doc and c.doc.splitlines()[0] in md
        for i in c.ism:
            assert f"**{i}**" in md


def test_checks_list_formats() -> None:
    runner = CliRunner()
    table = runner.invoke(main, ["checks", "list"])
    assert table.exit_code == 0
    assert "patch_os.linux_os_support" in table.output
    data = json.loads(runner.invoke(main, ["checks", "list", "--format", "json"]).output)
    ids = [c["id"] for c in data]
    assert ids == sorted(ids) and len(ids) == len(load_checks())
    first = data[0]
    assert {"id", "strategy", "ism", "levels", "platforms", "commands", "doc", "version"} <= set(
        first
    )


def test_the_catalogue_says_which_commands_each_verdict_rests_on() -> None:
    from scanner.checking.loader import load_checks
    from scanner.report.catalogue import catalogue_json

    entries = {e["id"]: e for e in json.loads(catalogue_json(load_checks()))}
    ssh = entries["mfa.linux_ssh_mfa"]
    assert set(ssh["rests_on"]) == set(ssh["ism"])
    for groups in ssh["rests_on"].values():
        assert groups and all(set(g) <= set(ssh["commands"]) for g in groups)
    # A declared fallback shows as one group of alternatives.
    wos = entries["patch_os.windows_os_support"]["rests_on"]
    assert any(len(g) == 2 for groups in wos.values() for g in groups)


def test_the_catalogue_says_what_each_linux_command_costs_the_host() -> None:
    from scanner.checking.loader import command_costs

    costs = command_costs()
    assert costs.measured and costs.resolution_ms > 0  # checks/command_costs.json, by make bench
    checks = load_checks()
    linux = [c for c in checks if any(p.value == "linux" for p in c.platforms)]
    unmeasured = [
        f"{c.id}:{k}" for c in linux for k, cmd in c.collect.items() if cmd.line not in costs.ms
    ]
    assert unmeasured == [], "re-run tests/bench/bench_target.py --write-costs"
    md = catalogue_md(checks)
    apt = next(c for c in checks if c.id == "patch_os.linux_pending_updates")
    apt_ms = costs.ms[apt.collect["apt_upgrade"].line]
    assert apt_ms > 500  # a real simulation against real package lists
    assert f"`apt_upgrade` (target CPU {apt_ms:,.0f} ms):" in md
    row = next(ln for ln in md.splitlines() if ln.startswith(f"| [`{apt.id}`]"))
    total = sum(costs.ms[cmd.line] for cmd in apt.collect.values())
    assert f"| {total:,.0f} ms |" in row
    windows = next(c for c in checks if c.id == "patch_os.windows_updates")
    assert "| - |" in next(ln for ln in md.splitlines() if ln.startswith(f"| [`{windows.id}`]"))


def test_a_broken_costs_file_is_one_line_naming_it(tmp_path: Path) -> None:
    import sys

    import pytest

    from scanner.checking.loader import CheckLoadError, command_costs

    pkg = tmp_path / "e8costs_broken"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "command_costs.json").write_text('{"measured": {}, "commands": {}}')
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(CheckLoadError, match=r"^check package e8costs_broken: command_costs"):
            command_costs(("e8costs_broken",))
    finally:
        sys.path.remove(str(tmp_path))
