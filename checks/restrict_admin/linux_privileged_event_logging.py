"""Linux: are privileged access and account/group changes audited and shipped off the host?

**Collected:** ``auditctl -l`` (root; the loaded audit rules, shape of corpus
``linux/auditctl-l.txt``) with ``systemctl is-active auditd``; the ``Defaults`` lines of
``/etc/sudoers`` and ``/etc/sudoers.d/*`` (root); and the forwarding evidence shared with the
ISM-1815 checks (facts ``linux.syslog_forwarding`` and ``linux.log_files``, judged in
``checks/_logging.py``): rsyslog/syslog-ng remote actions, running agent
processes, systemd-journal-upload, the audisp ``au-remote`` and ``syslog`` plugins.

**ISM-1650** (ML2-3, privileged account and security group management events centrally logged):
effective when auditd is active, the loaded rules watch writes to ``/etc/passwd``,
``/etc/group``, ``/etc/shadow``, ``/etc/gshadow`` and ``/etc/sudoers`` (``-w <file> -p wa``, a
``-F path=<file> -F perm=…w…`` rule, or a watch on ``/etc`` itself), and a forwarder is present.
**ISM-1509** (ML2-3, privileged access events centrally logged): effective when auditd is active
with a rule recording privileged execution — ``execve`` with ``euid=0``, an exec watch on
``sudo``/``su``/``pkexec``, or any rule keyed ``privileged*`` (ComplianceAsCode style) — sudo
still logs (no ``Defaults !syslog`` without a ``logfile``), and a forwarder is present.
Ineffective: auditd not installed or not active, missing rules, sudo logging switched off, or no
forwarder. No visibility: ``auditctl -l`` or the sudoers read refused (no root) or timed out.

Caveats (host-side part only): the forwarder is taken as shipping these events; when neither
``au-remote``, the audisp syslog plugin with syslog forwarding, rsyslog ``imfile`` on
``/var/log/audit`` nor an audit-capable agent is seen, the evidence says the auditd records stay
local (sudo and shadow-utils still log through syslog). What the collector keeps is not visible.
Evidence grade: good.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks._logging import all_ways
from checks.facts.fact import Unknown
from checks.facts.linux.audit_rules import AUDIT_RULES
from checks.facts.linux.log_files import LOG_FILES
from checks.facts.linux.sudo_defaults import SUDO_DEFAULTS, SudoDefaults
from checks.facts.linux.syslog_forwarding import SYSLOG_FORWARDING
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

IDENTITY_FILES = ("/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/sudoers")
PRIV_BINARIES = re.compile(r"/(sudo|su|pkexec)$")


def _perm(rule: str, flag_w: str, flag_f: str) -> str | None:
    m = re.search(flag_w, rule) or re.search(flag_f, rule)
    return m.group(1) if m else None


def parse_rules(lines: tuple[str, ...]) -> dict[str, Any]:
    watched: set[str] = set()
    priv: list[str] = []
    for raw in lines:
        rule = raw.strip()
        if not rule.startswith("-"):
            continue
        w = re.match(r"^-w\s+(\S+)", rule)
        path = w.group(1) if w else None
        if path is None:
            pm = re.search(r"-F\s+(?:path|dir)=(\S+)", rule)
            path = pm.group(1) if pm else None
        perm = _perm(rule, r"-p\s+([rwxa]+)", r"-F\s+perm=([rwxa]+)") or ""
        if path:
            base = path.rstrip("/") or "/"
            if "w" in perm:
                for f in IDENTITY_FILES:
                    if f == base or f.startswith(base + "/"):
                        watched.add(f)
            if "x" in perm and PRIV_BINARIES.search(base):
                priv.append(rule)
                continue
        root_exec = re.search(r"-S\s+\S*execve", rule) and re.search(r"-F\s+euid=0\b", rule)
        if root_exec or re.search(r"(-k\s+|-F\s+key=)privileged", rule):
            priv.append(rule)
    return {"identity_watched": sorted(watched), "privileged_rules": priv}


def _sudo_logging(sudo: SudoDefaults) -> tuple[bool, str]:
    if not sudo.sudoers_found:
        return True, "sudo not installed"
    nosyslog = any(re.search(r"!\s*syslog\b", d) for d in sudo.defaults)
    logfile = any(re.search(r"\blogfile\s*=", d) for d in sudo.defaults)
    if nosyslog and not logfile:
        return False, "sudo logging switched off (Defaults !syslog, no logfile)"
    how = "logfile" if logfile else "syslog (default)"
    return True, f"sudo logs to {how}"


def _all(outcome: Outcome, evidence: str) -> list[Finding]:
    return [Finding(ism=i, outcome=outcome, evidence=evidence) for i in ("ISM-1509", "ISM-1650")]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    actl = AUDIT_RULES.read(outputs.get("auditctl"))
    sudo = SUDO_DEFAULTS.read(outputs.get("sudo"))
    fwd = SYSLOG_FORWARDING.read(outputs.get("forwarders"))
    files = LOG_FILES.read(outputs.get("logfiles"))
    if (
        isinstance(actl, Unknown)
        or isinstance(sudo, Unknown)
        or isinstance(fwd, Unknown)
        or isinstance(files, Unknown)
    ):
        why = next(r.reason for r in (actl, sudo, fwd, files) if isinstance(r, Unknown))
        return _all(Outcome.NO_VISIBILITY, f"audit configuration not read: {why}")
    rules = parse_rules(actl.rules)
    ways, audit_ways = all_ways(fwd, files)
    sudo_ok, sudo_text = _sudo_logging(sudo)
    observed: dict[str, Any] = {
        "auditd": actl.auditd if actl.installed else "not installed",
        **rules,
        "sudo": sudo_text,
        "forwarding": ways,
        "audit_log_forwarding": audit_ways,
    }
    base: list[str] = []
    if not actl.installed:
        base.append("auditd is not installed")
    elif actl.auditd != "active":
        base.append(f"auditd is {actl.auditd}")
    if not ways:
        base.append("no forwarder ships logs off the host")
    local_note = (
        "" if audit_ways or not ways else " (auditd records stay local; syslog is forwarded)"
    )
    findings = []
    # ISM-1509
    p = list(base)
    if not rules["privileged_rules"]:
        p.append(
            "no audit rule records privileged execution (execve euid=0, sudo/su, -k privileged)"
        )
    if not sudo_ok:
        p.append(sudo_text)
    findings.append(
        Finding(
            ism="ISM-1509",
            outcome=Outcome.INEFFECTIVE if p else Outcome.EFFECTIVE,
            evidence=(
                "privileged access events are not centrally logged: " + "; ".join(p)
                if p
                else f"host-side part: auditd active with {len(rules['privileged_rules'])} "
                f"privileged-execution rule(s), {sudo_text}, forwarded by {'; '.join(ways)}"
                f"{local_note}"
            ),
            observed=observed,
        )
    )
    # ISM-1650
    p = list(base)
    unwatched = [f for f in IDENTITY_FILES if f not in rules["identity_watched"]]
    if unwatched:
        p.append("no write watch on " + ", ".join(unwatched))
    findings.append(
        Finding(
            ism="ISM-1650",
            outcome=Outcome.INEFFECTIVE if p else Outcome.EFFECTIVE,
            evidence=(
                "account and group management events are not centrally logged: " + "; ".join(p)
                if p
                else "host-side part: auditd active and watching writes to "
                f"{', '.join(IDENTITY_FILES)}, forwarded by {'; '.join(ways)}{local_note}"
            ),
            observed=observed,
        )
    )
    return findings


CHECK = Check(
    id="restrict_admin.linux_privileged_event_logging",
    title="Linux audits privileged access and account/group changes and forwards the events",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1509", "ISM-1650"),
    platforms=frozenset({Platform.LINUX}),
    collect={
        "auditctl": AUDIT_RULES.cmd,
        "sudo": SUDO_DEFAULTS.cmd,
        "forwarders": SYSLOG_FORWARDING.cmd,
        "logfiles": LOG_FILES.cmd,
    },
    judge=judge,
    version=3,  # v3: an empty sudoers Defaults read is no_visibility (v2: module load, syslog-ng source)
)
