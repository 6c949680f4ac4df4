"""Linux: are fapolicyd's allowed and blocked events logged on the host and forwarded?

**Collected (read-only):** the fapolicyd state, configuration and rules (the same facts as
``application_control.linux_fapolicyd``, run once per host), and the facts the event logging
checks read, judged the same way (``checks/_logging.py``): ``forwarders`` (fact
``linux.syslog_forwarding``: rsyslog / syslog-ng remote actions, running process names, and
``systemctl is-active`` of ``systemd-journal-upload``, ``auditd``, ``rsyslog``, ``syslog-ng`` and
known log-agent units) and ``logfiles`` (fact ``linux.log_files``, root: the audisp
``au-remote`` and ``syslog`` plugins' ``active = yes``).

fapolicyd logs a decision only when the rule's decision says so: ``deny_audit`` / ``allow_audit``
go to the audit subsystem, ``deny_syslog`` / ``allow_syslog`` to syslog, ``deny_log`` /
``allow_log`` to both (``syslog_format`` in ``fapolicyd.conf`` sets the syslog fields).

**ISM-1660** (ML2-3, allowed and blocked events centrally logged) — *partly*, the host-side part:
- effective: fapolicyd is active, its rules log denials, and a forwarder carries that channel off
  the host (audit channel: ``au-remote`` of a running auditd, or the audit ``syslog`` plugin plus
  a syslog forwarder, or rsyslog reading ``/var/log/audit`` and forwarding, or a log agent that
  ships audit records; syslog channel: forwarding rules of a running rsyslog/syslog-ng,
  ``systemd-journal-upload`` or a running log agent). A rule that only loads a network module,
  or a syslog-ng network *source*, forwards nothing;
- ineffective: no fapolicyd to log, no logging deny rule, or no forwarder for the channel used;
- no_visibility: a read was refused (run with become).
The evidence states whether *allowed* executions are logged too (``allow_*`` logging rules are
rare and noisy; execve auditing is the usual source and is not read here). Whether the collector
keeps the events is not visible from the host. Evidence grade: good.

A running log agent (Splunk, Wazuh, Fluent Bit, …) is not evidence that these events are shipped:
its configuration, which says which logs it ships, is not read, so when it is the only shipper seen
the result is no_visibility, never effective.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks._logging import agent_unread, agents, audit_forwarding, syslog_ways
from checks.application_control._rules import effective_rules
from checks.facts.fact import Unknown
from checks.facts.linux.fapolicyd import FAPOLICYD_CONF, FAPOLICYD_RULES, FAPOLICYD_STATE
from checks.facts.linux.log_files import LOG_FILES
from checks.facts.linux.syslog_forwarding import SYSLOG_FORWARDING
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ISM = "ISM-1660"
NO_FORWARDER = " (no au-remote, rsyslog/syslog-ng forwarding, journal upload or known log agent)"


def _one(outcome: Outcome, evidence: str, observed: dict[str, Any] | None = None) -> list[Finding]:
    return [Finding(ism=ISM, outcome=outcome, evidence=evidence, observed=observed or {})]


def _unread(name: str, why: Unknown) -> list[Finding]:
    return _one(Outcome.NO_VISIBILITY, f"{name} not read: {why.reason}")


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    state = FAPOLICYD_STATE.read(outputs.get("state"))
    if isinstance(state, Unknown):
        return _one(Outcome.NO_VISIBILITY, f"fapolicyd state not read: {state.reason}")
    if state.active != "active":
        return _one(
            Outcome.INEFFECTIVE,
            f"fapolicyd is not running (installed: {state.installed or 'unknown'}, "
            f"is-active: {state.active or 'unknown'}): no application control events to log",
            {"fapolicyd_active": state.active},
        )
    # fapolicyd.conf only adds syslog_format (the syslog fields) to the evidence
    conf = FAPOLICYD_CONF.read(outputs.get("conf"))
    syslog_format = None if isinstance(conf, Unknown) else conf.settings.get("syslog_format")
    files = FAPOLICYD_RULES.read(outputs.get("rules"))
    if isinstance(files, Unknown):
        return _unread("rules", files)
    fwd = SYSLOG_FORWARDING.read(outputs.get("forwarders"))
    if isinstance(fwd, Unknown):
        return _unread("forwarders", fwd)
    logfiles = LOG_FILES.read(outputs.get("logfiles"))
    if isinstance(logfiles, Unknown):
        return _unread("logfiles", logfiles)
    source, rules = effective_rules(files)
    if not rules:
        return _one(Outcome.NO_VISIBILITY, "fapolicyd is running but no rule file was read")
    deny_log = sorted({r.decision for r in rules if r.denies and r.logs})
    allow_log = sorted({r.decision for r in rules if r.allows and r.logs})
    audit = any(d.endswith(("_audit", "_log")) for d in deny_log)
    syslog = any(d.endswith(("_syslog", "_log")) for d in deny_log)
    syslog_fw = syslog_ways(fwd, agents_count=False)
    audit_fw = audit_forwarding(fwd, logfiles, agents_count=False)
    observed: dict[str, Any] = {
        "rules_source": source,
        "deny_logging_decisions": deny_log,
        "allow_logging_decisions": allow_log,
        "syslog_format": syslog_format,
        "forwarders": list(dict.fromkeys(syslog_fw + audit_fw)),
        "units": fwd.units,
        "agents_running": agents(fwd),
    }
    if not deny_log:
        return _one(
            Outcome.INEFFECTIVE,
            f"fapolicyd rules ({source}) deny without logging (no deny_audit, deny_syslog or "
            f"deny_log): blocked events are not recorded",
            observed,
        )
    carriers = (audit_fw if audit else []) + (syslog_fw if syslog else [])
    channel = " and ".join(c for c, on in (("audit", audit), ("syslog", syslog)) if on)
    channel_agents = (agents(fwd, audit=True) if audit else []) + (agents(fwd) if syslog else [])
    if not carriers and channel_agents:
        return _one(
            Outcome.NO_VISIBILITY,
            agent_unread(
                list(dict.fromkeys(channel_agents)),
                f"fapolicyd logs denials to {channel} ({', '.join(deny_log)})",
            ),
            observed,
        )
    if not carriers:
        hint = ""
        if audit and not syslog and syslog_fw and not logfiles.audisp_syslog:
            hint = (
                f" ({'; '.join(syslog_fw)} is present, but audit records reach syslog "
                f"only through the audit syslog plugin, which is not active)"
            )
        return _one(
            Outcome.INEFFECTIVE,
            f"fapolicyd logs denials to {channel} ({', '.join(deny_log)}), but no forwarder carries "
            f"that channel off the host{hint or NO_FORWARDER}",
            observed,
        )
    allowed = (
        f"allowed events logged too ({', '.join(allow_log)})"
        if allow_log
        else "allowed executions are not logged by fapolicyd rules (execve auditing not read)"
    )
    return _one(
        Outcome.EFFECTIVE,
        f"host-side part: fapolicyd logs denials to {channel} ({', '.join(deny_log)}), forwarded by "
        f"{'; '.join(dict.fromkeys(carriers))}; {allowed}; the collector side is not visible",
        observed,
    )


CHECK = Check(
    id="application_control.linux_app_control_logging",
    title="Linux fapolicyd decisions logged locally and forwarded to a collector",
    strategy=Strategy.APPLICATION_CONTROL,
    ism=(ISM,),
    platforms=frozenset({Platform.LINUX}),
    collect={
        "state": FAPOLICYD_STATE.cmd,
        "conf": FAPOLICYD_CONF.cmd,
        "rules": FAPOLICYD_RULES.cmd,
        "forwarders": SYSLOG_FORWARDING.cmd,
        "logfiles": LOG_FILES.cmd,
    },
    judge=judge,
    version=2,  # v2: a running log agent alone is no_visibility (its configuration is not read)
    grade=Grade.GOOD,
    # ``conf`` only adds syslog_format to the evidence: which decisions are logged is in the
    # rules, and permissive mode logs the same decisions.
    rests_on={ISM: ("state", "rules", "forwarders", "logfiles")},
)
