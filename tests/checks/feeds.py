"""Feed snapshots for judging fixtures: ``"feeds": "shipped"``, a folder under tests/data/feeds, or
``{"<feed>": "<as-of date>", …}`` (the shipped data, each named feed stated as of that date).

A fixture without a ``feeds`` key is judged with no snapshot (``Snapshot(None)``: every feed
missing). A named snapshot with a ``snapshot.json`` is loaded as installed; one without (the
shipped default has none yet) gets a :class:`SnapshotMeta` built here from its own files: the KEV
catalogue's ``dateReleased`` as its as-of date, its record count and sha256 — what an install
would write, so switching to the real ``snapshot.json`` later changes nothing for the judges.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path

import scanner.feeds
from scanner.model.endoflife import PRODUCTS_DIR, RELEASES_DIR, parse_cycles
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


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def endoflife_meta(root: Path) -> FeedMeta:
    """endoflife's meta from its files: as of the newest date in the data (what it knows of)."""
    files = sorted(
        p.relative_to(root).as_posix()
        for d in (PRODUCTS_DIR, RELEASES_DIR)
        for p in (root / d).glob("*")
        if p.is_file()
    )
    newest = date.min
    for rel in files:
        if rel.startswith(RELEASES_DIR):
            versions = json.loads((root / rel).read_bytes())["versions"]
            dates = [date.fromisoformat(v["date"]) for v in versions.values()]
        else:
            cycles = parse_cycles((root / rel).read_bytes(), rel)
            dates = [d for c in cycles for d in (c.released, c.latest_released) if d]
        newest = max([newest, *dates])
    return FeedMeta(
        name="endoflife",
        source=f"test copy {root.name}",
        as_of=newest,
        fetched_at=datetime.combine(newest, time(), tzinfo=UTC),
        records=len(files),
        sha256=files_sha256(root, files),
    )


def _from_data(name: str, root: Path) -> FeedMeta:
    if name == "endoflife":
        return endoflife_meta(root)
    return built_meta(root).feeds[name]


def dated(block: dict[str, str], ages: dict[str, int]) -> Snapshot:
    """``{"<feed>": "<as-of date>" | "<folder>"}``: each feed either stated as of a day (over the
    shipped data; records 0 and sha256 of nothing — the judges never read them) or as its
    folder's data says (``shipped`` or a folder under tests/data/feeds). One folder per fixture."""
    roots = {snapshot_root(v) for v in block.values() if not _is_day(v)} or {SHIPPED}
    assert len(roots) == 1, f"one folder per fixture snapshot, not {sorted(map(str, roots))}"
    root = roots.pop()
    feeds: dict[str, FeedMeta] = {}
    for name, value in sorted(block.items()):
        if _is_day(value):
            day = date.fromisoformat(value)
            feeds[name] = FeedMeta(
                name=name,
                source=FEEDS[name].source,
                as_of=day,
                fetched_at=datetime.combine(day, time(), tzinfo=UTC),
                records=0,
                sha256="0" * 64,
            )
        else:
            feeds[name] = _from_data(name, root)
    return Snapshot(root, SnapshotMeta(feeds=feeds), max_age_days=ages)


@cache
def snapshot_for(spec: tuple[tuple[str, str], ...]) -> Snapshot:
    """``dated`` for a block given as sorted pairs (cached: the files are read once)."""
    return dated(dict(spec), {n: f.max_age_days for n, f in FEEDS.items()})


def snapshot(
    name: str | dict[str, str] | None, max_age_days: dict[str, int] | None = None
) -> Snapshot:
    """The named snapshot (None: no snapshot at all), with the policy's per-feed age limits."""
    if name is None:
        return Snapshot(None)
    ages = {**{n: f.max_age_days for n, f in FEEDS.items()}, **(max_age_days or {})}
    if isinstance(name, dict):
        if not max_age_days:
            return snapshot_for(tuple(sorted(name.items())))
        return dated(name, ages)
    return named(name, tuple(sorted(ages.items())))


@cache
def named(name: str, ages: tuple[tuple[str, int], ...]) -> Snapshot:
    """The snapshot folder ``name`` with those age limits, loaded once per test session (a
    snapshot parses each feed file once; judges share it, as a run does)."""
    root = snapshot_root(name)
    if (root / SNAPSHOT_FILE).is_file():
        return Snapshot.load(root, dict(ages))
    return Snapshot(root, built_meta(root), max_age_days=dict(ages))


def stale(snap: Snapshot) -> Snapshot:
    """``snap`` with every feed too old for any collection (its limits below any age); it shares
    ``snap``'s parsed files (the same files: parsing them again would only cost time)."""
    out = Snapshot(snap.root, snap.meta, max_age_days=dict.fromkeys(FEEDS, -(10**6)))
    out._cache, out._lock = snap._cache, snap._lock
    return out
