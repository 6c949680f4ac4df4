"""Numbers a host prints, checked where they enter the raw record.

A host is untrusted data: its clock may print ``1e300``, ``nan`` or ``-99999999999``, a hostile
shell may frame any exit code. A value that cannot be what it claims is never stored as that
number (a writer turning it into a date would fail, and one host's broken clock would cost the
whole fleet its workbook, evidence and history): the field is left empty and the host's own text
is kept beside it (``CommandRecord.invalid``), and the host is flagged in its notes.
"""

from __future__ import annotations

import math
import re

# The instants a datetime can hold (years 1 to 9999, UTC): anything else is not a clock reading.
CLOCK_MIN = -62_135_596_800.0  # 0001-01-01T00:00:00Z
CLOCK_MAX = 253_402_300_799.0  # 9999-12-31T23:59:59Z
# Exit codes: a POSIX shell reports 0-255, Windows a 32-bit value (signed or unsigned).
EXIT_MIN, EXIT_MAX = -(2**31), 2**32 - 1
TEXT_MAX = 64  # characters of an impossible value kept as text

# What `date +%s.%N` prints: digits, a fraction. No exponent, no nan/inf, bounded length
# (int() of thousands of digits is slow, and refused past 4,300).
_EPOCH = re.compile(r"[+-]?\d{1,20}(?:\.\d{1,20})?")
# date(1) without %N support prints "N" (BSD) or "%N" as is (BusyBox): keep the whole seconds.
_EPOCH_NO_NANOS = re.compile(r"([+-]?\d{1,20})\.%?N")
_INT = re.compile(r"[+-]?\d{1,20}")


def as_text(value: object) -> str:
    """``value`` as the text kept for an impossible reading (at most TEXT_MAX characters)."""
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="replace")
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(value)
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def clock(value: object) -> tuple[float | None, str | None]:
    """A host clock reading: ``(epoch seconds, None)`` when it is a time a clock can show,
    ``(None, text)`` when it is not, ``(None, None)`` when there is none (empty, None)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, as_text(value)
    if isinstance(value, int | float):
        t = float(value)
        if math.isfinite(t) and CLOCK_MIN <= t <= CLOCK_MAX:
            return t, None
        return None, as_text(value)
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if not text:
        return None, None
    if _EPOCH.fullmatch(text):
        secs, bad = clock(float(text))
        return (secs, None) if bad is None else (None, as_text(text))
    m = _EPOCH_NO_NANOS.fullmatch(text)
    if m is not None:
        secs, bad = clock(float(m.group(1)))
        return (secs, None) if bad is None else (None, as_text(text))
    return None, as_text(text)


def exit_code(value: object) -> tuple[int | None, str | None]:
    """An exit status: ``(code, None)`` when a process can have it, ``(None, text)`` when not,
    ``(None, None)`` when there is none."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, as_text(value)
    if isinstance(value, int):
        return (value, None) if EXIT_MIN <= value <= EXIT_MAX else (None, as_text(value))
    text = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if not text:
        return None, None
    if _INT.fullmatch(text):
        code, bad = exit_code(int(text))
        return (code, None) if bad is None else (None, as_text(text))
    return None, as_text(text)
