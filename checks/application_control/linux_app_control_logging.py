"""Linux: are fapolicyd's allowed and blocked events logged on the host and forwarded?

**Collected (read-only):** the fapolicyd state, configuration and rules (the same commands as
``application_control.linux_fapolicyd``, run once per host) and ``forwarding``: rsyslog rules
that forward (``@host``, ``@@host``, ``omfwd``, ``omrelp`` in ``/etc/rsyslog.conf`` and
``/etc/rsyslog.d``), syslog-ng network destinations, the auditd ``au-remote`` and ``syslog``
plugins (``active = yes``), and ``systemctl is-active`` for ``systemd-journal-upload``,
``auditd``, ``rsyslog``, ``syslog-ng`` and known log agents (``checks/_log_forwarding.py``).

fapolicyd logs a decision only when the rule's decision says so: ``deny_audit`` / ``allow_audit``
go to the audit subsystem, ``deny_syslog`` / ``allow_syslog`` to syslog, ``deny_log`` /
``allow_log`` to both (``syslog_format`` in ``fapolicyd.conf`` sets the syslog fields).

**ISM-1660** (ML2-3, allowed and blocked events centrally logged) — *partly*, the host-side part:
- effective: fapolicyd is active, its rules log denials, and a forwarder carries that channel off
  the host (audit channel: ``au-remote``, or the audit ``syslog`` plugin plus a syslog forwarder,
  or a log agent; syslog channel: rsyslog/syslog-ng forwarding, ``systemd-journal-upload`` or a
  log agent);
- ineffective: no fapolicyd to log, no logging deny rule, or no forwarder for the channel used;
- no_visibility: a read was refused (run with become).
The evidence states whether *allowed* executions are logged too (``allow_*`` logging rules are
rare and noisy; execve auditing is the usual source and is not read here). Whether the collector
keeps the events is not visible from the host. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks._app_control import (
    FAPOLICYD_CONF,
    FAPOLICYD_RULES,
    FAPOLICYD_STATE,
    effective_rules,
    parse_kv,
    parse_rules_files,
)
from checks._linux import unreadable
from checks._log_forwarding import LINUX_FORWARDERS, parse_linux_forwarding
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ISM = "ISM-1660"
NO_FORWARDER = " (no au-remote, rsyslog/syslog-ng forwarding, journal upload or known log agent)"


def _one(outcome: Outcome, evidence: str, observed: dict[str, Any] | None = None) -> list[Finding]:
    return [Finding(ism=ISM, outcome=outcome, evidence=evidence, observed=observed or {})]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    why = unreadable(outputs.get("state"))
    if why is not None:
        return _one(Outcome.NO_VISIBILITY, f"fapolicyd state not read: {why}")
    state = parse_kv(outputs["state"].text)
    if state.get("active") != "active":
        return _one(
            Outcome.INEFFECTIVE,
            f"fapolicyd is not running (installed: {state.get('installed') or 'unknown'}, "
            f"is-active: {state.get('active') or 'unknown'}): no application control events to log",
            {"fapolicyd_active": state.get("active")},
        )
    for name in ("conf", "rules", "forwarding"):
        why = unreadable(outputs.get(name))
        if why is not None:
            return _one(Outcome.NO_VISIBILITY, f"{name} not read: {why}")
    conf_text = outputs["conf"].text
    conf = {} if conf_text.strip() == "E8_ABSENT" else parse_kv(conf_text)
    source, rules = effective_rules(parse_rules_files(outputs["rules"].text))
    if not rules:
        return _one(Outcome.NO_VISIBILITY, "fapolicyd is running but no rule file was read")
    deny_log = sorted({r.decision for r in rules if r.denies and r.logs})
    allow_log = sorted({r.decision for r in rules if r.allows and r.logs})
    audit = any(d.endswith(("_audit", "_log")) for d in deny_log)
    syslog = any(d.endswith(("_syslog", "_log")) for d in deny_log)
    fw = parse_linux_forwarding(outputs["forwarding"].text)
    observed: dict[str, Any] = {
        "rules_source": source,
        "deny_logging_decisions": deny_log,
        "allow_logging_decisions": allow_log,
        "syslog_format": conf.get("syslog_format"),
        "forwarders": fw.agents + fw.syslog_forwarders + fw.audit_forwarders,
        "units": fw.units,
    }
    if not deny_log:
        return _one(
            Outcome.INEFFECTIVE,
            f"fapolicyd rules ({source}) deny without logging (no deny_audit, deny_syslog or "
            f"deny_log): blocked events are not recorded",
            observed,
        )
    carriers = list(fw.agents)
    if audit:
        carriers += fw.audit_forwarders
    if syslog:
        carriers += fw.syslog_forwarders
    channel = " and ".join(c for c, on in (("audit", audit), ("syslog", syslog)) if on)
    if not carriers:
        hint = ""
        if audit and not syslog and fw.syslog_forwarders and not fw.audit_syslog:
            hint = (
                f" ({'; '.join(fw.syslog_forwarders)} is present, but audit records reach syslog "
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
        "state": Cmd(line=FAPOLICYD_STATE),
        "conf": Cmd(line=FAPOLICYD_CONF, root=True),
        "rules": Cmd(line=FAPOLICYD_RULES, root=True),
        "forwarding": Cmd(line=LINUX_FORWARDERS, root=True),
    },
    judge=judge,
    version=1,
    grade=Grade.GOOD,
)
