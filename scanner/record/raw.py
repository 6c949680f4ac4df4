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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from scanner.model.framework import builtin
from scanner.model.vocabulary import Platform, Reach

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
    ``as_run`` is exactly what the host's shell executed (with any ``sudo -n`` wrapper)."""

    command: SharedText
    as_run: SharedText
    checks: list[SharedText]
    stdout: RawBytes = b""
    stderr: RawBytes = b""
    exit_code: int | None = None
    started: float | None = None
    finished: float | None = None
    truncated: bool = False
    timed_out: bool = False
    ran: bool = True


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
    started: datetime
    finished: datetime
    commands: list[CommandRecord] = Field(default_factory=list)

    @property
    def collected_at(self) -> datetime:
        return self.started


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


_SECRET_HINTS = ("pass", "secret", "token", "credential", "private_key", "vault")


def safe_vars(hvars: dict[str, Any]) -> dict[str, Any]:
    """Host variables worth keeping as judging context, without anything that may be a secret."""
    return {
        k: v
        for k, v in sorted(hvars.items())
        if not any(h in k.lower() for h in _SECRET_HINTS) or k == "e8_password_env"
    }


def source_files(paths: Sequence[Path]) -> list[SourceFile]:
    out = []
    for p in paths:
        digest = hashlib.sha256()
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            digest.update(f.read_bytes())
        out.append(SourceFile(path=str(p), sha256=digest.hexdigest()))
    return out


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)
