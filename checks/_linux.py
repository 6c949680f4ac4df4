"""Parsers for Linux command outputs that several checks read: os-release, ``sshd -T``, epochs.

Also the one rule every Linux judge applies first: was the output readable at all (the host
answered, the command did not time out, sudo or the file system did not refuse it)?
Pure functions only; no check lives here.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from checks.facts.linux.sshd import option, parse_options
from scanner.checking.api import Output

# For modules not yet on the fact layer; ``checks.facts.linux.sshd`` holds these now.
parse_sshd_t = parse_options
sshd_value = option

_DENIAL_MARKERS = (
    "permission denied",
    "a password is required",
    "not in the sudoers",
    "may not run sudo",
    "must be run as root",
    "operation not permitted",
    "no hostkeys available",
)


def unreadable(out: Output | None, *, stdout_denial: bool = False) -> str | None:
    """Why ``out`` cannot be judged, or None when it can.

    ``stdout_denial``: the command merged stderr into stdout (``2>&1``), so look for permission
    errors there too.
    """
    if out is None or not out.ran:
        return "command was not run on the host"
    if out.timed_out:
        return "command timed out"
    if out.denied:
        return f"refused for lack of privilege ({first_line(out.err)})"
    if stdout_denial:
        low = out.text.lower()
        for marker in _DENIAL_MARKERS:
            if marker in low:
                line = next(ln for ln in out.text.splitlines() if marker in ln.lower())
                return f"refused for lack of privilege ({line.strip()[:120]})"
    return None


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:160]
    return ""


def parse_os_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines of /etc/os-release, with shell quoting removed."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        values[key.strip()] = " ".join(parts)
    return values


def sshd_missing(out: Output) -> bool:
    """The host has no sshd binary (``sh: sshd: not found``, exit 127)."""
    return out.exit_code == 127 or "sshd: not found" in (out.text + out.err)


def from_epoch(value: str) -> datetime | None:
    """A ``%Y`` / ``%T@`` epoch (integer or fractional) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def hours_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


def var_list(vars_: Mapping[str, Any], name: str) -> list[str] | None:
    """An inventory variable that is a list or a comma-separated string; None when absent."""
    value = vars_.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
