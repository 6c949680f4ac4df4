"""Is a host's event log shipped off the host? Forwarder evidence for Windows and Linux.

Hosts can show that logs are configured and shipped, never that a SIEM keeps or analyses them
(essential-eight.md 2.9). Windows: a Windows Event Forwarding SubscriptionManager policy, or a
known log-shipping agent's service running. Linux: rsyslog / syslog-ng forwarding rules, the
auditd ``au-remote`` plugin, ``systemd-journal-upload``, or a known agent unit active.

The agent service / unit names below are data, maintained by hand (they are vendors' defaults,
not verified on every product version); a forwarder under another name shows up as "no
forwarder" and should be added here or recorded as an exception. Pure functions only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WINDOWS_AGENTS = {
    "SplunkForwarder": "Splunk Universal Forwarder",
    "AzureMonitorAgent": "Azure Monitor Agent",
    "HealthService": "Microsoft Monitoring Agent / SCOM",
    "elastic-agent": "Elastic Agent",
    "Elastic Agent": "Elastic Agent",
    "winlogbeat": "Winlogbeat",
    "nxlog": "NXLog",
    "WazuhSvc": "Wazuh agent",
    "OssecSvc": "OSSEC / Wazuh agent",
    "Sense": "Microsoft Defender for Endpoint",
    "fluent-bit": "Fluent Bit",
    "WinCollect": "IBM QRadar WinCollect",
    "ir_agent": "Rapid7 Insight Agent",
    "sumo-collector": "Sumo Logic collector",
    "datadogagent": "Datadog agent",
    "Snare": "Snare agent",
}

WEF_KEY = r"SOFTWARE\Policies\Microsoft\Windows\EventLog\EventForwarding\SubscriptionManager"

WINDOWS_FORWARDERS = (
    "$r = @{ wef = @(); agents = @() }\n"
    f"$k = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey('{WEF_KEY}')\n"
    "if ($k) { $r.wef = @($k.GetValueNames() | ForEach-Object { [string]$k.GetValue($_) }) }\n"
    "$names = @(" + ", ".join(f"'{n}'" for n in WINDOWS_AGENTS) + ")\n"
    "$r.agents = @(Get-WmiObject Win32_Service -ErrorAction SilentlyContinue | "
    "Where-Object { $names -contains $_.Name } | "
    "ForEach-Object { @{ name = [string]$_.Name; state = [string]$_.State } })\n"
    "New-Object PSObject -Property $r | ConvertTo-Json -Depth 4 -Compress"
)


def windows_forwarders(data: Any) -> tuple[list[str], list[str]]:
    """(forwarders found, agents installed but not running) from the WINDOWS_FORWARDERS JSON."""
    found: list[str] = []
    stopped: list[str] = []
    if not isinstance(data, dict):
        return found, stopped
    wef = data.get("wef")
    wef_list = wef if isinstance(wef, list) else ([wef] if wef else [])
    servers = [str(w) for w in wef_list if str(w).strip()]
    if servers:
        found.append(f"Windows Event Forwarding to {servers[0][:120]}")
    agents = data.get("agents")
    for a in agents if isinstance(agents, list) else ([agents] if agents else []):
        if not isinstance(a, dict):
            continue
        name = str(a.get("name", ""))
        label = WINDOWS_AGENTS.get(name, name)
        if str(a.get("state", "")).lower() == "running":
            found.append(f"{label} ({name}) running")
        else:
            stopped.append(f"{label} ({name}) {a.get('state', '')}".strip())
    return found, stopped


LINUX_AGENTS = {
    "splunk": "Splunk",
    "SplunkForwarder": "Splunk Universal Forwarder",
    "elastic-agent": "Elastic Agent",
    "filebeat": "Filebeat",
    "auditbeat": "Auditbeat",
    "wazuh-agent": "Wazuh agent",
    "fluent-bit": "Fluent Bit",
    "td-agent-bit": "Fluent Bit (td-agent-bit)",
    "fluentd": "Fluentd",
    "nxlog": "NXLog",
    "google-cloud-ops-agent": "Google Cloud Ops Agent",
    "amazon-cloudwatch-agent": "Amazon CloudWatch agent",
    "azuremonitoragent": "Azure Monitor Agent",
    "mdatp": "Microsoft Defender for Endpoint",
    "datadog-agent": "Datadog agent",
    "vector": "Vector",
}

LINUX_FORWARDERS = (
    "echo E8_RSYSLOG; grep -rhE '^[^#]*(@@?[A-Za-z0-9[]|omfwd|omrelp)' /etc/rsyslog.conf "
    "/etc/rsyslog.d 2>/dev/null; "
    "echo E8_SYSLOGNG; grep -rhE '^[^#]*(network|tcp|udp)[[:space:]]*\\(' /etc/syslog-ng "
    "2>/dev/null; "
    "echo E8_AUREMOTE; grep -hE '^[[:space:]]*active' /etc/audit/plugins.d/au-remote.conf "
    "/etc/audisp/plugins.d/au-remote.conf 2>/dev/null; "
    "echo E8_AUSYSLOG; grep -hE '^[[:space:]]*active' /etc/audit/plugins.d/syslog.conf "
    "/etc/audisp/plugins.d/syslog.conf 2>/dev/null; "
    "echo E8_UNITS; for s in systemd-journal-upload auditd rsyslog syslog-ng "
    + " ".join(LINUX_AGENTS)
    + '; do echo "$s $(systemctl is-active $s 2>/dev/null)"; done; true'
)


@dataclass
class LinuxForwarding:
    rsyslog: list[str] = field(default_factory=list)
    syslog_ng: list[str] = field(default_factory=list)
    au_remote: bool = False
    audit_syslog: bool = False
    units: dict[str, str] = field(default_factory=dict)

    def active(self, unit: str) -> bool:
        return self.units.get(unit) == "active"

    @property
    def syslog_forwarders(self) -> list[str]:
        """Forwarders that carry syslog (and journald) messages off the host."""
        out = []
        if self.rsyslog and self.active("rsyslog"):
            out.append(f"rsyslog forwarding ({self.rsyslog[0][:80]})")
        if self.syslog_ng and self.active("syslog-ng"):
            out.append(f"syslog-ng network destination ({self.syslog_ng[0][:80]})")
        if self.active("systemd-journal-upload"):
            out.append("systemd-journal-upload active")
        return out

    @property
    def agents(self) -> list[str]:
        return [f"{label} ({u}) active" for u, label in LINUX_AGENTS.items() if self.active(u)]

    @property
    def audit_forwarders(self) -> list[str]:
        """Forwarders that carry audit records off the host."""
        out = []
        if self.au_remote and self.active("auditd"):
            out.append("auditd au-remote plugin active")
        if self.audit_syslog and self.active("auditd"):
            out.extend(f"audit syslog plugin + {s}" for s in self.syslog_forwarders)
        return out


def parse_linux_forwarding(text: str) -> LinuxForwarding:
    fw = LinuxForwarding()
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line in ("E8_RSYSLOG", "E8_SYSLOGNG", "E8_AUREMOTE", "E8_AUSYSLOG", "E8_UNITS"):
            section = line
            continue
        if not line:
            continue
        if section == "E8_RSYSLOG":
            fw.rsyslog.append(line)
        elif section == "E8_SYSLOGNG":
            fw.syslog_ng.append(line)
        elif section in ("E8_AUREMOTE", "E8_AUSYSLOG"):
            key, _, value = line.partition("=")
            if key.strip() == "active" and value.strip().lower() == "yes":
                if section == "E8_AUREMOTE":
                    fw.au_remote = True
                else:
                    fw.audit_syslog = True
        elif section == "E8_UNITS":
            unit, _, state = line.partition(" ")
            fw.units[unit] = state.strip() or "unknown"
    return fw
