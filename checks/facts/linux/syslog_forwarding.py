"""What could ship this host's logs away: remote actions in rsyslog and syslog-ng configuration,
the running process names and the state of the logging and log-agent units.

Read without root: the non-comment lines of ``/etc/rsyslog.conf``, ``/etc/rsyslog.d/*.conf`` and
the syslog-ng configuration, ``ps -eo comm=`` (names cut to 15 characters) and ``systemctl
is-active`` of systemd-journal-upload, auditd, rsyslog, syslog-ng and the agent units of
:data:`AGENT_UNITS` (the command's unit loop lists exactly :data:`LOGGING_UNITS` and those; a test
keeps them equal).

The known log agents are data, kept here beside the command like ``WINDOWS_AGENTS`` in the
Windows fact: :data:`AGENT_PROCESSES` (``ps`` name → product) and :data:`AGENT_UNITS` (systemd
unit → product; the vendors' default unit names, not verified on every product version), and
which of them also ship auditd records (:data:`AUDIT_AGENTS`). A product missing here reads as
"no forwarder": add it (and to the unit loop, for a unit). Which of them counts as forwarding is
judged in ``checks/_logging.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.sections import sections
from checks.facts.linux.shell import sh_fact

# rsyslog: legacy ``@host`` / ``@@host`` targets and the network output modules (a line that only
# loads a module, ``module(load=…)`` or ``$ModLoad``, forwards nothing).
_FORWARD_LINE = re.compile(r"(^|\s)@@?[\[\w.:-]|omfwd|omrelp|omelasticsearch|omkafka")
_MODULE_LOAD = re.compile(r"^\s*(module\s*\(|\$modload\b)", re.IGNORECASE)
# syslog-ng: a network driver inside a destination block (named or inline); network() in a
# source block receives, it does not forward.
_SYSLOGNG_DEST = re.compile(r"\bdestination\s*[\w-]*\s*\{(.*?)\}\s*;", re.DOTALL)
_SYSLOGNG_NET = re.compile(r"\b(network|syslog|tcp|udp|tcp6|udp6)\s*\(")


# Log agents by process name as ``ps -o comm`` prints it (first 15 characters) → product.
AGENT_PROCESSES: dict[str, str] = {
    "splunkd": "Splunk forwarder (splunkd)",
    "elastic-agent": "Elastic Agent",
    "filebeat": "Elastic Filebeat",
    "auditbeat": "Elastic Auditbeat",
    "fluent-bit": "Fluent Bit",
    "td-agent-bit": "Fluent Bit (td-agent-bit)",
    "wazuh-agentd": "Wazuh agent",
    "wazuh-logcollec": "Wazuh log collector",
    "ossec-agentd": "OSSEC agent",
    "ossec-logcollec": "OSSEC log collector",
    "nxlog": "NXLog",
    "amazon-cloudwat": "Amazon CloudWatch Agent",
    "otelcol-contrib": "OpenTelemetry Collector",
    "vector": "Vector",
}
# Log agents by systemd unit → product (a unit that is ``active`` runs the agent).
AGENT_UNITS: dict[str, str] = {
    "splunk": "Splunk forwarder (splunkd)",
    "SplunkForwarder": "Splunk Universal Forwarder",
    "elastic-agent": "Elastic Agent",
    "filebeat": "Elastic Filebeat",
    "auditbeat": "Elastic Auditbeat",
    "wazuh-agent": "Wazuh agent",
    "fluent-bit": "Fluent Bit",
    "td-agent-bit": "Fluent Bit (td-agent-bit)",
    "fluentd": "Fluentd",
    "nxlog": "NXLog",
    "google-cloud-ops-agent": "Google Cloud Ops Agent",
    "amazon-cloudwatch-agent": "Amazon CloudWatch Agent",
    "azuremonitoragent": "Azure Monitor Agent",
    "mdatp": "Microsoft Defender for Endpoint",
    "datadog-agent": "Datadog Agent",
    "vector": "Vector",
}
# Agents (process or unit names) that also ship the Linux audit log, not only syslog/journal.
AUDIT_AGENTS = frozenset(
    {
        "splunkd",
        "elastic-agent",
        "auditbeat",
        "wazuh-agentd",
        "ossec-agentd",
        "filebeat",
        "splunk",
        "SplunkForwarder",
        "wazuh-agent",
    }
)
# The logging units whose state the judges read besides the agents'.
LOGGING_UNITS = ("systemd-journal-upload", "auditd", "rsyslog", "syslog-ng")


@dataclass(frozen=True)
class RemoteRule:
    """A configuration file with a remote destination: ``daemon`` rsyslog or syslog-ng; ``rule``
    the first forwarding line (rsyslog; empty for syslog-ng, whose statements span lines)."""

    daemon: str
    path: str
    rule: str


@dataclass(frozen=True)
class SyslogForwarding:
    remote_rules: tuple[RemoteRule, ...]
    rsyslog_reads_audit: bool  # an rsyslog file names /var/log/audit (imfile on the audit log)
    processes: frozenset[str]
    units: dict[str, str]  # unit → ``systemctl is-active`` ("unknown" when it printed nothing)


def parse(text: str) -> SyslogForwarding | Unknown:
    sec = sections(text)
    if "processes" not in sec or "units" not in sec:
        return Unknown("the output lacks its ### processes / ### units sections")
    units: dict[str, str] = {}
    for line in sec["units"]:
        name, _, state = line.strip().partition(" ")
        if name:
            units[name] = state.strip() or "unknown"
    rules: list[RemoteRule] = []
    reads_audit = False
    for path, lines in sec.items():
        body = "\n".join(lines)
        if "rsyslog" in path:
            reads_audit = reads_audit or "/var/log/audit" in body
            found = next(
                (ln for ln in lines if _FORWARD_LINE.search(ln) and not _MODULE_LOAD.match(ln)),
                None,
            )
            if found is not None:
                rules.append(RemoteRule("rsyslog", path, found.strip()))
        elif "syslog-ng" in path and any(
            _SYSLOGNG_NET.search(m.group(1)) for m in _SYSLOGNG_DEST.finditer(body)
        ):
            rules.append(RemoteRule("syslog-ng", path, ""))
    return SyslogForwarding(
        remote_rules=tuple(rules),
        rsyslog_reads_audit=reads_audit,
        processes=frozenset(p.strip() for p in sec["processes"] if p.strip()),
        units=units,
    )


SYSLOG_FORWARDING = sh_fact(
    "linux.syslog_forwarding",
    "for f in /etc/rsyslog.conf /etc/rsyslog.d/*.conf /etc/syslog-ng/syslog-ng.conf "
    '/etc/syslog-ng/conf.d/*.conf; do [ -f "$f" ] && { echo "### $f"; '
    "grep -Ev '^[[:space:]]*(#|$)' \"$f\"; }; done; "
    'echo "### processes"; ps -eo comm= | sort -u; '
    'echo "### units"; for u in systemd-journal-upload auditd rsyslog syslog-ng splunk '
    "SplunkForwarder elastic-agent filebeat auditbeat wazuh-agent fluent-bit td-agent-bit "
    "fluentd nxlog google-cloud-ops-agent amazon-cloudwatch-agent azuremonitoragent mdatp "
    "datadog-agent vector; do "
    'echo "$u $(systemctl is-active "$u" 2>/dev/null)"; done; true',
    parse,
)
