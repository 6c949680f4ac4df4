"""Is Microsoft Office installed, which version and which applications (fact
``windows.office_installed``, ``office_installed.ps1``).

One read-only snippet (registry through .NET, so nothing errors when a key is missing): Click-to-Run
``HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration`` (``ProductReleaseIds``,
``Platform``, ``VersionToReport``), MSI ``HKLM\\SOFTWARE\\[WOW6432Node\\]Microsoft\\Office\\<ver>\\
<app>\\InstallRoot`` for 16.0/15.0/14.0, and the ``App Paths`` entry of each Office executable
(both registry views), whose folder (``…\\Office16\\…``) tells the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from checks.facts.reading import json_object
from checks.facts.windows.powershell import as_list, ps_fact

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
    """The snippet's JSON object; raises ValueError when its shape is wrong."""
    data = json_object(data)
    c2r = data.get("c2r")
    paths = data.get("app_paths")
    return Office(
        c2r=dict(c2r) if isinstance(c2r, dict) else None,
        msi=tuple(str(m) for m in as_list(data.get("msi")) if m),
        app_paths={str(k): str(v) for k, v in (paths or {}).items() if v}
        if isinstance(paths, dict)
        else {},
    )


OFFICE_INSTALLED = ps_fact(
    "windows.office_installed", "checks.facts.windows", "office_installed.ps1", parse_office
)
