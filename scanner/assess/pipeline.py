"""The one-way flow, end to end: inventory → plan → collect → raw record → findings → scores.

``scan`` runs all of it; ``rescore`` starts from a raw record and never touches the network.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from scanner import __version__
from scanner.assess.judging import judge_host
from scanner.assess.register import Register
from scanner.assess.results import HostResult, RegisterUse, Results, RunSummary
from scanner.assess.scoring import fleet_summary, lowest, score_host
from scanner.checking.api import Check
from scanner.model.framework import Framework, builtin
from scanner.model.policy import Policy
from scanner.model.vocabulary import Reach
from scanner.record.raw import CheckRef, RawRecord

# Exit codes (README "Exit codes"); where several apply the highest wins.
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BELOW_TARGET, EXIT_NO_VISIBILITY, EXIT_REGRESSION = (
    0,
    1,
    2,
    3,
    4,
    5,
)


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
) -> Results:
    """Judge and score a raw record against ``framework`` (the built-in Essential Eight unless
    given): pure, no network, same input → same results."""
    register = register or Register()
    fw = framework or builtin()
    hosts = [score_host(h, judge_host(h, checks, policy), register, fw) for h in raw.hosts]
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
        ),
        hosts=hosts,
        fleet=fleet,
        fleet_level=lowest(f.level for f in fleet),
        register_use=register_report(register, hosts),
    )


def exit_code(results: Results) -> int:
    """3 when an assessed host is below the target level, 4 when an in-scope host had no visibility."""
    code = EXIT_OK
    target = results.run.target_level
    if any(h.level is not None and h.level < target for h in results.hosts if h.reach is Reach.OK):
        code = max(code, EXIT_BELOW_TARGET)
    if any(h.reach is not Reach.OK for h in results.hosts):
        code = max(code, EXIT_NO_VISIBILITY)
    return code
