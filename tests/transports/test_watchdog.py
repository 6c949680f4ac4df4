"""The client's own watchdog: a host whose batch stops making progress is ended, not waited for.

One sweep (the real runner, real paramiko against real sshd, real pywinrm against the WS-Man
test server) holds four hosts, each running the same three steps (the middle one sleeps far
longer than the command timeout):

- ``stuck`` (sshd) has a ``timeout`` that does nothing: a shim early on the login PATH that
  drops its options and duration and execs the command, so the on-host timeout is absent, as it
  is for a process in uninterruptible sleep; its sleep runs on;
- ``steady`` (sshd) has the machine's own ``timeout``, which ends the sleep after the command
  timeout;
- ``win-stuck`` (WS-Man) has a step that never returns (a hung WMI provider: its fixture hangs
  whatever the batch's ``WaitOne`` timeout says);
- ``win-silent`` (WS-Man, the ``hang`` fault) never prints anything at all, not even the first
  step's begin marker.

The stuck hosts must come out ``timeout`` well inside their host budget, with what finished kept,
the hung step timed out and the later step not run, while the steady host finishes whole.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sshfleet import HostSpec, SSHFleet
from wsman.fixtures import FixtureOutput, HostFixtures
from wsman.server import WSManServer

from scanner.collect.plan import HostPlan, PlannedCommand, plan_host
from scanner.collect.posix_batch import Step
from scanner.collect.runner import RunOptions, collect
from scanner.collect.transports.ssh import SSHOptions
from scanner.inventory.load import load_inventory
from scanner.model.vocabulary import Reach
from scanner.record.raw import HostRecord
from tests.faultservers import tcp_server

pytestmark = pytest.mark.sshd

COMMAND_TIMEOUT = 1
GRACE = 1.0
CONNECT_TIMEOUT = 5.0
SLEEP = 60  # far past every budget here: only the watchdog ends it in time
# `timeout -k 2 1 CMD…` (or any other options) → `CMD…`: the on-host timeout does nothing.
NO_TIMEOUT = """#!/bin/sh
while [ $# -gt 0 ]; do
  case $1 in -k|-s) shift 2 ;; -*) shift ;; *) break ;; esac
done
shift
exec "$@"
"""
POSIX_STEPS = ["echo one", f"sleep {SLEEP}; echo late", "echo three"]
WIN_STEPS = ["Write-Output one", "Get-WmiObject Win32_Hung", "Write-Output three"]
WIN_FIXTURES = HostFixtures(
    {
        "Write-Output one": "one\r\n",
        "Get-WmiObject Win32_Hung": FixtureOutput(hang=True),
        "Write-Output three": "three\r\n",
    }
)
WIN_USER, WIN_PW, WIN_PW_ENV = "e8watch", "Watch-Dog-42", "E8_TEST_WATCHDOG_PASSWORD"


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Callable[..., SSHFleet]) -> Iterator[SSHFleet]:
    f = ssh_fleet_factory(
        [
            HostSpec(
                "stuck",
                overlay={"/usr/local/bin/timeout": NO_TIMEOUT},
                executables=("/usr/local/bin/timeout",),
            ),
            HostSpec("steady"),
        ],
        name="watchdog",
    )
    yield f
    f.stop()


def _with_steps(plan: HostPlan, lines: list[str], verbatim: bool) -> HostPlan:
    steps = [PlannedCommand(Step(line, verbatim=verbatim), ["watchdog.test"]) for line in lines]
    return dataclasses.replace(plan, commands=steps)


@pytest.fixture(scope="module")
def sweep(
    fleet: SSHFleet, wsman_server_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    stuck: WSManServer = wsman_server_factory(
        "127.0.0.236", auth=("basic",), users={WIN_USER: WIN_PW}, fixtures=WIN_FIXTURES
    )
    silent: WSManServer = wsman_server_factory(
        "127.0.0.237",
        auth=("basic",),
        users={WIN_USER: WIN_PW},
        fixtures=WIN_FIXTURES,
        faults=("hang",),
    )
    work = tmp_path_factory.mktemp("watchdog")
    win = (
        "ansible_connection=winrm ansible_winrm_scheme=http ansible_winrm_transport=basic "
        f"e8_allow_basic_over_http=true ansible_user={WIN_USER} e8_password_env={WIN_PW_ENV}"
    )
    inv = fleet.inventory_ini(work / "fleet.ini")
    with inv.open("a") as f:
        f.write("\n[windows]\n")
        for name, server in (("win-stuck", stuck), ("win-silent", silent)):
            f.write(f"{name} ansible_host={server.address} ansible_port={server.port} {win}\n")
    plans = []
    for host in load_inventory([inv]).select(None):
        plan = plan_host(host, [], environ={WIN_PW_ENV: WIN_PW})
        windows = host.name.startswith("win-")
        plans.append(_with_steps(plan, WIN_STEPS if windows else POSIX_STEPS, windows))
    opts = RunOptions(
        forks=4,
        command_timeout=COMMAND_TIMEOUT,
        command_grace=GRACE,
        ssh=SSHOptions(known_hosts=(fleet.known_hosts,), connect_timeout=CONNECT_TIMEOUT),
    )
    start = time.monotonic()
    records = collect(plans, opts)
    elapsed = time.monotonic() - start
    return {
        "hosts": {r.name: r for r in records},
        "elapsed": elapsed,
        "budget": {p.host.name: opts.budget(p) for p in plans},
        "servers": {"win-stuck": stuck, "win-silent": silent},
    }


def _took(record: HostRecord) -> float:
    return (record.finished - record.started).total_seconds()


def test_the_budget_is_derived_from_the_plan(sweep: dict[str, Any]) -> None:
    # 3 steps × 1 s + 1 s grace + 3 × 5 s connect: far more than the watchdog's 2 s.
    assert set(sweep["budget"].values()) == {3 * COMMAND_TIMEOUT + GRACE + 3 * CONNECT_TIMEOUT}


@pytest.mark.parametrize("name", ["stuck", "win-stuck"])
def test_a_step_that_ignores_the_on_host_timeout_ends_the_host_as_timeout(
    sweep: dict[str, Any], name: str
) -> None:
    host = sweep["hosts"][name]
    assert host.reach is Reach.TIMEOUT, (host.reach, host.reach_detail)
    assert "step 2 of 3 made no progress for 2 s" in host.reach_detail, host.reach_detail
    assert "1 step(s) finished and were kept, 1 not run" in host.reach_detail
    # Ended by the watchdog, not by the host budget (which the sleep would otherwise fill).
    assert _took(host) < sweep["budget"][name], _took(host)
    one, hung, three = host.commands
    assert one.ran and one.exit_code == 0 and one.stdout.strip() == b"one"
    assert hung.ran and hung.timed_out and hung.exit_code is None
    assert b"late" not in hung.stdout
    assert not three.ran and three.stdout == b""


def test_a_batch_that_never_prints_a_marker_is_ended_too(sweep: dict[str, Any]) -> None:
    host = sweep["hosts"]["win-silent"]
    assert host.reach is Reach.TIMEOUT, (host.reach, host.reach_detail)
    assert "the batch's first step made no progress" in host.reach_detail, host.reach_detail
    assert _took(host) < sweep["budget"]["win-silent"]
    assert not any(c.ran for c in host.commands)


def test_winrm_hosts_are_ended_with_signal_and_delete(sweep: dict[str, Any]) -> None:
    for name, server in sweep["servers"].items():
        batch = next(c for c in server.commands if c.kind == "batch")
        assert batch.signal == "terminate", name
        assert server.requests["Delete"] >= 1 and server.open_shells == 0, name
        assert not server.errors, (name, server.errors)


def test_the_steady_host_in_the_same_sweep_finishes_whole(sweep: dict[str, Any]) -> None:
    host = sweep["hosts"]["steady"]
    assert host.reach is Reach.OK, host.reach_detail
    one, slow, three = host.commands
    assert one.stdout == b"one\n" and three.stdout == b"three\n" and three.exit_code == 0
    assert slow.ran and slow.timed_out  # the host's own timeout ended it (rc 124)
    # The sweep waited for no stuck host's sleep.
    assert sweep["elapsed"] < max(sweep["budget"].values()), sweep["elapsed"]


def test_a_host_still_busy_past_its_budget_is_left_behind(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A WinRM listener that accepts and never answers holds pywinrm for its 30 s read timeout
    (per attempt); the sweep records the host as ``timeout`` once its budget has passed."""
    work = tmp_path_factory.mktemp("watchdog-tarpit")
    with tcp_server("127.0.0.238", lambda conn, n: None) as port:
        inv = work / "tarpit.ini"
        inv.write_text(
            f"[windows]\nwin-tarpit ansible_host=127.0.0.238 ansible_port={port} "
            "ansible_connection=winrm ansible_winrm_scheme=http ansible_winrm_transport=basic "
            f"e8_allow_basic_over_http=true ansible_user={WIN_USER} e8_password_env={WIN_PW_ENV}\n"
        )
        host = load_inventory([inv]).select(None)[0]
        plan = _with_steps(plan_host(host, [], environ={WIN_PW_ENV: WIN_PW}), WIN_STEPS, True)
        opts = RunOptions(host_budget=1.0, abandon_after=0.5)
        start = time.monotonic()
        (record,) = collect([plan], opts)
        elapsed = time.monotonic() - start
    assert record.reach is Reach.TIMEOUT, (record.reach, record.reach_detail)
    assert "budget of 1s ran out" in record.reach_detail, record.reach_detail
    assert "abandoned" in record.reach_detail
    assert [c.ran for c in record.commands] == [False, False, False]
    assert elapsed < 15, elapsed  # pywinrm alone would have waited 30 s
