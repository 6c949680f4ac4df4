"""Operating-system lifecycles from the endoflife.date feed: one cycle of one product page.

The OS tables (``windows_lifecycle.csv``, ``linux_eol.csv``) map what a host reports to an
endoflife.date release cycle, written ``<product>:<cycle>`` in their ``eol_cycle`` column
(``windows:11-24h2-e``, ``windows-server:2022``, ``rhel:9``); the release and support dates then
come from the feed snapshot the run was judged with (:func:`feed_cycle`), and the evidence names
the feed, the cycle and the snapshot's date, as the application checks do.

**A stale snapshot** (older than the policy's ``feed_max_age_days`` at collection) cannot make a
host's release "supported" or "current": a later snapshot may know of a newer release or a changed
date. It can still say a release is *past* its end when that end had already passed on the day
the snapshot's data is as of (:meth:`FeedCycle.settled`): vendors announce extensions before an
end, not years after it, so a date already behind the snapshot is taken as final. An end that
fell between the snapshot and the collection is not: the vendor may have extended it meanwhile
(Microsoft did for Windows 10 ESU, Canonical for ESM) and judging on it would be a false fail, so
that verdict is no_visibility with the feed state's reason. A missing snapshot, a page or cycle
the snapshot lacks, or a cycle without a dated end gives no dates at all (no_visibility).

Pure functions; the snapshot parses each page once per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from scanner.checking.api import Finding
from scanner.model.endoflife import Cycle
from scanner.model.feeds import FeedError, Snapshot
from scanner.model.vocabulary import Outcome

FEED = "endoflife"


@dataclass(frozen=True)
class FeedCycle:
    """What the snapshot says of one cycle: ``cycle`` None when it says nothing (``why``)."""

    ref: str  # "windows:11-24h2-e"
    cycle: Cycle | None
    as_of: date | None  # the snapshot's as-of date (None without an endoflife snapshot)
    usable: bool  # the snapshot is fresh enough to back any verdict at the collection
    why: str  # why not usable, or why the cycle is not known ("" when usable and known)

    @property
    def product(self) -> str:
        return self.ref.partition(":")[0]

    @property
    def name(self) -> str:
        return self.ref.partition(":")[2]

    def where(self) -> str:
        """``endoflife.date windows 11-24h2-e, snapshot 2026-08-20``."""
        return f"endoflife.date {self.product} {self.name}, snapshot {self.as_of}"

    def settled(self, day: date | None) -> bool:
        """May ``day`` (an end date read from this snapshot) back a verdict? Always when the
        snapshot is usable; from a stale one only when the day had passed by its as-of date."""
        if day is None or self.cycle is None:
            return False
        return self.usable or (self.as_of is not None and day <= self.as_of)


class FeedDated:
    """A table row whose dates may come from a snapshot's cycle (``feed``; None: the table's own
    dates, with their source): whether they may back a verdict, and why not."""

    feed: FeedCycle | None

    @property
    def usable(self) -> bool:
        """Its dates may back any verdict (a table row, or a fresh snapshot's cycle)."""
        return self.feed is None or self.feed.usable

    @property
    def why(self) -> str:
        """Why the dates cannot back every verdict (the feed state's reason), else empty."""
        return "" if self.feed is None else self.feed.why

    def settled(self, day: date | None) -> bool:
        """May ``day`` back a verdict: a table date, a fresh snapshot's date, or a stale
        snapshot's date already past on its as-of day (:meth:`FeedCycle.settled`)."""
        return day is not None and (self.feed is None or self.feed.settled(day))


def stale_finding(f: Finding, row: FeedDated) -> Finding:
    """A verdict a stale snapshot cannot back, as no_visibility with the feed state's reason."""
    as_of = row.feed.as_of if row.feed is not None else None
    return f.model_copy(
        update={
            "outcome": Outcome.NO_VISIBILITY,
            "evidence": (
                f"not judged: {row.why}; a stale snapshot can show only an end already past on "
                f"its date ({as_of}), and it would say: {f.evidence}"
            ),
        }
    )


def end_date(value: date | bool | None) -> date | None:
    """A cycle's ``eol``/``eoes`` as a date; ``True``/``False``/absent carry no date."""
    return value if isinstance(value, date) else None


def feed_cycle(feeds: Snapshot, at: datetime, ref: str) -> FeedCycle:
    """Cycle ``ref`` (``<product>:<cycle>``) of the endoflife snapshot, judged at ``at``."""
    product, _, name = ref.partition(":")
    state = feeds.state(FEED, at)
    as_of = state.meta.as_of if state.meta is not None else None
    if as_of is None:
        return FeedCycle(ref, None, None, False, state.reason)
    try:
        cycles = feeds.cycles(product)
    except FeedError as exc:
        return FeedCycle(ref, None, as_of, False, str(exc))
    found = next((c for c in cycles or [] if c.cycle == name), None)
    if found is None:
        what = "no page" if cycles is None else f"no cycle {name!r}"
        return FeedCycle(
            ref, None, as_of, False, f"endoflife.date snapshot {as_of} has {what} for {product}"
        )
    return FeedCycle(ref, found, as_of, state.usable, state.reason)
