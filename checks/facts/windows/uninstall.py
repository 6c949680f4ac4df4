"""Installed applications from the Uninstall registry keys (fact ``windows.uninstall_inventory``,
``uninstall_inventory.ps1``; never ``Win32_Product``, which makes Windows Installer check and
repair every MSI package).

Read as ASD's assessment guide reads them: ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\
Uninstall\\*``, its 32-bit view under ``WOW6432Node`` and ``HKEY_USERS\\<SID>\\Software\\...\\
Uninstall\\*`` of every *loaded* user hive; per entry with a ``DisplayName``: ``DisplayVersion``,
``Publisher``, ``InstallDate`` and the hive. A Windows host always has entries, so none at all is
Unknown (the read was denied or empty), never "nothing installed".
"""

from __future__ import annotations

from typing import Any

from checks.facts.fact import Unknown
from checks.facts.software import App
from checks.facts.windows.powershell import as_list, ps_fact

NO_ENTRIES = "the Uninstall keys returned no entries (denied or empty read)"


def _text(item: dict[str, Any], key: str) -> str:
    return str(item.get(key) or "").strip()


def parse(data: Any) -> list[App] | Unknown:
    apps = [
        App(
            name=_text(item, "DisplayName"),
            version=_text(item, "DisplayVersion"),
            publisher=_text(item, "Publisher"),
            installed=_text(item, "InstallDate"),
            where=_text(item, "Hive"),
        )
        for item in as_list(data)
        if isinstance(item, dict) and _text(item, "DisplayName")
    ]
    return apps or Unknown(NO_ENTRIES)


UNINSTALL_INVENTORY = ps_fact(
    "windows.uninstall_inventory",
    "checks.facts.windows",
    "uninstall_inventory.ps1",
    parse,
    empty=lambda: Unknown(NO_ENTRIES),  # no entry piped to ConvertTo-Json: the same reason
)
