"""What a Windows host records of its own backups: Windows Server Backup and its event log.

- ``wb_summary.ps1`` (fact ``windows.wb_summary``): ``Get-WBSummary`` where the
  WindowsServerBackup module is installed; otherwise the snippet prints ``{"E8Absent":true}``.
- ``wbadmin_versions.ps1`` (fact ``windows.wbadmin_versions``): ``wbadmin get versions`` (when
  ``%SystemRoot%\\System32\\wbadmin.exe`` exists), its text and exit code as JSON. Each backup
  has a ``Version identifier: MM/DD/YYYY-HH:MM``, in UTC and not localised (from memory; verify).
- ``backup_events.ps1`` (fact ``windows.backup_events``): the newest ``Microsoft-Windows-Backup``
  event 4 ("the backup operation has finished successfully") and the newest failure event (ids 5,
  8, 9, 17, 22, 49, 50, 52, 517, 518, 521, 527, 528, 544, 545, 546, 561, 564, 612; from memory,
  verify), UTC times formatted on the host; "no events" and "no such log" are not errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.dates import ps_date
from checks.facts.windows.powershell import ps_fact

PACKAGE = "checks.facts.windows"
_VERSION_ID = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})-(\d{2}):(\d{2})\b")
_DENIED_TEXT = ("access is denied", "requires elevation")


@dataclass(frozen=True)
class WbSummary:
    installed: bool  # the WindowsServerBackup module exists
    last_success: datetime | None = None
    last_attempt: datetime | None = None
    last_result_hr: int | None = None
    versions: int | None = None


def parse_summary(data: Any) -> WbSummary | Unknown:
    summary = json_object(data)
    if summary.get("E8Absent"):
        return WbSummary(installed=False)
    return WbSummary(
        installed=True,
        last_success=ps_date(summary.get("LastSuccessfulBackupTime")),
        last_attempt=ps_date(summary.get("LastBackupTime")),
        last_result_hr=to_int(summary.get("LastBackupResultHR")),
        versions=to_int(summary.get("NumberOfVersions")),
    )


WB_SUMMARY = ps_fact("windows.wb_summary", PACKAGE, "wb_summary.ps1", parse_summary)


@dataclass(frozen=True)
class WbadminVersions:
    present: bool  # wbadmin.exe exists
    versions: tuple[datetime, ...] = ()  # backup version identifiers, newest first
    refused: str | None = None  # wbadmin said access is denied: its error line ("" if none)


def parse_versions_text(text: str) -> tuple[datetime, ...]:
    """``wbadmin get versions`` version identifiers (MM/DD/YYYY-HH:MM, UTC), newest first."""
    out = set()
    for m in _VERSION_ID.finditer(text):
        month, day, year, hour, minute = (int(g) for g in m.groups())
        try:
            out.add(datetime(year, month, day, hour, minute, tzinfo=UTC))
        except ValueError:
            continue
    return tuple(sorted(out, reverse=True))


def parse_wbadmin(data: Any) -> WbadminVersions | Unknown:
    wb = json_object(data)
    if not wb.get("Present"):
        return WbadminVersions(present=False)
    text = str(wb.get("Text") or "")
    refused = None
    if any(d in text.lower() for d in _DENIED_TEXT):
        refused = next((ln.strip() for ln in text.splitlines() if "error" in ln.lower()), "")
    return WbadminVersions(present=True, versions=parse_versions_text(text), refused=refused)


WBADMIN_VERSIONS = ps_fact(
    "windows.wbadmin_versions", PACKAGE, "wbadmin_versions.ps1", parse_wbadmin
)


@dataclass(frozen=True)
class BackupEvent:
    id: int | None
    time: datetime | None
    message: str


@dataclass(frozen=True)
class BackupEvents:
    log_present: bool | None
    success: BackupEvent | None  # the newest event 4
    failure: BackupEvent | None  # the newest failure event


def _event(value: Any) -> BackupEvent | None:
    if not isinstance(value, dict):
        return None
    return BackupEvent(
        id=to_int(value.get("Id")),
        time=ps_date(value.get("Time")),
        message=str(value.get("Message") or ""),
    )


def parse_events(data: Any) -> BackupEvents | Unknown:
    events = json_object(data)
    log = events.get("LogPresent")
    return BackupEvents(
        log_present=log if isinstance(log, bool) else None,
        success=_event(events.get("Success")),
        failure=_event(events.get("Failure")),
    )


BACKUP_EVENTS = ps_fact("windows.backup_events", PACKAGE, "backup_events.ps1", parse_events)
