"""Windows: is .NET Framework 3.5 (which includes .NET 2.0 and 3.0) disabled or removed?

**Collected (one read-only PowerShell snippet):** ``Get-WindowsOptionalFeature -Online
-FeatureName NetFx3`` (``State``); on servers also ``Get-WindowsFeature NET-Framework-Core``
(``InstallState``); ``Win32_OperatingSystem.ProductType`` (1 workstation, 2 DC, 3 server); and, as a
fallback, ``HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v3.5`` ``Install`` / ``Version``.

**ISM-1655** (ML3):
- effective: NetFx3 is ``Disabled`` / ``DisabledWithPayloadRemoved`` (or unknown to the image) and,
  on servers, ``NET-Framework-Core`` is ``Available`` / ``Removed``; when the feature cmdlets cannot
  be used (Windows 7 / 2008 R2 era, DISM error) the absence of the v3.5 setup key is accepted, and
  the evidence says the feature state itself was not read;
- ineffective: the feature is ``Enabled`` (or pending enable) / ``Installed``, or — when the feature
  state cannot be read — the v3.5 setup key has ``Install = 1``;
- no_visibility: the snippet could not run or report (PowerShell 2.0 without ``ConvertTo-Json``,
  access denied, timeout), or the feature state is unreadable and the registry key is present
  without ``Install = 1``.

ASD notes that enabling .NET 3.5 also enables PowerShell 2.0 (see ``windows_powershell``).
Evidence grade: good (the feature store read through DISM).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks._windows_accounts import read_json
from checks._windows_features import snippet, verdict
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

OPTIONAL = ("NetFx3",)
SERVER = ("NET-Framework-Core",)
REG = (
    "$k = $lm.OpenSubKey('SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v3.5')\n"
    "if ($k) { $r.reg = @{ present = $true; Install = $k.GetValue('Install'); Version = $k.GetValue('Version') } }"
    " else { $r.reg = @{ present = $false } }\n"
)
FEATURES = snippet(OPTIONAL, SERVER, REG)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    data, why = read_json(outputs.get("features"))
    if why is not None or not isinstance(data, dict):
        return [
            Finding(
                ism="ISM-1655",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f".NET Framework 3.5 state not read: {why or 'unexpected output shape'}",
            )
        ]
    on, text = verdict(data, OPTIONAL, SERVER)
    reg: Any = data.get("reg") if isinstance(data.get("reg"), dict) else {}
    observed = {
        "product_type": data.get("product_type"),
        "optional": data.get("optional"),
        "server": data.get("server"),
        "registry_v3_5": reg,
    }
    if on is True:
        return [
            Finding(
                ism="ISM-1655",
                outcome=Outcome.INEFFECTIVE,
                evidence=f".NET Framework 3.5 is enabled: {text}",
                observed=observed,
            )
        ]
    if on is False:
        return [
            Finding(
                ism="ISM-1655",
                outcome=Outcome.EFFECTIVE,
                evidence=f".NET Framework 3.5 is disabled or removed: {text}",
                observed=observed,
            )
        ]
    install = str(reg.get("Install")).strip()
    if reg.get("present") is True and install == "1":
        return [
            Finding(
                ism="ISM-1655",
                outcome=Outcome.INEFFECTIVE,
                evidence=(
                    f"{text}; the registry shows .NET Framework 3.5 installed "
                    f"(NDP\\v3.5 Install = 1, Version {reg.get('Version')})"
                ),
                observed=observed,
            )
        ]
    if reg.get("present") is False:
        return [
            Finding(
                ism="ISM-1655",
                outcome=Outcome.EFFECTIVE,
                evidence=(
                    f"{text}; the .NET Framework 3.5 setup key (NDP\\v3.5) is absent, so 3.5 is not "
                    f"installed (registry fallback: the feature state itself was not read)"
                ),
                observed=observed,
            )
        ]
    return [
        Finding(
            ism="ISM-1655",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"{text}; the registry fallback is inconclusive ({reg or 'not read'})",
            observed=observed,
        )
    ]


CHECK = Check(
    id="user_app_hardening.windows_dotnet35",
    title=".NET Framework 3.5 (includes .NET 2.0 and 3.0) is disabled or removed",
    strategy=Strategy.USER_APP_HARDENING,
    ism=("ISM-1655",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"features": Cmd(line=FEATURES)},
    judge=judge,
    version=1,
)
