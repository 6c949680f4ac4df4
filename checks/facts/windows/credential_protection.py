"""What a Windows host configures for LSA protection, Credential Guard, memory integrity and
Remote Credential Guard, and what Device Guard reports running.

- ``credential_protection.ps1`` (fact ``windows.credential_protection``): through .NET,
  ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa`` (``lsa``), the Device Guard policy
  (``dg_policy``) and local keys (``dg``, ``hvci``), the ``CredentialsDelegation`` policy
  (``delegation``), each as the values present of a fixed list of names;
  ``Win32_OperatingSystem`` ProductType, build and last boot; the newest Wininit event 12 in the
  System log ("LSASS.exe was started as a protected process"), UTC times formatted on the host.
- ``device_guard.ps1`` (fact ``windows.device_guard``): ``Win32_DeviceGuard`` (namespace
  ``root\\Microsoft\\Windows\\DeviceGuard``) through ``Get-WmiObject``. A host whose OS has no
  such class ("Invalid namespace/class": Windows 7/8.1, Server 2012 R2 and older) is a value
  (:attr:`DeviceGuard.unsupported`), not an unreadable output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Fact, Unknown
from checks.facts.reading import denial, first_line, json_object, to_int
from checks.facts.windows.powershell import as_list, missing_cmdlet, ps_fact, read_json, script
from scanner.checking.api import Cmd, Output
from scanner.model.vocabulary import Platform

SECTIONS = ("lsa", "dg_policy", "dg", "hvci", "delegation")
_UNSUPPORTED = ("invalid namespace", "invalid class")


@dataclass(frozen=True)
class CredentialSettings:
    sections: dict[str, dict[str, Any]]  # SECTIONS -> registry values present
    product_type: int | None
    build: int | None
    boot: str | None  # last boot, UTC ISO text
    ppl_event: str | None  # newest Wininit event 12, UTC ISO text; None when there is none

    def section(self, name: str) -> dict[str, Any]:
        return self.sections.get(name, {})


def parse_settings(data: Any) -> CredentialSettings | Unknown:
    data = json_object(data)
    sections = {n: dict(v) for n in SECTIONS if isinstance(v := data.get(n), dict)}
    return CredentialSettings(
        sections=sections,
        product_type=to_int(data.get("product_type")),
        build=to_int(data.get("build")),
        boot=str(data["boot"]) if data.get("boot") else None,
        ppl_event=str(data["ppl_event"]) if data.get("ppl_event") else None,
    )


CREDENTIAL_PROTECTION = ps_fact(
    "windows.credential_protection",
    "checks.facts.windows",
    "credential_protection.ps1",
    parse_settings,
)


@dataclass(frozen=True)
class DeviceGuard:
    unsupported: str | None  # why this Windows cannot run VBS services at all, else None
    vbs_status: int | None = (
        None  # VirtualizationBasedSecurityStatus: 0 off, 1 not running, 2 running
    )
    running: tuple[int | None, ...] = ()  # SecurityServicesRunning: 1 Credential Guard, 2 HVCI
    configured: tuple[int | None, ...] = ()  # SecurityServicesConfigured
    available: tuple[int | None, ...] = ()  # AvailableSecurityProperties: 1 = VBS hardware support


def parse_device_guard(out: Output) -> DeviceGuard | Unknown:
    """The first Win32_DeviceGuard instance; "no such class" and "no instance" are unsupported."""
    err = out.err
    refused = out.timed_out or denial(err) is not None or missing_cmdlet(err) is not None
    if not out.ok and not refused and any(s in err.lower() for s in _UNSUPPORTED):
        line = first_line(err) or f"exit code {out.exit_code}"
        return DeviceGuard(unsupported=f"this Windows has no Device Guard WMI class ({line})")
    data = read_json(out)
    if isinstance(data, Unknown):
        return data
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict):
        return DeviceGuard(unsupported="Win32_DeviceGuard returned no instance")
    return DeviceGuard(
        unsupported=None,
        vbs_status=to_int(data.get("VirtualizationBasedSecurityStatus")),
        running=tuple(to_int(x) for x in as_list(data.get("SecurityServicesRunning"))),
        configured=tuple(to_int(x) for x in as_list(data.get("SecurityServicesConfigured"))),
        available=tuple(to_int(x) for x in as_list(data.get("AvailableSecurityProperties"))),
    )


DEVICE_GUARD = Fact(
    name="windows.device_guard",
    platform=Platform.WINDOWS,
    cmd=Cmd(line=script("checks.facts.windows", "device_guard.ps1")),
    parse=parse_device_guard,
)
