"""Where snapshots live, and installing one atomically.

The data folder is ``$E8SCAN_DATA_DIR``, else ``$XDG_DATA_HOME/e8scan/feeds``, else
``~/.local/share/e8scan/feeds``. In it::

    CURRENT                     the name of the installed snapshot folder (replaced atomically)
    snapshot-<time>-<rand>/     a snapshot in the mirror layout, with its snapshot.json
    .staging-<rand>/            an update or import being built (removed when it fails)

An install builds a staging folder, verifies every file, writes ``snapshot.json``, renames the
folder into place and only then points ``CURRENT`` at it (``os.replace``): until that moment the
previous snapshot stays installed, so a failed or interrupted update leaves it intact. After the
switch the previous folder is kept (a scan that started before it may still be reading it) and
any older one is removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scanner.feeds.layout import verify_feed
from scanner.model.feeds import (
    FEEDS,
    SNAPSHOT_FILE,
    FeedError,
    FeedMeta,
    Snapshot,
    SnapshotMeta,
)

SHIPPED = Path(__file__).resolve().parent / "shipped"
POINTER = "CURRENT"
_STALE_STAGING_S = 24 * 3600


def data_dir() -> Path:
    """The folder snapshots live in (not created here)."""
    if env := os.environ.get("E8SCAN_DATA_DIR"):
        return Path(env).expanduser()
    if xdg := os.environ.get("XDG_DATA_HOME"):
        return Path(xdg).expanduser() / "e8scan" / "feeds"
    return Path.home() / ".local" / "share" / "e8scan" / "feeds"


def installed(data: Path | None = None) -> Path | None:
    """The installed snapshot's folder, or None (nothing installed yet)."""
    data = data_dir() if data is None else data
    try:
        name = (data / POINTER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    folder = data / name
    if not name.startswith("snapshot-") or "/" in name or not (folder / SNAPSHOT_FILE).is_file():
        return None
    return folder


def in_use(data: Path | None = None) -> tuple[Path, bool]:
    """The snapshot scans use: the installed one, else the shipped default (True)."""
    found = installed(data)
    return (found, False) if found is not None else (SHIPPED, True)


def load_in_use(max_age_days: dict[str, int] | None = None) -> tuple[Snapshot, bool]:
    root, shipped = in_use()
    return Snapshot.load(root, max_age_days), shipped


def new_staging(data: Path) -> Path:
    """A fresh staging folder in ``data`` (created), after removing day-old leftovers of
    interrupted updates."""
    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob(".staging-*"):
        try:
            if time.time() - old.stat().st_mtime > _STALE_STAGING_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
    return Path(tempfile.mkdtemp(prefix=".staging-", dir=data))


def verify(
    root: Path, sources: dict[str, str], fetched_at: dict[str, datetime], require: bool
) -> SnapshotMeta:
    """Check every feed in ``root`` and describe it; ``require``: every feed must be there."""
    feeds: dict[str, FeedMeta] = {}
    for name in FEEDS:
        meta = verify_feed(root, name, sources.get(name, ""), fetched_at[name])
        if meta is not None:
            feeds[name] = meta
        elif require:
            raise FeedError(f"{root}: the {name} feed is missing")
    if not feeds:
        raise FeedError(f"{root}: no feed in the snapshot layout (kev/, endoflife/, csaf-ot/)")
    return SnapshotMeta(feeds=feeds)


def write_meta(root: Path, meta: SnapshotMeta) -> None:
    tmp = root / (SNAPSHOT_FILE + ".tmp")
    tmp.write_text(meta.model_dump_json(indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, root / SNAPSHOT_FILE)


def install(staging: Path, meta: SnapshotMeta) -> Path:
    """Move a verified staging folder into place (its ``snapshot.json`` written) and make it the
    installed snapshot; the previous one is removed only after the switch."""
    data = staging.parent
    write_meta(staging, meta)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = data / f"snapshot-{stamp}-{staging.name.removeprefix('.staging-')}"
    staging.chmod(0o755)  # mkdtemp made it private; a snapshot is public data
    os.rename(staging, final)
    previous = installed(data)
    pointer = data / (POINTER + ".tmp")
    pointer.write_text(final.name + "\n", encoding="utf-8")
    os.replace(pointer, data / POINTER)
    for old in data.glob("snapshot-*"):  # the one before stays: a running scan may read it
        if old not in (final, previous) and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return final


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
