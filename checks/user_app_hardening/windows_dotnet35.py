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

from checks.facts.fact import Unknown
from checks.facts.windows.features import NETFX3_FEATURES, NETFX3_OPTIONAL, NETFX3_SERVER
from checks.user_app_hardening._features import verdict
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    data = NETFX3_FEATURES.read(outputs.get("features"))
    if isinstance(data, Unknown):
        return [
            Finding(
                ism="ISM-1655",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f".NET Framework 3.5 state not read: {data.reason}",
            )
        ]
    on, text = verdict(data, NETFX3_OPTIONAL, NETFX3_SERVER)
    reg = data.reg
    observed = {
        "product_type": data.product_type,
        "optional": data.optional,
        "server": data.server,
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
    collect={"features": NETFX3_FEATURES.cmd},
    judge=judge,
    version=1,
)
