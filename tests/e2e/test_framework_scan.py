"""``e8scan scan --framework FILE`` end to end: this machine (the ``local`` connection of
``make demo``) scanned and scored against a made-up two-level framework, with no code change."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from openpyxl import load_workbook

from tests.unit.test_cli_errors import E8SCAN

ROOT = Path(__file__).resolve().parents[2]
TWO = ROOT / "tests" / "data" / "frameworks" / "two-level" / "two-level.yml"


def test_scan_with_a_second_framework(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            *E8SCAN,
            "scan",
            "-i",
            str(ROOT / "inventories" / "local.yml"),
            "--framework",
            str(TWO),
            "--checks",
            "patch_os,mfa",
            "--no-history",
            "-q",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode in (0, 3, 4), proc.stderr
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["model_version"] == "two-level-test@ISM-OSCAL 2099.1.1"
    (host,) = results["hosts"]
    assert host["reach"] == "ok"
    assert set(host["levels"]) == {"patch_os", "mfa"}
    assert all(v is None or 0 <= v <= 2 for v in host["levels"].values())
    scored = {c["ism"] for c in host["controls"]}
    assert scored <= {"ISM-1501", "ISM-1695", "ISM-1696", "ISM-1504", "ISM-1401"}
    raw = json.loads((out / "raw.json").read_text(encoding="utf-8"))
    assert raw["model_version"] == results["model_version"]
    wb = load_workbook(out / "e8-report.xlsx", read_only=True)
    assert wb.sheetnames[:4] == ["Summary", "Heatmap", "Patch OS", "MFA"]
