"""Web browsers on a Windows host, their machine policies and the Java deployment files (fact
``windows.browsers``, ``browsers.ps1``).

Registry through .NET, never ``Win32_Product``: the ``App Paths`` entries of ``chrome.exe``,
``msedge.exe`` and ``firefox.exe`` whose file exists (both registry views), ``Uninstall`` display
names and versions of Google Chrome, Microsoft Edge, Mozilla Firefox and Java; every value and
subkey (three levels) under ``HKLM\\SOFTWARE\\Policies\\{Google\\Chrome, Microsoft\\Edge,
Mozilla\\Firefox}``; the text of ``Mozilla Firefox\\distribution\\policies.json`` under both
Program Files folders; and ``%windir%\\Sun\\Java\\Deployment\\deployment.{config,properties}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class WindowsBrowsers:
    apps: dict[str, str]  # executable → path (App Paths, file exists)
    versions: dict[str, str]  # Uninstall DisplayName → DisplayVersion ("" when none)
    policies: dict[str, dict[str, Any]]  # Google\Chrome … → values and subkeys ({} when no key)
    firefox_json: dict[str, str]  # policies.json path → its text
    java: dict[str, str]  # deployment.config / deployment.properties → its text


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse(data: Any) -> WindowsBrowsers:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return WindowsBrowsers(
        apps={str(k): str(v) for k, v in _obj(data.get("apps")).items() if v},
        versions={str(k): str(v or "") for k, v in _obj(data.get("versions")).items()},
        policies={str(k): _obj(v) for k, v in _obj(data.get("policies")).items()},
        firefox_json={str(k): str(v) for k, v in _obj(data.get("firefox_json")).items()},
        java={str(k): str(v or "") for k, v in _obj(data.get("java")).items()},
    )


BROWSERS = ps_fact("windows.browsers", "checks.facts.windows", "browsers.ps1", parse)
