"""The feed snapshot a check fixture is judged with (``ctx.feeds``).

A fixture may carry ``"feeds": {"csaf-ot": "2024-10-24", …}``: per feed name, the as-of date the
snapshot says for it. The snapshot is the shipped default data (``scanner/feeds/shipped``, copies
of the public sources) with a ``snapshot.json`` made up from those dates (records 0, sha256 of
nothing: the judges never read them). A fixture without the key gets ``Snapshot(None)`` — no feed
installed, whose every state says so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from scanner.model.feeds import FEEDS, FeedMeta, Snapshot, SnapshotMeta

SHIPPED = Path(__file__).resolve().parents[2] / "scanner" / "feeds" / "shipped"
_NO_SHA = "0" * 64


@lru_cache(maxsize=16)
def _snapshot(feeds: tuple[tuple[str, str], ...]) -> Snapshot:
    meta = SnapshotMeta(
        feeds={
            name: FeedMeta(
                name=name,
                source=FEEDS[name].source,
                as_of=date.fromisoformat(as_of),
                fetched_at=datetime.combine(date.fromisoformat(as_of), datetime.min.time(), UTC),
                records=0,
                sha256=_NO_SHA,
            )
            for name, as_of in feeds
        }
    )
    return Snapshot(
        root=SHIPPED, meta=meta, max_age_days={n: f.max_age_days for n, f in FEEDS.items()}
    )


def snapshot_for(fixture: dict[str, Any]) -> Snapshot:
    """The fixture's ``feeds`` block as a snapshot over the shipped data (cached per block)."""
    block = fixture.get("feeds")
    if not block:
        return Snapshot(None)
    return _snapshot(tuple(sorted((str(k), str(v)) for k, v in block.items())))
