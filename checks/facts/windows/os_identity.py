"""Which Windows a host runs: the two identity reads.

- ``current_version.ps1`` (fact ``windows.current_version``): registry
  ``HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion``: ``CurrentBuild``, ``UBR``,
  ``EditionID``, ``InstallationType``, ``ProductName``, ``DisplayVersion``, ``ReleaseId``. The
  registry ``ProductName`` still says "Windows 10" on Windows 11 (``CurrentBuild >= 22000``).
- ``win32_os.ps1`` (fact ``windows.win32_os``): ``Get-WmiObject Win32_OperatingSystem`` (exists
  from PowerShell 2.0 to 5.1): ``Caption``, ``Version``, ``BuildNumber``, ``ProductType``
  (1 workstation, 2 domain controller, 3 server), ``OSArchitecture``, ``LastBootUpTime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.dates import ps_date
from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class CurrentVersion:
    build: int | None
    ubr: int | None
    edition: str
    installation_type: str
    product_name: str
    display_version: str  # DisplayVersion, else ReleaseId (older builds)


def parse_current_version(data: Any) -> CurrentVersion | Unknown:
    reg = json_object(data, first=True)
    return CurrentVersion(
        build=to_int(reg.get("CurrentBuild")),
        ubr=to_int(reg.get("UBR")),
        edition=str(reg.get("EditionID") or ""),
        installation_type=str(reg.get("InstallationType") or ""),
        product_name=str(reg.get("ProductName") or ""),
        display_version=str(reg.get("DisplayVersion") or reg.get("ReleaseId") or ""),
    )


@dataclass(frozen=True)
class Win32Os:
    caption: str
    version: str
    build: int | None
    product_type: int | None
    architecture: str
    last_boot: datetime | None


def parse_win32_os(data: Any) -> Win32Os | Unknown:
    osw = json_object(data, first=True)
    return Win32Os(
        caption=str(osw.get("Caption") or ""),
        version=str(osw.get("Version") or ""),
        build=to_int(osw.get("BuildNumber")),
        product_type=to_int(osw.get("ProductType")),
        architecture=str(osw.get("OSArchitecture") or ""),
        last_boot=ps_date(osw.get("LastBootUpTime")),
    )


CURRENT_VERSION = ps_fact(
    "windows.current_version",
    "checks.facts.windows",
    "current_version.ps1",
    parse_current_version,
)
WIN32_OS = ps_fact("windows.win32_os", "checks.facts.windows", "win32_os.ps1", parse_win32_os)
