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
  account's session).

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
    )


LOGON_AUTHENTICATION = ps_fact(
    "windows.logon_authentication", "checks.facts.windows", "logon_authentication.ps1", parse
)
