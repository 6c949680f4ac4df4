"""The Security event log channel's configuration, ``wevtutil gl Security``: who may read, write
and clear it (``channelAccess`` SDDL), and its size, retention and auto-backup settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import first_line, json_object
from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class SecurityLog:
    channel_access: str
    max_size: str | None
    retention: str | None
    auto_backup: str | None


def parse_gl(text: str) -> dict[str, str]:
    """``key: value`` lines of ``wevtutil gl`` (nested keys too; the first of a name wins)."""
    values: dict[str, str] = {}
    for raw in text.replace("\r", "").splitlines():
        key, sep, value = raw.strip().partition(":")
        if sep and key and " " not in key:
            values.setdefault(key, value.strip())
    return values


def parse(data: Any) -> SecurityLog | Unknown:
    data = json_object(data)
    text = str(data.get("text") or "")
    gl = parse_gl(text)
    if "channelAccess" not in gl:
        shown = first_line(text) or "no output"
        return Unknown(f"Security log configuration not read (wevtutil gl Security: {shown})")
    return SecurityLog(
        channel_access=gl["channelAccess"],
        max_size=gl.get("maxSize"),
        retention=gl.get("retention"),
        auto_backup=gl.get("autoBackup"),
    )


SECURITY_LOG = ps_fact("windows.security_log", "checks.facts.windows", "security_log.ps1", parse)
