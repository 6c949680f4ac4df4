"""The run history: a SQLite file of past results, and the lock that serialises scans using it.

Each run keeps its whole results.json (zlib-compressed) plus summary columns for listing, and one
row per host (reach, overall level, level per strategy) for trends. The file carries a ``meta``
table naming it an e8scan history and its schema version, so a foreign or newer file is refused
with one line instead of being written to.

``run_lock`` holds ``<history>.lock`` for a whole scan or merge: an ``flock`` on that file, so
the operating system ends it with its process (a crashed or killed run never leaves a lock that
blocks the next); the file names the holder's pid and start time and is removed on the way out.

Why ~620 lines: the SQLite schema, the run and host rows (each checked as it is read: a damaged
or foreign file is one error line, never a crash), the trend queries and the lock stay in one
place, so no other module writes SQL.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from scanner.assess.results import Level, Results
from scanner.model.errors import InputError, field_where
from scanner.model.terminal import printable
from scanner.model.vocabulary import Reach, Strategy
from scanner.record.jsonstream import json_chunks

HISTORY_KIND = "e8scan-history"
HISTORY_SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_RESULTS_BYTES = 2 * 1024**3
"""The most a run's stored results may inflate to (2 GiB): about twice the results.json of the
10,000-host synthetic fleet of ``make bench`` (91 KB a host, 910 MB in all, 76 MB stored). A row
inflating past it is damaged or crafted (a "zlib bomb": 1 MB stored can inflate to 1 GB) and is
refused as it inflates, never held whole."""
_INFLATE_CHUNK = 16 * 1024 * 1024  # inflated at a time
_FEED_CHUNK = 1024 * 1024  # stored bytes given to zlib at a time
_COLUMNS = {
    "meta": ("key", "value"),
    "runs": (
        "id",
        "started",
        "finished",
        "hosts",
        "unreachable",
        "fleet_level",
        "target_level",
        "results",
    ),
    "host_levels": ("run_id", "host", "reach", "level", "levels"),
}

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT NOT NULL,
    hosts INTEGER NOT NULL,
    unreachable INTEGER NOT NULL,
    fleet_level INTEGER,
    target_level INTEGER NOT NULL,
    results BLOB NOT NULL
);
CREATE TABLE host_levels (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    reach TEXT NOT NULL,
    level INTEGER,
    levels TEXT NOT NULL,
    PRIMARY KEY (run_id, host)
);
"""


# -- the lock ------------------------------------------------------------------------------------


def lock_path(history_file: Path) -> Path:
    return history_file.with_name(history_file.name + ".lock")


_held: dict[str, int] = {}  # absolute lock file path -> the descriptor holding its flock here


def holds_lock(history_file: Path) -> bool:
    """Whether this process holds ``history_file``'s lock."""
    return os.path.abspath(lock_path(history_file)) in _held


def _read_lock(lockfile: Path) -> tuple[int | None, str]:
    """The pid and start time written in a lock file (pid None when unreadable)."""
    try:
        fd = os.open(lockfile, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            text = os.read(fd, 256).decode("utf-8", errors="replace")
        finally:
            os.close(fd)
    except OSError:
        return None, "an unknown time"
    parts = text.split()
    pid = int(parts[0]) if parts and parts[0].isdigit() else None
    return pid, parts[1] if len(parts) > 1 else "an unknown time"


def _same_file(fd: int, lockfile: Path) -> bool:
    """Whether ``lockfile`` still names the file open on ``fd`` (a releasing run unlinks it)."""
    try:
        st = os.stat(lockfile, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _acquire(lockfile: Path) -> int:
    """Open ``lockfile`` and take its ``flock``; returns the descriptor that holds it."""
    while True:
        try:
            fd = os.open(lockfile, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise InputError(str(lockfile), f"cannot open lock file: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid, started = _read_lock(lockfile)
            raise InputError(
                str(lockfile),
                f"another e8scan run (pid {pid if pid is not None else '?'}, started {started}) "
                "is using this history; wait for it to finish",
            ) from None
        except OSError as exc:
            os.close(fd)
            raise InputError(str(lockfile), f"cannot lock: {exc.strerror}") from None
        if _same_file(fd, lockfile):
            return fd
        os.close(fd)  # we locked a file its holder unlinked on release: lock the new one


def _release(lockfile: Path, fd: int) -> None:
    """Remove the lock file (still holding the lock, so no one can be using it), then unlock."""
    try:
        if _same_file(fd, lockfile):
            lockfile.unlink(missing_ok=True)
    finally:
        os.close(fd)


def release_held_locks() -> None:
    """Release every history lock this process holds (for an immediate exit: a second Ctrl-C).

    The operating system drops a ``flock`` when its process dies, however it dies; this also
    removes the lock files so that nothing stale is left to look at."""
    for key, fd in list(_held.items()):
        if _held.pop(key, None) is not None:
            with contextlib.suppress(OSError):
                _release(Path(key), fd)


@contextmanager
def run_lock(history_file: Path) -> Iterator[None]:
    """Hold ``<history_file>.lock`` for the duration of the block (one writer per history).

    The lock is an ``flock`` on the lock file, so it belongs to this process: the operating
    system releases it when the process ends, however it ends (``kill -9`` included), and two
    runs can never both hold it. The file also records the holder's pid and start time, which
    the refusal of a second run quotes."""
    lockfile = lock_path(history_file)
    try:
        lockfile.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(lockfile.parent), f"cannot create folder: {exc.strerror}") from None
    fd = _acquire(lockfile)
    try:
        stamp = f"{os.getpid()} {datetime.now(UTC).isoformat(timespec='seconds')}\n".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, stamp, 0)
    except OSError as exc:
        _release(lockfile, fd)
        raise InputError(str(lockfile), f"cannot write lock file: {exc.strerror}") from None
    key = os.path.abspath(lockfile)
    _held[key] = fd
    try:
        yield
    finally:
        if _held.pop(key, None) is not None:
            _release(lockfile, fd)


# -- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    """One recorded run, as listed by ``e8scan history``."""

    id: str
    finished: datetime
    hosts: int
    unreachable: int
    fleet_level: Level
    target_level: int


@dataclass(frozen=True)
class TrendRow:
    """One host in one run: how far the scan got and the levels it earned."""

    run_id: str
    finished: datetime
    reach: str
    level: Level
    levels: dict[str, Level]


# -- the history file ----------------------------------------------------------------------------


def _not_history(path: Path, why: str) -> InputError:
    return InputError(str(path), f"not an e8scan history ({why})")


def _cannot(path: Path, what: str, exc: sqlite3.Error) -> InputError:
    """A history SQLite could not write or read: full disk, read-only file system, I/O error."""
    return InputError(str(path), f"cannot {what} the run history (SQLite says: {exc})")


def _damaged(path: Path, run_id: object) -> InputError:
    return InputError(
        f"{path}: run {str(run_id)[:80]}", "a damaged row (not what e8scan writes); expected a run"
    )


class History:
    """An open run history. Use ``History.open(path)`` as a context manager."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    @classmethod
    def open(cls, path: Path, create: bool = True) -> History:
        """Open (or with ``create``, create) the history at ``path``; refuse anything else."""
        if not path.exists():
            if not create:
                raise InputError(str(path), "no run history here yet (scan with --history first)")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(
                    str(path.parent), f"cannot create folder: {exc.strerror}"
                ) from None
        elif path.is_dir():
            raise InputError(str(path), "is a folder, expected a history file")
        else:
            _check_magic(path)
        try:
            conn = sqlite3.connect(path, timeout=30)
        except sqlite3.Error as exc:
            raise InputError(str(path), f"cannot open the run history ({exc})") from None
        # Text a damaged file holds is not UTF-8: read it as what it is, then refuse the row.
        conn.text_factory = lambda b: b.decode("utf-8", "replace")
        hist = cls(path, conn)
        try:
            hist._prepare(create)
        except sqlite3.OperationalError as exc:
            conn.close()
            raise _cannot(path, "open", exc) from None
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise _not_history(path, f"SQLite says: {exc}") from None
        except UnicodeDecodeError:  # names in a damaged schema, which sqlite3 decodes strictly
            conn.close()
            raise _not_history(path, "damaged: its schema holds text that is not UTF-8") from None
        except BaseException:
            conn.close()
            raise
        return hist

    @classmethod
    def check(cls, path: Path) -> None:
        """Refuse, before a scan, a history the scan could not record its run in: a folder, a
        foreign or damaged file, a newer schema, a file or folder that cannot be written.
        Writes nothing; a history that does not exist yet is fine when its folder is writable."""
        if not path.exists():
            parent = next((p for p in path.parents if p.exists()), Path("."))
            if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
                raise InputError(str(path), f"cannot create the run history in {parent}")
            return
        if path.is_dir():
            raise InputError(str(path), "is a folder, expected a history file")
        if path.stat().st_size:
            with cls.open(path, create=False):
                pass
        for what, p in (("file", path), ("folder", path.parent)):
            if not os.access(p, os.W_OK):
                raise InputError(
                    str(path), f"the run history's {what} is not writable (read-only file system?)"
                )

    def _prepare(self, create: bool) -> None:
        conn = self._conn
        conn.execute("PRAGMA foreign_keys = ON")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            if not create:
                raise InputError(str(self.path), "the history is empty")
            with conn:
                conn.executescript(_SCHEMA)
                conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [("kind", HISTORY_KIND), ("schema_version", str(HISTORY_SCHEMA_VERSION))],
                )
            return
        if "meta" not in tables:
            raise _not_history(
                self.path, f"a SQLite database with tables {', '.join(sorted(tables))}"
            )
        for table, columns in _COLUMNS.items():
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            missing = [c for c in columns if c not in have]
            if missing:
                what = f"table {table}" if not have else f"column {table}.{missing[0]}"
                raise _not_history(self.path, f"damaged: {what} is missing")
        meta = {str(k): v for k, v in conn.execute("SELECT key, value FROM meta").fetchall()}
        if meta.get("kind") != HISTORY_KIND:
            raise _not_history(self.path, "a SQLite database of another kind")
        raw_version = meta.get("schema_version", "0")
        try:
            version = int(str(raw_version))
        except ValueError:
            raise _not_history(
                self.path, f"its schema_version {str(raw_version)[:40]!r} is not a number"
            ) from None
        if version > HISTORY_SCHEMA_VERSION:
            raise InputError(
                str(self.path),
                f"history schema {version} was written by a newer e8scan; this version reads "
                f"up to {HISTORY_SCHEMA_VERSION}",
            )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> History:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def add(self, results: Results) -> str:
        """Record a run (replacing any run with the same id); returns the run id.

        Every write holds the history's lock: the caller's (``scan`` and ``merge`` hold it for
        the whole command), or one taken here for the write."""
        if not holds_lock(self.path):
            with run_lock(self.path):
                return self.add(results)
        run_id = results.run.id
        packer = zlib.compressobj(6)
        parts = [packer.compress(c.encode("utf-8")) for c in json_chunks(results, "hosts")]
        blob = b"".join([*parts, packer.flush()])
        unreachable = sum(1 for h in results.hosts if h.reach is not Reach.OK)
        try:
            self._insert(results, run_id, blob, unreachable)
        except sqlite3.Error as exc:
            raise _cannot(self.path, "record the run in", exc) from None
        return run_id

    def _insert(self, results: Results, run_id: str, blob: bytes, unreachable: int) -> None:
        with self._conn as conn:
            conn.execute("DELETE FROM host_levels WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            conn.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    results.run.started.isoformat(),
                    results.run.finished.isoformat(),
                    len(results.hosts),
                    unreachable,
                    results.fleet_level,
                    results.run.target_level,
                    blob,
                ),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO host_levels VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        h.name,
                        h.reach.value,
                        h.level,
                        json.dumps({s.value: h.levels.get(s) for s in Strategy}),
                    )
                    for h in results.hosts
                ],
            )

    def runs(self) -> list[RunRow]:
        """Every recorded run, oldest first (newest last)."""
        rows = self._read(
            "SELECT id, finished, hosts, unreachable, fleet_level, target_level FROM runs "
            "ORDER BY finished, rowid"
        )
        return [self._run_row(r) for r in rows]

    def _read(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise _cannot(self.path, "read", exc) from None
        except UnicodeDecodeError:  # a damaged schema's names (sqlite3 decodes them strictly)
            raise _not_history(self.path, "damaged: it holds text that is not UTF-8") from None

    def _run_row(self, r: tuple[object, ...]) -> RunRow:
        run_id, finished, hosts, unreachable, fleet, target = r
        if not (
            isinstance(run_id, str)
            and all(_is_int(v) for v in (hosts, unreachable, target))
            and (fleet is None or _is_int(fleet))
        ):
            raise _damaged(self.path, run_id)
        return RunRow(
            id=run_id,
            finished=_utc(self.path, run_id, finished),
            hosts=int(hosts),  # type: ignore[call-overload]
            unreachable=int(unreachable),  # type: ignore[call-overload]
            fleet_level=fleet,  # type: ignore[arg-type]
            target_level=int(target),  # type: ignore[call-overload]
        )

    def resolve(self, ref: str) -> str:
        """The run id that ``ref`` names: an id, ``last`` (newest) or ``previous``."""
        ids = [r.id for r in self.runs()]
        if ref in ("last", "previous"):
            need = 1 if ref == "last" else 2
            if len(ids) < need:
                raise InputError(
                    str(self.path),
                    f"'{ref}' needs {need} recorded run(s), the history holds {len(ids)}"
                    + ("; run a scan without --baseline first" if not ids else ""),
                )
            return ids[-need]
        if ref not in ids:
            newest = ", ".join(reversed(ids[-5:])) or "none"
            raise InputError(str(self.path), f"no run {ref!r}; newest runs: {newest}")
        return ref

    def get(self, ref: str) -> Results:
        """The full results of a run: its id, ``last`` or ``previous``."""
        run_id = self.resolve(ref)
        rows = self._read("SELECT results FROM runs WHERE id = ?", run_id)
        blob = rows[0][0] if rows else None
        where = f"{self.path}: run {run_id}"
        if not isinstance(blob, bytes):
            raise InputError(where, "stored results are unreadable (not compressed JSON)")
        try:
            return Results.model_validate_json(inflate(blob, where))
        except (zlib.error, ValueError) as exc:
            raise InputError(where, f"stored results are unreadable ({exc})") from None
        except ValidationError as exc:
            at, msg = field_where(where, exc)
            raise InputError(at, f"stored results are unreadable: {msg}") from None

    def hosts(self) -> list[str]:
        """Every host name in some recorded run, sorted."""
        rows = self._read("SELECT DISTINCT host FROM host_levels ORDER BY host")
        return [h for (h,) in rows if isinstance(h, str)]

    def trend(self, host: str) -> list[TrendRow]:
        """One host across every run that included it, oldest first."""
        rows = self._read(
            "SELECT r.id, r.finished, h.reach, h.level, h.levels FROM host_levels h "
            "JOIN runs r ON r.id = h.run_id WHERE h.host = ? ORDER BY r.finished, r.rowid",
            host,
        )
        out = []
        for run_id, finished, reach, level, levels_json in rows:
            try:
                levels = json.loads(levels_json) if isinstance(levels_json, str) else None
            except (ValueError, RecursionError):
                levels = None
            if not (
                isinstance(run_id, str)
                and isinstance(reach, str)
                and (level is None or _is_int(level))
                and isinstance(levels, dict)
                and all(v is None or _is_int(v) for v in levels.values())
            ):
                raise _damaged(self.path, run_id)
            out.append(
                TrendRow(
                    run_id=run_id,
                    finished=_utc(self.path, run_id, finished),
                    reach=reach,
                    level=level,  # type: ignore[arg-type]
                    levels=levels,
                )
            )
        return out


def inflate(blob: bytes, where: str, limit: int | None = None) -> bytearray:
    """The zlib stream ``blob`` inflated, at most ``limit`` bytes (:data:`MAX_RESULTS_BYTES`).

    Inflates chunk by chunk, so a stream that would grow past the limit is refused having held
    at most the limit plus one chunk; a stream that ends early or carries bytes after its end is
    refused too. Every refusal is an InputError naming ``where`` (the history file and run)."""
    cap = MAX_RESULTS_BYTES if limit is None else limit
    inflater = zlib.decompressobj()
    out = bytearray()
    stored = memoryview(blob)
    fed = 0
    pending: bytes | memoryview = b""
    while not inflater.eof:
        if not pending and fed < len(stored):  # fed a slice at a time: no copy of the rest
            pending = stored[fed : fed + _FEED_CHUNK]
            fed += len(pending)
        piece = inflater.decompress(pending, min(_INFLATE_CHUNK, cap + 1 - len(out)))
        out += piece
        if len(out) > cap:
            raise InputError(
                where,
                f"stored results inflate to more than {cap:,} bytes (the limit for one run); "
                "a damaged or crafted row, not what e8scan writes",
            )
        pending = inflater.unconsumed_tail
        if not piece and not pending and fed >= len(stored) and not inflater.eof:
            raise InputError(
                where, "stored results are unreadable (the compressed data ends early)"
            )
    if inflater.unused_data or fed < len(stored):
        raise InputError(
            where, "stored results are unreadable (bytes follow the end of the compressed data)"
        )
    return out


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and -(2**31) < v < 2**31


def _utc(path: Path, run_id: object, text: object) -> datetime:
    """A stored time as an aware UTC datetime; anything else is a damaged row."""
    try:
        if isinstance(text, str):
            t = datetime.fromisoformat(text)
            return t.astimezone(UTC) if t.tzinfo is not None else t.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        pass
    raise _damaged(path, run_id)


def _check_magic(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise InputError(str(path), f"cannot read history: {exc.strerror}") from None
    if head and head != _SQLITE_MAGIC:
        raise _not_history(path, "not a SQLite file")


# -- rendering -----------------------------------------------------------------------------------


def _lv(level: Level) -> str:
    return "-" if level is None else f"ML{level}"


def _when(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def render_runs(rows: list[RunRow]) -> str:
    """The run list as a plain-text table, newest last."""
    if not rows:
        return "no runs recorded"
    ids = [printable(r.id) for r in rows]  # a history is file data: escaped for the terminal
    width = max(len("run id"), *(len(i) for i in ids))
    lines = [f"{'run id':<{width}}  {'finished':<20}  hosts  unreachable  fleet  target"]
    for run_id, r in zip(ids, rows, strict=True):
        lines.append(
            f"{run_id:<{width}}  {_when(r.finished):<20}  {r.hosts:>5}  {r.unreachable:>11}  "
            f"{_lv(r.fleet_level):>5}  {'ML' + str(r.target_level):>6}"
        )
    return "\n".join(lines)


def render_trend(rows: list[TrendRow], host: str) -> str:
    """One host's reach and levels per run, oldest first; '-' is "not assessed"."""
    if not rows:
        return f"host {printable(host)!r} is in no recorded run"
    ids = [printable(r.run_id) for r in rows]
    width = max(len("run id"), *(len(i) for i in ids))
    short = [s.short_label for s in Strategy]
    cols = [max(len(s), 3) for s in short]
    head = "  ".join(f"{s:>{w}}" for s, w in zip(short, cols, strict=True))
    lines = [
        f"trend for {printable(host)}",
        f"{'run id':<{width}}  {'finished':<20}  {'reach':<16}  overall  {head}",
    ]
    for run_id, r in zip(ids, rows, strict=True):
        lv = "  ".join(
            f"{_lv(r.levels.get(s.value)):>{w}}" for s, w in zip(Strategy, cols, strict=True)
        )
        lines.append(
            f"{run_id:<{width}}  {_when(r.finished):<20}  {printable(r.reach):<16}  {_lv(r.level):>7}  {lv}"
        )
    return "\n".join(lines)
