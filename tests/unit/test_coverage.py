"""Every control a host can show (fully or partly) has a check on every platform it concerns.

A control may be left uncovered on a platform only when
`scanner/model/frameworks/essential-eight-not-host-checkable.csv` says so, with the reason — an
explicit, reviewed statement that no host of that platform can show it, so it is treated as
organisational there.
"""

from __future__ import annotations

from scanner.checking.loader import load_checks
from scanner.model.framework import exclusions, index, requirements
from scanner.model.vocabulary import Platform


def covered() -> set[tuple[str, str, Platform]]:
    return {(c.strategy.value, i, p) for c in load_checks() for i in c.ism for p in c.platforms}


def test_every_host_checkable_control_has_a_check_or_a_stated_reason() -> None:
    have = covered()
    excluded = {(s.value, i, p) for (s, i, p) in exclusions()}
    gaps = [
        f"{r.strategy.value} {r.ism} on {p.value}"
        for r in requirements()
        if r.host_showable
        for p in Platform
        if p in r.platforms and (r.strategy.value, r.ism, p) not in have | excluded
    ]
    assert gaps == []


def test_exclusions_are_real_rows_with_reasons_and_not_also_covered() -> None:
    table = index()
    have = covered()
    for (s, i, p), reason in exclusions().items():
        assert (s, i) in table, (s, i)
        assert table[(s, i)].host_showable, f"{s.value} {i} is already organisational"
        assert len(reason) > 20, f"{s.value} {i} {p.value}: give a real reason"
        assert (s.value, i, p) not in have, (
            f"{s.value} {i} on {p.value} has a check; drop the exclusion"
        )
