"""The runner's directory loop: searches in plan order on one connection, within the host budget.

The transport here is a stand-in that answers every search after a fixed delay: the loop's own
bookkeeping is under test (the real LDAP transport is tested against the Samba DC in
tests/directory)."""

from __future__ import annotations

import time
from pathlib import Path

from scanner.collect.plan import HostPlan, plan_host
from scanner.collect.runner import RunOptions, _searches
from scanner.collect.transports.base import RunResult
from scanner.inventory.load import load_inventory
from scanner.model.vocabulary import Reach
from scanner.record.raw import CommandRecord


class SlowDirectory:
    name = "ldap"
    host_key = None
    user = "svc"

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.asked: list[str] = []

    def run(self, command: str, timeout: float, max_output: int, stdin: bytes | None = None,
            max_stderr: int | None = None) -> RunResult:  # fmt: skip
        self.asked.append(command)
        time.sleep(self.delay)
        return RunResult(stdout=b'{"entries": []}', stderr=b"", exit_code=0, duration=self.delay)


def plan(tmp_path: Path) -> HostPlan:
    inv = tmp_path / "d.ini"
    inv.write_text("[d]\ndc01.corp.example ansible_connection=ldap ansible_user=svc\n")
    from scanner.checking.loader import load_checks

    host = load_inventory([inv]).select(None)[0]
    return plan_host(host, load_checks(), secrets=False)


def test_every_search_runs_in_plan_order_when_the_budget_allows(tmp_path: Path) -> None:
    p = plan(tmp_path)
    t = SlowDirectory(0.0)
    out: list[CommandRecord] = []
    reach, _ = _searches(t, p, RunOptions(host_budget=60), time.monotonic(), out)
    assert reach is Reach.OK
    assert t.asked == [pc.step.line for pc in p.commands]
    assert all(c.ran and c.exit_code == 0 for c in out)


def test_searches_left_when_the_budget_runs_out_are_recorded_as_not_run(tmp_path: Path) -> None:
    p = plan(tmp_path)
    assert len(p.commands) >= 3
    t = SlowDirectory(0.3)
    out: list[CommandRecord] = []
    reach, detail = _searches(t, p, RunOptions(host_budget=0.5), time.monotonic(), out)
    assert reach is Reach.TIMEOUT and "budget" in detail
    assert len(out) == len(p.commands)  # every planned search is in the record
    assert out[0].ran and not out[-1].ran and len(t.asked) < len(p.commands)
