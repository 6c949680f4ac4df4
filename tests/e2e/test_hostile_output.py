"""End to end: hosts that print what no host should, beside a healthy one, in one real sweep.

Real sshd hosts (tests/sshfleet.py) whose ``date`` is a script printing an impossible clock
(``1e300``, ``nan``, ``-99999999999``: a broken HMI's RTC), and one whose sshd answers every
session with terminal escapes on stderr (window title, clear screen, colours, fake text) and exit
1. The scan runs the real CLI in a subprocess, so its stdout/stderr are the bytes a terminal would
get. One odd host must never cost the fleet its workbook, evidence bundle or history row; its
impossible values are kept as text and flagged on that host only; no control character reaches
the terminal. A host that floods stderr (50 MB) is capped on the host and the cut is recorded.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sshfleet import HostSpec, SSHFleet

from scanner.collect.plan import PlannedCommand, plan_host
from scanner.collect.posix_batch import Step
from scanner.collect.runner import RunOptions, collect_host
from scanner.collect.transports.ssh import SSHOptions
from scanner.inventory.load import load_inventory

pytestmark = pytest.mark.sshd

REPO = Path(__file__).resolve().parents[2]
CLOCKS = {"clock-huge": "1e300", "clock-nan": "nan", "clock-neg": "-99999999999"}
# What the escaping host's sshd sends on stderr for every session: OSC window title, clear
# screen, red "fake" verdict, reset; then it fails the session.
ESCAPES = r"\033]0;pwned\007\033[2J\033[31mFAKE: every host is ML3\033[0m\r\n"
FORCE = f"ForceCommand printf '{ESCAPES}' >&2; exit 1"
# Bytes that must never reach a terminal: C0 controls but newline, DEL, C1 (raw or as UTF-8).
RAW_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def fake_date(prints: str) -> str:
    return f"#!/bin/sh\necho '{prints}'\n"


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Any) -> SSHFleet:
    hosts = [HostSpec("sane")]
    hosts += [
        HostSpec(
            name,
            overlay={"/usr/local/bin/date": fake_date(value)},
            executables=("/usr/local/bin/date",),
        )
        for name, value in CLOCKS.items()
    ]
    hosts.append(HostSpec("escapes", sshd_config=(FORCE,)))
    return ssh_fleet_factory(hosts, name="hostile")


def e8(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        env=env,
        check=False,
    )


@pytest.fixture(scope="module")
def sweep(fleet: SSHFleet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("hostile-sweep")
    inv = fleet.inventory_ini(work / "site.ini", {"e8_role": "server"})
    out, history, evidence = work / "out", work / "history.sqlite", work / "evidence"
    proc = e8(
        "scan",
        "-i",
        str(inv),
        "--known-hosts",
        str(fleet.known_hosts),
        "--checks",
        "restrict_admin",
        "--out",
        str(out),
        "--history",
        str(history),
        "--evidence",
        str(evidence),
        "--connect-timeout",
        "5",
    )
    return {
        "proc": proc,
        "out": out,
        "work": work,
        "history": history,
        "evidence": evidence,
        "raw": json.loads((out / "raw.json").read_text()) if (out / "raw.json").exists() else None,
    }


def hosts(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in doc["hosts"]}


def test_a_broken_clock_costs_the_fleet_nothing(sweep: dict[str, Any]) -> None:
    proc = sweep["proc"]
    # 4: the escaping host has no visibility. Never 1 ("nothing trustworthy produced").
    assert proc.returncode == 4, proc.stderr.decode(errors="replace")
    assert b"internal error" not in proc.stderr and b"Traceback" not in proc.stderr
    out = sweep["out"]
    for name in ("raw.json", "results.json", "e8-report.xlsx"):
        assert (out / name).is_file(), name
    assert (sweep["evidence"] / "manifest.json").is_file()
    verified = e8("verify", str(sweep["evidence"]))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with sqlite3.connect(sweep["history"]) as db:
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_impossible_clock_readings_are_kept_as_text_and_flagged_on_that_host_only(
    sweep: dict[str, Any],
) -> None:
    raw = hosts(sweep["raw"])
    results = hosts(json.loads((sweep["out"] / "results.json").read_text()))
    for name, printed in CLOCKS.items():
        h = raw[name]
        assert h["reach"] == "ok" and h["commands"], name
        for c in h["commands"]:
            assert c["started"] is None and c["finished"] is None, (name, c)
            assert c["invalid"] == {"started": printed, "finished": printed}, (name, c)
            assert c["exit_code"] is not None  # the rest of the command is intact
        flagged = [n for n in h["notes"] if n.startswith("impossible values from the host")]
        assert len(flagged) == 1 and repr(printed) in flagged[0], h["notes"]
        assert flagged[0] in results[name]["notes"]
        assert results[name]["level"] is not None or any(results[name]["levels"].values())
    sane = raw["sane"]
    assert not any("impossible" in n for n in sane["notes"])
    assert all(isinstance(c["started"], float) and not c["invalid"] for c in sane["commands"])


def test_the_evidence_and_workbook_show_the_host_text(sweep: dict[str, Any]) -> None:
    from openpyxl import load_workbook

    metas = [
        json.loads(p.read_text())
        for p in sweep["evidence"].rglob("meta.json")
        if "clock-huge" in str(p)
    ]
    assert metas and all(m["invalid"]["started"] == "1e300" for m in metas)
    assert all(m["started_utc"] is None for m in metas)
    wb = load_workbook(sweep["out"] / "e8-report.xlsx", read_only=True)
    rows = list(wb["Evidence index"].iter_rows(values_only=True))
    head = rows[0]
    col = head.index("Impossible values (host text)")
    huge = [r for r in rows[1:] if r[0] == "clock-huge"]
    assert huge and all("started: 1e300" in r[col] for r in huge)
    neg = [r for r in rows[1:] if r[0] == "clock-neg"]
    assert all(isinstance(r[col], str) and "-99999999999" in r[col] for r in neg)


def test_rescore_of_that_raw_record_works(sweep: dict[str, Any]) -> None:
    again = sweep["work"] / "rescored"
    proc = e8("rescore", str(sweep["out"] / "raw.json"), "--out", str(again), "-q")
    assert proc.returncode in (0, 3, 4), proc.stderr
    assert (again / "e8-report.xlsx").is_file()


def test_host_escapes_never_reach_the_terminal(sweep: dict[str, Any]) -> None:
    proc = sweep["proc"]
    printed = proc.stdout + proc.stderr
    assert b"FAKE: every host is ML3" in printed  # the text is shown …
    assert not RAW_CONTROL.search(printed), RAW_CONTROL.findall(printed)  # … its escapes are not
    assert rb"\x1b]0;pwned\x07\x1b[2J" in proc.stdout
    detail = hosts(sweep["raw"])["escapes"]["reach_detail"]
    assert "\x1b" not in detail and "\\x1b]0;pwned" in detail


def test_the_drift_table_escapes_host_text(sweep: dict[str, Any]) -> None:
    """A baseline where the escaping host was fine: `diff` lists it as newly unreachable, with
    its detail — and the detail as a hand-edited results file carries it (raw ESC)."""
    new = json.loads((sweep["out"] / "results.json").read_text())
    old = json.loads(json.dumps(new))
    for h in old["hosts"]:
        if h["name"] == "escapes":
            h["reach"], h["reach_detail"] = "ok", ""
    for h in new["hosts"]:
        if h["name"] == "escapes":
            h["reach_detail"] = "\x1b]0;pwned\x07\x1b[2J\x9b31mFAKE\u202e"
    old["run"]["id"] = "old-\x1b[2J-run"
    work = sweep["work"]
    (work / "old.json").write_text(json.dumps(old))
    (work / "new.json").write_text(json.dumps(new))
    proc = e8("diff", str(work / "old.json"), str(work / "new.json"))
    assert proc.returncode == 5, proc.stderr
    printed = proc.stdout + proc.stderr
    assert b"newly unreachable" in printed and b"FAKE" in printed
    assert not RAW_CONTROL.search(printed), printed
    assert "\u202e".encode() not in printed
    assert rb"old-\x1b[2J-run" in proc.stdout


def test_fifty_megabytes_on_stderr_are_capped_on_the_host_and_flagged(fleet: SSHFleet) -> None:
    inv = load_inventory([fleet.inventory_ini(fleet.workdir / "flood.ini")])
    host = next(h for h in inv.select(None) if h.name == "sane")
    plan = plan_host(host, [])
    flood = PlannedCommand(
        Step("head -c 50000000 /dev/zero | tr '\\0' x >&2; echo done"), ["test.flood"]
    )
    after = PlannedCommand(Step("echo after; echo fine >&2"), ["test.after"])
    plan = replace(plan, commands=[flood, after])
    cap = 1 << 20
    opts = RunOptions(
        max_output=cap,
        command_timeout=60,
        host_budget=120,
        ssh=SSHOptions(known_hosts=(fleet.known_hosts,), connect_timeout=5.0),
    )
    rec = collect_host(plan, opts)
    assert rec.reach.value == "ok", rec.reach_detail
    big, nxt = rec.commands
    assert big.stderr == b"x" * cap and big.stderr_truncated
    # Only stderr was cut: the command ran to its end (never killed by SIGPIPE for its stderr).
    assert big.stdout == b"done\n" and big.exit_code == 0 and not big.truncated
    assert nxt.stdout == b"after\n" and nxt.stderr == b"fine\n" and not nxt.stderr_truncated
    stored = rec.model_dump_json()
    assert len(stored) < 2 * cap, len(stored)  # the raw record holds the cap, not 50 MB
    assert '"stderr_truncated":true' in stored
