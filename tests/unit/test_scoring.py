"""Scoring: ASD outcomes per control and the two maturity levels. The most tested module."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scanner.assess.judging import Judged
from scanner.assess.results import ControlResult
from scanner.assess.scoring import control_outcomes, fleet_summary, score_host, strategy_level
from scanner.checking.api import Check, Finding
from scanner.model.framework import index, requirements
from scanner.model.vocabulary import Grade, Outcome, Platform, Reach, Strategy
from scanner.record.raw import HostRecord

E, INEF, NV, NA, NI, NAS, ALT = (
    Outcome.EFFECTIVE,
    Outcome.INEFFECTIVE,
    Outcome.NO_VISIBILITY,
    Outcome.NOT_APPLICABLE,
    Outcome.NOT_IMPLEMENTED,
    Outcome.NOT_ASSESSED,
    Outcome.ALTERNATE_CONTROL,
)
T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def host(
    reach: Reach = Reach.OK, platform: Platform = Platform.LINUX, name: str = "h1"
) -> HostRecord:
    return HostRecord(
        name=name,
        address="127.0.0.1",
        port=22,
        connection="ssh",
        user="scan",
        become=False,
        platform=platform,
        groups=["g"],
        vars={},
        reach=reach,
        reach_detail="" if reach is Reach.OK else "connection refused",
        started=T0,
        finished=T0,
    )


def check(strategy: Strategy, isms: tuple[str, ...], cid: str | None = None) -> Check:
    return Check(
        id=cid or f"{strategy.value}.fake",
        title="A fake check for scoring tests",
        strategy=strategy,
        ism=isms,
        platforms=frozenset({Platform.LINUX, Platform.WINDOWS}),
        collect={"x": "true"},
        judge=lambda o, c: [],
        version=3,
    )


def judged(
    strategy: Strategy, outcomes: dict[str, Outcome], cid: str | None = None
) -> list[Judged]:
    c = check(strategy, tuple(outcomes), cid)
    return [Judged(c, Finding(ism=i, outcome=o, evidence=f"{i} {o}")) for i, o in outcomes.items()]


def ctl(levels: list[int], outcome: Outcome, checkable: str = "yes") -> ControlResult:
    return ControlResult(
        ism="ISM-0001",
        strategy=Strategy.PATCH_OS,
        local_id="X",
        requirement="r",
        levels=levels,
        checkable=checkable,
        outcome=outcome,
        evidence="",
        grade=Grade.GOOD,  # type: ignore[arg-type]
    )


# --- strategy_level: the rule itself, on hand-made controls -----------------------------------


def test_nothing_assessed_is_none_never_ml3() -> None:
    assert strategy_level([ctl([1, 2, 3], NAS), ctl([3], NAS)], claim=False) is None
    assert strategy_level([], claim=False) is None
    assert strategy_level([ctl([1, 2, 3], NA)], claim=False) is None


def test_all_effective_gives_ml3() -> None:
    assert strategy_level([ctl([1, 2, 3], E), ctl([2, 3], E), ctl([3], E)], claim=False) == 3


@pytest.mark.parametrize("blocker", [INEF, NV, NI])
def test_blocking_outcomes_at_ml1_give_ml0(blocker: Outcome) -> None:
    assert strategy_level([ctl([1, 2, 3], blocker), ctl([1, 2, 3], E)], claim=False) == 0


def test_ineffective_ml3_only_control_caps_at_ml2() -> None:
    assert strategy_level([ctl([1, 2, 3], E), ctl([3], INEF)], claim=False) == 2


def test_levels_are_cumulative_even_when_higher_level_passes() -> None:
    # ML1 fails: ML3 controls being effective must not lift the level.
    assert strategy_level([ctl([1], INEF), ctl([2, 3], E), ctl([3], E)], claim=False) == 0


def test_non_nested_sets_ml1_2_only_control_does_not_block_ml3() -> None:
    # ISM-1695 style: required at ML1 and ML2 only; ISM-1696 at ML3 only.
    assert strategy_level([ctl([1, 2], E), ctl([3], INEF)], claim=False) == 2
    assert strategy_level([ctl([1, 2], E), ctl([3], E)], claim=False) == 3
    assert strategy_level([ctl([1, 2], INEF), ctl([3], E)], claim=False) == 0


def test_level_needs_a_control_behind_it() -> None:
    # ML1 backed, ML2 has no control at all (only ML1 rows): stops at 1, never a vacuous ML3.
    assert strategy_level([ctl([1], E)], claim=False) == 1
    # What ML2 and ML3 require was shown not to apply to the host: passed through.
    assert strategy_level([ctl([1], E), ctl([2, 3], NA)], claim=False) == 3
    # ...but only with something assessed: all N/A is not a level at all.
    assert strategy_level([ctl([1, 2, 3], NA)], claim=False) is None


def test_organisational_controls_do_not_block_levels_but_block_claimable() -> None:
    controls = [ctl([1, 2, 3], E), ctl([1, 2, 3], NAS, checkable="no")]
    assert strategy_level(controls, claim=False) == 3
    assert strategy_level(controls, claim=True) == 0


@pytest.mark.parametrize("checkable", ["yes", "partly"])
def test_uncovered_host_showable_controls_block(checkable: str) -> None:
    # Evidence never collected supports nothing: an unassessed ML3 row caps the host at ML2.
    assert strategy_level([ctl([1, 2, 3], E), ctl([3], NAS, checkable)], claim=False) == 2
    assert strategy_level([ctl([1, 2, 3], NAS, checkable), ctl([3], E)], claim=False) == 0


def test_alternate_control_counts_as_meeting() -> None:
    controls = [ctl([1, 2, 3], ALT), ctl([1, 2, 3], E, checkable="no")]
    assert strategy_level(controls, claim=False) == 3
    assert strategy_level(controls, claim=True) == 3


def test_not_applicable_controls_are_skipped() -> None:
    assert strategy_level([ctl([1, 2, 3], E), ctl([1, 2, 3], NA)], claim=False) == 3
    assert strategy_level([ctl([1, 2, 3], E), ctl([1, 2, 3], NA, checkable="no")], claim=True) == 3


# --- control_outcomes / score_host over the real November 2023 table ---------------------------


def test_every_requirement_row_is_reported_once() -> None:
    rows = control_outcomes(host(), [])
    assert len(rows) == len(requirements())
    assert {(c.strategy, c.ism) for c in rows} == set(index())


def test_unreachable_host_is_no_visibility_never_a_pass() -> None:
    r = score_host(host(Reach.UNREACHABLE), [])
    showable = [c for c in r.controls if c.checkable != "no" and c.outcome is not NA]
    assert showable
    assert all(c.outcome is NV for c in showable)
    assert all(c.outcome in (NAS, NA) for c in r.controls if c.checkable == "no")
    assert any(c.outcome is NAS for c in r.controls if c.checkable == "no")
    assert all(v is None for v in r.levels.values())
    assert r.level is None
    assert "connection refused" in showable[0].evidence


def test_organisational_controls_are_not_assessed() -> None:
    r = score_host(host(), [])
    org = [
        c for c in r.controls if c.checkable == "no" and c.strategy is not Strategy.OFFICE_MACROS
    ]
    assert org
    assert all(c.outcome is NAS for c in org)


def test_windows_only_controls_are_not_applicable_on_linux() -> None:
    r = score_host(host(), [])
    macros = [c for c in r.controls if c.strategy is Strategy.OFFICE_MACROS]
    assert macros
    assert all(c.outcome is NA for c in macros)
    assert r.levels[Strategy.OFFICE_MACROS] is None
    win = score_host(host(platform=Platform.WINDOWS), [])
    assert all(c.outcome is NAS for c in win.controls if c.strategy is Strategy.OFFICE_MACROS)


def _showable(strategy: Strategy, levels: set[int]) -> list[str]:
    return [
        r.ism
        for r in requirements()
        if r.strategy is strategy
        and r.host_showable
        and r.levels & levels
        and r.applies_to(Platform.LINUX)
    ]


def test_patch_os_levels_from_real_table() -> None:
    ml12 = dict.fromkeys(_showable(Strategy.PATCH_OS, {1, 2}), E) | {"ISM-1694": NA, "ISM-1877": NA}
    r = score_host(host(), judged(Strategy.PATCH_OS, ml12))
    # ML3-only rows (1696, 1902, 1407, drivers, firmware) never looked at: ML3 is not supported.
    assert r.levels[Strategy.PATCH_OS] == 2
    full = dict.fromkeys(_showable(Strategy.PATCH_OS, {1, 2, 3}), E) | {
        "ISM-1694": NA,
        "ISM-1877": NA,
    }
    assert score_host(host(), judged(Strategy.PATCH_OS, full)).levels[Strategy.PATCH_OS] == 3
    stale = full | {"ISM-1696": INEF}
    assert score_host(host(), judged(Strategy.PATCH_OS, stale)).levels[Strategy.PATCH_OS] == 2
    eol = full | {"ISM-1501": INEF}
    assert score_host(host(), judged(Strategy.PATCH_OS, eol)).levels[Strategy.PATCH_OS] == 0
    partial = {"ISM-1501": E, "ISM-1695": E}  # ISM-1701/1702 (scan frequency) not covered
    assert score_host(host(), judged(Strategy.PATCH_OS, partial)).levels[Strategy.PATCH_OS] == 0


def test_claimable_is_zero_without_attestations() -> None:
    ml12 = dict.fromkeys(_showable(Strategy.PATCH_OS, {1, 2}), E) | {"ISM-1694": NA, "ISM-1877": NA}
    r = score_host(host(), judged(Strategy.PATCH_OS, ml12))
    assert r.levels[Strategy.PATCH_OS] == 2
    assert r.claimable[Strategy.PATCH_OS] == 0  # ISM-1807/1808 are organisational, not attested


def test_worst_outcome_wins_when_two_checks_judge_one_control() -> None:
    js = judged(Strategy.PATCH_OS, {"ISM-1501": E}, "patch_os.a") + judged(
        Strategy.PATCH_OS, {"ISM-1501": INEF}, "patch_os.b"
    )
    c = next(c for c in score_host(host(), js).controls if c.ism == "ISM-1501")
    assert c.outcome is INEF
    assert c.check == "patch_os.b"
    assert "patch_os.a: effective" in c.evidence


def test_finding_carries_check_version_grade_and_evidence() -> None:
    c = next(
        c
        for c in score_host(host(), judged(Strategy.PATCH_OS, {"ISM-1501": E})).controls
        if c.ism == "ISM-1501"
    )
    assert (c.check, c.check_version, c.grade) == ("patch_os.fake", 3, Grade.GOOD)
    assert c.evidence == "ISM-1501 effective"
    unassessed = next(c for c in score_host(host(), []).controls if c.ism == "ISM-1501")
    assert unassessed.grade is Grade.NONE
    assert "no check covers" in unassessed.evidence


def test_overall_level_is_lowest_over_assessed_strategies() -> None:
    ml12 = dict.fromkeys(_showable(Strategy.PATCH_OS, {1, 2}), E) | {"ISM-1694": NA, "ISM-1877": NA}
    js = judged(Strategy.PATCH_OS, ml12) + judged(Strategy.BACKUPS, {"ISM-1511": INEF})
    r = score_host(host(), js)
    assert r.levels[Strategy.PATCH_OS] == 2
    assert r.levels[Strategy.BACKUPS] == 0
    assert r.level == 0
    assert r.levels[Strategy.APPLICATION_CONTROL] is None


def test_counts_cover_every_outcome() -> None:
    r = score_host(host(), judged(Strategy.PATCH_OS, {"ISM-1501": INEF}))
    assert set(r.counts) == set(Outcome)
    assert sum(r.counts.values()) == len(requirements())
    assert r.counts[INEF] == 1


def test_fleet_is_lowest_over_assessed_hosts_with_distribution() -> None:
    ml12 = dict.fromkeys(_showable(Strategy.PATCH_OS, {1, 2}), E) | {"ISM-1694": NA, "ISM-1877": NA}
    good = score_host(host(name="a"), judged(Strategy.PATCH_OS, ml12))
    bad = score_host(host(name="b"), judged(Strategy.PATCH_OS, {"ISM-1501": INEF}))
    dead = score_host(host(Reach.TIMEOUT, name="c"), [])
    fleet = {f.strategy: f for f in fleet_summary([good, bad, dead])}
    po = fleet[Strategy.PATCH_OS]
    assert po.level == 0
    assert po.distribution == {
        "0": 1,
        "1": 0,
        "2": 1,
        "3": 0,
        "not_applicable": 0,
        "not_assessed": 0,
        "no_visibility": 1,
    }
    assert fleet[Strategy.MFA].level is None
    assert fleet[Strategy.MFA].distribution["not_assessed"] == 2


def test_blockers_name_what_stops_the_next_level() -> None:
    ml12 = dict.fromkeys(_showable(Strategy.PATCH_OS, {1, 2}), E) | {"ISM-1694": NA, "ISM-1877": NA}
    r = score_host(host(), judged(Strategy.PATCH_OS, ml12 | {"ISM-1696": INEF}))
    assert r.levels[Strategy.PATCH_OS] == 2
    blockers = r.blockers[Strategy.PATCH_OS]
    assert "ISM-1696 ineffective" in blockers
    assert "ISM-1407 not_assessed" in blockers  # no check for it: evidence never collected
    assert all("ISM-1501" not in b for b in blockers)
    assert score_host(host(Reach.TIMEOUT), []).blockers[Strategy.PATCH_OS] == []


def test_a_level_shown_not_to_apply_is_passed_through() -> None:
    # A Linux historian without browsers: every ML1 user-app-hardening control is N/A (the host
    # showed it has no browser), an ML2 one is effective. ML1 is not held against the host.
    js = judged(
        Strategy.USER_APP_HARDENING, {"ISM-1486": NA, "ISM-1485": NA, "ISM-1585": NA, "ISM-1889": E}
    )
    r = score_host(host(), js)
    assert r.levels[Strategy.USER_APP_HARDENING] == 1
    assert Strategy.USER_APP_HARDENING not in r.not_applicable
    # ML2 stops at what no check showed, not at ML1.
    assert all("not_assessed" in b for b in r.blockers[Strategy.USER_APP_HARDENING])


def test_a_strategy_that_does_not_apply_does_not_lower_the_host() -> None:
    showable = _showable(Strategy.USER_APP_HARDENING, {1, 2, 3})
    js = judged(Strategy.USER_APP_HARDENING, dict.fromkeys(showable, NA))
    js += judged(Strategy.PATCH_OS, dict.fromkeys(_showable(Strategy.PATCH_OS, {1, 2, 3}), E))
    r = score_host(host(), js)
    # (office macros do not apply to a Linux host at all: the framework says so)
    assert r.not_applicable == [Strategy.OFFICE_MACROS, Strategy.USER_APP_HARDENING]
    assert r.levels[Strategy.USER_APP_HARDENING] is None
    assert r.levels[Strategy.PATCH_OS] == 3
    fleet = {f.strategy: f for f in fleet_summary([r])}
    assert fleet[Strategy.USER_APP_HARDENING].distribution["not_applicable"] == 1
    assert fleet[Strategy.USER_APP_HARDENING].level is None


def test_blockers_say_when_a_level_has_nothing_behind_it() -> None:
    # Only organisational controls at ML1 for this host (none host-showable, none N/A): ML1 has
    # nothing a host can show, so it is not granted.
    js = judged(Strategy.USER_APP_HARDENING, {"ISM-1889": E})
    r = score_host(host(), js)
    assert r.levels[Strategy.USER_APP_HARDENING] == 0
    assert r.blockers[Strategy.USER_APP_HARDENING] == [
        f"{i} not_assessed" for i in ("ISM-1486", "ISM-1485", "ISM-1585")
    ]
