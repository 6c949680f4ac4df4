"""Windows: are backup destinations off the host, and closed to unprivileged and non-backup-admin accounts?

**Collected (one read-only PowerShell snippet; needs local administrator rights):**
- the backup destinations the host itself names: the Windows Server Backup policy target
  (``Get-WBPolicy`` → ``Get-WBBackupTarget``: ``TargetType``, ``Path``, ``Label``) where the
  WindowsServerBackup module exists; the ``Backup location:`` lines of ``wbadmin get versions``
  (a ``\\\\server\\share`` or a drive letter); and any ``<drive>:\\WindowsImageBackup`` folder on a
  fixed, removable or network logical disk (``Win32_LogicalDisk``). Inventory paths
  (``e8_backup_paths``) are **not** used yet: the inventory-argument mechanism is POSIX-shell only;
- for each destination: whether it is a UNC path or a mapped network drive (``DriveType`` 4,
  ``ProviderName``), its drive letter and physical disk index (``Win32_LogicalDiskToPartition``),
  the system drive's disk index, and ``Get-Acl`` → ``.Access`` (identity, SID, rights as the
  numeric ``FileSystemRights`` mask, Allow/Deny);
- BitLocker state per volume: ``Win32_EncryptableVolume`` (namespace
  ``root\\cimv2\\Security\\MicrosoftVolumeEncryption``) ``DriveLetter`` and ``ProtectionStatus``
  (1 = protection on).

Rights: *read* = ReadData (0x1), GENERIC_READ or GENERIC_ALL; *modify/delete* = WriteData,
AppendData, DeleteSubdirectoriesAndFiles, Delete, ChangePermissions, TakeOwnership, GENERIC_WRITE or
GENERIC_ALL. Only Allow entries are counted (a Deny entry is listed but not credited). Broad
principals: Everyone, Authenticated Users, INTERACTIVE, ANONYMOUS LOGON, Users, Guests, Domain
Users/Guests/Computers. Backup-administrator principals: SYSTEM, Backup Operators, CREATOR OWNER,
TrustedInstaller and the accounts or groups in the inventory's ``e8_backup_admins`` (``DOMAIN\\name``,
bare name or SID).

**ISM-1811** (ML1-3, secure and resilient retention) — host-side part only:
- effective: every destination is off-host (UNC path or mapped network share), or a local volume
  other than the system drive, on another physical disk, with BitLocker protection on;
- ineffective: a destination on the system drive or on the system's physical disk, or a separate
  local volume without BitLocker protection (BitLocker absent counts as unprotected; third-party
  volume encryption is not seen — record an exception);
- no_visibility: no destination found, or its volume/encryption could not be read (a dedicated
  Windows Server Backup disk has no drive letter).

**ISM-1812 / ISM-1814** (ML1-3, unprivileged accounts cannot access other accounts' backups /
cannot modify or delete backups): ineffective when a broad principal holds read (1812) or
modify/delete (1814) rights on a destination; effective when every destination's ACL was read and
grants them neither; no_visibility when no destination was found or an ACL could not be read.

**ISM-1813** (ML3, unprivileged accounts cannot access their own backups): ineffective as 1812;
effective when only administrators (Administrators, Domain/Enterprise Admins) and backup-admin
principals hold read; no_visibility when another named account or group holds read (whether it is
privileged is not visible from the host) or an ACL was not read.

**ISM-1705 / ISM-1707 / ISM-1706** (privileged accounts other than backup administrators cannot
access others' / modify or delete / access their own backups; ML2-3 / ML2-3 / ML3) — partly: a
Windows administrator can always take ownership of a local file, so
- ineffective: a destination is on this host (local volume), or its ACL grants read (1705, 1706)
  or modify/delete (1707) to a principal that is not a backup-admin principal (Administrators
  included — on a share these are the file server's administrators);
- no_visibility: ``e8_backup_admins`` is absent and a named principal other than the built-in ones
  holds rights, or no destination / no ACL was read;
- effective: every destination is off-host and its ACL grants rights only to backup-admin
  principals. The share permissions and the file server's own administrators beyond the ACL, and
  the backup platform's roles, are not visible.

Caveats: backup software writing to its own repository (Veeam, Commvault, …) or to cloud storage is
not seen here; destinations named only in the inventory are not examined on Windows yet; ACLs are
read on the destination itself, not on every file below it. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.accounts import BROAD_DOMAIN_RIDS, BROAD_SIDS
from checks.facts.windows.backup_destinations import (
    BACKUP_DESTINATIONS,
    Ace,
    BackupDestinations,
    Dest,
)
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISMS = ("ISM-1811", "ISM-1812", "ISM-1814", "ISM-1813", "ISM-1705", "ISM-1707", "ISM-1706")

BACKUP_SIDS = {
    "S-1-5-18": "SYSTEM",
    "S-1-5-32-551": "Backup Operators",
    "S-1-3-0": "CREATOR OWNER",
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464": "TrustedInstaller",
}
ADMIN_SIDS = {"S-1-5-32-544": "Administrators"}
ADMIN_DOMAIN_RIDS = {"512": "Domain Admins", "519": "Enterprise Admins"}


def _broad(ace: Ace) -> bool:
    if ace.sid in BROAD_SIDS:
        return True
    return ace.sid.startswith("S-1-5-21-") and ace.sid.rsplit("-", 1)[-1] in BROAD_DOMAIN_RIDS


def _admin(ace: Ace) -> bool:
    if ace.sid in ADMIN_SIDS:
        return True
    return ace.sid.startswith("S-1-5-21-") and ace.sid.rsplit("-", 1)[-1] in ADMIN_DOMAIN_RIDS


def _backup_admin(ace: Ace, listed: list[str]) -> bool:
    if ace.sid in BACKUP_SIDS:
        return True
    ident = ace.identity.lower()
    bare = ident.rpartition("\\")[2]
    for entry in listed:
        e = entry.strip().lower()
        if e and (e == ace.sid.lower() or e == ident or ("\\" not in e and e == bare)):
            return True
    return False


def _f(ism: str, outcome: Outcome, evidence: str, observed: dict[str, Any]) -> Finding:
    return Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed)


def _resilience(dests: tuple[Dest, ...], data: BackupDestinations) -> tuple[Outcome, str]:
    sys_drive = data.system_drive or "C:"
    sys_disk = data.system_disk
    bl_error = data.bitlocker_error
    bl_absent = "invalid namespace" in bl_error.lower()
    bitlocker = data.bitlocker
    bad, blind, good = [], [], []
    for d in dests:
        if d.off_host:
            where = d.path if d.unc else f"{d.drive} → {d.provider or 'network share'}"
            good.append(f"{d.name} is off-host ({where})")
            continue
        if not d.drive:
            blind.append(
                f"{d.name}: a local target without a drive letter; its disk and encryption are not visible"
            )
            continue
        if d.drive == sys_drive:
            bad.append(f"{d.name} is on the system drive {sys_drive}")
            continue
        if d.disk is not None and sys_disk is not None and d.disk == sys_disk:
            bad.append(
                f"{d.name} is on {d.drive}, a volume of the system's physical disk {sys_disk}"
            )
            continue
        prot = bitlocker.get(d.drive)
        if prot == 1:
            good.append(f"{d.name} is on {d.drive}, a separate BitLocker-protected volume")
        elif prot is not None or bl_absent:
            state = "BitLocker is not installed" if prot is None else f"ProtectionStatus {prot}"
            bad.append(
                f"{d.name} is on {d.drive}, a separate local volume without BitLocker protection ({state})"
            )
        elif bl_error:
            blind.append(f"{d.name}: BitLocker state not read ({bl_error[:120]})")
        else:
            blind.append(f"{d.name}: BitLocker reports no volume {d.drive}")
    if bad:
        return Outcome.INEFFECTIVE, "; ".join(bad[:5])
    if blind:
        return Outcome.NO_VISIBILITY, "; ".join(blind[:5])
    return Outcome.EFFECTIVE, "host-side part only: " + "; ".join(good[:5])


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    data = BACKUP_DESTINATIONS.read(outputs.get("access"))
    if isinstance(data, Unknown):
        why = f"backup destinations not read: {data.reason}"
        return [_f(i, Outcome.NO_VISIBILITY, why, {}) for i in ISMS]
    dests = data.destinations
    listed = ctx.profile.listed("e8_backup_admins")
    observed: dict[str, Any] = {
        "destinations": [
            {
                "path": d.name,
                "sources": list(d.sources),
                "off_host": d.off_host,
                "drive": d.drive or None,
                "acl": [
                    f"{a.identity} {'allow' if a.allow else 'deny'} 0x{a.rights:X}" for a in d.aces
                ][:15],
                "acl_error": d.acl_error or None,
            }
            for d in dests
        ][:10],
        "windows_server_backup_error": data.wb_error,
        "backup_admins": listed,
    }
    if not dests:
        why = (
            "no backup destination found on the host (no Windows Server Backup target, no wbadmin "
            "backup location, no WindowsImageBackup folder); inventory backup paths are not yet "
            "passed to Windows checks"
        )
        if data.wb_error:
            why += f"; Windows Server Backup policy not read: {data.wb_error[:120]}"
        return [_f(i, Outcome.NO_VISIBILITY, why, observed) for i in ISMS]

    findings = []
    outcome, text = _resilience(dests, data)
    findings.append(_f("ISM-1811", outcome, text, observed))

    unread = [
        f"{d.name}: ACL not read ({d.acl_error[:100] or ('path missing' if d.path else 'no path')})"
        for d in dests
        if not d.acl_read
    ]
    broad_read, broad_write, other_read = [], [], []
    priv_read, priv_write, unknown = [], [], []
    local = [d.name for d in dests if not d.off_host]
    for d in dests:
        if not d.acl_read:
            continue
        for a in d.aces:
            if not (a.reads or a.writes):
                continue
            label = f"{a.identity or a.sid} on {d.name}"
            if _broad(a):
                if a.reads:
                    broad_read.append(label)
                if a.writes:
                    broad_write.append(label)
            elif not _admin(a) and not _backup_admin(a, listed or []) and a.reads:
                other_read.append(label)
            if _backup_admin(a, listed or []):
                continue
            if _admin(a) or _broad(a) or listed is not None:
                if a.reads:
                    priv_read.append(label)
                if a.writes:
                    priv_write.append(label)
            else:
                unknown.append(label)

    blind = "; ".join(unread[:5])
    for ism, hits, what in (
        ("ISM-1812", broad_read, "read"),
        ("ISM-1814", broad_write, "modify/delete"),
    ):
        if hits:
            findings.append(
                _f(
                    ism,
                    Outcome.INEFFECTIVE,
                    f"broad principals hold {what} rights: {'; '.join(hits[:5])}",
                    observed,
                )
            )
        elif unread:
            findings.append(_f(ism, Outcome.NO_VISIBILITY, blind, observed))
        else:
            findings.append(
                _f(
                    ism,
                    Outcome.EFFECTIVE,
                    f"no broad principal holds {what} rights on {', '.join(d.name for d in dests)}",
                    observed,
                )
            )

    if broad_read:
        findings.append(
            _f(
                "ISM-1813",
                Outcome.INEFFECTIVE,
                f"broad principals hold read rights: {'; '.join(broad_read[:5])}",
                observed,
            )
        )
    elif unread:
        findings.append(_f("ISM-1813", Outcome.NO_VISIBILITY, blind, observed))
    elif other_read:
        findings.append(
            _f(
                "ISM-1813",
                Outcome.NO_VISIBILITY,
                "accounts or groups whose privilege is not visible from the host hold read rights "
                "(list them in e8_backup_admins if they are backup admins): "
                + "; ".join(other_read[:5]),
                observed,
            )
        )
    else:
        findings.append(
            _f(
                "ISM-1813",
                Outcome.EFFECTIVE,
                "only administrators and backup-admin principals hold read rights on the destinations",
                observed,
            )
        )

    for ism, hits, what in (
        ("ISM-1705", priv_read, "read"),
        ("ISM-1707", priv_write, "modify/delete"),
        ("ISM-1706", priv_read, "read"),
    ):
        if local:
            findings.append(
                _f(
                    ism,
                    Outcome.INEFFECTIVE,
                    f"backups kept on this host ({', '.join(local[:5])}): its administrators can take "
                    f"ownership and {what} them whatever the ACL",
                    observed,
                )
            )
        elif hits:
            findings.append(
                _f(
                    ism,
                    Outcome.INEFFECTIVE,
                    f"principals other than backup administrators hold {what} rights: {'; '.join(hits[:5])}",
                    observed,
                )
            )
        elif unread:
            findings.append(_f(ism, Outcome.NO_VISIBILITY, blind, observed))
        elif unknown:
            findings.append(
                _f(
                    ism,
                    Outcome.NO_VISIBILITY,
                    "no e8_backup_admins in inventory, so whether these principals are backup "
                    "administrators is not known: " + "; ".join(unknown[:5]),
                    observed,
                )
            )
        else:
            findings.append(
                _f(
                    ism,
                    Outcome.EFFECTIVE,
                    f"host-side part only: destinations are off-host and only backup-admin principals "
                    f"hold {what} rights on them (the file server's own administrators and the backup "
                    "platform's roles are not visible)",
                    observed,
                )
            )
    return findings


CHECK = Check(
    id="backups.windows_backup_access",
    title="Windows backup destinations are off-host and closed to non-backup-admin accounts",
    strategy=Strategy.BACKUPS,
    ism=ISMS,
    platforms=frozenset({Platform.WINDOWS}),
    collect={"access": BACKUP_DESTINATIONS.cmd},
    judge=judge,
    version=1,
)
