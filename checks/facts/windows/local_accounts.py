"""Every local user account of a Windows host's SAM, with its expiry.

``local_accounts.ps1`` reads ADSI ``WinNT://<computer>``: name, SID, ``UserFlags`` and
``AccountExpirationDate`` converted on the host to UTC (an unset expiry throws on read and is
reported as null). It skips domain controllers, whose ``WinNT://`` provider would list the whole
domain, and reports ``Win32_OperatingSystem.ProductType``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.dates import iso_time
from checks.facts.windows.powershell import as_list, ps_fact


@dataclass(frozen=True)
class LocalUser:
    name: str
    sid: str  # upper case; "" when not readable
    flags: int | None
    expires: datetime | None  # None: never expires (null, unreadable, or 1970-01-01)


@dataclass(frozen=True)
class LocalAccounts:
    product_type: int | None
    users: tuple[LocalUser, ...]


def _expiry(value: Any) -> datetime | None:
    moment = iso_time(str(value)) if value else None
    return None if moment is None or moment.year <= 1970 else moment  # 1970: "never" on some builds


def parse(data: Any) -> LocalAccounts | Unknown:
    data = json_object(data)
    users = tuple(
        LocalUser(
            name=str(u.get("name") or ""),
            sid=str(u.get("sid") or "").upper(),
            flags=to_int(u.get("flags")),
            expires=_expiry(u.get("expires")),
        )
        for u in as_list(data.get("users"))
        if isinstance(u, dict)
    )
    return LocalAccounts(product_type=to_int(data.get("product_type")), users=users)


LOCAL_ACCOUNTS = ps_fact(
    "windows.local_accounts", "checks.facts.windows", "local_accounts.ps1", parse
)
