"""The one vocabulary for output that cannot be read, and small value converters facts share.

Pure functions only. Both platforms' facts use these reasons, so the workbook says the same thing
for the same failure wherever it happened.
"""

from __future__ import annotations

from typing import Any

from scanner.checking.api import Output

NOT_RUN = "the command did not run (host not reached for it)"
TIMED_OUT = "the command timed out"
NOTHING = "the command printed nothing"

# Privilege refusals as sudo, Linux tools and Windows PowerShell word them (``sshd -T`` run
# without root cannot read the host keys: "no hostkeys available").
DENIAL_MARKERS = (
    "permission denied",
    "a password is required",
    "must be run as root",
    "must be root",
    "not in the sudoers",
    "may not run sudo",
    "operation not permitted",
    "no hostkeys available",
    "access is denied",
    "access denied",
    "unauthorizedaccess",
    "permissiondenied",
    "requested registry access is not allowed",
)


def first_line(text: str, limit: int = 160) -> str:
    """The first non-blank line of ``text``, stripped and shortened."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def denial(text: str) -> str | None:
    """The line of ``text`` that reports a privilege refusal, or None."""
    low = text.lower()
    for marker in DENIAL_MARKERS:
        if marker in low:
            line = next(ln for ln in text.splitlines() if marker in ln.lower())
            return line.strip()[:160]
    return None


def not_readable(out: Output, *, stdout_denial: bool = False) -> str | None:
    """Why ``out`` cannot be parsed at all (not run, timed out, refused), or None.

    ``stdout_denial``: the command merged stderr into stdout (``2>&1``): look there too.
    """
    if not out.ran:
        return NOT_RUN
    if out.timed_out:
        return TIMED_OUT
    refused = denial(out.err) or (denial(out.text) if stdout_denial else None)
    if refused is not None:
        return f"refused for lack of privilege ({refused})"
    return None


def json_object(data: Any, *, first: bool = False) -> dict[str, Any]:
    """``data`` when it is a JSON object; otherwise ValueError, which the fact reports as an
    unexpected output shape. ``first``: an array stands for its first element (a query that
    printed several instances)."""
    if first and isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object; an empty one for a missing, null or other member."""
    return value if isinstance(value, dict) else {}


def to_int(value: Any) -> int | None:
    """An integer from JSON or text (``5``, ``"5"``, ``" -5 "``, ``5.0``); None otherwise.

    Booleans are not numbers here: a registry DWORD never arrives as ``true``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return int(text)
    return None
