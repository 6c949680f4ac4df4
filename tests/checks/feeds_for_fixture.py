"""The feed snapshot a check fixture is judged with (``ctx.feeds``).

A fixture names it with ``"feeds": {"endoflife": "shipped"}`` (feed → folder: ``shipped`` is the
shipped default snapshot ``scanner/feeds/shipped``; any other value a folder under
``tests/data/feeds``, in the same mirror layout). A fixture without the key is judged with
``Snapshot(None)`` — no feeds installed, as on a scanner where none was ever installed.

The snapshot's ``snapshot.json`` is not on disk (the shipped folder has none): :func:`snapshot_for`
builds the :class:`FeedMeta` itself, its ``as_of`` the newest date in the feed's data (what the
feed knows of), so a fixture collected long after sees the feed stale, as a real scan would.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from scanner.model.endoflife import PRODUCTS_DIR, RELEASES_DIR, parse_cycles
from scanner.model.feeds import FeedMeta, Snapshot, SnapshotMeta, files_sha256

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "scanner" / "feeds" / "shipped"
TEST_FEEDS = ROOT / "tests" / "data" / "feeds"


def _endoflife_meta(root: Path) -> FeedMeta:
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
        fetched_at=datetime.combine(newest, datetime.min.time(), tzinfo=UTC),
        records=len(files),
        sha256=files_sha256(root, files),
    )


_META = {"endoflife": _endoflife_meta}


def folder(name: str) -> Path:
    return SHIPPED if name == "shipped" else TEST_FEEDS / name


@cache
def snapshot_for(spec: tuple[tuple[str, str], ...]) -> Snapshot:
    """A snapshot of the feeds ``((feed, folder), …)``; every feed must sit in one folder."""
    roots = {folder(where) for _, where in spec}
    assert len(roots) == 1, f"one folder per fixture snapshot, not {sorted(map(str, roots))}"
    root = roots.pop()
    meta = SnapshotMeta(feeds={name: _META[name](folder(where)) for name, where in spec})
    return Snapshot(root, meta)


def fixture_feeds(fixture: dict[str, Any]) -> Snapshot:
    """``ctx.feeds`` for a fixture (its ``"feeds"`` block, or no snapshot at all)."""
    block = fixture.get("feeds")
    if not block:
        return Snapshot(None)
    return snapshot_for(tuple(sorted(block.items())))
