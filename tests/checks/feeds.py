"""Feed snapshots for judging fixtures: ``"feeds": "shipped"`` or a folder under tests/data/feeds.

A fixture without a ``feeds`` key is judged with no snapshot (``Snapshot(None)``: every feed
missing). A named snapshot with a ``snapshot.json`` is loaded as installed; one without (the
shipped default has none yet) gets a :class:`SnapshotMeta` built here from its own files: the KEV
catalogue's ``dateReleased`` as its as-of date, its record count and sha256 — what an install
would write, so switching to the real ``snapshot.json`` later changes nothing for the judges.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
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


def snapshot(name: str | None, max_age_days: dict[str, int] | None = None) -> Snapshot:
    """The named snapshot (None: no snapshot at all), with the policy's per-feed age limits."""
    if name is None:
        return Snapshot(None)
    root = snapshot_root(name)
    if (root / SNAPSHOT_FILE).is_file():
        return Snapshot.load(root, max_age_days)
    ages = {**{n: f.max_age_days for n, f in FEEDS.items()}, **(max_age_days or {})}
    return Snapshot(root, built_meta(root), max_age_days=ages)


def stale(snap: Snapshot) -> Snapshot:
    """``snap`` with every feed too old for any collection (its limits below any age)."""
    return Snapshot(snap.root, snap.meta, max_age_days=dict.fromkeys(FEEDS, -(10**6)))
