"""The host journal: nothing collected is lost when a scan crashes.

Every host record is appended to ``OUT/journal.jsonl`` as one JSON line the moment the host
finishes (written, flushed and fsynced), after a header line that pins the run: its id and start
time, the SHA-256 of every file the inventory was read from (``-i`` files and every
group_vars/host_vars file), the limit, the checks with their versions and the target level.
``e8scan scan --resume`` reads the journal back, refuses one written for other inputs, skips the
hosts already recorded (they are never contacted twice) and collects only the rest; the raw
record is then built from both, in plan order, under the journal's run id and start time.

A crash mid-write leaves at most a torn final line; :meth:`Journal.load` ignores it and
:meth:`Journal.reopen` cuts it off before appending.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ValidationError

from scanner import __version__
from scanner.checking.api import Check
from scanner.collect.plan import HostPlan
from scanner.collect.runner import RunOptions, collect
from scanner.model.errors import InputError
from scanner.record.raw import (
    CheckRef,
    HostRecord,
    RawRecord,
    RunInfo,
    SourceFile,
    new_run_id,
)

JOURNAL_NAME = "journal.jsonl"
JOURNAL_SCHEMA_VERSION = 1


class JournalHeader(BaseModel):
    """The first line of a journal: what run it belongs to and the inputs that shaped it."""

    kind: Literal["e8scan-journal"] = "e8scan-journal"
    schema_version: int = JOURNAL_SCHEMA_VERSION
    tool_version: str
    run_id: str
    started: datetime
    inventory: list[SourceFile]
    limit: str | None = None
    checks: list[CheckRef]
    target_level: int
    command_line: str = ""


class Journal:
    """An append-only, fsynced log of finished hosts. Appends are thread-safe."""

    def __init__(self, path: Path, fh: IO[bytes], header: JournalHeader) -> None:
        self.path = path
        self.header = header
        self._fh = fh
        self._lock = threading.Lock()

    @classmethod
    def create(cls, path: Path, header: JournalHeader) -> Journal:
        """Start a new journal at ``path`` (an existing one is replaced: a new run)."""
        fh = path.open("wb")
        _write_line(fh, header.model_dump_json())
        return cls(path, fh, header)

    @classmethod
    def reopen(cls, path: Path) -> tuple[Journal, list[HostRecord]]:
        """Open an existing journal for appending, after cutting off any torn final line."""
        header, records, good = _read(path)
        fh = path.open("r+b")
        fh.truncate(good)
        fh.seek(good)
        return cls(path, fh, header), records

    @staticmethod
    def load(path: Path) -> tuple[JournalHeader, list[HostRecord]]:
        """The header and every complete host record; an incomplete final line is ignored."""
        header, records, _ = _read(path)
        return header, records

    def append(self, record: HostRecord) -> None:
        """Record one finished host durably (write, flush, fsync) before returning."""
        with self._lock:
            _write_line(self._fh, record.model_dump_json())

    def close(self) -> None:
        with self._lock:
            self._fh.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _write_line(fh: IO[bytes], text: str) -> None:
    fh.write(text.encode("utf-8") + b"\n")
    fh.flush()
    os.fsync(fh.fileno())


def _read(path: Path) -> tuple[JournalHeader, list[HostRecord], int]:
    """Parse a journal; also return the byte length of its intact prefix."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read the scan journal: {exc.strerror}") from None
    lines = data.split(b"\n")
    # The piece after the last newline is a line the crash tore (or empty): never trusted.
    complete, offset = lines[:-1], 0
    if not complete:
        raise InputError(str(path), "the scan journal has no header line; start a new scan")
    try:
        header = JournalHeader.model_validate_json(complete[0])
    except ValidationError:
        raise InputError(
            f"{path}:1", "not an e8scan journal header; start a new scan without --resume"
        ) from None
    if header.schema_version > JOURNAL_SCHEMA_VERSION:
        raise InputError(f"{path}:1", "journal written by a newer e8scan; upgrade e8scan")
    offset = len(complete[0]) + 1
    records: list[HostRecord] = []
    for n, line in enumerate(complete[1:], start=2):
        try:
            records.append(HostRecord.model_validate_json(line))
        except ValidationError:
            if n == len(complete):  # a damaged final line: same as a torn one
                break
            raise InputError(
                f"{path}:{n}", "damaged host record in the scan journal; start a new scan"
            ) from None
        offset += len(line) + 1
    return header, records, offset


def check_compatible(path: Path, found: JournalHeader, wanted: JournalHeader) -> None:
    """Refuse to resume a journal written for other inventory files, limit, checks or target."""
    changed = _changed_input(found.inventory, wanted.inventory)
    if changed:
        raise InputError(
            str(path),
            f"journal of run {found.run_id} was written for a different inventory ({changed}); "
            "run without --resume to start a new scan",
        )
    for what, a, b in (
        ("tool version", found.tool_version, wanted.tool_version),
        ("--limit", found.limit, wanted.limit),
        ("checks", _json(found.checks), _json(wanted.checks)),
        ("--target-level", found.target_level, wanted.target_level),
    ):
        if a != b:
            raise InputError(
                str(path),
                f"journal of run {found.run_id} was written for a different {what} "
                f"({a} != {b}); run without --resume to start a new scan",
            )


def _changed_input(found: Sequence[SourceFile], wanted: Sequence[SourceFile]) -> str | None:
    """The first inventory input that differs between two runs, said in words (None: same)."""
    old = {f.path: f.sha256 for f in found}
    new = {f.path: f.sha256 for f in wanted}
    for name in new:
        if name not in old:
            return f"{name} is read now, not then"
        if old[name] != new[name]:
            return f"{name} changed"
    for name in old:
        if name not in new:
            return f"{name} was read then, not now"
    if [f.path for f in found] != [f.path for f in wanted]:
        return "its files are read in another order"
    return None


def _json(items: Sequence[BaseModel]) -> str:
    return json.dumps([i.model_dump(mode="json") for i in items], sort_keys=True)


def journaled_scan(
    plans: Sequence[HostPlan],
    checks: Sequence[Check],
    opts: RunOptions,
    inventory: Sequence[SourceFile],
    limit: str | None,
    target_level: int,
    journal_path: Path,
    resume: bool = False,
    on_done: Callable[[HostRecord], None] | None = None,
    command_line: str = "",
) -> RawRecord:
    """Collect like ``sweep.scan``, journaling each host; with ``resume``, continue a journal.

    A resumed run keeps the journal's run id, start time and command line, skips the hosts it
    recorded and returns the hosts of both runs in plan order. ``on_done`` is called for every
    host, journaled ones first.
    """
    started = datetime.now(UTC)
    wanted = JournalHeader(
        tool_version=__version__,
        run_id=new_run_id(started),
        started=started,
        inventory=list(inventory),
        limit=limit,
        checks=[CheckRef(id=c.id, version=c.version) for c in checks],
        target_level=target_level,
        command_line=command_line,
    )
    names = {p.host.name for p in plans}
    if resume:
        if not journal_path.is_file():
            raise InputError(f"--resume {journal_path}", "no scan journal to resume here")
        journal, records = Journal.reopen(journal_path)
        try:
            check_compatible(journal_path, journal.header, wanted)
            stray = sorted({r.name for r in records} - names)
            if stray:
                raise InputError(
                    str(journal_path), f"journal holds hosts not in this scan: {', '.join(stray)}"
                )
        except InputError:
            journal.close()
            raise
    else:
        journal, records = Journal.create(journal_path, wanted), []
    header = journal.header
    done: dict[str, HostRecord] = {}
    for r in records:
        done.setdefault(r.name, r)
        if on_done is not None:
            on_done(r)

    def finished(record: HostRecord) -> None:
        journal.append(record)
        if on_done is not None:
            on_done(record)

    with journal:
        collected = collect(plans, opts, finished, skip=set(done))
    fresh = {r.name: r for r in collected}
    hosts = [h for p in plans if (h := done.get(p.host.name) or fresh.get(p.host.name))]
    # Only a stop request leaves hosts out; they stay out of the journal, so --resume gets them.
    missing = [p.host.name for p in plans if p.host.name not in done and p.host.name not in fresh]
    return RawRecord(
        tool_version=__version__,
        run=RunInfo(
            id=header.run_id,
            started=header.started,
            finished=datetime.now(UTC),
            inventory=header.inventory,
            limit=header.limit,
            target_level=header.target_level,
            checks=header.checks,
            command_line=header.command_line,
            incomplete=bool(missing),
            incomplete_reason=opts.stop.reason if missing else "",
            not_collected=missing,
        ),
        hosts=hosts,
    )
