"""Microsoft Office on Windows as the office_macros checks see it: is Office 16.0 installed, which
applications, and is Microsoft Defender the antivirus that enforces its protections?

:data:`OFFICE_INSTALLED` is one read-only PowerShell snippet (registry through .NET, so nothing
errors when a key is missing) shared by every macro check: Click-to-Run
``HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration`` (``ProductReleaseIds``,
``Platform``, ``VersionToReport``), MSI ``HKLM\\SOFTWARE\\[WOW6432Node\\]Microsoft\\Office\\<ver>\\
<app>\\InstallRoot`` for 16.0/15.0/14.0, and the ``App Paths`` entry of each Office executable
(both registry views), whose folder (``…\\Office16\\…``) tells the version. Pure functions only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checks._windows_accounts import arr

OFFICE_INSTALLED = r"""$lm = [Microsoft.Win32.Registry]::LocalMachine
$o = @{ c2r = $null; msi = @(); app_paths = @{} }
$k = $lm.OpenSubKey('SOFTWARE\Microsoft\Office\ClickToRun\Configuration')
if ($k) {
  $o.c2r = New-Object PSObject -Property @{
    ProductReleaseIds = $k.GetValue('ProductReleaseIds')
    Platform = $k.GetValue('Platform')
    VersionToReport = $k.GetValue('VersionToReport')
  }
}
$apps = 'Word', 'Excel', 'PowerPoint', 'Access', 'Outlook', 'Visio', 'MS Project', 'Publisher', 'Common'
foreach ($base in 'SOFTWARE\Microsoft\Office', 'SOFTWARE\WOW6432Node\Microsoft\Office') {
  foreach ($v in '16.0', '15.0', '14.0') {
    foreach ($a in $apps) {
      $k = $lm.OpenSubKey("$base\$v\$a\InstallRoot")
      if ($k -and $k.GetValue('Path') -and ($o.msi -notcontains "$v\$a")) { $o.msi += "$v\$a" }
    }
  }
}
$exes = 'WINWORD.EXE', 'EXCEL.EXE', 'POWERPNT.EXE', 'MSACCESS.EXE', 'OUTLOOK.EXE', 'VISIO.EXE', 'WINPROJ.EXE',
  'MSPUB.EXE'
$appPaths = 'SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths',
  'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\App Paths'
foreach ($base in $appPaths) {
  foreach ($e in $exes) {
    $k = $lm.OpenSubKey("$base\$e")
    if ($k -and -not $o.app_paths[$e]) { $p = $k.GetValue(''); if ($p) { $o.app_paths[$e] = [string]$p } }
  }
}
New-Object PSObject -Property $o | ConvertTo-Json -Depth 5 -Compress"""

# Office application → (registry key under Office\16.0, executable, label).
APPS: tuple[tuple[str, str, str], ...] = (
    ("word", "WINWORD.EXE", "Word"),
    ("excel", "EXCEL.EXE", "Excel"),
    ("powerpoint", "POWERPNT.EXE", "PowerPoint"),
    ("access", "MSACCESS.EXE", "Access"),
    ("outlook", "OUTLOOK.EXE", "Outlook"),
    ("visio", "VISIO.EXE", "Visio"),
    ("ms project", "WINPROJ.EXE", "Project"),
    ("publisher", "MSPUB.EXE", "Publisher"),
)
LABEL = {key: label for key, _, label in APPS}
_VERSION_DIR = re.compile(r"\\(?:root\\)?office(1[456])\\", re.IGNORECASE)
_FOLDER_VERSION = {"16": "16.0", "15": "15.0", "14": "14.0"}


@dataclass(frozen=True)
class Office:
    c2r: dict[str, Any] | None
    msi: tuple[str, ...]
    app_paths: dict[str, str]

    def _versions_of_paths(self) -> dict[str, str]:
        """Executable → Office version from its install folder (``…\\Office16\\WINWORD.EXE``)."""
        found = {}
        for exe, path in self.app_paths.items():
            m = _VERSION_DIR.search(path)
            if m:
                found[exe.upper()] = _FOLDER_VERSION[m.group(1)]
        return found

    @property
    def click_to_run(self) -> bool:
        return bool(self.c2r and str(self.c2r.get("ProductReleaseIds") or "").strip())

    @property
    def subscription(self) -> bool:
        """Microsoft 365 Apps (Click-to-Run product ids ``O365…``/``M365…``), as opposed to
        perpetual Office 2016/2019/2021/2024 (MSI, or ids such as ``ProPlus2021Volume``)."""
        if not self.click_to_run or not self.c2r:
            return False
        ids = str(self.c2r.get("ProductReleaseIds") or "").split(",")
        return any(i.strip().upper().startswith(("O365", "M365")) for i in ids)

    @property
    def office16(self) -> bool:
        return (
            self.click_to_run
            or any(m.startswith("16.0\\") for m in self.msi)
            or "16.0" in self._versions_of_paths().values()
        )

    @property
    def older(self) -> list[str]:
        """Out-of-support Office versions (15.0 = 2013, 14.0 = 2010) seen on the host."""
        seen = {m.split("\\", 1)[0] for m in self.msi} | set(self._versions_of_paths().values())
        return sorted(v for v in seen if v in ("15.0", "14.0"))

    @property
    def apps(self) -> tuple[list[str], bool]:
        """The 16.0 applications installed (registry keys) and whether that list is exact.

        Taken from the ``App Paths`` executables in an Office16 folder; when Office 16.0 is
        present but none is found there, every application is assumed (not exact).
        """
        versions = self._versions_of_paths()
        from_paths = [key for key, exe, _ in APPS if versions.get(exe) == "16.0"]
        # MSI InstallRoot names ("Word", "MS Project") are the registry keys, capitalised.
        msi16 = {m.lower().split("\\", 1)[1] for m in self.msi if m.startswith("16.0\\")}
        from_msi = [key for key, _, _ in APPS if key in msi16]
        found = [key for key, _, _ in APPS if key in from_paths or key in from_msi]
        if found:
            return found, True
        return [key for key, _, _ in APPS], False

    @property
    def summary(self) -> str:
        parts = []
        if self.click_to_run and self.c2r:
            parts.append(
                f"Click-to-Run {self.c2r.get('ProductReleaseIds')} "
                f"{self.c2r.get('VersionToReport') or ''} {self.c2r.get('Platform') or ''}".rstrip()
            )
        msi16 = [m for m in self.msi if m.startswith("16.0\\")]
        if msi16:
            names = ", ".join(m.split("\\", 1)[1] for m in msi16)
            parts.append(f"MSI Office 16.0 ({names})")
        if not parts and self.office16:
            parts.append("Office 16.0 executables registered")
        return "; ".join(parts) or "no Office 16.0"

    def observed(self) -> dict[str, Any]:
        apps, exact = self.apps
        return {
            "click_to_run": (self.c2r or {}).get("ProductReleaseIds")
            if self.click_to_run
            else None,
            "msi": list(self.msi),
            "apps": apps if self.office16 else [],
            "apps_exact": exact,
        }


def parse_office(data: Any) -> Office:
    """The :data:`OFFICE_INSTALLED` JSON; raises ValueError when its shape is wrong."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    c2r = data.get("c2r")
    paths = data.get("app_paths")
    return Office(
        c2r=dict(c2r) if isinstance(c2r, dict) else None,
        msi=tuple(str(m) for m in arr(data.get("msi")) if m),
        app_paths={str(k): str(v) for k, v in (paths or {}).items() if v}
        if isinstance(paths, dict)
        else {},
    )


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


# The walk over every loaded interactive user hive (domain and Entra SIDs) that the Office policy
# checks share: it reads the cloud, user-policy and preference roots with the calling snippet's own
# ``E8Read`` function. One copy, so the checks read the same hives the same way.
USER_HIVE_WALK = r"""$hku = [Microsoft.Win32.Registry]::Users
$me = [System.Security.Principal.WindowsIdentity]::GetCurrent().User.Value
$users = @()
$rows = @()
foreach ($sid in $hku.GetSubKeyNames()) {
  if ($sid -notmatch '^S-1-(5-21|12-1)-[0-9-]+$') { continue }
  $name = $null
  $sidObj = New-Object System.Security.Principal.SecurityIdentifier($sid)
  try { $name = $sidObj.Translate([System.Security.Principal.NTAccount]).Value } catch { }
  $hasOffice = $null -ne $hku.OpenSubKey("$sid\Software\Microsoft\Office\16.0")
  $users += New-Object PSObject -Property @{ sid = $sid; name = $name; office_profile = $hasOffice }
  $rows += @(E8Read $hku $sid 'cloud' "$sid\Software\Policies\Microsoft\Cloud\Office\16.0")
  $rows += @(E8Read $hku $sid 'user_policy' "$sid\Software\Policies\Microsoft\Office\16.0")
  $rows += @(E8Read $hku $sid 'preference' "$sid\Software\Microsoft\Office\16.0")
}
"""
