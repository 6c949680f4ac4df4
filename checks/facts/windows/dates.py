"""The date shapes Windows PowerShell JSON carries, as aware datetimes. Pure functions only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
_CIM_DATE = re.compile(r"^(\d{14})\.\d{6}([+-])(\d{3})$")
_CIM_LOOSE = re.compile(r"^(\d{14})(?:\.\d{1,6})?([+-])(\d{3})$")
_US_DATE = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y")


def ps_date(value: Any) -> datetime | None:
    """A date as Windows PowerShell JSON prints it, as an aware datetime (UTC when unzoned).

    Accepts ``"/Date(1700000000000)/"`` (Windows PowerShell 5.1 ``ConvertTo-Json``), ISO 8601
    (PowerShell 7, or ``.ToString('o')``), a WMI CIM_DATETIME (``20241030111529.500000+000``),
    the ``{"value": ..., "DateTime": ...}`` object PS 5.1 makes of ``Get-Date`` output, and the
    US-locale ``M/d/yyyy h:mm:ss tt`` text of table views. Dates before 1990 (``DateTime.MinValue``
    for "never") and anything else are ``None``.
    """
    if isinstance(value, Mapping):
        value = value.get("value") or value.get("DateTime")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    moment: datetime | None = None
    if m := _MS_DATE.match(text):
        try:
            moment = datetime.fromtimestamp(int(m.group(1)) / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif m := _CIM_DATE.match(text):
        minutes = int(m.group(3)) * (-1 if m.group(2) == "-" else 1)
        stamp = datetime.strptime(m.group(1), "%Y%m%d%H%M%S")
        moment = stamp.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            for fmt in _US_DATE:
                try:
                    moment = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment if moment.year >= 1990 else None


def cim_time(value: Any) -> datetime | None:
    """A CIM datetime string (``20261118224107.000000+600``; fraction optional, any year) as an
    aware UTC datetime; anything else is ``None``."""
    if not isinstance(value, str):
        return None
    m = _CIM_LOOSE.match(value.strip())
    if not m:
        return None
    try:
        local = datetime.strptime(m.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    offset = int(m.group(3)) * (1 if m.group(2) == "+" else -1)
    return local - timedelta(minutes=offset)


def iso_time(value: Any) -> datetime | None:
    """ISO 8601 text a snippet formatted on the host (``yyyy-MM-ddTHH:mm:ssZ``), as an aware
    datetime (UTC when unzoned); anything else is ``None``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
