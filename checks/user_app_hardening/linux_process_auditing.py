"""Linux: are process executions (with their command lines) recorded by the audit subsystem?

**Collected (root, read-only):** ``auditctl -l`` (the loaded audit rules; shape: corpus
``linux/auditctl-l.txt``) and ``auditctl -s`` (``enabled`` 0/1/2, ``pid`` of auditd).

**ISM-1889** (ML2-3; partly): the Linux analogue of Windows event 4688 with command lines is an
auditd rule on the ``execve`` syscall (its EXECVE records carry the arguments).
- effective: a loaded ``-a always,exit … -S execve`` rule (any arch; ``arch=b64`` on 64-bit hosts,
  ``arch=b32`` noted when missing) and auditing enabled (``enabled 1`` or ``2``);
- ineffective: no such rule (``No rules`` or only other rules), auditing disabled (``enabled 0``),
  or auditd not installed (``auditctl`` not found) — another command-line collector (an EDR agent)
  would need its own evidence;
- no_visibility: the reads were refused (no root / ``sudo -n`` refused, "You must be root"),
  timed out, or gave output this check does not recognise.

Only the host part is shown: that execve events are generated. Whether auditd forwards them
centrally is not visible here (see the central-logging check and essential-eight.md 2.9).
Evidence grade: good.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.linux.audit import AUDIT_RULES, AUDIT_STATUS
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

_ACTION = re.compile(r"-a\s+(?:always,exit|exit,always)\b")
_SYSCALLS = re.compile(r"-S\s+(\S+)")
_ARCH = re.compile(r"-F\s+arch=(b32|b64)")


def execve_rules(rules: tuple[str, ...]) -> list[str]:
    found = []
    for line in rules:
        if not _ACTION.search(line):
            continue
        calls = ",".join(_SYSCALLS.findall(line)).split(",")
        if "execve" in calls or "all" in calls:
            found.append(line.strip())
    return found


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    def one(
        outcome: Outcome, evidence: str, observed: dict[str, Any] | None = None
    ) -> list[Finding]:
        return [
            Finding(ism="ISM-1889", outcome=outcome, evidence=evidence, observed=observed or {})
        ]

    rules = AUDIT_RULES.read(outputs.get("rules"))
    if not isinstance(rules, Unknown) and not rules.installed:
        return one(
            Outcome.INEFFECTIVE,
            "auditctl is not installed (auditd absent), so no execve audit rule records command "
            "lines; another collector (EDR agent) would need its own evidence",
        )
    if isinstance(rules, Unknown):
        return one(Outcome.NO_VISIBILITY, f"auditctl -l not read: {rules.reason}")
    status = AUDIT_STATUS.read(outputs.get("status"))
    if isinstance(status, Unknown):
        return one(Outcome.NO_VISIBILITY, f"auditctl -s not read: {status.reason}")
    found = execve_rules(rules.rules)
    arches = sorted({a for r in found for a in _ARCH.findall(r)})
    observed = {
        "execve_rules": found,
        "enabled": status.enabled,
        "auditd_pid": status.pid,
    }
    tail = "; host part only: forwarding of audit events to a central store is not visible from this read"
    if not found:
        state = "No rules" if not rules.rules else "no execve rule"
        return one(
            Outcome.INEFFECTIVE,
            f"auditctl -l shows {state}: process executions are not audited{tail}",
            observed,
        )
    if status.enabled == 0:
        return one(
            Outcome.INEFFECTIVE,
            f"execve rules are loaded but auditing is disabled (enabled 0){tail}",
            observed,
        )
    note = ""
    if arches == ["b64"]:
        note = " (no arch=b32 rule: 32-bit executions are not covered)"
    if status.pid == 0:
        note += " (auditd is not running: records go to the kernel log only)"
    return one(
        Outcome.EFFECTIVE,
        f"execve audit rule loaded ({found[0]}){note}; auditing enabled ({status.enabled}){tail}",
        observed,
    )


CHECK = Check(
    id="user_app_hardening.linux_process_auditing",
    title="Process executions are audited with command lines (auditd execve rule)",
    strategy=Strategy.USER_APP_HARDENING,
    ism=("ISM-1889",),
    platforms=frozenset({Platform.LINUX}),
    collect={"rules": AUDIT_RULES.cmd, "status": AUDIT_STATUS.cmd},
    judge=judge,
    version=1,
)
