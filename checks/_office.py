"""Judging helpers the Office checks share: does Office apply at all, and is Microsoft Defender the
antivirus that enforces its protections? The facts they judge are in
``checks/facts/windows/office.py`` (is Office installed) and ``…/office_policy.py`` (policy values).
Pure functions only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.facts.reading import to_int
from checks.facts.windows.office import Office
from checks.facts.windows.powershell import as_list


def not_installed_reason(office: Office) -> str | None:
    """Why the macro controls do not apply (no Office at all), or None when Office 16.0 is present."""
    if office.office16:
        return None
    if office.older:
        return None
    return (
        "Microsoft Office is not installed (no Click-to-Run configuration, no MSI InstallRoot, no "
        "Office executable in App Paths)"
    )


# Microsoft Defender Antivirus's AMSI provider (also registered when Defender is passive).
DEFENDER_AMSI_CLSID = "{2781761E-28E0-4109-99FE-B9D127C57AFE}"


def defender_active(status: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether ``Get-MpComputerStatus`` shows Defender as the active antivirus, and why not.

    ``AMRunningMode``: "Normal" is active; "Passive Mode", "SxS Passive Mode", "EDR Block Mode"
    mean another product is primary. Builds too old to report it count as Normal when the service
    and the antivirus are enabled.
    """
    mode = str(status.get("AMRunningMode") or "").strip()
    if status.get("AMServiceEnabled") is False:
        return False, "the Defender antimalware service is not enabled (AMServiceEnabled False)"
    if status.get("AntivirusEnabled") is False:
        return False, "Defender Antivirus is not enabled (AntivirusEnabled False)"
    if mode and mode.lower() != "normal":
        return False, f"Defender is not the active antivirus (AMRunningMode {mode!r})"
    return True, f"Defender is the active antivirus (AMRunningMode {mode or 'not reported'})"


# Trusted Location paths a standard user can write to whatever the ACL says: the user's profile
# (environment variables or C:\\Users\\…, which includes Downloads and Office's default
# %APPDATA% Startup/Templates locations) and the temp folders.
USER_WRITABLE_PATH = re.compile(
    r"%(appdata|localappdata|userprofile|homepath|homedrive|temp|tmp|username|onedrive)%"
    r"|^[a-z]:\\users\\|\\(downloads|temp|tmp)(\\|$)",
    re.IGNORECASE,
)
# A network Trusted Location (UNC path or URL): its ACL lives on the file server.
NETWORK_PATH = re.compile(r"^(\\\\|//|https?://)", re.IGNORECASE)

BROAD = {"S-1-1-0": "Everyone", "S-1-5-11": "Authenticated Users", "S-1-5-32-545": "Users"}
BROAD |= {"S-1-5-4": "INTERACTIVE"}
# WriteData, AppendData, WriteEA, WriteAttributes, Delete, WRITE_DAC, WRITE_OWNER, GENERIC_ALL/WRITE.
WRITE_MASK = 0x2 | 0x4 | 0x10 | 0x100 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000


def write_holders(acl: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(broad principals with write, every principal with write) from one ``Get-Acl`` entry."""
    broad, writers = [], []
    for rule in as_list(acl.get("rules")):
        if not isinstance(rule, dict) or str(rule.get("type")) != "Allow":
            continue
        rights = to_int(rule.get("rights")) or 0
        if not rights & WRITE_MASK:
            continue
        sid = str(rule.get("sid") or "").upper()
        name = BROAD.get(sid) or (
            "Domain Users" if sid.endswith("-513") and sid.startswith("S-1-5-21-") else None
        )
        writers.append(name or sid)
        if name:
            broad.append(name)
    return broad, writers
