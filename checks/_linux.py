"""What Linux judges not yet on the fact layer still share: ``unreadable`` / ``first_line`` (being
replaced by :mod:`checks.facts.reading` and :mod:`checks.facts.linux.shell`), ``sshd -T`` and
epoch helpers re-exported from :mod:`checks.facts.linux`. Inventory values come from ``ctx.profile``.

Pure functions only; no check lives here.
"""

from __future__ import annotations

from datetime import datetime

from checks.facts.linux.sshd import option, parse_options
from checks.facts.linux.times import from_epoch, iso
from scanner.checking.api import Output

# For modules not yet on the fact layer; ``checks.facts.linux`` holds these now.
parse_sshd_t = parse_options
sshd_value = option
__all__ = [
    "first_line",
    "from_epoch",
    "hours_between",
    "iso",
    "parse_sshd_t",
    "sshd_missing",
    "sshd_value",
    "unreadable",
]

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


def sshd_missing(out: Output) -> bool:
    """The host has no sshd binary (``sh: sshd: not found``, exit 127)."""
    return out.exit_code == 127 or "sshd: not found" in (out.text + out.err)


def hours_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds() / 3600
