"""Ctrl-C and SIGTERM during a real scan (issue 12 #11).

The real CLI runs as a subprocess against real sshd hosts: quick ones, "gated" ones whose command
waits until the test creates a file, and "hanging" ones whose command never ends. The test waits
for observable events (a host's line in the journal, the session start in a host's sshd log, the
scanner's notice on stderr), never for a fixed time, then sends the signal:

- one SIGINT: no host is started after it; hosts in flight that finish within ``--stop-grace``
  are journaled and reported; partial outputs are marked incomplete; exit 130; no history row,
  no lock left; ``--resume`` then contacts only the hosts never collected;
- one SIGINT or SIGTERM with a host that never finishes: it is abandoned after the grace, exit
  130 / 143;
- two SIGINTs: the second exits at once (130), nothing more is written, the lock is released.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sshfleet import HostSpec, SSHFleet

from scanner.runs.history import lock_path

pytestmark = pytest.mark.sshd

REPO = Path(__file__).resolve().parents[2]
CHECKS = "patch_os.linux_os_support"
GATE = Path(tempfile.gettempdir()) / f"e8scan-interrupt-gate-{os.getpid()}"
GATE_SCRIPT = f"""#!/bin/sh
# The scanner's command runs only once the test opens the gate.
while [ ! -e {GATE}/open ]; do sleep 0.05; done
exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"
"""
QUICK = ["f1", "f2", "f3", "f4"]
GATED = ["g1", "g2"]
HANGING = ["s1", "s2"]
# sshd (LogLevel VERBOSE) logs this when the scanner's command starts on the host.
_SESSION = re.compile(r"^Starting session: forced-command", re.MULTILINE)


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Any) -> Iterator[SSHFleet]:
    GATE.mkdir(mode=0o755, exist_ok=True)
    GATE.chmod(0o755)  # the hosts' login user looks for the gate file
    hosts = [HostSpec(n) for n in QUICK]
    hosts += [
        HostSpec(
            n,
            overlay={"/etc/e8gate.sh": GATE_SCRIPT},
            sshd_config=("ForceCommand /bin/sh /etc/e8gate.sh",),
        )
        for n in GATED
    ]
    hosts += [HostSpec(n, sshd_config=("ForceCommand exec sleep 3600",)) for n in HANGING]
    try:
        yield ssh_fleet_factory(hosts, name="interrupt")
    finally:
        shutil.rmtree(GATE, ignore_errors=True)


def _inventory(fleet: SSHFleet, path: Path, names: list[str]) -> Path:
    lines = ["[fleet]"]
    for n in names:
        h = fleet.host(n)
        lines.append(
            f"{n} ansible_host={h.address} ansible_port={h.port} "
            f"ansible_user={fleet.login_user} ansible_ssh_private_key_file={fleet.client_key}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _scan_cmd(fleet: SSHFleet, inv: Path, out: Path, hist: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scanner.cli.main",
        "scan",
        "-q",
        "-i",
        str(inv),
        "--known-hosts",
        str(fleet.known_hosts),
        "--out",
        str(out),
        "--history",
        str(hist),
        "--forks",
        "2",
        "--connect-timeout",
        "5",
        "--checks",
        CHECKS,
        *extra,
    ]


def _start(cmd: list[str], stderr: Path) -> subprocess.Popen[bytes]:
    with stderr.open("wb") as err:
        return subprocess.Popen(
            cmd,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def _until(proc: subprocess.Popen[bytes], what: str, cond: Callable[[], bool]) -> None:
    """Wait for an observable event; fail if the scan ends first."""
    while not cond():
        assert proc.poll() is None, f"the scan exited ({proc.returncode}) before {what}"
        time.sleep(0.01)


def _journal_hosts(out: Path) -> list[str]:
    try:
        lines = (out / "journal.jsonl").read_bytes().split(b"\n")[1:-1]
    except FileNotFoundError:
        return []
    return [json.loads(line)["name"] for line in lines]


def _in_command(fleet: SSHFleet, name: str) -> bool:
    return bool(_SESSION.search(fleet.sshd_log(name)))


def _workbook_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "".join(
            zf.read(n).decode("utf-8")
            for n in zf.namelist()
            if n.startswith("xl/") and n.endswith(".xml")
        )


def _assert_partial(out: Path, collected: list[str], missing: list[str], signame: str) -> None:
    raw = json.loads((out / "raw.json").read_text())
    results = json.loads((out / "results.json").read_text())
    for doc in (raw, results):
        assert [h["name"] for h in doc["hosts"]] == collected
        assert doc["run"]["incomplete"] is True
        assert doc["run"]["incomplete_reason"] == f"interrupted by {signame}"
        assert doc["run"]["not_collected"] == missing
    assert all(h["reach"] == "ok" for h in raw["hosts"])
    assert f"INCOMPLETE (interrupted by {signame})" in _workbook_text(out / "e8-report.xlsx")


def test_sigint_lets_hosts_in_flight_finish_writes_partial_results_and_resume_completes(
    fleet: SSHFleet, tmp_path: Path
) -> None:
    order = ["f1", "f2", "g1", "g2", "f3", "f4"]
    inv = _inventory(fleet, tmp_path / "site.ini", order)
    out, hist, err = tmp_path / "out", tmp_path / "history.sqlite", tmp_path / "stderr"
    cmd = _scan_cmd(fleet, inv, out, hist, "--stop-grace", "600")
    before = {n: fleet.connections(n) for n in order}
    proc = _start(cmd, err)
    try:
        _until(proc, "f1 and f2 were journaled", lambda: set(_journal_hosts(out)) == {"f1", "f2"})
        _until(proc, "g1 and g2 ran", lambda: _in_command(fleet, "g1") and _in_command(fleet, "g2"))
        proc.send_signal(signal.SIGINT)
        _until(proc, "the stop notice", lambda: b"SIGINT: stopping" in err.read_bytes())
        (GATE / "open").touch()  # the hosts in flight finish within the grace
        assert proc.wait() == 130, err.read_text()
        stderr = err.read_text()
        assert "Traceback" not in stderr
        assert "4 host(s) collected, 2 not" in stderr and "--resume" in stderr

        # Hosts in flight finished and were journaled; f3 and f4 were never contacted.
        assert set(_journal_hosts(out)) == {"f1", "f2", "g1", "g2"}
        assert {n: fleet.connections(n) - before[n] for n in ("f3", "f4")} == {"f3": 0, "f4": 0}
        _assert_partial(out, ["f1", "f2", "g1", "g2"], ["f3", "f4"], "SIGINT")
        assert not lock_path(hist).exists()
        assert not hist.exists()  # an incomplete run is not recorded in the history

        resumed = subprocess.run(
            [*cmd, "--resume"],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert resumed.returncode in (0, 3), resumed.stderr
    finally:
        (GATE / "open").unlink(missing_ok=True)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    raw = json.loads((out / "raw.json").read_text())
    assert [h["name"] for h in raw["hosts"]] == order
    assert raw["run"]["incomplete"] is False and raw["run"]["not_collected"] == []
    assert {n: fleet.connections(n) - before[n] for n in order} == dict.fromkeys(order, 1)
    assert not lock_path(hist).exists()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_host_that_never_finishes_is_abandoned_after_the_grace(
    fleet: SSHFleet, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    order = ["f1", "s1", "f2"]
    inv = _inventory(fleet, tmp_path / "site.ini", order)
    out, hist, err = tmp_path / "out", tmp_path / "history.sqlite", tmp_path / "stderr"
    proc = _start(_scan_cmd(fleet, inv, out, hist, "--stop-grace", "1"), err)
    try:
        _until(proc, "f1 and f2 were journaled", lambda: set(_journal_hosts(out)) == {"f1", "f2"})
        _until(proc, "s1 ran", lambda: _in_command(fleet, "s1"))
        assert lock_path(hist).exists()
        proc.send_signal(sig)
        assert proc.wait() == code, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = err.read_text()
    assert f"{sig.name}: stopping" in stderr and "Traceback" not in stderr
    assert sorted(_journal_hosts(out)) == ["f1", "f2"]  # the abandoned host is not journaled
    _assert_partial(out, ["f1", "f2"], ["s1"], sig.name)
    assert not lock_path(hist).exists()


def test_a_second_sigint_exits_at_once(fleet: SSHFleet, tmp_path: Path) -> None:
    order = ["f1", "s1", "s2", "f2"]
    inv = _inventory(fleet, tmp_path / "site.ini", order)
    out, hist, err = tmp_path / "out", tmp_path / "history.sqlite", tmp_path / "stderr"
    # The grace would outlast the host budget: only the second SIGINT can end the scan early.
    cmd = _scan_cmd(fleet, inv, out, hist, "--stop-grace", "600", "--host-timeout", "60")
    before = fleet.connections("f2")
    proc = _start(cmd, err)
    try:
        _until(proc, "f1 was journaled", lambda: _journal_hosts(out) == ["f1"])
        _until(proc, "s1 and s2 ran", lambda: _in_command(fleet, "s1") and _in_command(fleet, "s2"))
        proc.send_signal(signal.SIGINT)
        _until(proc, "the stop notice", lambda: b"SIGINT: stopping" in err.read_bytes())
        proc.send_signal(signal.SIGINT)
        assert proc.wait() == 130, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = err.read_text()
    assert "SIGINT again: exiting now" in stderr and "Traceback" not in stderr
    assert _journal_hosts(out) == ["f1"]
    assert not (out / "raw.json").exists() and not (out / "results.json").exists()
    assert fleet.connections("f2") == before
    assert not lock_path(hist).exists()


def test_local_hosts_commands_are_outside_the_terminals_process_group() -> None:
    """A terminal's Ctrl-C goes to its foreground process group: a local host's commands must
    not be in it, or they die and are recorded as the host's output before the scan can stop."""
    from scanner.collect.transports.local import LocalTransport

    res = LocalTransport().run("cut -d' ' -f5 /proc/$$/stat", 30, 1 << 16)
    assert res.exit_code == 0
    assert int(res.stdout) != os.getpgrp()
