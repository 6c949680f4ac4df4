"""The backup destinations a Windows host names itself, where they live and who may touch them.

``backup_destinations.ps1`` (read-only; needs local administrator rights) collects candidate
destinations — the Windows Server Backup policy target (``Get-WBPolicy`` → ``Get-WBBackupTarget``),
the ``Backup location:`` lines of ``wbadmin get versions`` (a ``\\\\server\\share`` or a drive
letter), and any ``<drive>:\\WindowsImageBackup`` folder on a fixed, removable or network logical
disk — and, for each, whether it is a mapped network drive (``DriveType`` 4, ``ProviderName``),
its physical disk index (``Win32_LogicalDiskToPartition``), and ``Get-Acl`` → ``.Access``
(identity, SID, rights as the numeric ``FileSystemRights`` mask, Allow/Deny). Also the system
drive and its disk index, and BitLocker ``ProtectionStatus`` per volume
(``Win32_EncryptableVolume``, namespace ``root\\cimv2\\Security\\MicrosoftVolumeEncryption``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import as_list, ps_fact

GENERIC_ALL, GENERIC_WRITE, GENERIC_READ = 0x10000000, 0x40000000, 0x80000000
# read = ReadData or GENERIC_READ/ALL; modify/delete = WriteData, AppendData,
# DeleteSubdirectoriesAndFiles, Delete, ChangePermissions, TakeOwnership, GENERIC_WRITE/ALL.
READ_MASK = 0x1 | GENERIC_READ | GENERIC_ALL
WRITE_MASK = 0x2 | 0x4 | 0x40 | 0x10000 | 0x40000 | 0x80000 | GENERIC_WRITE | GENERIC_ALL


@dataclass(frozen=True)
class Ace:
    identity: str
    sid: str  # upper case; "" when it did not translate
    rights: int  # FileSystemRights mask
    allow: bool

    @property
    def reads(self) -> bool:
        return self.allow and bool(self.rights & READ_MASK)

    @property
    def writes(self) -> bool:
        return self.allow and bool(self.rights & WRITE_MASK)


@dataclass(frozen=True)
class Dest:
    path: str
    label: str
    sources: tuple[str, ...]
    drive: str  # upper-case drive letter with colon, "" when none
    drive_type: int | None  # Win32_LogicalDisk.DriveType (4 = network drive)
    provider: str
    disk: int | None  # physical disk index
    exists: bool | None
    aces: tuple[Ace, ...] = ()
    acl_error: str = ""

    @property
    def name(self) -> str:
        return self.path or self.label or "?"

    @property
    def unc(self) -> bool:
        return self.path.startswith("\\\\") and not self.path.startswith(("\\\\?\\", "\\\\.\\"))

    @property
    def off_host(self) -> bool:
        return self.unc or self.drive_type == 4

    @property
    def acl_read(self) -> bool:
        return bool(self.path) and not self.acl_error and bool(self.exists)


@dataclass(frozen=True)
class BackupDestinations:
    system_drive: str  # upper case, "" when not reported
    system_disk: int | None
    wb_error: str | None  # why the Windows Server Backup policy could not be read
    destinations: tuple[Dest, ...]
    bitlocker: dict[str, int | None]  # drive -> ProtectionStatus (1 = protection on)
    bitlocker_error: str


def _dest(d: dict[str, Any]) -> Dest:
    aces = tuple(
        Ace(
            identity=str(a.get("identity") or ""),
            sid=str(a.get("sid") or "").upper(),
            rights=(to_int(a.get("rights")) or 0) & 0xFFFFFFFF,
            allow=str(a.get("type") or "").lower() == "allow",
        )
        for a in as_list(d.get("aces"))
        if isinstance(a, dict)
    )
    return Dest(
        path=str(d.get("path") or ""),
        label=str(d.get("label") or ""),
        sources=tuple(str(s) for s in as_list(d.get("sources"))),
        drive=str(d.get("drive") or "").upper(),
        drive_type=to_int(d.get("drive_type")),
        provider=str(d.get("provider") or ""),
        disk=to_int(d.get("disk")),
        exists=d.get("exists") if isinstance(d.get("exists"), bool) else None,
        aces=aces,
        acl_error=str(d.get("acl_error") or ""),
    )


def parse(data: Any) -> BackupDestinations | Unknown:
    data = json_object(data)
    return BackupDestinations(
        system_drive=str(data.get("system_drive") or "").upper(),
        system_disk=to_int(data.get("system_disk")),
        wb_error=str(data["wb_error"]) if data.get("wb_error") else None,
        destinations=tuple(
            _dest(d) for d in as_list(data.get("destinations")) if isinstance(d, dict)
        ),
        bitlocker={
            str(v.get("drive") or "").upper(): to_int(v.get("protection"))
            for v in as_list(data.get("bitlocker"))
            if isinstance(v, dict)
        },
        bitlocker_error=str(data.get("bitlocker_error") or ""),
    )


BACKUP_DESTINATIONS = ps_fact(
    "windows.backup_destinations", "checks.facts.windows", "backup_destinations.ps1", parse
)
