"""Small fleets for report tests: a check whose judge says what a test needs, Linux hosts that
were (or were not) reached, and the results of scoring them. No network: results come from
``assess`` on a raw record built here, exactly as ``e8scan rescore`` makes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from scanner.assess.pipeline import assess
from scanner.assess.results import Results
from scanner.checking.api import Check, Finding
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach, Strategy
from scanner.record.raw import HostRecord, RawRecord, RunInfo

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def patch_os_check(check_id: str, title: str, evidence: str) -> Check:
    """A Linux check that finds ISM-1501 ineffective with ``evidence``."""

    def judge(out: object, ctx: object) -> list[Finding]:
        return [Finding(ism="ISM-1501", outcome=Outcome.INEFFECTIVE, evidence=evidence)]

    return Check(
        id=check_id,
        title=title,
        strategy=Strategy.PATCH_OS,
        ism=("ISM-1501",),
        platforms=frozenset({Platform.LINUX}),
        collect={"x": "true"},
        judge=judge,  # type: ignore[arg-type]
        version=1,
    )


def linux_host(
    name: str,
    reach: Reach,
    detail: str = "",
    groups: Sequence[str] = ("pilbara",),
    hvars: dict[str, Any] | None = None,
) -> HostRecord:
    """A Linux host as the collector records it (no commands: judges see nothing ran)."""
    return HostRecord(
        name=name,
        address="127.0.0.9",
        port=22,
        connection="ssh",
        user="scan",
        become=False,
        platform=Platform.LINUX,
        groups=list(groups),
        vars={"e8_role": "server"} if hvars is None else hvars,
        reach=reach,
        reach_detail=detail,
        host_key="SHA256:abc",
        started=T0,
        finished=T0,
    )


def scored(hosts: Sequence[HostRecord], checks: Sequence[Check]) -> Results:
    """``hosts`` judged by ``checks`` and scored (target ML2), as rescore would."""
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id="r1", started=T0, finished=T0, inventory=[], target_level=2, checks=[]),
        hosts=list(hosts),
    )
    return assess(raw, checks, Policy())
