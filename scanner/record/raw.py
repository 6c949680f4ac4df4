"""The raw record (raw.json): what was run on each host and what came back, byte for byte.

This is the seam between collecting and judging: ``e8scan rescore`` redoes judging, scoring and
every report from this file with no network. Output bytes are stored as text when they are valid
UTF-8 and as ``{"base64": ...}`` otherwise, so nothing a host prints is lost or crashes a writer.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from scanner.model.framework import builtin
from scanner.model.redaction import REDACTED, names_secret, redact_data, secret_values
from scanner.model.vocabulary import Platform, Reach
from scanner.record import hostvalues
from scanner.record.hostvalues import CLOCK_MAX, CLOCK_MIN, EXIT_MAX, EXIT_MIN

RAW_SCHEMA_VERSION = 1


def _to_json(b: bytes) -> str | dict[str, str]:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(b).decode("ascii")}


def _from_json(v: Any) -> Any:
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, dict) and set(v) == {"base64"}:
        if not isinstance(v["base64"], str):
            raise ValueError(f"base64 must be text, found {type(v['base64']).__name__}")
        try:
            return base64.b64decode(v["base64"], validate=True)
        except ValueError as exc:
            raise ValueError(f"not valid base64 ({exc})") from None
    return v


RawBytes = Annotated[bytes, BeforeValidator(_from_json), PlainSerializer(_to_json)]
# Command lines repeat on every host of a fleet: one copy in memory, however many hosts.
SharedText = Annotated[str, AfterValidator(sys.intern)]


# A slotted dataclass, not a model: a fleet sweep holds one per host and command (700,000 for
# 10,000 hosts), and this is a fraction of a model's memory. Pydantic still validates and
# serialises it inside HostRecord.
@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRecord:
    """One command as run on one host. ``command`` is the declared line (what checks ask for);
    ``as_run`` is exactly what the host's shell executed (with any ``sudo -n`` wrapper).

    ``started``/``finished`` are the host's clock (epoch seconds). ``truncated`` says stdout was
    cut at the per-command cap, ``stderr_truncated`` the same of stderr. ``invalid`` keeps, as
    the host's text, a number the host printed that cannot be what it claims (a clock reading
    of ``1e300`` or ``nan``, an exit code of 10^30); that field is then None. Every record is
    checked on creation, whoever makes it (the collector, raw.json, the journal).
    """

    command: SharedText
    as_run: SharedText
    checks: list[SharedText]
    stdout: RawBytes = b""
    stderr: RawBytes = b""
    exit_code: int | None = None
    started: float | None = None
    finished: float | None = None
    truncated: bool = False
    stderr_truncated: bool = False
    timed_out: bool = False
    ran: bool = True
    invalid: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        s, f, c = self.started, self.finished, self.exit_code
        # Fast path (a fleet holds hundreds of thousands of these); NaN fails every comparison.
        if (
            (s is None or CLOCK_MIN <= s <= CLOCK_MAX)
            and (f is None or CLOCK_MIN <= f <= CLOCK_MAX)
            and (c is None or (type(c) is int and EXIT_MIN <= c <= EXIT_MAX))
        ):
            return
        bad: dict[str, str] = {}
        for name, check in (
            ("started", hostvalues.clock),
            ("finished", hostvalues.clock),
            ("exit_code", hostvalues.exit_code),
        ):
            value, text = check(getattr(self, name))
            if text is not None:
                bad[name] = text
                object.__setattr__(self, name, value)
        if bad:
            object.__setattr__(self, "invalid", {**self.invalid, **bad})


class SSHAlgorithms(BaseModel):
    """What one SSH connection agreed in its first key exchange (RFC 4253 section 7.1), as the
    client saw it: the algorithms the host's identity and the channel rest on."""

    model_config = ConfigDict(frozen=True)

    kex: str = Field(description="Key exchange method, e.g. curve25519-sha256.")
    host_key_algorithm: str = Field(
        description="Host-key signature algorithm the server proved its identity with: "
        "'ssh-rsa' is an RSA key signing with SHA-1, 'rsa-sha2-512' the same key with SHA-512."
    )
    cipher_c2s: str = Field(description="Cipher, client to server.")
    cipher_s2c: str = Field(description="Cipher, server to client.")
    mac_c2s: str | None = Field(
        description="MAC, client to server; null when the cipher authenticates itself (AEAD: "
        "aes*-gcm@openssh.com, chacha20-poly1305@openssh.com) and no MAC is used."
    )
    mac_s2c: str | None = Field(description="MAC, server to client; null as for mac_c2s.")


class HostRecord(BaseModel):
    """Everything collected from one host. Secrets are never stored (see ``safe_vars``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    address: str
    port: int
    connection: str
    user: str | None
    become: bool
    platform: Platform
    groups: list[str]
    vars: dict[str, Any]
    reach: Reach
    reach_detail: str = ""
    host_key: str | None = None
    notes: list[str] = Field(
        default_factory=list,
        description="Connection facts an assessor should know (e.g. TLS validation off).",
    )
    ssh_algorithms: SSHAlgorithms | None = Field(
        default=None,
        description="SSH hosts: what the connection negotiated (null: not SSH, not reached, "
        "or a raw record written before e8scan recorded it).",
    )
    started: datetime
    finished: datetime
    commands: list[CommandRecord] = Field(default_factory=list)

    @property
    def collected_at(self) -> datetime:
        return self.started

    @model_validator(mode="after")
    def _flag_impossible_values(self) -> Self:
        """A host that printed impossible numbers is flagged in its own notes (and only it)."""
        note = impossible_values_note(self.commands)
        if note is not None and note not in self.notes:
            self.notes.append(note)
        return self


def impossible_values_note(commands: Sequence[CommandRecord]) -> str | None:
    """One line naming the impossible values a host printed (kept as text), or None."""
    seen: dict[str, list[str]] = {}
    for c in commands:
        for name, text in c.invalid.items():
            seen.setdefault(name, []).append(text)
    if not seen:
        return None
    what = {"started": "clock", "finished": "clock", "exit_code": "exit code"}
    parts = [
        f"{what.get(name, name)} ({name}) on {len(texts)} command(s), e.g. {texts[0]!r}"
        for name, texts in sorted(seen.items())
    ]
    return "impossible values from the host, kept as text and not used: " + "; ".join(parts)


class SourceFile(BaseModel):
    path: str
    sha256: str


class CheckRef(BaseModel):
    id: str
    version: int


class RunInfo(BaseModel):
    id: str
    started: datetime
    finished: datetime
    inventory: list[SourceFile]
    limit: str | None = None
    target_level: int = Field(default=1, ge=1)
    checks: list[CheckRef]
    command_line: str = ""
    incomplete: bool = Field(
        default=False,
        description="True when the scan was stopped (Ctrl-C, SIGTERM) before every host was "
        "collected: the hosts listed in not_collected are missing, not assessed.",
    )
    incomplete_reason: str = Field(default="", description="Why the run is incomplete.")
    not_collected: list[str] = Field(
        default_factory=list, description="In-scope hosts an incomplete run did not collect."
    )


class RawRecord(BaseModel):
    kind: str = "e8scan-raw"
    schema_version: int = RAW_SCHEMA_VERSION
    tool_version: str
    model_version: str = Field(
        default_factory=lambda: builtin().model_version,
        description="The framework the scan was planned for and its OSCAL release.",
    )
    run: RunInfo
    hosts: list[HostRecord]


def _unvault(value: Any) -> Any:
    """``value`` with every ``!vault`` value (a secret, whatever its key) as ``<redacted>``:
    resolved host vars are JSON data, and a vaulted value is the one thing that is not."""
    if isinstance(value, dict):
        return {k: _unvault(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unvault(v) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return REDACTED


def safe_vars(hvars: dict[str, Any], also: Collection[str] = ()) -> dict[str, Any]:
    """Host variables worth keeping as judging context, without anything that may be a secret.

    Variables naming a secret are dropped; inside the rest, keys naming a secret at any depth,
    copies of a secret value (a YAML alias), secret-bearing arguments (``sshpass -p …`` in
    ``ansible_ssh_common_args``) and the values in ``also`` (the password from the
    environment) become ``<redacted>``.
    """
    hidden = secret_values(hvars) | {s for s in also if s}
    kept = {k: _unvault(v) for k, v in sorted(hvars.items()) if not names_secret(k)}
    redacted: dict[str, Any] = redact_data(kept, hidden)
    return redacted


def inventory_sources(
    files: Sequence[tuple[Path, str]], host_lists: Sequence[str] = ()
) -> list[SourceFile]:
    """What a run's inventory was read from: every file (path, SHA-256 of the bytes the loader
    parsed: ``-i`` files, their folders' files, group_vars and host_vars files), then each
    ``-i host1,host2`` list (the SHA-256 of its text)."""
    found = [SourceFile(path=str(p), sha256=digest) for p, digest in files]
    for text in host_lists:
        found.append(SourceFile(path=text, sha256=hashlib.sha256(text.encode()).hexdigest()))
    return found


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
