"""`rescore` of a `scan --checks` raw record judges with the checks that scan ran: judging with
every check made each unselected check find its output missing, and its controls turned from
not_assessed into no_visibility on rescore."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli.main import main

LOCAL = Path(__file__).resolve().parents[2] / "inventories" / "local.yml"
ONE = "patch_os.linux_os_support"


def outcomes(results: Path) -> dict[tuple[str, str], str]:
    data = json.loads(results.read_text())
    return {
        (h["name"], f"{c['strategy']} {c['ism']}"): c["outcome"]
        for h in data["hosts"]
        for c in h["controls"]
    }


def test_a_rescore_keeps_the_scans_check_selection(tmp_path: Path) -> None:
    runner = CliRunner()
    scan = runner.invoke(
        main,
        ["scan", "-i", str(LOCAL), "--checks", ONE, "--no-history", "-q"]
        + ["--out", str(tmp_path / "scan")],
    )
    assert scan.exit_code in (0, 3, 4), scan.output
    assert [
        c["id"] for c in json.loads((tmp_path / "scan" / "raw.json").read_text())["run"]["checks"]
    ] == [ONE]
    again = runner.invoke(
        main, ["rescore", str(tmp_path / "scan" / "raw.json"), "--out", str(tmp_path / "re"), "-q"]
    )
    assert again.exit_code == scan.exit_code, again.output
    before, after = (
        outcomes(tmp_path / "scan" / "results.json"),
        outcomes(tmp_path / "re" / "results.json"),
    )
    assert after == before
    # the check did judge something (ISM-1702, another check's, was the control that changed)
    assert any(o != "not_assessed" for o in before.values())
