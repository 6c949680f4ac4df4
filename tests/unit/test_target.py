"""Whether a target is met is decided once (scanner.assess.target); writers only show it."""

from __future__ import annotations

import pytest

from scanner.assess.target import (
    EXIT_BELOW_TARGET,
    EXIT_NO_VISIBILITY,
    EXIT_OK,
    below,
    exit_code,
    fleet_meets,
    host_meets,
    hosts_short,
    level_meets,
    strategy_short,
    unseen,
)
from scanner.model.vocabulary import Reach
from tests.unit.builders import linux_host, patch_os_check, scored


@pytest.mark.parametrize(
    ("level", "target", "verdict", "is_below"),
    [
        (None, 2, "not assessed", False),
        (0, 1, "not met", True),
        (1, 2, "not met", True),
        (2, 2, "met", False),
        (3, 2, "met", False),
    ],
)
def test_levels_against_the_target(
    level: int | None, target: int, verdict: str, is_below: bool
) -> None:
    assert level_meets(level, target) == verdict
    assert below(level, target) is is_below


def test_hosts_and_exit_codes() -> None:
    check = patch_os_check("patch_os.t", "OS patched", "three fixes missing")
    reached = scored([linux_host("ok1", Reach.OK)], [check])
    assert [host_meets(h, 2) for h in reached.hosts] == ["no"]
    assert exit_code(reached) == EXIT_BELOW_TARGET
    blind = scored([linux_host("gone", Reach.UNREACHABLE, "no route")], [check])
    assert [host_meets(h, 2) for h in blind.hosts] == ["no visibility"]
    assert exit_code(blind) == EXIT_NO_VISIBILITY
    both = scored([linux_host("ok1", Reach.OK), linux_host("gone", Reach.TIMEOUT)], [check])
    assert exit_code(both) == EXIT_NO_VISIBILITY  # the highest wins
    assert exit_code(scored([], [check])) == EXIT_OK


def test_writers_take_the_verdict_from_the_one_place() -> None:
    # A writer that decided on its own would import no verdict from scanner.assess.target.
    from pathlib import Path

    import scanner.report

    root = Path(scanner.report.__file__).parent
    sources = {p.name: p.read_text() for p in root.rglob("*.py")}
    assert "host_meets" in sources["html.py"] and "host_meets" in sources["overview.py"]
    for name, text in sources.items():
        assert ">= target" not in text and "< target" not in text, name


def test_hosts_not_seen_never_meet_the_target() -> None:
    # The seen hosts would meet it; two of three were not seen: the fleet does not.
    assert level_meets(3, 2) == "met"
    assert level_meets(3, 2, unseen=2) == "not met"
    assert level_meets(None, 2, unseen=1) == "not met"
    check = patch_os_check("patch_os.t", "OS patched", "three fixes missing")
    mixed = scored(
        [linux_host("ok1", Reach.OK), linux_host("hmi", Reach.UNREACHABLE, "no route")], [check]
    )
    assert unseen(mixed) == 1 and hosts_short(mixed) == 2
    assert fleet_meets(mixed) == "not met"
    patch = next(f for f in mixed.fleet if f.strategy.value == "patch_os")
    assert strategy_short(patch, 2) == 2  # one below ML2, one not seen
