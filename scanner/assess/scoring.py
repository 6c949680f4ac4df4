"""Score: findings → ASD outcome per control → maturity levels per host, strategy and fleet.

Scoring is generic over a :class:`~scanner.model.framework.Framework` (its levels 1…n, its groups
and its controls; the built-in Essential Eight unless told otherwise). Every (group, ISM control)
of the framework is reported for every host, whether or not a check covers it; findings for
controls outside the framework are not scored. Two numbers per host and strategy:

``levels`` — what the host's own evidence supports. Level *n* is granted when every control
required at *n* that a host can show (fully or partly) and that applies to the host's platform is
effective or alternate_control, and every level below *n* is granted too. Ineffective,
not_implemented and no_visibility block — and so does a host-showable control that no check
covered (not_assessed): evidence that was never collected supports nothing. Organisational
controls do not block this number; they are counted (``counts['not_assessed']``) and listed. A
level with no control behind it is never granted, and a strategy where nothing was assessed is
``None`` ("not assessed"), never the top level. A level whose every host-showable control was
judged not_applicable (the host showed the control does not concern it: no browser, not a
workstation) is passed through, so a historian without a browser is not held at ML0 for user
application hardening; a strategy whose host-showable controls are *all* not_applicable is
listed in ``not_applicable`` (its level is ``None``) and does not lower the host's level.

``claimable`` — what an assessor could sign: every control required at *n*, organisational
ones included, must be effective or alternate_control (through an attestation or exception).

A host's overall level is the lowest over its assessed strategies; the fleet level per strategy is
the lowest over assessed hosts, shown with the distribution.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from scanner.assess.grading import GradeCap, grade_cap
from scanner.assess.judging import Judged
from scanner.assess.register import Register, judge_attestation, judge_exception
from scanner.assess.results import ControlResult, HostResult, Level, StrategySummary
from scanner.assess.role import record_profile, resolve_role
from scanner.model.framework import Checkable, Framework, Requirement, builtin
from scanner.model.vocabulary import (
    OUTCOME_SEVERITY,
    Grade,
    Outcome,
    Platform,
    Reach,
    Strategy,
)
from scanner.record.raw import HostRecord

ASSESSED = frozenset(
    {
        Outcome.EFFECTIVE,
        Outcome.ALTERNATE_CONTROL,
        Outcome.INEFFECTIVE,
        Outcome.NOT_IMPLEMENTED,
        Outcome.NO_VISIBILITY,
    }
)


def _control(
    req: Requirement,
    checkable: Checkable,
    outcome: Outcome,
    evidence: str,
    grade: Grade = Grade.NONE,
    **found: Any,
) -> ControlResult:
    return ControlResult(
        ism=req.ism,
        strategy=req.strategy,
        local_id=req.local_id,
        requirement=req.requirement,
        levels=_sorted_levels(req.levels),
        checkable=checkable,
        outcome=outcome,
        evidence=evidence,
        grade=grade,
        **found,
    )


@functools.cache
def _sorted_levels(levels: frozenset[int]) -> tuple[int, ...]:
    return tuple(sorted(levels))


@dataclass(frozen=True, slots=True)
class _Row:
    """One requirement as it stands on a platform before any evidence: whether a host can show
    it, and the result it gets when no check covered it (shared by every such host)."""

    req: Requirement
    checkable: Checkable
    showable: bool
    idle: ControlResult


@functools.lru_cache(maxsize=32)
def _rows(framework: Framework, platform: Platform) -> tuple[_Row, ...]:
    excluded = framework.exclusions
    rows = []
    for req in framework.controls:
        why_not = excluded.get((req.strategy, req.ism, platform))
        showable = req.host_showable and why_not is None
        checkable: Checkable = req.checkable if showable else "no"
        if not req.applies_to(platform):
            outcome, says = Outcome.NOT_APPLICABLE, f"does not apply to {platform.value} hosts"
        elif showable:
            outcome, says = (
                Outcome.NOT_ASSESSED,
                f"no check covers this control on {platform.value} yet",
            )
        elif why_not:
            outcome, says = (
                Outcome.NOT_ASSESSED,
                f"not visible from a {platform.value} host: {why_not}",
            )
        else:
            outcome, says = (
                Outcome.NOT_ASSESSED,
                "organisational control: not visible from a host (attest it)",
            )
        rows.append(_Row(req, checkable, showable, _control(req, checkable, outcome, says)))
    return tuple(rows)


def control_outcomes(
    rec: HostRecord,
    judged: Sequence[Judged],
    register: Register | None = None,
    framework: Framework | None = None,
) -> list[ControlResult]:
    """One ControlResult per requirement row, for one host, with exceptions and attestations applied.

    Controls no check covered are the platform's shared (immutable) results, so a fleet holds
    one copy of each rather than one per host."""
    found: dict[tuple[Strategy, str], list[Judged]] = defaultdict(list)
    for j in judged:
        found[(j.check.strategy, j.finding.ism)].append(j)
    reached = rec.reach is Reach.OK
    blind = None if reached else f"host {rec.reach.value}: {rec.reach_detail}"
    cap = grade_cap(rec)
    use_register = register is not None and not register.empty
    out = []
    for row in _rows(framework or builtin(), rec.platform):
        req, c = row.req, row.idle
        if c.outcome is Outcome.NOT_APPLICABLE:
            pass
        elif blind is not None:
            if row.showable:
                c = _control(req, row.checkable, Outcome.NO_VISIBILITY, blind)
        elif js := found.get((req.strategy, req.ism)):
            worst = max(js, key=lambda j: OUTCOME_SEVERITY[j.finding.outcome])
            evidence = worst.finding.evidence
            others = [j for j in js if j is not worst]
            if others:
                evidence += " | " + " | ".join(
                    f"{j.check.id}: {j.finding.outcome.value}" for j in others
                )
            c = _control(
                req,
                row.checkable,
                worst.finding.outcome,
                evidence,
                check=worst.check.id,
                check_version=worst.check.version,
                observed=worst.finding.observed,
                grade=_grade(worst.check.grade, cap)
                if worst.finding.outcome in ASSESSED
                else Grade.NONE,
            )
        out.append(_apply_register(c, rec, register) if use_register and register else c)
    return out


def _grade(grade: Grade, cap: GradeCap | None) -> Grade:
    """A check's evidence grade on this host, within the host's cap (:mod:`scanner.assess.grading`:
    collected offline, or over weak SSH crypto), however the check reads it."""
    return grade if cap is None else grade.at_most(cap.grade)


def _apply_register(c: ControlResult, rec: HostRecord, register: Register) -> ControlResult:
    """Exceptions act on live verdicts (reachable hosts only); attestations fill unassessed controls."""
    applied = None
    if rec.reach is Reach.OK and c.outcome is not Outcome.NOT_APPLICABLE:
        e = register.exception_for(rec.name, rec.groups, c.strategy, c.ism)
        if e is not None:
            applied = judge_exception(e, c.outcome, rec.collected_at)
    if applied is None and c.outcome is Outcome.NOT_ASSESSED:
        a = register.attestation_for(rec.name, rec.groups, c.strategy, c.ism)
        if a is not None:
            applied = judge_attestation(a, a.id in register.attached, rec.collected_at)
    if applied is None:
        return c
    if (
        applied.outcome is c.outcome and applied.grade is Grade.NONE
    ):  # expired, incomplete: reported only
        return dataclasses.replace(
            c,
            evidence=f"{c.evidence} | {applied.evidence}",
            register_entry=f"{applied.entry}:{applied.notes[0]}",
        )
    return dataclasses.replace(
        c,
        outcome=applied.outcome,
        evidence=applied.evidence + (f" | live read: {c.evidence}" if c.check else ""),
        grade=applied.grade,
        register_entry=f"{applied.entry}:{applied.notes[0]}",
    )


def _considered(controls: Iterable[ControlResult], claim: bool) -> list[ControlResult]:
    return [
        c
        for c in controls
        if c.outcome is not Outcome.NOT_APPLICABLE and (claim or c.checkable != "no")
    ]


def _not_applicable_levels(controls: Iterable[ControlResult], claim: bool) -> frozenset[int]:
    """The levels with a control the host showed does not apply to it."""
    return frozenset(
        n
        for c in controls
        if c.outcome is Outcome.NOT_APPLICABLE and (claim or c.checkable != "no")
        for n in c.levels
    )


def strategy_level(
    controls: Iterable[ControlResult], claim: bool, levels: Sequence[int] | None = None
) -> Level:
    """The level for one strategy's controls on one host (see the module docstring); ``levels``
    are the framework's, ascending (the built-in framework's when not given)."""
    controls = list(controls)
    na = _not_applicable_levels(controls, claim)
    return _climb(_considered(controls, claim), levels or builtin().levels, na)[0]


def strategy_not_applicable(controls: Iterable[ControlResult]) -> bool:
    """Every host-showable control of the strategy was judged not_applicable on the host."""
    shown = [c for c in controls if c.checkable != "no"]
    return bool(shown) and all(c.outcome is Outcome.NOT_APPLICABLE for c in shown)


def next_level_blockers(
    controls: Iterable[ControlResult], levels: Sequence[int] | None = None
) -> list[str]:
    """Why ``levels`` stops where it does: the controls at the first level not granted, or, when
    no control of that level applies to the host, a sentence saying so (nothing backs the level)."""
    levels = levels or builtin().levels
    controls = list(controls)
    considered = _considered(controls, claim=False)
    level, failing = _climb(considered, levels, _not_applicable_levels(controls, claim=False))
    if level is None or level == levels[-1]:
        return []
    if not failing:
        return [
            f"no ML{level + 1} control applies to this host, so ML{level + 1} has nothing behind it"
        ]
    return [f"{c.ism} {c.outcome.value}" for c in failing]


def _climb(
    considered: list[ControlResult], levels: Sequence[int], not_applicable: frozenset[int]
) -> tuple[Level, list[ControlResult]]:
    """The level reached and the controls that stopped it one level higher.

    A level with nothing to judge stops the climb, unless what it requires was shown not to
    apply to the host (``not_applicable``): then it is passed through."""
    if not any(c.outcome in ASSESSED for c in considered):
        return None, []
    level = 0
    for n in levels:
        at_n = [c for c in considered if n in c.levels]
        failing = [c for c in at_n if not c.outcome.meets]
        if failing or (not at_n and n not in not_applicable):
            return level, failing
        level = n
    return level, []


def lowest(values: Iterable[Level]) -> Level:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def score_host(
    rec: HostRecord,
    judged: Sequence[Judged],
    register: Register | None = None,
    framework: Framework | None = None,
) -> HostResult:
    profile = record_profile(rec)
    resolved = resolve_role(rec, profile)
    fw = framework or builtin()
    controls = control_outcomes(rec, judged, register, fw)
    cap = grade_cap(rec) if rec.reach is Reach.OK else None
    by_strategy: dict[Strategy, list[ControlResult]] = defaultdict(list)
    for c in controls:
        by_strategy[c.strategy].append(c)
    reached = rec.reach is Reach.OK  # an unreachable host had nothing assessed: null, not ML0
    groups, ns = fw.groups, fw.levels
    levels = {s: strategy_level(by_strategy[s], False, ns) if reached else None for s in groups}
    claimable = {s: strategy_level(by_strategy[s], True, ns) if reached else None for s in groups}
    # Not implementing a control (a risk acceptance without a compensating control) makes the
    # strategy ML0 on this host, as ASD says.
    for s in groups:
        if reached and any(c.outcome is Outcome.NOT_IMPLEMENTED for c in by_strategy[s]):
            levels[s], claimable[s] = 0, 0
    blockers = {s: next_level_blockers(by_strategy[s], ns) if reached else [] for s in groups}
    not_applicable = [s for s in groups if reached and strategy_not_applicable(by_strategy[s])]
    counts = Counter(c.outcome for c in controls)
    return HostResult(
        name=rec.name,
        address=rec.address,
        platform=rec.platform,
        connection=rec.connection,
        groups=rec.groups,
        role=resolved.role.value,
        role_source=resolved.source,
        role_note=resolved.note,
        ot_zone=profile.e8_ot_zone or None,
        internet_facing=profile.e8_internet_facing,
        reach=rec.reach,
        reach_detail=rec.reach_detail,
        host_key=rec.host_key,
        notes=[*rec.notes, cap.note] if cap is not None else rec.notes,
        grade_cap=cap.grade if cap is not None else None,
        user=rec.user,
        collected_at=rec.collected_at,
        levels=levels,
        claimable=claimable,
        blockers=blockers,
        not_applicable=not_applicable,
        level=lowest(levels.values()),
        claimable_level=lowest(claimable.values()),
        counts={o: counts.get(o, 0) for o in Outcome},
        controls=controls,
    )


def fleet_summary(
    hosts: Sequence[HostResult], framework: Framework | None = None
) -> list[StrategySummary]:
    fw = framework or builtin()
    keys = ["0", *map(str, fw.levels), "not_applicable", "not_assessed", "no_visibility"]
    out = []
    for s in fw.groups:
        dist: Counter[str] = Counter()
        for h in hosts:
            lv = h.levels[s]
            if h.reach is not Reach.OK:
                dist["no_visibility"] += 1
            elif s in h.not_applicable:
                dist["not_applicable"] += 1
            elif lv is None:
                dist["not_assessed"] += 1
            else:
                dist[str(lv)] += 1
        out.append(
            StrategySummary(
                strategy=s,
                title=s.label,
                level=lowest(h.levels[s] for h in hosts if h.reach is Reach.OK),
                distribution={k: dist.get(k, 0) for k in keys},
            )
        )
    return out
