"""Import: a field kit's output file (:mod:`scanner.collect.kit`) → one host of a raw record.

Every record of the file is checked before anything is used: the first line names the format and
the nonce, each record must be followed by its seal (``<nonce> S <name> <length> <sha256>``) with
the file's nonce, the expected name, its exact length and a matching SHA-256, in the order the kit
writes them, up to the ``end`` record and nothing after. Any failure refuses the whole file with
:class:`~scanner.model.errors.InputError` naming the file and the record. The steps' frames are
then cut apart by the remote batches' own parsers (:func:`scanner.collect.posix_batch.parse`,
:func:`scanner.collect.ps_batch.parse`), so a kit host's commands are recorded exactly as a
remote scan's are.

The host comes out with transport (``connection``) ``offline``, the account that ran the kit as
its user, the host's own clock as its collection time, and a note saying who ran the kit, where
and when, and which file it came from. The SHA-256 seals catch damage and edits made without
recomputing them; they are not a signature (the kit and its nonce sit on the host): offline
evidence is graded ``fair`` at most (see :mod:`scanner.assess.scoring`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from scanner.collect import posix_batch, ps_batch
from scanner.collect.kit import KIT_FORMAT, KitManifest
from scanner.model.errors import InputError, first_error
from scanner.model.vocabulary import OFFLINE, Platform, Reach
from scanner.record.raw import HostRecord

MAX_KIT_OUTPUT = 1 << 30
"""Largest kit output accepted (bytes): far above what the per-command caps allow."""
_HEAD = re.compile(rb"([^\n]{0,200})\n")
_MAGIC = re.compile(rb"e8scan-kit (\d{1,6}) (linux|windows) ([0-9a-f]{32})")
_SEAL = re.compile(rb"\n([0-9a-f]{32}) S ([\w.]{1,40}) (\d{1,12}) ([0-9a-f]{64})\n")
_ANY_SEAL = re.compile(rb"\n(\S{1,200}) S ([\w.]{1,40}) (\d{1,12}) (\S{1,200})\n")


@dataclass(frozen=True)
class KitOutput:
    """One kit output file, checked: its manifest, the host's ``key=value`` facts, its steps."""

    path: Path
    sha256: str
    manifest: KitManifest
    host: dict[str, str]
    end: dict[str, str]
    records: dict[str, bytes]


def _facts(data: bytes) -> dict[str, str]:
    text = data.decode("utf-8", errors="replace")
    return dict(ln.split("=", 1) for ln in text.splitlines() if "=" in ln)


def _describe(name: str, manifest: KitManifest | None) -> str:
    """``out.3`` → ``out.3 (step 3: `<command>`)`` when the manifest is known."""
    kind, _, index = name.partition(".")
    if manifest is None or not index.isdigit() or int(index) >= len(manifest.steps):
        return name
    line = manifest.steps[int(index)].command.splitlines()[0] if manifest.steps else ""
    short = line if len(line) <= 60 else line[:57] + "..."
    return f"{name} (step {index}: `{short}`)"


def _expected(manifest: KitManifest) -> list[str]:
    per_step = ("out", "err") if manifest.platform is Platform.LINUX else ("out",)
    steps = [f"{kind}.{i}" for i in range(len(manifest.steps)) for kind in per_step]
    return ["manifest", "host", *steps, "end"]


def read_kit_output(path: Path) -> KitOutput:
    """Read and check one kit output; InputError (file and record) on anything wrong."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_KIT_OUTPUT:
            raise InputError(where, f"{size} bytes; a kit output is at most {MAX_KIT_OUTPUT}")
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError(where, "is a folder; expected a kit output file") from None
    head = _HEAD.match(data)
    magic = _MAGIC.fullmatch(head.group(1)) if head else None
    if head is None or magic is None:
        raise InputError(
            where,
            "not an e8scan kit output (the first line should read "
            "'e8scan-kit <format> <linux|windows> <nonce>')",
        )
    if int(magic.group(1)) != KIT_FORMAT:
        raise InputError(
            where,
            f"kit output format {int(magic.group(1))}; this e8scan reads format {KIT_FORMAT}",
        )
    nonce = magic.group(3)
    platform = Platform(magic.group(2).decode())
    records: dict[str, bytes] = {}
    manifest: KitManifest | None = None
    expected = ["manifest"]
    pos, k = head.end(), 0
    while k < len(expected):
        name = expected[k]
        label = _describe(name, manifest)
        seal = _seal_at(data, pos)
        if seal is None:
            raise InputError(
                where,
                f"record {label}: missing or not sealed (the file is cut short or was altered "
                f"after byte {pos}); refusing the file",
            )
        got_nonce, got_name, length, digest = seal.groups()
        if got_nonce != nonce:
            raise InputError(
                where,
                f"record {label}: sealed with nonce {got_nonce.decode(errors='replace')[:40]!r}, "
                f"not the file's {nonce.decode()}; refusing the file",
            )
        if got_name.decode() != name:
            raise InputError(
                where,
                f"record {got_name.decode()!r} where record {label} was expected; refusing the file",
            )
        body = data[pos : seal.start()]
        if len(body) != int(length) or hashlib.sha256(body).hexdigest() != digest.decode():
            raise InputError(
                where,
                f"record {label}: does not match its sha256 (altered or damaged after "
                "collection); refusing the file",
            )
        records[name] = body
        pos = seal.end()
        k += 1
        if name == "manifest":
            manifest = _manifest(where, body, nonce.decode(), platform)
            expected = _expected(manifest)
    if pos != len(data):
        raise InputError(where, f"{len(data) - pos} bytes after the end record; refusing the file")
    assert manifest is not None
    return KitOutput(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        manifest=manifest,
        host=_facts(records["host"]),
        end=_facts(records["end"]),
        records=records,
    )


def _seal_at(data: bytes, pos: int) -> re.Match[bytes] | None:
    """The seal of the record starting at ``pos``: the first seal line whose length field
    equals the bytes between ``pos`` and it (output that merely looks like a seal is skipped).
    A seal-shaped line with another nonce or a malformed digest is returned too (and refused)."""
    for m in _ANY_SEAL.finditer(data, pos):
        length = int(m.group(3))
        if length == m.start() - pos:
            good = _SEAL.fullmatch(data, m.start(), m.end())
            return good if good is not None else m
    return None


def _manifest(where: str, body: bytes, nonce: str, platform: Platform) -> KitManifest:
    try:
        manifest = KitManifest.model_validate(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            field, msg = first_error(exc)
            raise InputError(where, f"record manifest: field {field}: {msg}") from None
        raise InputError(where, "record manifest: not JSON") from None
    if manifest.nonce != nonce:
        raise InputError(
            where,
            f"record manifest: nonce {manifest.nonce[:40]!r} differs from the file's {nonce}; "
            "refusing the file",
        )
    if manifest.platform is not platform:
        raise InputError(
            where,
            f"record manifest: platform {manifest.platform.value} but the file says "
            f"{platform.value}; refusing the file",
        )
    return manifest


def _clock(where: str, record: str, facts: dict[str, str], key: str) -> datetime:
    text = facts.get(key, "")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise InputError(
            where,
            f"record {record}: {key}={text[:40]!r}, expected a UTC time like 2026-12-07T18:00:00Z",
        ) from None


def host_record(kit: KitOutput, imported: datetime) -> HostRecord:
    """The raw record's host for a checked kit output: its steps cut apart by the batch parsers."""
    where, m = str(kit.path), kit.manifest
    count, cap = len(m.steps), m.max_output
    if m.platform is Platform.WINDOWS:
        stdout = b"".join(kit.records[f"out.{i}"] for i in range(count))
        parsed = ps_batch.parse(stdout, m.nonce, count, cap)
    else:
        stdout = b"".join(kit.records[f"out.{i}"] for i in range(count))
        stderr = b"".join(kit.records[f"err.{i}"] for i in range(count))
        parsed = posix_batch.parse(stdout, stderr, m.nonce, count, cap)
    for i, r in enumerate(parsed):
        if not r.ran:
            raise InputError(
                where,
                f"record {_describe(f'out.{i}', m)}: no batch frame with the file's nonce; "
                "refusing the file",
            )
    if kit.end.get("steps", "").strip() != str(count):
        raise InputError(
            where,
            f"record end: steps={kit.end.get('steps', '')[:20]!r}, but the manifest lists {count}; "
            "refusing the file",
        )
    started = _clock(where, "host", kit.host, "started")
    finished = _clock(where, "end", kit.end, "finished")
    hostname = kit.host.get("hostname", "").strip()
    account = kit.host.get("account", "").strip() or None
    name = m.host.name or hostname
    if not name:
        raise InputError(where, "record host: no hostname, and the kit was made for no host")
    operator = kit.host.get("operator", "").strip()
    ran_by = f"{operator} (account {account})" if operator else f"account {account or 'unknown'}"
    machine = kit.host.get("machine_id", "").strip()
    notes = [
        f"collected offline by the e8scan field kit on {hostname or 'an unnamed host'}"
        + (f" (machine id {machine})" if machine else "")
        + f", run by {ran_by}, from {started:%Y-%m-%dT%H:%M:%SZ} to "
        f"{finished:%Y-%m-%dT%H:%M:%SZ} by the host's clock; kit made by e8scan "
        f"{m.tool_version} at {m.created:%Y-%m-%dT%H:%M:%SZ}; imported "
        f"{imported:%Y-%m-%dT%H:%M:%SZ} from {kit.path.name} (sha256 {kit.sha256})",
    ]
    if (
        m.host.name
        and hostname
        and hostname.split(".")[0].lower() != m.host.name.split(".")[0].lower()
    ):
        notes.append(f"the kit was made for {m.host.name}; the host calls itself {hostname}")
    if "admin" in kit.host:
        notes.append(f"ran as an administrator: {kit.host['admin'].strip().lower() == 'true'}")
    return HostRecord(
        name=name,
        address=m.host.address or hostname or name,
        port=0,
        connection=OFFLINE,
        user=account,
        become=m.host.become,
        platform=m.platform,
        groups=list(m.host.groups),
        vars=dict(m.host.vars),
        reach=Reach.OK,
        notes=notes,
        started=started,
        finished=finished,
        commands=[
            r.record(s.command, s.as_run, list(s.checks))
            for s, r in zip(m.steps, parsed, strict=True)
        ],
    )
