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

from checks._linux import first_line, unreadable
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

_ACTION = re.compile(r"-a\s+(?:always,exit|exit,always)\b")
_SYSCALLS = re.compile(r"-S\s+(\S+)")
_ARCH = re.compile(r"-F\s+arch=(b32|b64)")


def _missing(out: Output) -> bool:
    text = (out.text + out.err).lower()
    return out.exit_code == 127 or "auditctl: not found" in text or "command not found" in text


def _refused(out: Output) -> str | None:
    why = unreadable(out)
    if why:
        return why
    low = (out.text + out.err).lower()
    if "must be root" in low:
        return f"refused for lack of privilege ({first_line(out.err or out.text)})"
    return None


def execve_rules(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
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

    rules = outputs.get("rules")
    status = outputs.get("status")
    if rules is not None and rules.ran and not rules.timed_out and _missing(rules):
        return one(
            Outcome.INEFFECTIVE,
            "auditctl is not installed (auditd absent), so no execve audit rule records command "
            "lines; another collector (EDR agent) would need its own evidence",
        )
    for name, out in (("auditctl -l", rules), ("auditctl -s", status)):
        why = _refused(out) if out is not None else "command was not run on the host"
        if why:
            return one(Outcome.NO_VISIBILITY, f"{name} not read: {why}")
    if rules is None or status is None:
        return one(Outcome.NO_VISIBILITY, "auditctl was not run on the host")
    if not rules.ok:
        return one(
            Outcome.NO_VISIBILITY, f"auditctl -l failed: {first_line(rules.err) or rules.exit_code}"
        )
    enabled = re.search(r"^enabled\s+(\d)", status.text, re.MULTILINE)
    pid = re.search(r"^pid\s+(\d+)", status.text, re.MULTILINE)
    found = execve_rules(rules.text)
    arches = sorted({a for r in found for a in _ARCH.findall(r)})
    observed = {
        "execve_rules": found,
        "enabled": int(enabled.group(1)) if enabled else None,
        "auditd_pid": int(pid.group(1)) if pid else None,
    }
    tail = "; host part only: forwarding of audit events to a central store is not visible from this read"
    if not found:
        state = (
            "No rules" if rules.text.strip().lower().startswith("no rules") else "no execve rule"
        )
        return one(
            Outcome.INEFFECTIVE,
            f"auditctl -l shows {state}: process executions are not audited{tail}",
            observed,
        )
    if enabled is None:
        return one(
            Outcome.NO_VISIBILITY,
            f"auditctl -s output not recognised ({first_line(status.text)!r})",
            observed,
        )
    if enabled.group(1) == "0":
        return one(
            Outcome.INEFFECTIVE,
            f"execve rules are loaded but auditing is disabled (enabled 0){tail}",
            observed,
        )
    note = ""
    if arches == ["b64"]:
        note = " (no arch=b32 rule: 32-bit executions are not covered)"
    if pid is not None and pid.group(1) == "0":
        note += " (auditd is not running: records go to the kernel log only)"
    return one(
        Outcome.EFFECTIVE,
        f"execve audit rule loaded ({found[0]}){note}; auditing enabled ({enabled.group(1)}){tail}",
        observed,
    )


CHECK = Check(
    id="user_app_hardening.linux_process_auditing",
    title="Process executions are audited with command lines (auditd execve rule)",
    strategy=Strategy.USER_APP_HARDENING,
    ism=("ISM-1889",),
    platforms=frozenset({Platform.LINUX}),
    collect={
        "rules": Cmd(line="auditctl -l", root=True),
        "status": Cmd(line="auditctl -s", root=True),
    },
    judge=judge,
    version=1,
)
