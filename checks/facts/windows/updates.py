"""What a Windows host shows of installed updates and a pending restart (nothing starts a scan).

- ``hotfixes.ps1`` (fact ``windows.hotfixes``): ``Get-HotFix`` (``HotFixID``, ``Description``,
  ``InstalledOn``). ``InstalledOn`` may be null, a ``"/Date(ms)/"`` string (Windows PowerShell
  5.1) or ISO text; it is date-only and locale-parsed by PowerShell. A host with no hotfix
  prints nothing, which is an empty list here, not an unreadable output.
- ``update_history.ps1`` (fact ``windows.update_history``): the local Windows Update history
  through the Update Agent COM API (``GetTotalHistoryCount`` / ``QueryHistory``; no ``Search``),
  the newest 30 OS update entries: date (as WUA reports it), title, result code (2 succeeded,
  3 with errors, 4 failed, 5 aborted), operation (1 install, 2 uninstall). Remote sessions are
  often refused (``E_ACCESSDENIED``, seen on Server 2025 and recent Windows 11).
- ``reboot_pending.ps1`` (fact ``windows.reboot_pending``): ``Test-Path`` of the two keys that
  say a restart is pending (JSON booleans); the value names the keys that exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.facts.fact import Fact, Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.dates import ps_date
from checks.facts.windows.powershell import as_list, ps_fact, read_json, script
from scanner.checking.api import Cmd, Output
from scanner.model.vocabulary import Platform

PACKAGE = "checks.facts.windows"


@dataclass(frozen=True)
class HotFix:
    id: str
    description: str
    installed_on: datetime | None


def parse_hotfixes(out: Output) -> tuple[HotFix, ...] | Unknown:
    """Each hotfix entry; a clean run that printed nothing is a host without hotfixes."""
    if out.ok and not out.truncated and not out.text.strip() and not out.err.strip():
        return ()
    data = read_json(out)
    if isinstance(data, Unknown):
        return data
    return tuple(
        HotFix(
            id=str(h.get("HotFixID") or ""),
            description=str(h.get("Description") or ""),
            installed_on=ps_date(h.get("InstalledOn")),
        )
        for h in as_list(data)
        if isinstance(h, dict)
    )


HOTFIXES = Fact(
    name="windows.hotfixes",
    platform=Platform.WINDOWS,
    cmd=Cmd(line=script(PACKAGE, "hotfixes.ps1")),
    parse=parse_hotfixes,
)


@dataclass(frozen=True)
class HistoryEntry:
    date: datetime | None
    title: str
    result_code: int | None  # 2 succeeded, 3 with errors, 4 failed, 5 aborted
    operation: int | None  # 1 install, 2 uninstall


@dataclass(frozen=True)
class UpdateHistory:
    total: int | None
    entries: tuple[HistoryEntry, ...]


def parse_history(data: Any) -> UpdateHistory | Unknown:
    data = json_object(data)
    return UpdateHistory(
        total=to_int(data.get("Total")),
        entries=tuple(
            HistoryEntry(
                date=ps_date(e.get("Date")),
                title=str(e.get("Title") or ""),
                result_code=to_int(e.get("ResultCode")),
                operation=to_int(e.get("Operation")),
            )
            for e in as_list(data.get("Entries"))
            if isinstance(e, dict)
        ),
    )


UPDATE_HISTORY = ps_fact("windows.update_history", PACKAGE, "update_history.ps1", parse_history)

REBOOT_KEYS = {
    "CbsRebootPending": "Component Based Servicing\\RebootPending",
    "WuRebootRequired": "WindowsUpdate\\Auto Update\\RebootRequired",
}


def parse_reboot(data: Any) -> tuple[str, ...] | Unknown:
    """The pending-restart keys that exist (empty: no restart pending)."""
    data = json_object(data)
    return tuple(label for key, label in REBOOT_KEYS.items() if data.get(key) is True)


REBOOT_PENDING = ps_fact("windows.reboot_pending", PACKAGE, "reboot_pending.ps1", parse_reboot)
