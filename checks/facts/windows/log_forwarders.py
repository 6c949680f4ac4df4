"""What ships this host's event logs away, as the host shows it: the Windows Event Forwarding
client policy (``SubscriptionManager`` values), known log-agent services and their state, and
``SCENoApplyLegacyAuditPolicy`` (reported beside the audit policy).

The agents asked for are :data:`WINDOWS_AGENTS` (``Win32_Service.Name`` → product); the
``$names`` line of ``log_forwarders.ps1`` lists the same names (a test keeps them equal). Names
marked "unverified" were not confirmed on a real install; a product missing here reads as "no
forwarder" — add it to both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import as_list, ps_fact

WINDOWS_AGENTS: dict[str, str] = {
    "SplunkForwarder": "Splunk Universal Forwarder",
    "Splunkd": "Splunk Enterprise (splunkd)",
    "AzureMonitorAgent": "Azure Monitor Agent",
    "HealthService": "Microsoft Monitoring Agent / SCOM (HealthService)",
    "Elastic Agent": "Elastic Agent",
    "winlogbeat": "Elastic Winlogbeat",
    "nxlog": "NXLog",
    "WazuhSvc": "Wazuh agent",
    "OssecSvc": "OSSEC agent",
    "Sense": "Microsoft Defender for Endpoint (Sense)",
    "fluent-bit": "Fluent Bit (unverified service name)",
    "AmazonCloudWatchAgent": "Amazon CloudWatch Agent",
    "datadogagent": "Datadog Agent (unverified service name)",
    "Snare": "Snare agent (unverified service name)",
    "elastic-agent": "Elastic Agent (unverified service name)",
    "WinCollect": "IBM QRadar WinCollect",
    "ir_agent": "Rapid7 Insight Agent",
    "sumo-collector": "Sumo Logic installed collector (unverified service name)",
}


@dataclass(frozen=True)
class AgentService:
    """A known log-agent service: its service name, product, state and start mode as WMI says."""

    name: str
    product: str
    state: str
    start: str


@dataclass(frozen=True)
class WindowsForwarders:
    """``wef``: the SubscriptionManager values (non-blank); ``services``: known agents installed."""

    wef: tuple[str, ...]
    services: tuple[AgentService, ...]
    sce_no_apply_legacy: int | None


def parse(data: Any) -> WindowsForwarders | Unknown:
    data = json_object(data)
    services = []
    for svc in as_list(data.get("services")):
        if isinstance(svc, dict):
            name = str(svc.get("name") or "")
            services.append(
                AgentService(
                    name=name,
                    product=WINDOWS_AGENTS.get(name, name),
                    state=str(svc.get("state") or ""),
                    start=str(svc.get("start") or ""),
                )
            )
    return WindowsForwarders(
        wef=tuple(str(v) for v in as_list(data.get("wef")) if v is not None and str(v).strip()),
        services=tuple(services),
        sce_no_apply_legacy=to_int(data.get("sce_no_apply_legacy")),
    )


LOG_FORWARDERS = ps_fact(
    "windows.log_forwarders", "checks.facts.windows", "log_forwarders.ps1", parse
)
