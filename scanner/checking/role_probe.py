"""The engine's own read-only commands that show what a host is, run on every host.

When the inventory does not set ``e8_role``, the host's own report decides it (see
:mod:`scanner.assess.role`); when it does, the report is still read so that a disagreement is
stated in the results. Both commands are literal and read-only:

- Windows: ``Win32_OperatingSystem`` (``ProductType`` 1 workstation, 2 domain controller,
  3 server). The Windows patch checks use the same line, so a scan runs it once.
- Linux: ``systemctl get-default`` (``graphical.target``: a workstation).
- Directory: the domain controller's rootDSE (its naming contexts, name, functional levels and
  clock); a directory has no role, but the rootDSE is the record of what the searches' base
  placeholders stood for.

A directory target also runs the engine's ``e8scan.coverage`` probe: the computers search
(:mod:`scanner.checking.directory_searches`) that the fleet coverage joins with the inventory
(:mod:`scanner.assess.coverage`). The LAPS check asks for the same line, so it runs once.
"""

from __future__ import annotations

from scanner.checking.api import Cmd
from scanner.checking.directory_searches import COMPUTERS_SEARCH
from scanner.model.vocabulary import Platform

PROBE_ID = "e8scan.role"
"""What the plan and the raw record list as the 'check' asking for these commands."""
PROBE_VERSION = 1
COVERAGE_ID = "e8scan.coverage"
"""What the plan and the raw record list as asking for the directory's computers search."""
COVERAGE_VERSION = 1

WINDOWS_OS = Cmd(
    line=(
        "Get-WmiObject Win32_OperatingSystem | "
        "Select-Object Caption,Version,BuildNumber,ProductType,OSArchitecture,LastBootUpTime | "
        "ConvertTo-Json -Depth 4 -Compress"
    )
)
LINUX_DEFAULT_TARGET = Cmd(line="systemctl get-default")
DIRECTORY_ROOTDSE = Cmd(
    line=(
        "ldapsearch -b '{rootDSE}' -s base '(objectClass=*)' defaultNamingContext "
        "configurationNamingContext schemaNamingContext rootDomainNamingContext dnsHostName "
        "serverName domainFunctionality forestFunctionality domainControllerFunctionality "
        "currentTime"
    )
)

ROLE_PROBES: dict[Platform, Cmd] = {
    Platform.WINDOWS: WINDOWS_OS,
    Platform.LINUX: LINUX_DEFAULT_TARGET,
    Platform.DIRECTORY: DIRECTORY_ROOTDSE,
}

ENGINE_PROBES: dict[Platform, tuple[tuple[str, Cmd], ...]] = {
    Platform.WINDOWS: ((PROBE_ID, WINDOWS_OS),),
    Platform.LINUX: ((PROBE_ID, LINUX_DEFAULT_TARGET),),
    Platform.DIRECTORY: ((PROBE_ID, DIRECTORY_ROOTDSE), (COVERAGE_ID, COMPUTERS_SEARCH)),
}
"""Every command the engine adds to a host's plan, with the id it is listed under."""
PROBE_VERSIONS = {PROBE_ID: PROBE_VERSION, COVERAGE_ID: COVERAGE_VERSION}
