"""End to end: two scans of real sshd hosts with a run history, then drift, diff and history.

Run 1 scans web01 (Debian 12) and db01. Before run 2, web01 is replaced by a host with the same
name that shows Debian 10 (end of support: patch_os ISM-1501 turns ineffective) and db01's
inventory entry points at a port nobody listens on (newly unreachable). Run 2 with
``--baseline last`` must exit 5 and say what regressed; ``e8scan diff`` and ``e8scan history``
read the same history; a scan while another run holds the history lock exits 1 with one line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sshfleet import HostSpec, SSHFleet

from scanner.cli.main import main
from scanner.runs.history import lock_path
from tests.e2e.feeds_policy import ACCEPT_SHIPPED

DEBIAN12 = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
)
# /work/shared/corpus/linux/os-release_debian10.txt
DEBIAN10 = (
    'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nNAME="Debian GNU/Linux"\nVERSION_ID="10"\n'
    'VERSION="10 (buster)"\nVERSION_CODENAME=buster\nID=debian\nHOME_URL="https://www.debian.org/"\n'
)


def _inventory(fleet: SSHFleet, path: Path) -> Path:
    return fleet.inventory_ini(path, extra_vars={"ansible_become": "true", "e8_role": "server"})


# db01 in run 2: nothing listens on this loopback address and port.
DEAD_DB01 = "db01 ansible_host=127.0.0.250 ansible_port=1 ansible_user=e8test\n"


@pytest.fixture(scope="module")
def runs(ssh_fleet_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("drift")
    hist = work / "history.sqlite"
    good = ssh_fleet_factory(
        [
            HostSpec("web01", overlay={"/etc/os-release": DEBIAN12}, sudo_nopasswd=True),
            HostSpec("db01", overlay={"/etc/os-release": DEBIAN12}, sudo_nopasswd=True),
        ],
        name="drift-good",
    )
    worse = ssh_fleet_factory(
        [HostSpec("web01", overlay={"/etc/os-release": DEBIAN10}, sudo_nopasswd=True)],
        name="drift-worse",
    )
    common = ["--known-hosts", str(good.known_hosts), "--known-hosts", str(worse.known_hosts)]
    common += ["--history", str(hist), "--connect-timeout", "5", "-q"]
    common += ACCEPT_SHIPPED  # web01 is first judged supported (Debian 12)
    inv1 = _inventory(good, work / "one.ini")
    first = CliRunner().invoke(main, ["scan", "-i", str(inv1), "--out", str(work / "o1"), *common])
    inv2 = _inventory(worse, work / "two.ini")
    inv2.write_text(inv2.read_text().replace("[fleet]\n", "[fleet]\n" + DEAD_DB01))
    second = CliRunner().invoke(
        main,
        ["scan", "-i", str(inv2), "--out", str(work / "o2"), "--baseline", "last", *common],
    )
    return {
        "work": work,
        "hist": hist,
        "inv1": inv1,
        "first": first,
        "second": second,
        "r1": json.loads((work / "o1" / "results.json").read_text()),
        "r2": json.loads((work / "o2" / "results.json").read_text()),
        "common": common,
    }


def test_first_run_is_clean_and_recorded(runs: dict[str, Any]) -> None:
    assert runs["first"].exit_code in (0, 3), runs["first"].output
    hosts = {h["name"]: h for h in runs["r1"]["hosts"]}
    assert hosts["web01"]["reach"] == hosts["db01"]["reach"] == "ok"
    web = next(c for c in hosts["web01"]["controls"] if c["ism"] == "ISM-1501")
    assert web["outcome"] == "effective"
    assert not (runs["work"] / "o1" / "drift.json").exists()


def test_second_run_exits_5_and_drift_json_names_the_regressions(runs: dict[str, Any]) -> None:
    second = runs["second"]
    assert second.exit_code == 5, second.output
    drift = json.loads((runs["work"] / "o2" / "drift.json").read_text())
    assert drift["regressed"] is True
    assert drift["old_run"]["id"] == runs["r1"]["run"]["id"]
    assert drift["new_run"]["id"] == runs["r2"]["run"]["id"]
    failures = {(f["host"], f["strategy"], f["ism"]): f for f in drift["new_failures"]}
    f = failures[("web01", "patch_os", "ISM-1501")]
    assert (f["old"], f["new"]) == ("effective", "ineffective")
    assert [(r["host"], r["old"]) for r in drift["newly_unreachable"]] == [("db01", "ok")]
    assert not drift["hosts_added"] and not drift["hosts_removed"]
    # -q still prints the drift table when there is a regression (cron mail).
    assert "REGRESSION" in second.output
    assert "web01  patch_os  ISM-1501  effective -> ineffective" in second.output


def test_diff_between_history_runs(runs: dict[str, Any]) -> None:
    r1, r2 = runs["r1"]["run"]["id"], runs["r2"]["run"]["id"]
    res = CliRunner().invoke(main, ["diff", r1, r2, "--history", str(runs["hist"])])
    assert res.exit_code == 5, res.output
    assert "db01  ok -> unreachable" in res.output
    assert "ISM-1501  effective -> ineffective" in res.output
    back = CliRunner().invoke(
        main, ["diff", r2, r1, "--history", str(runs["hist"]), "--format", "json"]
    )
    assert back.exit_code == 0, back.output  # the other way round everything got better
    assert json.loads(back.output)["recovered"][0]["host"] == "db01"
    by_file = CliRunner().invoke(
        main,
        ["diff", str(runs["work"] / "o1" / "results.json"), "last", "--history", str(runs["hist"])],
    )
    assert by_file.exit_code == 5, by_file.output


def test_history_lists_both_runs_and_a_host_trend(runs: dict[str, Any]) -> None:
    res = CliRunner().invoke(main, ["history", "--history", str(runs["hist"])])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[1].startswith(runs["r1"]["run"]["id"])
    assert lines[2].startswith(runs["r2"]["run"]["id"])
    trend = CliRunner().invoke(main, ["history", "--history", str(runs["hist"]), "--host", "db01"])
    assert trend.exit_code == 0, trend.output
    tl = trend.output.splitlines()
    assert tl[0] == "trend for db01"
    assert " ok " in tl[2] and "unreachable" in tl[3]


def test_scan_while_the_history_is_locked_exits_1_with_one_line(runs: dict[str, Any]) -> None:
    lock = lock_path(runs["hist"])
    repo = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(  # another run, holding the history's lock until its stdin closes
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from scanner.runs.history import run_lock\n"
            "with run_lock(Path(sys.argv[1])):\n print('held', flush=True); sys.stdin.read()",
            str(runs["hist"]),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        res = CliRunner().invoke(
            main,
            ["scan", "-i", str(runs["inv1"]), "--out", str(runs["work"] / "o3"), *runs["common"]],
        )
        assert res.exit_code == 1, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"e8scan: error: {lock}: another e8scan run (pid {holder.pid}")
        assert not (runs["work"] / "o3" / "results.json").exists()
        assert lock.exists()
    finally:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.close()
        holder.wait()
        holder.stdout.close()
    assert not lock.exists()


def test_first_baseline_run_warns_and_becomes_the_baseline(tmp_path: Path) -> None:
    inv = tmp_path / "local.yml"
    inv.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    hist = tmp_path / "h.sqlite"
    r = CliRunner().invoke(
        main,
        [
            "scan",
            "-i",
            str(inv),
            "--out",
            str(tmp_path / "o"),
            "--history",
            str(hist),
            "--baseline",
            "last",
            "-q",
        ],
    )
    assert r.exit_code in (0, 3), r.output  # no regression possible on the first run
    assert "becomes the baseline" in r.output
    assert not (tmp_path / "o" / "drift.json").exists()
