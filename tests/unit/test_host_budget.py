"""The default host budget (derived from the plan), how `e8scan plan` shows it, and the
watchdog's progress detection (markers carrying the batch's nonce, however the stream is cut)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from click.testing import CliRunner

from scanner.cli.main import main
from scanner.collect import posix_batch
from scanner.collect.budget import BATCH_CAP, COMMAND_GRACE, host_budget
from scanner.collect.transports.base import Progress


def test_the_budget_is_steps_times_the_command_timeout_capped_plus_grace_and_connect() -> None:
    assert host_budget(3, 5, 2.0) == 3 * 5 + COMMAND_GRACE + 3 * 2.0
    assert host_budget(44, 60, 10.0) == BATCH_CAP + COMMAND_GRACE + 30.0
    assert host_budget(0, 5, 2.0, grace=1.0) == 5 + 1.0 + 6.0  # an empty plan still connects
    assert host_budget(44, 60, 10.0, explicit=90.0) == 90.0  # --host-timeout wins


def test_plan_prints_each_hosts_budget_from_the_scans_timing_options(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("a key file plan can read\n")
    inventory = tmp_path / "site.ini"
    inventory.write_text(
        f"app01 ansible_host=192.0.2.10 ansible_user=e8 ansible_ssh_private_key_file={key}\n"
    )
    args = ["plan", "-i", str(inventory), "-l", "app01", "--command-timeout", "5"]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0, text.output
    fixed = CliRunner().invoke(main, [*args, "--host-timeout", "90", "--format", "json"])
    (host,) = json.loads(fixed.output)
    assert host["host_budget"] == 90.0  # --host-timeout wins
    assert host["command_limit"] == 5 + COMMAND_GRACE
    steps = len(host["commands"])
    (line,) = [ln for ln in text.output.splitlines() if ln.startswith("  # host budget")]
    assert line == (
        f"  # host budget {steps * 5 + COMMAND_GRACE + 30:g} s ({steps} × 5 s + 10 s grace + "
        "3 × 10 s connect); a step still running after 15 s ends the host"
    )


def test_progress_is_a_new_marker_even_when_the_stream_cuts_it_in_two() -> None:
    script, nonce = posix_batch.build([posix_batch.Step("true")], 5, 1024)
    framed = f"{nonce} B 0 1.0\nout\n{nonce} E 0 0 1.1\n".encode()
    p = Progress(nonce, limit=3.0)
    first = p.deadline
    time.sleep(0.01)
    p.feed(b"not a marker " + nonce[:10].encode())
    assert p.markers == 0 and p.deadline == first  # host text alone is no progress
    for i in range(0, len(framed), 7):  # cut anywhere, markers included
        p.feed(framed[i : i + 7])
    assert p.markers == 2 and p.deadline > first
    assert nonce in script  # the nonce the framing prints is the one watched
