"""The one place that decides whether a target level is met, and the exit code that follows.

Writers show these answers; they never compute their own. A host with no visibility never
counts as meeting a target (DESIGN rule 6), and a level that was not assessed is neither met nor
below target.
"""

from __future__ import annotations

from typing import Literal

from scanner.assess.results import HostResult, Results, StrategySummary
from scanner.model.vocabulary import Reach

# Exit codes (README "Exit codes"); where several apply the highest wins.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BELOW_TARGET = 3
EXIT_NO_VISIBILITY = 4
EXIT_REGRESSION = 5

HostVerdict = Literal["yes", "no", "no visibility"]
LevelVerdict = Literal["met", "not met", "not assessed"]


def below(level: int | None, target: int) -> bool:
    """An assessed level under the target (an unassessed one is not "below")."""
    return level is not None and level < target


def level_meets(level: int | None, target: int, unseen: int = 0) -> LevelVerdict:
    """A fleet's or strategy's level against the target; with ``unseen`` in-scope hosts that
    had no visibility it is never met, whatever the hosts that were seen show."""
    if unseen:
        return "not met"
    if level is None:
        return "not assessed"
    return "met" if level >= target else "not met"


def host_meets(host: HostResult, target: int) -> HostVerdict:
    """Does this host meet the target? A host not reached has no visibility, whatever it shows."""
    if host.reach is not Reach.OK:
        return "no visibility"
    return "yes" if host.level is not None and host.level >= target else "no"


def strategy_short(summary: StrategySummary, target: int) -> int:
    """Hosts not meeting the target for one strategy: those below it and those not seen."""
    dist = summary.distribution
    return sum(dist.get(str(n), 0) for n in range(target)) + dist.get("no_visibility", 0)


def hosts_short(results: Results) -> int:
    """In-scope hosts that do not meet the run's target (not seen counts as not meeting it)."""
    target = results.run.target_level
    return sum(1 for h in results.hosts if host_meets(h, target) != "yes")


def unseen(results: Results) -> int:
    """In-scope hosts with no visibility."""
    return sum(1 for h in results.hosts if h.reach is not Reach.OK)


def fleet_meets(results: Results) -> LevelVerdict:
    """The whole fleet against the target: every in-scope host seen and at or above it."""
    return level_meets(results.fleet_level, results.run.target_level, unseen(results))


def exit_code(results: Results) -> int:
    """3 when an assessed host is below the target level, 4 when an in-scope host had no visibility."""
    code = EXIT_OK
    target = results.run.target_level
    if any(below(h.level, target) for h in results.hosts if h.reach is Reach.OK):
        code = max(code, EXIT_BELOW_TARGET)
    if any(h.reach is not Reach.OK for h in results.hosts):
        code = max(code, EXIT_NO_VISIBILITY)
    return code
