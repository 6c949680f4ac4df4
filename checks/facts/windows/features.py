"""Windows optional features and server roles: is a legacy component enabled?

Each fact's ``.ps1`` names its features (``$optional``: ``Get-WindowsOptionalFeature -Online
-FeatureName <n>``; ``$server``: ``Get-WindowsFeature <n>`` on servers, ``InstallState``) and reads
a few registry values through .NET into ``$reg`` (no error when missing); the shared
``optional_features.ps1`` reads them with errors captured per part, so the judge can fall back. A
name the image does not know — e.g. the client PowerShell 2.0 feature on Server SKUs, corpus
``windows/disable-windowsoptionalfeature_psv2root_unknown_ws2019.txt`` — is recorded as
``Unknown``.

- ``windows.ie11_features``: Internet Explorer 11 (``NotifyDisableIEOptions`` policy, whether
  ``iexplore.exe`` exists);
- ``windows.netfx3_features``: .NET Framework 3.5 (``NDP\\v3.5`` ``Install``/``Version``);
- ``windows.powershell_v2_features``: Windows PowerShell 2.0 (``PowerShellEngine``
  ``PowerShellVersion``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import ps_fact

_PACKAGE = "checks.facts.windows"
IE11_OPTIONAL = ("Internet-Explorer-Optional-amd64", "Internet-Explorer-Optional-x86")
NETFX3_OPTIONAL, NETFX3_SERVER = ("NetFx3",), ("NET-Framework-Core",)
PSV2_OPTIONAL = ("MicrosoftWindowsPowerShellV2Root", "MicrosoftWindowsPowerShellV2")
PSV2_SERVER = ("PowerShell-V2",)


@dataclass(frozen=True)
class Features:
    """Feature name → state as read (``optional``/``server``), the error of a failed part, the
    OS product type (1 workstation, 2 DC, 3 server) and build, and the registry values."""

    product_type: int | None
    build: str | None
    optional: dict[str, str]
    optional_error: str | None
    server: dict[str, str]
    server_error: str | None
    reg: dict[str, Any]


def _states(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def parse(data: Any) -> Features:
    data = json_object(data)
    reg = data.get("reg")
    return Features(
        product_type=to_int(data.get("product_type")),
        build=str(data["build"]) if data.get("build") else None,
        optional=_states(data.get("optional")),
        optional_error=str(data["optional_error"]) if data.get("optional_error") else None,
        server=_states(data.get("server")),
        server_error=str(data["server_error"]) if data.get("server_error") else None,
        reg=reg if isinstance(reg, dict) else {},
    )


IE11_FEATURES = ps_fact(
    "windows.ie11_features", _PACKAGE, ("ie11_features.ps1", "optional_features.ps1"), parse
)
NETFX3_FEATURES = ps_fact(
    "windows.netfx3_features", _PACKAGE, ("netfx3_features.ps1", "optional_features.ps1"), parse
)
POWERSHELL_V2_FEATURES = ps_fact(
    "windows.powershell_v2_features",
    _PACKAGE,
    ("powershell_v2_features.ps1", "optional_features.ps1"),
    parse,
)
