"""`e8scan plan | head`: a reader that goes away ends e8scan quietly, never with "internal error"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scanner.assess.results import Results
from scanner.assess.target import exit_code
from scanner.runs.history import History

INVENTORY = Path(__file__).resolve().parents[2] / "inventories" / "site.ini"


def test_plan_into_a_closed_pipe_stops_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner.cli.main", "plan", "-i", str(INVENTORY)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does once it has its line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert first.startswith(b"# ")
    assert "internal error" not in err and "Traceback" not in err and "BrokenPipe" not in err
    assert proc.returncode == 1


def test_scan_into_a_closed_pipe_writes_everything_and_keeps_its_exit_code(tmp_path: Path) -> None:
    # `e8scan scan … | head` where head has already gone: every stdout write fails with EPIPE.
    # The summary is lost; the outputs, the history row and the scan's own exit code are not.
    local = INVENTORY.parent / "local.yml"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "scanner.cli.main", "scan", "-i", str(local)]
            + ["--history", str(tmp_path / "h.sqlite")]
            + ["--checks", "patch_os.linux_os_support", "--out", str(tmp_path / "out")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    err = proc.stderr
    assert "internal error" not in err and "Traceback" not in err and "BrokenPipe" not in err
    assert [ln for ln in err.splitlines() if not ln.startswith("e8scan: warning:")] == []
    results = Results.model_validate_json((tmp_path / "out" / "results.json").read_bytes())
    assert proc.returncode == exit_code(results)  # 0, 3 or 4 as the hosts decided, never 1
    with History.open(tmp_path / "h.sqlite") as hist:
        assert [r.id for r in hist.runs()] == [results.run.id]
