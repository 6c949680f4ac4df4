"""Judging helpers the Office checks share: does Office apply at all, and is Microsoft Defender the
antivirus that enforces its protections? The facts they judge are in
``checks/facts/windows/office.py`` (is Office installed) and ``…/office_policy.py`` (policy values).
Pure functions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.facts.windows.office import Office


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
