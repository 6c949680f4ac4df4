"""Judging central logging from what the host shows: forwarders, audit policy, audit shipping.

Shared by the ISM-1815 checks of four strategies (``checks/_event_log_protection.py``), the MFA
event logging checks (ISM-1683) and the privileged event logging checks (ISM-1509/1650). The
commands and parsers are facts (``checks/facts/windows/log_forwarders.py``, ``audit_policy.py``,
``checks/facts/linux/syslog_forwarding.py``, ``log_files.py``), declared once so the runner runs
each only once per host. Pure functions and data only; no check lives here.

What a host can show is the **host-side half**: that events are recorded and that something ships
them off the host. Whether the collector receives, protects and analyses them is not visible, so
every finding here says "host-side part". Forwarder names are maintained as data
beside the commands that look for them (``WINDOWS_AGENTS`` in the Windows fact,
``AGENT_PROCESSES`` / ``AGENT_UNITS`` in the Linux one); a product missing from the lists reads as
"no forwarder" — add it there. The application control logging checks (ISM-1660) judge with the
same functions. A running agent's configuration (which logs it ships) is not read: callers that
pass ``agents_count=False`` (the ISM-1660 and ISM-1683 checks) give no_visibility when an agent is
the only shipper seen; the default still counts a running agent (the other callers' owners decide).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.linux.log_files import LogFiles
from checks.facts.linux.syslog_forwarding import (
    AGENT_PROCESSES,
    AGENT_UNITS,
    AUDIT_AGENTS,
    SyslogForwarding,
)
from checks.facts.windows.audit_policy import AUDIT_POLICY
from checks.facts.windows.log_forwarders import LOG_FORWARDERS, WindowsForwarders
from scanner.checking.api import Finding, Output
from scanner.model.vocabulary import Outcome

# auditpol subcategory GUIDs, checked against corpus windows/auditpol_get_category_all_r.csv.txt
# (they are locale-independent; the names are localised).
LOGON = "{0CCE9215-69AE-11D9-BED3-505054503030}"
SPECIAL_LOGON = "{0CCE921B-69AE-11D9-BED3-505054503030}"
SENSITIVE_PRIVILEGE_USE = "{0CCE9228-69AE-11D9-BED3-505054503030}"
USER_ACCOUNT_MANAGEMENT = "{0CCE9235-69AE-11D9-BED3-505054503030}"
COMPUTER_ACCOUNT_MANAGEMENT = "{0CCE9236-69AE-11D9-BED3-505054503030}"
SECURITY_GROUP_MANAGEMENT = "{0CCE9237-69AE-11D9-BED3-505054503030}"
SUBCATEGORY_NAMES = {
    LOGON: "Logon",
    SPECIAL_LOGON: "Special Logon",
    SENSITIVE_PRIVILEGE_USE: "Sensitive Privilege Use",
    USER_ACCOUNT_MANAGEMENT: "User Account Management",
    COMPUTER_ACCOUNT_MANAGEMENT: "Computer Account Management",
    SECURITY_GROUP_MANAGEMENT: "Security Group Management",
}
AUDIT_SETTINGS = {"Success and Failure", "Success", "Failure", "No Auditing"}
NO_WINDOWS_FORWARDER = "no log forwarder (WEF subscription or known agent) running"


# ---------------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------------
def win_forwarders(
    fwd: WindowsForwarders, *, agents_count: bool = True
) -> tuple[list[str], list[str]]:
    """(running forwarders, notes about installed-but-stopped ones). ``agents_count=False``:
    a running agent is not counted (its configuration, which says what it ships, is not read;
    see :func:`win_agents_running`)."""
    found: list[str] = []
    notes: list[str] = []
    if fwd.wef:
        found.append(f"Windows Event Forwarding to {fwd.wef[0][:120]}")
    for svc in fwd.services:
        if svc.state.lower() == "running":
            if agents_count:
                found.append(f"{svc.product} service running")
        else:
            notes.append(f"{svc.product} installed but {svc.state or 'not running'}")
    return found, notes


def win_agents_running(fwd: WindowsForwarders) -> list[str]:
    """``"<product> service running"`` for each known log agent that runs."""
    return [f"{s.product} service running" for s in fwd.services if s.state.lower() == "running"]


def agent_unread(agents: list[str], what: str) -> str:
    """The no_visibility text for a host whose only shipper is an agent whose configuration is
    not read: a running agent is not evidence that it ships these events."""
    return (
        f"{what}: the only shipper seen is {'; '.join(agents)}, whose configuration (which logs "
        f"it ships) is not read, so whether these events leave the host is not known"
    )


def no_forwarder(notes: list[str]) -> str:
    """The problem text for a Windows host with no running forwarder."""
    return NO_WINDOWS_FORWARDER + (f" ({'; '.join(notes)})" if notes else "")


def audit_gaps(policy: Mapping[str, str], guids: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(subcategories not auditing Success and Failure, subcategories with an unknown value)."""
    gaps: list[str] = []
    unknown: list[str] = []
    for g in guids:
        name = SUBCATEGORY_NAMES.get(g, g)
        value = policy.get(g)
        if value is None or value not in AUDIT_SETTINGS:
            unknown.append(f"{name}: {value or 'not listed'}")
        elif value != "Success and Failure":
            gaps.append(f"{name}: {value}")
    return gaps, unknown


def judge_windows_central(
    ism: str,
    what: str,
    guids: tuple[str, ...],
    outputs: Mapping[str, Output],
    *,
    agents_count: bool = True,
) -> Finding:
    """Events of ``guids`` audited (Success and Failure) and a forwarder present.
    ``agents_count=False``: a running agent alone gives no_visibility (its configuration is not
    read), never effective."""
    policy = AUDIT_POLICY.read(outputs.get("auditpol"))
    fwd = LOG_FORWARDERS.read(outputs.get("forwarders"))
    if isinstance(policy, Unknown):
        return Finding(
            ism=ism,
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"audit policy not read: {policy.reason}",
        )
    if isinstance(fwd, Unknown):
        return Finding(
            ism=ism, outcome=Outcome.NO_VISIBILITY, evidence=f"forwarders not read: {fwd.reason}"
        )
    gaps, unknown = audit_gaps(policy, guids)
    found, notes = win_forwarders(fwd, agents_count=agents_count)
    agents = [] if agents_count else win_agents_running(fwd)
    observed: dict[str, Any] = {
        "audit": {SUBCATEGORY_NAMES[g]: policy.get(g) for g in guids},
        "forwarders": found,
        "forwarder_notes": notes,
        "SCENoApplyLegacyAuditPolicy": fwd.sce_no_apply_legacy,
    }
    audit_text = ", ".join(f"{SUBCATEGORY_NAMES[g]}: {policy.get(g)}" for g in guids)
    if gaps or not found:
        parts = []
        if gaps:
            parts.append("not audited for Success and Failure: " + "; ".join(gaps))
        elif agents:
            return Finding(
                ism=ism,
                outcome=Outcome.NO_VISIBILITY,
                evidence=agent_unread(agents, f"{what} are audited ({audit_text})"),
                observed={**observed, "agents_running": agents},
            )
        if not found:
            parts.append(no_forwarder(notes))
        return Finding(
            ism=ism,
            outcome=Outcome.INEFFECTIVE,
            evidence=f"{what} are not centrally logged: " + "; ".join(parts),
            observed=observed,
        )
    if unknown:
        return Finding(
            ism=ism,
            outcome=Outcome.NO_VISIBILITY,
            evidence="audit setting not understood (localised?): " + "; ".join(unknown),
            observed=observed,
        )
    return Finding(
        ism=ism,
        outcome=Outcome.EFFECTIVE,
        evidence=(
            f"host-side part: {what} are audited ({audit_text}) and shipped off the host by "
            f"{'; '.join(found)}; receipt and protection at the collector are not visible"
        ),
        observed=observed,
    )


# ---------------------------------------------------------------------------------------------
# Linux
# ---------------------------------------------------------------------------------------------
def running(fwd: SyslogForwarding, name: str) -> bool:
    """The daemon runs: its process is listed or its unit is active."""
    return name in fwd.processes or fwd.units.get(name) == "active"


def agents(fwd: SyslogForwarding, *, audit: bool = False) -> list[str]:
    """``"<product> running"`` for each known log agent whose process runs or whose unit is
    active (only those that ship auditd records too, with ``audit``), one line per product."""
    products = [
        product
        for comm, product in AGENT_PROCESSES.items()
        if comm in fwd.processes and (not audit or comm in AUDIT_AGENTS)
    ] + [
        product
        for unit, product in AGENT_UNITS.items()
        if fwd.units.get(unit) == "active" and (not audit or unit in AUDIT_AGENTS)
    ]
    return [f"{product} running" for product in dict.fromkeys(products)]


def syslog_ways(fwd: SyslogForwarding, *, agents_count: bool = True) -> list[str]:
    """How syslog/journal records leave the host: remote rules of a running daemon,
    systemd-journal-upload, known agents running (empty when nothing visibly ships them).
    A rule of a daemon that does not run, or a module that is only loaded, ships nothing.
    ``agents_count=False``: running agents are left out (their configuration is not read)."""
    daemon_runs = {
        "rsyslog": "rsyslogd" in fwd.processes or fwd.units.get("rsyslog") == "active",
        "syslog-ng": running(fwd, "syslog-ng"),
    }
    ways: list[str] = []
    for rule in fwd.remote_rules:
        if not daemon_runs.get(rule.daemon):
            continue
        if rule.daemon == "rsyslog":
            ways.append(f"rsyslog forwards ({rule.path}: {rule.rule[:100]})")
        else:
            ways.append(f"syslog-ng network destination ({rule.path})")
    if fwd.units.get("systemd-journal-upload") == "active":
        ways.append("systemd-journal-upload active")
    return ways + (agents(fwd) if agents_count else [])


def audit_forwarding(
    fwd: SyslogForwarding, files: LogFiles, *, agents_count: bool = True
) -> list[str]:
    """How auditd records leave the host (empty when they do not visibly). The audisp plugins
    run inside auditd: an active plugin file of an auditd that does not run ships nothing.
    ``agents_count=False``: running agents are left out (their configuration is not read)."""
    ways: list[str] = []
    auditd = running(fwd, "auditd")
    if files.au_remote and auditd:
        ways.append("audisp au-remote active")
    syslog_fwd = bool(syslog_ways(fwd, agents_count=agents_count))
    if files.audisp_syslog and auditd and syslog_fwd:
        ways.append("audisp syslog plugin active and syslog forwarded")
    if fwd.rsyslog_reads_audit and syslog_fwd:
        ways.append("rsyslog reads /var/log/audit and forwards")
    return ways + (agents(fwd, audit=True) if agents_count else [])


def all_ways(fwd: SyslogForwarding, files: LogFiles) -> tuple[list[str], list[str]]:
    """(every way logs leave the host, de-duplicated; the ways auditd records leave it)."""
    audit = audit_forwarding(fwd, files)
    return list(dict.fromkeys(syslog_ways(fwd) + audit)), audit
