"""`e8scan plan | head`: a reader that goes away ends e8scan quietly, never with "internal error"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
