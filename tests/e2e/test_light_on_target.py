"""End to end: the batch is light on real sshd hosts (issue 15, "Light on the target").

One small fleet, one batch per host through the runner (``collect_host``) with a handful of
steps that report on themselves (their niceness, I/O class, uid and the sudo process above
them) instead of the catalogue's:

- ``lite-bb`` — a BusyBox userland with no ``ionice`` at all (a dangling ``/usr/bin/ionice``):
  the batch still lowers its niceness, says it could not lower its I/O priority, and every root
  step runs in the same one root shell;
- ``lite-nosudo`` — no sudo grant: every root step gets sudo's refusal, word for word and with
  sudo's exit status, exactly as ``sudo -n sh -c`` per command gave it;
- ``lite-ot`` — in a group with ``e8_target_priority=normal``: nothing is lowered.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sshfleet import BUSYBOX_USERLAND, HostSpec, SSHFleet

from checks.facts.reading import not_readable
from scanner.checking.api import Output
from scanner.collect.plan import PlannedCommand, plan_host
from scanner.collect.posix_batch import Step
from scanner.collect.runner import RunOptions, collect_host
from scanner.collect.transports.ssh import SSHOptions, SSHTransport
from scanner.inventory.load import load_inventory
from scanner.record.raw import HostRecord

pytestmark = pytest.mark.sshd

SELF = "awk '{print $19}' /proc/self/stat; ionice -p $$ 2>/dev/null || echo no-ionice"
SUDO_ANCESTOR = (
    'p=$$; s=; while [ "$p" -gt 1 ]; do [ "$(cat /proc/$p/comm)" = sudo ] && s=$p; '
    "p=$(awk '{print $4}' /proc/$p/stat); done; echo \"sudo=$s\""
)
STEPS = [
    Step(SELF),
    Step(f"{SUDO_ANCESTOR}; id -u; {SELF}", sudo=True),
    Step("head -c 4 /etc/shadow", sudo=True),
    Step(SUDO_ANCESTOR, sudo=True),
    Step("echo done"),
]


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Any) -> SSHFleet:
    return ssh_fleet_factory(
        [
            HostSpec(
                "lite-bb",
                busybox_applets=BUSYBOX_USERLAND,
                symlinks={"/usr/bin/ionice": "/nonexistent/ionice"},
                sudo_nopasswd=True,
            ),
            HostSpec("lite-nosudo"),
            HostSpec("lite-ot", sudo_nopasswd=True),
        ],
        name="light",
    )


@pytest.fixture(scope="module")
def records(fleet: SSHFleet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, HostRecord]:
    work = tmp_path_factory.mktemp("light")
    inv = fleet.inventory_ini(work / "site.ini", {"ansible_become": "true"})
    inv.write_text(inv.read_text() + "[ot]\nlite-ot\n[ot:vars]\ne8_target_priority=normal\n")
    opts = RunOptions(ssh=SSHOptions(known_hosts=(fleet.known_hosts,)), command_timeout=20)
    out = {}
    for host in load_inventory([inv]).select(None):
        plan = replace(
            plan_host(host, [], secrets=False), commands=[PlannedCommand(s) for s in STEPS]
        )
        out[host.name] = collect_host(plan, opts)
    return out


def lines(rec: HostRecord, i: int) -> list[str]:
    return rec.commands[i].stdout.decode().splitlines()


def test_every_host_ran_every_step(records: dict[str, HostRecord]) -> None:
    for name, rec in records.items():
        assert rec.reach.value == "ok", (name, rec.reach_detail)
        assert all(c.ran and c.exit_code is not None for c in rec.commands), name
        assert all(c.started is not None and c.finished is not None for c in rec.commands), name
        assert lines(rec, 4) == ["done"]
        assert rec.commands[1].as_run.startswith("sudo -n sh -s: sh -c ")


def test_a_busybox_host_without_ionice_runs_low_and_roots_through_one_sudo(
    records: dict[str, HostRecord],
) -> None:
    bb = records["lite-bb"]
    assert "target priority: low (nice 19, io priority unchanged (no ionice))" in bb.notes
    assert lines(bb, 0) == ["19", "no-ionice"]
    sudo, uid, nice, io = lines(bb, 1)
    assert (
        sudo.startswith("sudo=") and sudo != "sudo=" and (uid, nice, io) == ("0", "19", "no-ionice")
    )
    assert lines(bb, 3) == [sudo]  # the same sudo process ran every root step
    assert bb.commands[2].stdout == b"root" and bb.commands[2].exit_code == 0


def test_a_refused_sudo_gives_every_root_step_what_sudo_said(
    fleet: SSHFleet, records: dict[str, HostRecord]
) -> None:
    rec = records["lite-nosudo"]
    # What one `sudo -n` per command gave before: sudo's own words and exit status.
    t = SSHTransport(
        plan_host(
            load_inventory([fleet.inventory_ini(fleet.workdir / "one.ini")]).hosts["lite-nosudo"],
            [],
            secrets=False,
        ).spec,
        SSHOptions(known_hosts=(fleet.known_hosts,)),
    )
    t.connect()
    try:
        before = t.run("sudo -n sh -c 'id -u' </dev/null", timeout=20, max_output=4096)
    finally:
        t.close()
    assert before.stderr == b"sudo: a password is required\n" and before.exit_code == 1
    for i in (1, 2, 3):
        c = rec.commands[i]
        assert (c.stdout, c.stderr, c.exit_code) == (b"", before.stderr, before.exit_code), c
        assert not_readable(Output(command=c.command, stderr=c.stderr, exit_code=c.exit_code))
    assert lines(rec, 0)[1] == "idle"  # the unprivileged steps are untouched


def test_an_opted_out_group_runs_at_normal_priority(records: dict[str, HostRecord]) -> None:
    ot = records["lite-ot"]
    assert "target priority: normal (e8_target_priority: normal)" in ot.notes
    assert lines(ot, 0)[0] != "19" and "idle" not in lines(ot, 0)
    sudo, uid, *root = lines(ot, 1)
    assert sudo != "sudo=" and uid == "0" and root == lines(ot, 0)  # the root shell too
