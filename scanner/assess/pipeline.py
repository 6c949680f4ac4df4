"""Judge and score a raw record into results: pure, no network, the same input gives the same results.

``e8scan scan`` calls :func:`assess` after collecting; ``e8scan rescore`` calls it on a raw.json.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from scanner import __version__
from scanner.assess.coverage import directory_coverage
from scanner.assess.judging import directory_outputs, judge_host
from scanner.assess.register import Register
from scanner.assess.results import FeedUsed, HostResult, RegisterUse, Results, RunSummary
from scanner.assess.scoring import fleet_summary, lowest, score_host
from scanner.checking.api import Check
from scanner.model.feeds import Snapshot
from scanner.model.framework import Framework, builtin
from scanner.model.policy import Policy
from scanner.record.raw import CheckRef, RawRecord


def register_report(register: Register, hosts: Sequence[HostResult]) -> list[RegisterUse]:
    """Per exception/attestation: how many controls it decided or touched, on which hosts."""
    uses = []
    entries = [("exception", e.id, str(e.expires)) for e in register.exceptions] + [
        ("attestation", a.id, str(a.expires())) for a in register.attestations
    ]
    for kind, eid, expires in entries:
        statuses: Counter[str] = Counter()
        names: list[str] = []
        for h in hosts:
            for c in h.controls:
                if c.register_entry and c.register_entry.split(":", 1)[0] == eid:
                    statuses[c.register_entry.split(":", 1)[1]] += 1
                    if h.name not in names:
                        names.append(h.name)
        uses.append(
            RegisterUse(
                id=eid,
                kind=kind,
                expires=expires,
                statuses=dict(statuses) or {"unused": 0},
                hosts=names,
            )
        )
    return uses


def assess(
    raw: RawRecord,
    checks: Sequence[Check],
    policy: Policy,
    target_level: int | None = None,
    register: Register | None = None,
    framework: Framework | None = None,
    feeds: Snapshot | None = None,
) -> Results:
    """Judge and score a raw record against ``framework`` (the built-in Essential Eight unless
    given) and the feed snapshot ``feeds`` (none: the judgements that need one say so): pure,
    no network, same input → same results."""
    register = register or Register()
    fw = framework or builtin()
    # The directory hosts' outputs, for the checks that join a host to its domain (built once).
    dirs = directory_outputs(raw.hosts) if any(c.uses_directory for c in checks) else {}
    hosts = [
        score_host(h, judge_host(h, checks, policy, dirs, feeds), register, fw) for h in raw.hosts
    ]
    fleet = fleet_summary(hosts, fw)
    return Results(
        tool_version=__version__,
        model_version=fw.model_version,
        framework=fw,
        run=RunSummary(
            id=raw.run.id,
            started=raw.run.started,
            finished=raw.run.finished,
            inventory=raw.run.inventory,
            limit=raw.run.limit,
            target_level=target_level or raw.run.target_level,
            checks=[CheckRef(id=c.id, version=c.version) for c in checks],
            policy=policy.model_dump(mode="json"),
            register_files=list(register.sources),
            raw_record="raw.json",
            incomplete=raw.run.incomplete,
            incomplete_reason=raw.run.incomplete_reason,
            not_collected=list(raw.run.not_collected),
            feeds=[FeedUsed.model_validate(f) for f in (feeds or Snapshot(None)).describe()],
        ),
        hosts=hosts,
        fleet=fleet,
        fleet_level=lowest(f.level for f in fleet),
        register_use=register_report(register, hosts),
        coverage=directory_coverage(raw),
    )
