"""How a Windows host authenticates logons (fact ``windows.logon_authentication``,
``logon_authentication.ps1``; registry through .NET, so a missing key reads as "not set").

- Windows Hello for Business policy ``HKLM\\SOFTWARE\\Policies\\Microsoft\\PassportForWork``
  ``Enabled`` and ``RequireSecurityDevice``;
- ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System`` ``ScForceOption``;
- every credential provider and credential provider filter under ``HKLM\\SOFTWARE\\Microsoft\\
  Windows\\CurrentVersion\\Authentication\\Credential Providers`` / ``…\\Credential Provider
  Filters``, with the CLSID's default name, ``InprocServer32`` DLL and the provider's ``Disabled``;
- RDP: ``fDenyTSConnections`` and RDP-Tcp ``UserAuthentication`` (NLA);
- ``dsregcmd /status``: ``AzureAdJoined``, ``DomainJoined``, ``NgcSet`` (of the scanning
  account's session);
- ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\System`` ``ExcludedCredentialProviders`` (the
  policy "Exclude credential providers": CLSIDs, comma-separated);
- Duo for Windows Logon, ``HKLM\\SOFTWARE\\Duo Security\\DuoCredProv``: ``FailOpen`` and
  ``RdpOnly`` only (never the key's secrets); ``duo`` is None when the key does not exist.

Registry values are integers, None when not set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import as_list, ps_fact

DSREG_KEYS = ("AzureAdJoined", "DomainJoined", "NgcSet")


@dataclass(frozen=True)
class CredentialProvider:
    """``kind``: "Credential Providers" or "Credential Provider Filters"."""

    kind: str
    clsid: str
    name: str
    dll: str
    disabled: int | None


@dataclass(frozen=True)
class LogonAuthentication:
    sc_force_option: int | None
    whfb_enabled: int | None
    whfb_require_security_device: int | None
    deny_ts_connections: int | None
    rdp_user_authentication: int | None
    providers: tuple[CredentialProvider, ...]
    dsreg: dict[str, str]
    excluded: frozenset[str]  # CLSIDs (upper case, in braces) excluded by policy
    duo: dict[str, int | None] | None  # FailOpen / RdpOnly; None: no DuoCredProv key


def _clsids(value: Any) -> frozenset[str]:
    """``ExcludedCredentialProviders``: CLSIDs separated by commas (or semicolons)."""
    text = str(value or "")
    return frozenset(
        "{" + c.strip().strip("{}").upper() + "}"
        for c in text.replace(";", ",").split(",")
        if c.strip().strip("{}")
    )


def _value(data: Mapping[str, Any], section: str, name: str) -> int | None:
    sec = data.get(section)
    return to_int(sec.get(name)) if isinstance(sec, dict) else None


def _dsreg(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.replace("\r", "").splitlines():
        key, sep, value = line.strip().partition(" : ")
        if sep and key in DSREG_KEYS:
            out[key] = value.strip()
    return out


def parse(data: Any) -> LogonAuthentication | Unknown:
    data = json_object(data)
    providers = tuple(
        CredentialProvider(
            kind=str(p.get("kind") or ""),
            clsid=str(p.get("clsid") or ""),
            name=str(p.get("name") or ""),
            dll=str(p.get("dll") or ""),
            disabled=to_int(p.get("disabled")),
        )
        for p in as_list(data.get("providers"))
        if isinstance(p, dict)
    )
    return LogonAuthentication(
        sc_force_option=_value(data, "system", "ScForceOption"),
        whfb_enabled=_value(data, "whfb", "Enabled"),
        whfb_require_security_device=_value(data, "whfb", "RequireSecurityDevice"),
        deny_ts_connections=_value(data, "ts", "fDenyTSConnections"),
        rdp_user_authentication=_value(data, "rdp", "UserAuthentication"),
        providers=providers,
        dsreg=_dsreg(str(data.get("dsreg") or "")),
        excluded=_clsids(_section(data, "excluded").get("ExcludedCredentialProviders")),
        duo=(
            {k: to_int(data["duo"].get(k)) for k in ("FailOpen", "RdpOnly")}
            if isinstance(data.get("duo"), dict)
            else None
        ),
    )


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    sec = data.get(name)
    return sec if isinstance(sec, dict) else {}


LOGON_AUTHENTICATION = ps_fact(
    "windows.logon_authentication", "checks.facts.windows", "logon_authentication.ps1", parse
)
