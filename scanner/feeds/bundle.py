"""Bundles: a snapshot folder as a ``.tar.gz``, for sites without internet
(``e8scan feeds export`` on a machine that has one, ``e8scan feeds import`` on the other).

A bundle holds ``snapshot.json`` and the feed files in the mirror layout, at its top level.
Reading one never trusts it: members that are links or special files, absolute paths or ``..``
are refused; each member is capped at its feed's ``max_bytes`` and the whole at the sum; only
layout files are written, one by one, never with ``extractall``. The files are then verified
like a download, and the sha256 each feed has in the bundle's ``snapshot.json`` must match the
files (its source and fetch time are kept).
"""

from __future__ import annotations

import os
import tarfile
import tempfile
import zlib
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from scanner.feeds.layout import feed_files, feed_of
from scanner.feeds.store import discard, install, new_staging, verify
from scanner.model.feeds import FEEDS, SNAPSHOT_FILE, FeedError, SnapshotMeta

MAX_MEMBERS = 50_000
MAX_META_BYTES = 1 << 20
MAX_TOTAL = sum(f.max_bytes for f in FEEDS.values()) * 8


def _member_path(name: str, bundle: Path) -> str:
    rel = name.removeprefix("./")
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or "\\" in rel or rel.startswith("/"):
        raise FeedError(f"{bundle}: member {name!r} leaves the bundle (path traversal refused)")
    return p.as_posix()


def extract(bundle: Path, dest: Path) -> SnapshotMeta | None:
    """The layout files of ``bundle`` written into ``dest``; its snapshot.json, if any."""
    total, count, meta_bytes = 0, 0, None
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            for m in tar:
                count += 1
                if count > MAX_MEMBERS:
                    raise FeedError(f"{bundle}: more than {MAX_MEMBERS:,} members")
                rel = _member_path(m.name, bundle)
                if m.isdir() or rel in ("", "."):
                    continue
                if not m.isfile():
                    raise FeedError(
                        f"{bundle}: member {m.name!r} is a link or special file (refused)"
                    )
                name = feed_of(rel)
                if rel == SNAPSHOT_FILE:
                    cap = MAX_META_BYTES
                elif name is None:
                    continue  # not part of the layout (a README, a schema): not written
                else:
                    cap = FEEDS[name].max_bytes
                total += m.size
                if m.size > cap or total > MAX_TOTAL:
                    raise FeedError(
                        f"{bundle}: member {m.name!r} is {m.size:,} bytes, over the cap of "
                        f"{cap:,} bytes"
                    )
                fh = tar.extractfile(m)
                assert fh is not None
                data = fh.read(cap + 1)
                if len(data) != m.size:
                    raise FeedError(f"{bundle}: member {m.name!r} is truncated or oversized")
                if rel == SNAPSHOT_FILE:
                    meta_bytes = data
                    continue
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                (dest / rel).write_bytes(data)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if (
            isinstance(exc, OSError)
            and exc.filename
            and not str(exc.filename).startswith(str(bundle))
        ):
            raise
        raise FeedError(f"{bundle}: not a readable .tar.gz bundle ({exc})") from None
    if meta_bytes is None:
        return None
    try:
        return SnapshotMeta.model_validate_json(meta_bytes)
    except ValueError as exc:
        raise FeedError(
            f"{bundle}: {SNAPSHOT_FILE} is not a snapshot description ({str(exc).splitlines()[0]})"
        ) from None


def verify_bundle(bundle: Path, dest: Path) -> SnapshotMeta:
    """Extract ``bundle`` into ``dest`` and verify it; the snapshot's description. Problems
    name the bundle and its member, never the temporary folder."""
    try:
        return _verify_bundle(bundle, dest)
    except FeedError as exc:
        msg = str(exc).replace(f"{dest}/", f"{bundle}: member ").replace(str(dest), str(bundle))
        raise FeedError(msg) from None


def _verify_bundle(bundle: Path, dest: Path) -> SnapshotMeta:
    given = extract(bundle, dest)
    now = datetime.now(UTC)
    sources = dict.fromkeys(FEEDS, f"bundle {bundle.name}")
    fetched = dict.fromkeys(FEEDS, now)
    if given is not None:
        for n, m in given.feeds.items():
            sources[n], fetched[n] = m.source, m.fetched_at
    meta = verify(dest, sources, fetched, require=False)
    if given is not None:
        for n, m in meta.feeds.items():
            if n in given.feeds and given.feeds[n].sha256 != m.sha256:
                raise FeedError(
                    f"{bundle}: the {n} files do not match the sha256 in its {SNAPSHOT_FILE} "
                    "(altered or incomplete bundle)"
                )
    return meta


def import_bundle(bundle: Path, data: Path) -> tuple[Path, SnapshotMeta]:
    if not bundle.is_file():
        raise FeedError(f"{bundle}: no such bundle file")
    stage = new_staging(data)
    try:
        meta = verify_bundle(bundle, stage)
        return install(stage, meta), meta
    except BaseException:
        discard(stage)
        raise


def export_bundle(root: Path, bundle: Path) -> SnapshotMeta:
    """Write the snapshot in ``root`` (its snapshot.json and feed files) to ``bundle``,
    atomically (a temporary file beside it, then renamed)."""
    meta = SnapshotMeta.model_validate_json((root / SNAPSHOT_FILE).read_bytes())
    bundle.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{bundle.name}.", dir=bundle.parent)
    os.close(fd)
    try:
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(root / SNAPSHOT_FILE, arcname=SNAPSHOT_FILE, recursive=False)
            for name in meta.feeds:
                for rel in feed_files(root, name):
                    tar.add(root / rel, arcname=rel, recursive=False)
        os.replace(tmp, bundle)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return meta
