"""Web browsers on a Windows host, their machine policies and the Java deployment files (fact
``windows.browsers``: ``browsers.ps1``, ``installed_apps.ps1``, ``browser_policies.ps1``).

Registry through .NET, never ``Win32_Product``: the ``App Paths`` entries of ``chrome.exe``,
``msedge.exe`` and ``firefox.exe`` whose file exists (both registry views), ``Uninstall`` display
names and versions of Google Chrome, Microsoft Edge, Mozilla Firefox and Java; every value and
subkey (three levels) under ``HKLM\\SOFTWARE\\Policies\\{Google\\Chrome, Microsoft\\Edge,
Mozilla\\Firefox}``; the text of ``Mozilla Firefox\\distribution\\policies.json`` under both
Program Files folders; and ``%windir%\\Sun\\Java\\Deployment\\deployment.{config,properties}``.

``installed_apps.ps1`` is the App Paths and Uninstall lookup this fact shares with
``windows.pdf_software``: it reads ``$lm`` (HKLM), ``$exes`` (App Paths executables) and
``$pattern`` (a DisplayName regex), and fills ``$r.apps`` and ``$versions`` (here ``$r.versions``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.reading import as_dict, json_object
from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class WindowsBrowsers:
    apps: dict[str, str]  # executable → path (App Paths, file exists)
    versions: dict[str, str]  # Uninstall DisplayName → DisplayVersion ("" when none)
    policies: dict[str, dict[str, Any]]  # Google\Chrome … → values and subkeys ({} when no key)
    firefox_json: dict[str, str]  # policies.json path → its text
    java: dict[str, str]  # deployment.config / deployment.properties → its text


def parse(data: Any) -> WindowsBrowsers:
    data = json_object(data)
    return WindowsBrowsers(
        apps={str(k): str(v) for k, v in as_dict(data.get("apps")).items() if v},
        versions={str(k): str(v or "") for k, v in as_dict(data.get("versions")).items()},
        policies={str(k): as_dict(v) for k, v in as_dict(data.get("policies")).items()},
        firefox_json={str(k): str(v) for k, v in as_dict(data.get("firefox_json")).items()},
        java={str(k): str(v or "") for k, v in as_dict(data.get("java")).items()},
    )


BROWSERS = ps_fact(
    "windows.browsers",
    "checks.facts.windows",
    ("browsers.ps1", "installed_apps.ps1", "browser_policies.ps1"),
    parse,
)
