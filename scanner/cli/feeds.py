"""``e8scan feeds``: update, import, export and status of the feed snapshot judges read
(:mod:`scanner.feeds`); and how ``scan`` / ``rescore`` pick the snapshot they use."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from scanner.cli.support import examples, friendly, say
from scanner.feeds.bundle import export_bundle, import_bundle, verify_bundle
from scanner.feeds.download import update
from scanner.feeds.store import data_dir, in_use, write_meta
from scanner.model.errors import InputError
from scanner.model.feeds import FEEDS, SNAPSHOT_FILE, FeedError, Snapshot, SnapshotMeta

F = TypeVar("F", bound=Callable[..., Any])


def feed_errors(what: str) -> Callable[[F], F]:
    """A FeedError becomes one line (``e8scan: error: feeds update: …``) and exit 1."""

    def deco(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except FeedError as exc:
                raise InputError(what, f"{exc}; {kept()}") from None

        return wrapper  # type: ignore[return-value]

    return deco


def kept() -> str:
    root, shipped = in_use()
    return (
        "no change: the shipped default snapshot stays in use"
        if shipped
        else (f"the previous snapshot stays installed ({root})")
    )


@click.group(
    "feeds",
    short_help="Reference data (KEV, endoflife.date, ICS advisories).",
    epilog=examples("e8scan feeds status", "e8scan feeds update"),
)
def feeds_group() -> None:
    """The reference-data feeds (KEV, endoflife.date, CISA ICS advisories) judges read.

    Snapshots live in $E8SCAN_DATA_DIR, else $XDG_DATA_HOME/e8scan/feeds, else
    ~/.local/share/e8scan/feeds. Scans never fetch: they read the installed snapshot, else the
    shipped default."""


@feeds_group.command(
    "update",
    short_help="Fetch, verify and install every feed.",
    epilog=examples(
        "e8scan feeds update",
        "e8scan feeds update --mirror https://mirror.corp.example/e8feeds/",
    ),
)
@click.option(
    "--mirror",
    default=None,
    metavar="URL",
    help="Base URL of a mirror in the snapshot layout (default: the public sources).",
)
@friendly
@feed_errors("feeds update")
def update_cmd(mirror: str | None) -> None:
    """Fetch every feed, verify it and install it as the snapshot scans use (atomically)."""
    folder, meta = update(mirror)
    say(f"installed {folder}")
    _print_meta(meta)


@feeds_group.command(
    "import",
    short_help="Install a bundle written by 'feeds export'.",
    epilog=examples(
        "e8scan feeds import feeds-2026-12-07.tar.gz   # on the air-gapped scanner",
        "e8scan feeds import /media/usb/feeds.tar.gz && e8scan feeds status",
    ),
)
@click.argument("bundle", type=click.Path(exists=True, path_type=Path, dir_okay=False))
@friendly
@feed_errors("feeds import")
def import_cmd(bundle: Path) -> None:
    """Install a bundle written by `e8scan feeds export` (verified like an update)."""
    folder, meta = import_bundle(bundle, data_dir())
    say(f"installed {folder}")
    _print_meta(meta)


@feeds_group.command(
    "export",
    short_help="Write the snapshot in use as a .tar.gz bundle.",
    epilog=examples(
        "e8scan feeds export feeds-2026-12-07.tar.gz   # on a connected machine",
        "e8scan feeds update && e8scan feeds export /media/usb/feeds.tar.gz",
    ),
)
@click.argument("bundle", type=click.Path(path_type=Path, dir_okay=False))
@friendly
@feed_errors("feeds export")
def export_cmd(bundle: Path) -> None:
    """Write the snapshot in use (installed, else the shipped default) as a .tar.gz bundle."""
    root, _ = in_use()
    meta = export_bundle(root, bundle)
    say(f"wrote {bundle} ({', '.join(meta.feeds)} from {root})")


@feeds_group.command(
    "status",
    short_help="Each feed's source, as-of date, age and hash.",
    epilog=examples(
        "e8scan feeds status",
        "E8SCAN_DATA_DIR=/srv/e8scan/feeds e8scan feeds status",
    ),
)
@friendly
@feed_errors("feeds status")
def status_cmd() -> None:
    """Each feed: source, as-of date, fetch time, age in days, records, sha256."""
    root, shipped = in_use()
    snap = Snapshot.load(root)
    if shipped:
        say(f"snapshot: the shipped default ({root}); none installed in {data_dir()}")
    else:
        say(f"snapshot: {root}")
    now = datetime.now(UTC)
    for name, spec in FEEDS.items():
        meta = snap.meta.feeds.get(name) if snap.meta else None
        if meta is None:
            say(f"{name}: not in this snapshot ({spec.title})")
            continue
        age = (now.date() - meta.as_of).days
        stale = " (stale)" if age > spec.max_age_days else ""
        say(
            f"{name}: {spec.title}\n"
            f"  source      {meta.source}\n"
            f"  as of       {meta.as_of.isoformat()}, {age} days old{stale}; "
            f"default limit {spec.max_age_days} days\n"
            f"  fetched at  {meta.fetched_at.isoformat()}\n"
            f"  records     {meta.records}\n"
            f"  sha256      {meta.sha256}"
        )


def _print_meta(meta: SnapshotMeta) -> None:
    for m in meta.feeds.values():
        say(f"  {m.name}: as of {m.as_of.isoformat()}, {m.records} records, sha256 {m.sha256}")


def stale_warning(snap: Snapshot, at: datetime) -> str | None:
    """One line on every feed that is missing or too old at ``at`` (None: all usable)."""
    problems = []
    for name in FEEDS:
        state = snap.state(name, at)
        if state.usable:
            continue
        if state.meta is None:
            problems.append(f"no {name} snapshot")
        else:
            problems.append(f"{name} snapshot {(at.date() - state.meta.as_of).days} days old")
    if not problems:
        return None
    return f"feeds: {', '.join(problems)}; run e8scan feeds update"


def snapshot_in_use(max_age_days: dict[str, int]) -> Snapshot:
    """The installed snapshot, else the shipped default (what ``scan`` judges with)."""
    try:
        return Snapshot.load(in_use()[0], max_age_days)
    except FeedError as exc:
        raise InputError("feeds", f"{exc}; run e8scan feeds update") from None


@contextlib.contextmanager
def snapshot_for(path: Path | None, max_age_days: dict[str, int]) -> Iterator[Snapshot]:
    """The snapshot a run judges with: ``path`` (a snapshot folder or a bundle, for
    ``rescore --feeds``), else the installed one, else the shipped default."""
    try:
        if path is None:
            yield snapshot_in_use(max_age_days)
        elif path.is_dir():
            if not (path / SNAPSHOT_FILE).is_file():
                raise FeedError(f"{path}: not a snapshot folder (no {SNAPSHOT_FILE})")
            yield Snapshot.load(path, max_age_days)
        elif path.is_file():
            with tempfile.TemporaryDirectory(prefix="e8scan-feeds-") as tmp:
                write_meta(Path(tmp), verify_bundle(path, Path(tmp)))
                yield Snapshot.load(Path(tmp), max_age_days)
        else:
            raise FeedError(f"{path}: no such snapshot folder or bundle")
    except FeedError as exc:
        raise InputError("--feeds" if path is not None else "feeds", str(exc)) from None
