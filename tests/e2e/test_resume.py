"""A scan killed mid-sweep loses nothing: the host journal and ``e8scan scan --resume``.

The end-to-end test runs the real CLI as a subprocess over a fleet of real sshd hosts, kills it
with SIGKILL once the journal holds two hosts, resumes it, and compares the outcome with an
uninterrupted run on the same fleet, counting each host's connections in its sshd log. The unit
tests cover a torn final journal line and a journal written for another inventory.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sshfleet import HostSpec, SSHFleet

from scanner import __version__
from scanner.collect.journal import Journal, JournalHeader, check_compatible
from scanner.model.errors import InputError
from scanner.model.vocabulary import Platform, Reach
from scanner.record.raw import CheckRef, HostRecord, SourceFile

REPO = Path(__file__).resolve().parents[2]
DEBIAN12 = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
)
# /work/shared/corpus/linux/os-release_debian10.txt
DEBIAN10 = (
    'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nNAME="Debian GNU/Linux"\nVERSION_ID="10"\n'
    'VERSION="10 (buster)"\nVERSION_CODENAME=buster\nID=debian\n'
)
NAMES = ["h1", "h2", "h3", "h4", "h5", "h6"]
# Everything but the two apt-get simulations (seconds per host): a quick sweep still judges
# hosts that differ (os-release, sudo rights).
CHECKS = (
    "patch_os.linux_os_support,restrict_admin,user_app_hardening,office_macros,backups,mfa,"
    "application_control"
)


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Any) -> SSHFleet:
    hosts = [
        HostSpec(
            name,
            overlay={"/etc/os-release": DEBIAN10 if i % 2 else DEBIAN12},
            sudo_nopasswd=i % 3 == 0,
        )
        for i, name in enumerate(NAMES)
    ]
    return ssh_fleet_factory(hosts, name="resume")


def _cli(inv: Path, fleet: SSHFleet, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scanner.cli.main",
        "scan",
        "--no-history",
        "-q",
        "-i",
        str(inv),
        "--known-hosts",
        str(fleet.known_hosts),
        "--out",
        str(out),
        "--forks",
        "1",
        "--connect-timeout",
        "5",
        "--checks",
        CHECKS,
        *extra,
    ]


# A TCP connection the host's sshd accepted (the fleet's probes come from 127.0.0.3). Counted here
# rather than with fleet.connections(), which also counts the "ssh_dispatch_run_fatal: Connection
# from ..." line that sshd logs when the killed scanner's connection breaks.
_CONNECTION = re.compile(r"^Connection from (?!127\.0\.0\.3 )\S+ port \d+ on ", re.MULTILINE)


def _connections(fleet: SSHFleet) -> dict[str, int]:
    return {n: len(_CONNECTION.findall(fleet.sshd_log(n))) for n in NAMES}


def _journal_hosts(path: Path) -> list[str]:
    try:
        lines = path.read_bytes().split(b"\n")[1:-1]  # after the header; complete lines only
    except FileNotFoundError:
        return []
    return [json.loads(line)["name"] for line in lines]


def _outcomes(results: dict[str, Any]) -> dict[str, Any]:
    return {
        h["name"]: {
            "reach": h["reach"],
            "levels": h["levels"],
            "claimable": h["claimable"],
            "level": h["level"],
            "controls": sorted(
                (c["ism"], c["strategy"], c["check"] or "", c["outcome"]) for c in h["controls"]
            ),
        }
        for h in results["hosts"]
    }


def test_killed_scan_resumes_without_rescanning(fleet: SSHFleet, tmp_path: Path) -> None:
    inv = fleet.inventory_ini(tmp_path / "site.ini", {"ansible_become": "true"})
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    journal = out / "journal.jsonl"

    before = _connections(fleet)
    proc = subprocess.Popen(_cli(inv, fleet, out), cwd=tmp_path, env=env)
    deadline = time.monotonic() + 60
    while len(_journal_hosts(journal)) < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "the scan journaled fewer than 2 hosts in 60 s"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the scan finished before it could be killed"
    assert not (out / "raw.json").exists()
    journaled = _journal_hosts(journal)
    assert 2 <= len(journaled) < len(NAMES)
    assert journaled == NAMES[: len(journaled)]  # --forks 1 goes in plan order
    kept = Journal.load(journal)[1]

    resumed = subprocess.run(
        _cli(inv, fleet, out, "--resume"), cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert resumed.returncode in (0, 3), resumed.stderr
    after = _connections(fleet)

    # Hosts journaled before the kill were connected to once in all: never again by the resume.
    for n in journaled:
        assert after[n] - before[n] == 1, n
    # Every other host was connected to once by the resume; the one host in flight at the kill
    # (the next in plan order, not yet journaled) also has the killed run's connection.
    rest = NAMES[len(journaled) :]
    for n in rest[1:]:
        assert after[n] - before[n] == 1, n
    assert after[rest[0]] - before[rest[0]] in (1, 2), rest[0]

    raw = json.loads((out / "raw.json").read_text())
    assert [h["name"] for h in raw["hosts"]] == NAMES  # each host once, in plan order
    assert all(h["reach"] == "ok" for h in raw["hosts"])
    # The journaled hosts' records are reused as they were (their original timestamps too).
    assert [HostRecord.model_validate(h) for h in raw["hosts"][: len(kept)]] == kept
    header = json.loads(journal.read_bytes().split(b"\n")[0])
    assert raw["run"]["id"] == header["run_id"]
    assert datetime.fromisoformat(raw["run"]["started"]) == datetime.fromisoformat(
        header["started"]
    )
    assert _journal_hosts(journal) == journaled + NAMES[len(journaled) :]  # journal kept

    whole = tmp_path / "whole"
    straight = subprocess.run(
        _cli(inv, fleet, whole), cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert straight.returncode == resumed.returncode, straight.stderr
    got = json.loads((out / "results.json").read_text())
    want = json.loads((whole / "results.json").read_text())
    assert _outcomes(got) == _outcomes(want)
    assert got["fleet"] == want["fleet"]
    kinds = {json.dumps(h) for h in _outcomes(got).values()}
    assert len(kinds) > 1, "hosts should differ, or the comparison proves little"


def _record(name: str) -> HostRecord:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return HostRecord(
        name=name,
        address="127.0.0.1",
        port=22,
        connection="ssh",
        user="e8test",
        become=False,
        platform=Platform.LINUX,
        groups=["all"],
        vars={},
        reach=Reach.OK,
        started=now,
        finished=now,
    )


def _header(inventory_sha: str = "a" * 64) -> JournalHeader:
    return JournalHeader(
        tool_version=__version__,
        run_id="20261101T000000Z-abcdef",
        started=datetime(2026, 11, 1, tzinfo=UTC),
        inventory=[SourceFile(path="site.ini", sha256=inventory_sha)],
        checks=[CheckRef(id="patch_os.linux_os_support", version=1)],
        target_level=1,
    )


def test_torn_last_line_is_ignored_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal.create(path, _header()) as j:
        j.append(_record("a"))
        j.append(_record("b"))
    whole = path.read_bytes()
    torn = _record("c").model_dump_json().encode()[:40]
    path.write_bytes(whole + torn)  # a crash in the middle of writing host c

    header, records = Journal.load(path)
    assert header.run_id == "20261101T000000Z-abcdef"
    assert [r.name for r in records] == ["a", "b"]

    journal, records = Journal.reopen(path)
    with journal:
        journal.append(_record("c"))
    assert path.read_bytes() == whole + _record("c").model_dump_json().encode() + b"\n"
    assert [r.name for r in Journal.load(path)[1]] == ["a", "b", "c"]


def test_damaged_final_line_with_newline_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal.create(path, _header()) as j:
        j.append(_record("a"))
    path.write_bytes(path.read_bytes() + b'{"name": "b", "addr\n')
    assert [r.name for r in Journal.load(path)[1]] == ["a"]


def test_damaged_middle_line_and_missing_header_are_input_errors(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    with Journal.create(path, _header()) as j:
        j.append(_record("a"))
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(lines[0] + b"\nnot json\n" + lines[1] + b"\n")
    with pytest.raises(InputError, match=r"journal.jsonl:2"):
        Journal.load(path)
    path.write_bytes(b'{"kind": "e8scan-jou')
    with pytest.raises(InputError, match="no header line"):
        Journal.load(path)


def test_journal_from_another_inventory_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    check_compatible(path, _header(), _header())
    with pytest.raises(InputError, match="different inventory"):
        check_compatible(path, _header("a" * 64), _header("b" * 64))


def test_resume_refuses_a_journal_from_another_inventory_cli(tmp_path: Path) -> None:
    """Through the CLI: the refusal is one line on stderr, exit 1, nothing contacted."""
    inv = tmp_path / "site.ini"
    inv.write_text("[fleet]\nx1 ansible_host=127.0.0.250 ansible_port=1\n")
    out = tmp_path / "out"
    out.mkdir()
    with Journal.create(out / "journal.jsonl", _header()) as j:
        j.append(_record("x1"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "scanner.cli.main", "scan", "--no-history", "-q", "-i", str(inv)]
    res = subprocess.run(
        [*cmd, "--out", str(out), "--resume"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert res.returncode == 1
    assert "e8scan: error:" in res.stderr and "different inventory" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (out / "raw.json").exists()
    no_journal = subprocess.run(
        [*cmd, "--out", str(tmp_path / "empty"), "--resume"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert no_journal.returncode == 1 and "no scan journal to resume" in no_journal.stderr
