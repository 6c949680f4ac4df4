"""The run history (SQLite) and the scan lock: add, list, get, trend, refusal of foreign files."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import warnings
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scanner.assess.pipeline import assess
from scanner.assess.results import Results
from scanner.model.errors import InputError
from scanner.model.policy import Policy
from scanner.model.vocabulary import Platform, Reach, Strategy
from scanner.record.raw import HostRecord, RawRecord, RunInfo
from scanner.runs.history import History, lock_path, render_runs, render_trend, run_lock

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def results(run_id: str, when: datetime, reaches: dict[str, Reach]) -> Results:
    hosts = [
        HostRecord(
            name=name,
            address="127.0.0.9",
            port=22,
            connection="ssh",
            user="scan",
            become=False,
            platform=Platform.LINUX,
            groups=["g"],
            vars={},
            reach=reach,
            started=when,
            finished=when,
        )
        for name, reach in reaches.items()
    ]
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id=run_id, started=when, finished=when, inventory=[], checks=[]),
        hosts=hosts,
    )
    # No checks: every host-checkable control is not_assessed, levels are null (not assessed).
    return assess(raw, [], Policy(), target_level=2)


@pytest.fixture
def hist(tmp_path: Path) -> Iterator[History]:
    with History.open(tmp_path / "hist" / "history.sqlite") as h:
        yield h


def test_add_runs_get_and_replace(hist: History) -> None:
    r1 = results("r1", T0, {"a": Reach.OK, "b": Reach.UNREACHABLE})
    r2 = results("r2", T0 + timedelta(days=1), {"a": Reach.OK})
    assert hist.add(r2) == "r2"
    assert hist.add(r1) == "r1"  # added late, still sorted by finish time
    rows = hist.runs()
    assert [r.id for r in rows] == ["r1", "r2"]
    assert (rows[0].hosts, rows[0].unreachable, rows[0].target_level) == (2, 1, 2)
    assert rows[0].fleet_level is None and rows[0].finished == T0
    assert hist.get("last") == r2
    assert hist.get("previous") == r1
    assert hist.get("r1") == r1
    hist.add(r1.model_copy(update={"tool_version": "again"}))
    assert [r.id for r in hist.runs()] == ["r1", "r2"]
    assert hist.get("r1").tool_version == "again"
    text = render_runs(hist.runs())
    assert text.splitlines()[0].startswith("run id")
    assert "r1" in text and "2026-11-20 03:00:00Z" in text


def test_results_are_stored_compressed(hist: History) -> None:
    hist.add(results("r1", T0, {"a": Reach.OK}))
    conn = sqlite3.connect(hist.path)
    (blob,) = conn.execute("SELECT results FROM runs").fetchone()
    conn.close()
    assert Results.model_validate_json(zlib.decompress(blob)).run.id == "r1"


def test_unknown_ref_lists_newest_ids(hist: History) -> None:
    with pytest.raises(InputError, match="'last' needs 1 recorded run"):
        hist.get("last")
    for i in range(7):
        hist.add(results(f"r{i}", T0 + timedelta(hours=i), {"a": Reach.OK}))
    with pytest.raises(InputError, match="no run 'zz'; newest runs: r6, r5, r4, r3, r2$"):
        hist.get("zz")


def test_trend_per_host(hist: History) -> None:
    hist.add(results("r1", T0, {"a": Reach.OK, "b": Reach.OK}))
    hist.add(results("r2", T0 + timedelta(days=1), {"a": Reach.TIMEOUT}))
    rows = hist.trend("a")
    assert [(r.run_id, r.reach) for r in rows] == [("r1", "ok"), ("r2", "timeout")]
    assert set(rows[0].levels) == {s.value for s in Strategy}
    text = render_trend(rows, "a")
    assert "trend for a" in text and "timeout" in text and "Patch OS" in text
    assert [r.run_id for r in hist.trend("b")] == ["r1"]
    assert hist.trend("nobody") == []
    assert "in no recorded run" in render_trend([], "nobody")


def test_missing_file_without_create(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no run history here yet"):
        History.open(tmp_path / "none.sqlite", create=False)
    assert not (tmp_path / "none.sqlite").exists()


def test_corrupt_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "history.sqlite"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(InputError, match="not an e8scan history") as exc:
        History.open(bad)
    assert exc.value.where == str(bad)


def test_damaged_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with History.open(path) as h:
        h.add(results("r1", T0, {"a": Reach.OK}))
    data = bytearray(path.read_bytes())
    data[100:] = os.urandom(len(data) - 100)  # keep the magic header, ruin the rest
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="not an e8scan history"):
        History.open(path)


def test_foreign_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="not an e8scan history.*people"):
        History.open(path)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('kind', 'something-else')")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="not an e8scan history"):
        History.open(path)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    History.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="newer e8scan"):
        History.open(path)


def test_lock_is_created_and_removed_even_on_error(tmp_path: Path) -> None:
    h = tmp_path / "sub" / "history.sqlite"
    lock = lock_path(h)
    assert lock.name == "history.sqlite.lock"
    with run_lock(h):
        pid, started = lock.read_text().split()
        assert int(pid) == os.getpid() and started.startswith("20")
        with (
            pytest.raises(InputError, match=f"another e8scan run \\(pid {os.getpid()}"),
            run_lock(h),
        ):
            pass
        assert lock.exists()  # the refused second run did not remove the holder's lock
    assert not lock.exists()
    with pytest.raises(RuntimeError), run_lock(h):
        raise RuntimeError("boom")
    assert not lock.exists()


# -- the lock between processes (real processes, no timing) --------------------------------------

_HOLDER = """
import sys
from pathlib import Path
from scanner.runs.history import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def _holder(h: Path) -> subprocess.Popen[str]:
    """A real process holding the history's lock until its stdin closes (or it is killed)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(h)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_lock_held_by_another_process_is_refused(tmp_path: Path) -> None:
    h = tmp_path / "history.sqlite"
    proc = _holder(h)
    try:
        with (
            pytest.raises(
                InputError, match=f"another e8scan run \\(pid {proc.pid}, started 20"
            ) as exc,
            run_lock(h),
        ):
            pass
        assert exc.value.where == str(lock_path(h))
        assert lock_path(h).exists()  # the refused run left the holder's lock alone
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert proc.returncode == 0
    assert not lock_path(h).exists()  # the holder removed it on the way out
    with run_lock(h):
        pass


def test_lock_of_a_killed_process_is_free_at_once(tmp_path: Path) -> None:
    """kill -9 cannot leave a lock behind: the OS drops the flock with the process."""
    h = tmp_path / "history.sqlite"
    proc = _holder(h)
    proc.kill()
    proc.wait()
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.stdout.close()
    assert lock_path(h).read_text().split()[0] == str(proc.pid)  # the file is left, not the lock
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with run_lock(h):
            assert lock_path(h).read_text().split()[0] == str(os.getpid())
    assert not lock_path(h).exists()


def _race_once(h: Path, before: Any, after: Any, wins: Any) -> None:
    before.wait()  # everyone tries at once
    try:
        with run_lock(h):
            with wins.get_lock():
                wins.value += 1
            after.wait()  # hold the lock until every other process has tried
    except InputError:
        after.wait()


def test_racing_processes_for_a_dead_runs_lock_never_both_win(tmp_path: Path) -> None:
    """Issue 12 #9: two processes took a dead pid's lock at once in 7 of 30 trials."""
    ctx = multiprocessing.get_context("fork")
    h = tmp_path / "history.sqlite"
    dead = subprocess.Popen(["true"])
    dead.wait()
    racers = 6
    for trial in range(30):
        lock_path(h).write_text(f"{dead.pid} 2026-11-20T03:00:00+00:00\n")  # a killed run's file
        before, after, wins = ctx.Barrier(racers), ctx.Barrier(racers), ctx.Value("i", 0)
        procs = [
            ctx.Process(target=_race_once, args=(h, before, after, wins)) for _ in range(racers)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        assert [p.exitcode for p in procs] == [0] * racers
        assert wins.value == 1, f"trial {trial}: {wins.value} processes held the lock at once"
        assert not lock_path(h).exists()


def _churn(h: Path, rounds: int, inside: Path, clashes: Any) -> None:
    for _ in range(rounds):
        try:
            with run_lock(h):
                try:  # a second holder would find the marker already there
                    fd = os.open(inside, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    with clashes.get_lock():
                        clashes.value += 1
                    continue
                os.close(fd)
                os.unlink(inside)
        except InputError:
            pass


def test_lock_taken_and_released_in_a_tight_loop_is_never_shared(tmp_path: Path) -> None:
    """Releasing removes the lock file; a racer that opened the old file must not hold it."""
    ctx = multiprocessing.get_context("fork")
    h = tmp_path / "history.sqlite"
    clashes = ctx.Value("i", 0)
    procs = [
        ctx.Process(target=_churn, args=(h, 300, tmp_path / "inside", clashes)) for _ in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0] * 4
    assert clashes.value == 0
    assert not lock_path(h).exists()


def test_a_schema_holding_text_that_is_not_utf8_is_refused_in_one_line(tmp_path: Path) -> None:
    """A damaged history whose table definitions hold bytes that are not UTF-8 (sqlite3 decodes
    column names strictly, whatever the text factory): found by the history fuzzer."""
    path = tmp_path / "h.sqlite"
    History.open(path).close()
    blob = bytearray(path.read_bytes())
    at = blob.find(b"tablehost_levelshost_levels")  # its row in sqlite_master: type, name
    assert at > 0
    blob[at + len(b"table")] = 0x80  # the table's name is no longer UTF-8
    path.write_bytes(bytes(blob))
    with pytest.raises(InputError) as info:
        History.open(path, create=False).runs()
    assert "not UTF-8" in str(info.value)


# -- stored results that are damaged or crafted --------------------------------------------------


def _history_with_row(tmp_path: Path, blob: bytes) -> Path:
    """A real history holding runs r1 and r2, r2's stored results replaced by ``blob``."""
    path = tmp_path / "h.sqlite"
    with History.open(path) as h:
        h.add(results("r1", T0, {"a": Reach.OK}))
        h.add(results("r2", T0 + timedelta(days=1), {"a": Reach.OK}))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE runs SET results = ? WHERE id = 'r2'", (blob,))
    conn.close()
    return path


def _bomb(inflated: int) -> bytes:
    """A zlib stream of ``inflated`` zero bytes (about a thousandth of that stored)."""
    packer = zlib.compressobj(9)
    zeros = bytes(16 * 1024 * 1024)
    parts = [packer.compress(zeros) for _ in range(inflated // len(zeros))]
    return b"".join([*parts, packer.flush()])


def test_a_zlib_bomb_row_is_refused_while_inflating_never_held_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """256 MiB stored in 256 KB, read with the limit at 32 MiB: refused naming the file and the
    run, having allocated at most a fraction of what the row inflates to (bytes counted by
    tracemalloc, not timed). The limit is lowered so the test stays small; the code is the same."""
    import tracemalloc

    from scanner.runs import history

    bomb = _bomb(256 * 1024 * 1024)
    assert len(bomb) < 300_000
    path = _history_with_row(tmp_path, bomb)
    monkeypatch.setattr(history, "MAX_RESULTS_BYTES", 32 * 1024 * 1024)
    with History.open(path, create=False) as h:
        assert h.get("r1").run.id == "r1"  # the other rows still read
        tracemalloc.start()
        try:
            with pytest.raises(InputError) as info:
                h.get("r2")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert info.value.where == f"{path}: run r2"
    assert "inflate to more than 33,554,432 bytes" in info.value.message
    assert peak < 96 * 1024 * 1024, peak  # the row would take 256 MiB


def test_default_limit_is_the_documented_one() -> None:
    from scanner.runs.history import MAX_RESULTS_BYTES

    assert MAX_RESULTS_BYTES == 2 * 1024**3
    assert "2 GiB" in (REPO / "README.md").read_text()


_DAMAGE = {
    "truncated": (lambda b: b[: len(b) // 2], "ends early"),
    "one byte short": (lambda b: b[:-1], "ends early"),
    "trailing bytes": (lambda b: b + b"\x00junk", "bytes follow the end"),
    "gzip, not zlib": (lambda b: b"\x1f\x8b" + b[2:], "unreadable"),
    "flipped byte": (lambda b: b[:40] + bytes([b[40] ^ 0xFF]) + b[41:], "unreadable"),
}


def _stored(run_id: str) -> bytes:
    return zlib.compress(results(run_id, T0, {"a": Reach.OK}).model_dump_json().encode(), 6)


@pytest.mark.parametrize("name", sorted(_DAMAGE))
def test_a_damaged_row_is_refused_naming_file_and_run(tmp_path: Path, name: str) -> None:
    damage, says = _DAMAGE[name]
    path = _history_with_row(tmp_path, damage(_stored("r2")))
    with History.open(path, create=False) as h, pytest.raises(InputError) as info:
        h.get("r2")
    assert info.value.where == f"{path}: run r2"
    assert info.value.message.startswith("stored results") and says in info.value.message


def test_diff_of_a_truncated_row_is_one_line_naming_file_and_run(tmp_path: Path) -> None:
    """The CLI reads a real history whose newest row was cut short: exit 1, one line naming the
    history file and run r2, no traceback."""
    path = _history_with_row(tmp_path, _stored("r2")[:-7])
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", "diff", "r1", "r2", "--history", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"e8scan: error: {path}: run r2: stored results are unreadable "
        "(the compressed data ends early)"
    ], proc.stderr
