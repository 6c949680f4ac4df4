"""Feed snapshots for judging fixtures: ``"feeds": "shipped"``, a folder under tests/data/feeds, or
``{"<feed>": "<as-of date>", …}`` (the shipped data, each named feed stated as of that date).

A fixture without a ``feeds`` key is judged with no snapshot (``Snapshot(None)``: every feed
missing). A named snapshot with a ``snapshot.json`` is loaded as installed; one without (the
shipped default has none yet) gets a :class:`SnapshotMeta` built here from its own files: the KEV
catalogue's ``dateReleased`` as its as-of date, its record count and sha256 — what an install
would write, so switching to the real ``snapshot.json`` later changes nothing for the judges.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import scanner.feeds
from scanner.model.feeds import (
    FEEDS,
    KEV_FILE,
    SNAPSHOT_FILE,
    FeedMeta,
    Snapshot,
    SnapshotMeta,
    files_sha256,
    parse_kev,
)

SHIPPED = Path(scanner.feeds.__file__).parent / "shipped"
FEED_DATA = Path(__file__).parent.parent / "data" / "feeds"


def snapshot_root(name: str) -> Path:
    root = SHIPPED if name == "shipped" else FEED_DATA / name
    assert root.is_dir(), f"no feed snapshot {name!r} ({root})"
    return root


def built_meta(root: Path) -> SnapshotMeta:
    """What ``snapshot.json`` would say of the feeds in ``root`` (KEV only, for now)."""
    feeds: dict[str, FeedMeta] = {}
    if (root / KEV_FILE).is_file():
        kev = parse_kev((root / KEV_FILE).read_bytes())
        feeds["kev"] = FeedMeta(
            name="kev",
            source=FEEDS["kev"].source,
            as_of=kev.released,
            fetched_at=datetime.combine(kev.released, time(), tzinfo=UTC),
            records=len(kev.entries),
            sha256=files_sha256(root, [KEV_FILE]),
        )
    return SnapshotMeta(feeds=feeds)


def dated(as_of: dict[str, str], ages: dict[str, int]) -> Snapshot:
    """The shipped data with a ``snapshot.json`` made up from per-feed as-of dates (records 0,
    sha256 of nothing: the judges never read them)."""
    meta = SnapshotMeta(
        feeds={
            name: FeedMeta(
                name=name,
                source=FEEDS[name].source,
                as_of=date.fromisoformat(day),
                fetched_at=datetime.combine(date.fromisoformat(day), time(), tzinfo=UTC),
                records=0,
                sha256="0" * 64,
            )
            for name, day in sorted(as_of.items())
        }
    )
    return Snapshot(SHIPPED, meta, max_age_days=ages)


def snapshot(
    name: str | dict[str, str] | None, max_age_days: dict[str, int] | None = None
) -> Snapshot:
    """The named snapshot (None: no snapshot at all), with the policy's per-feed age limits."""
    if name is None:
        return Snapshot(None)
    ages = {**{n: f.max_age_days for n, f in FEEDS.items()}, **(max_age_days or {})}
    if isinstance(name, dict):
        return dated(name, ages)
    root = snapshot_root(name)
    if (root / SNAPSHOT_FILE).is_file():
        return Snapshot.load(root, max_age_days)
    return Snapshot(root, built_meta(root), max_age_days=ages)


def stale(snap: Snapshot) -> Snapshot:
    """``snap`` with every feed too old for any collection (its limits below any age)."""
    return Snapshot(snap.root, snap.meta, max_age_days=dict.fromkeys(FEEDS, -(10**6)))
