"""Times as Linux tools print them: epochs from ``stat -c %Y`` and ``find -printf %T@``.

Pure helpers the Linux facts share (and judges, for ``iso``); not a fact themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime


def from_epoch(value: str) -> datetime | None:
    """A ``%Y`` / ``%T@`` epoch (integer or fractional) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def newest_epoch(text: str) -> datetime | None:
    """The newest time among ``<epoch> <path>`` lines, None when there is none."""
    times = [from_epoch(line.split(" ", 1)[0]) for line in text.splitlines() if line.strip()]
    return max((t for t in times if t is not None), default=None)


def iso(moment: datetime | None) -> str | None:
    """``moment`` in UTC to the second, ISO 8601."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
