"""The user profiles on a Windows host: ``Win32_UserProfile`` (SID, LocalPath, Loaded,
LastUseTime, Special) through ``Get-WmiObject``. ``LastUseTime`` is a CIM datetime
(``yyyymmddHHMMSS.ffffff+zzz``, offset in minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.dates import cim_time
from checks.facts.windows.powershell import as_list, ps_fact


@dataclass(frozen=True)
class Profile:
    sid: str  # upper case
    path: str
    loaded: bool  # JSON true, nothing else
    special: bool
    last_use: datetime | None  # None: absent or not a CIM datetime (see last_use_text)
    last_use_text: str | None


def parse(data: Any) -> tuple[Profile, ...] | Unknown:
    """One profile per entry; entries that are not objects make the whole read unusable."""
    entries = as_list(data)
    if not all(isinstance(p, dict) for p in entries):
        return Unknown("unexpected output shape (profile entries are not objects)")
    return tuple(
        Profile(
            sid=str(p.get("SID") or "").upper(),
            path=str(p.get("LocalPath") or ""),
            loaded=p.get("Loaded") is True,
            special=bool(p.get("Special")),
            last_use=cim_time(p.get("LastUseTime")),
            last_use_text=None if p.get("LastUseTime") is None else str(p.get("LastUseTime")),
        )
        for p in entries
    )


USER_PROFILES = ps_fact("windows.user_profiles", "checks.facts.windows", "user_profiles.ps1", parse)
