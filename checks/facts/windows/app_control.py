"""Application control state as the host shows it, and the event logs that record its decisions.

- ``app_control.ps1`` (fact ``windows.app_control``): App Control for Business (WDAC) state from
  ``Win32_DeviceGuard`` (user-mode and kernel-mode code integrity: 0 off, 1 audit, 2 enforced;
  ``SecurityServicesRunning``), the ``CiPolicies\\Active\\*.cip`` files, whether ``SiPolicy.p7b``
  exists, ``CiTool --list-policies`` where CiTool exists, AppLocker's effective policy XML, the
  Application Identity service, ``VulnerableDriverBlocklistEnable`` and the OS build / product
  type. The AppLocker XML is kept as text: its rules are read by ``checks/application_control/_rules.py``.
- ``app_control_logs.ps1`` (fact ``windows.app_control_logs``): ``Get-WinEvent -ListLog`` of the
  two AppLocker logs and ``CodeIntegrity/Operational`` (or the error each listing raised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import as_list, ps_fact

EXE_LOG = "Microsoft-Windows-AppLocker/EXE and DLL"
MSI_LOG = "Microsoft-Windows-AppLocker/MSI and Script"
CI_LOG = "Microsoft-Windows-CodeIntegrity/Operational"


@dataclass(frozen=True)
class Wdac:
    """``um`` / ``km``: user- and kernel-mode code integrity (0 off, 1 audit, 2 enforced; None
    when not reported); ``running``: ``SecurityServicesRunning``; ``policies``: the active
    ``.cip`` files (name, modified); ``error``: why ``Win32_DeviceGuard`` was not read; ``citool``:
    CiTool's policy blocks (None when CiTool is absent or listed none)."""

    um: int | None
    km: int | None
    running: tuple[int, ...]
    policies: tuple[dict[str, str], ...]
    sipolicy: bool
    error: str | None
    citool: tuple[dict[str, Any], ...] | None


@dataclass(frozen=True)
class AppControl:
    """``applocker``: the effective policy XML ("" when none was printed); ``applocker_error``:
    why ``Get-AppLockerPolicy`` failed; ``appidsvc``: the AppIDSvc state (None when the service
    does not exist); ``vdb``: ``VulnerableDriverBlocklistEnable`` (None when unset)."""

    wdac: Wdac
    applocker: str
    applocker_error: str | None
    appidsvc: str | None
    appidsvc_start: str | None
    vdb: int | None
    product_type: int | None
    build: int | None
    caption: str


def citool_policies(text: Any) -> tuple[dict[str, Any], ...] | None:
    """``CiTool --list-policies`` (Windows 11 22H2+ / Server 2025): one block of ``Key: value``
    lines per policy, each starting with ``Policy ID:``. Keys are kept with spaces removed
    (``FriendlyName``, ``IsCurrentlyEnforced`` …); ``true``/``false`` become booleans. None when
    CiTool is absent or printed no policy block."""
    if not isinstance(text, str) or "Policy ID" not in text:
        return None
    policies: list[dict[str, Any]] = []
    for raw in text.splitlines():
        key, sep, value = raw.strip().partition(":")
        if not sep:
            continue
        k = key.strip().replace(" ", "")
        v: Any = value.strip()
        if str(v).lower() in ("true", "false"):
            v = str(v).lower() == "true"
        if k == "PolicyID":
            policies.append({})
        if policies:
            policies[-1][k] = v
    return tuple(policies) or None


def _wdac(data: dict[str, Any]) -> Wdac:
    dg = data.get("deviceguard")
    dg = dg if isinstance(dg, dict) else {}
    error = data.get("deviceguard_error")
    return Wdac(
        um=to_int(dg.get("um")),
        km=to_int(dg.get("km")),
        running=tuple(v for v in map(to_int, as_list(dg.get("running"))) if v is not None),
        policies=tuple(
            {"name": str(c.get("name", "")), "modified": str(c.get("modified", ""))}
            for c in as_list(data.get("cip"))
            if isinstance(c, dict)
        ),
        sipolicy=data.get("sipolicy") is True,
        error=str(error) if error and not dg else None,
        citool=citool_policies(data.get("citool")),
    )


def parse(data: Any) -> AppControl | Unknown:
    data = json_object(data)
    svc = data.get("appidsvc")
    svc = svc if isinstance(svc, dict) else None
    error = data.get("applocker_error")
    return AppControl(
        wdac=_wdac(data),
        applocker=str(data.get("applocker") or ""),
        applocker_error=str(error) if error else None,
        appidsvc=str(svc.get("state", "")) if svc else None,
        appidsvc_start=str(svc.get("start", "")) if svc else None,
        vdb=to_int(data.get("vdb")),
        product_type=to_int(data.get("product_type")),
        build=to_int(data.get("build")),
        caption=str(data.get("caption") or ""),
    )


APP_CONTROL = ps_fact("windows.app_control", "checks.facts.windows", "app_control.ps1", parse)


@dataclass(frozen=True)
class EventLog:
    """One ``Get-WinEvent -ListLog`` result, or the error listing it raised."""

    enabled: bool | None
    records: int | None
    max_size: int | None
    error: str | None


def parse_logs(data: Any) -> dict[str, EventLog] | Unknown:
    logs: dict[str, EventLog] = {}
    for item in as_list(data):
        if not isinstance(item, dict) or not item.get("name"):
            return Unknown("unexpected output shape (expected a list of event logs)")
        enabled = item.get("enabled")
        logs[str(item["name"])] = EventLog(
            enabled=enabled if isinstance(enabled, bool) else None,
            records=to_int(item.get("records")),
            max_size=to_int(item.get("max")),
            error=str(item["error"]) if item.get("error") else None,
        )
    return logs


APP_CONTROL_LOGS = ps_fact(
    "windows.app_control_logs", "checks.facts.windows", "app_control_logs.ps1", parse_logs
)
