"""The Linux audit subsystem as ``auditctl`` shows it (root): the loaded rules (``-l``, one rule
per line, ``No rules`` when none) and the kernel status (``-s``: ``enabled``, ``pid`` of auditd …).

A host without auditctl (``auditctl: not found`` / ``command not found``, exit 127 or sudo's
exit 1) is a value for the rules (``installed=False``): nothing can be audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.facts.fact import Fact, Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import to_int
from scanner.checking.api import Output


@dataclass(frozen=True)
class AuditRules:
    """``rules``: the loaded rules as ``auditctl -l`` prints them (empty for ``No rules``)."""

    installed: bool
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditStatus:
    """``enabled``: 0 off, 1 on, 2 locked; ``pid``: auditd's (0 when it is not running)."""

    enabled: int
    pid: int | None


def parse_rules(text: str) -> AuditRules:
    lines = tuple(ln.strip() for ln in text.splitlines() if ln.strip())
    return AuditRules(installed=True, rules=() if lines == ("No rules",) else lines)


def parse_status(text: str) -> AuditStatus | Unknown:
    enabled = re.search(r"^enabled\s+(\d)", text, re.MULTILINE)
    pid = re.search(r"^pid\s+(\d+)", text, re.MULTILINE)
    if enabled is None:
        first = text.strip().splitlines()[0][:160] if text.strip() else ""
        return Unknown(f"auditctl -s output not recognised ({first!r})")
    return AuditStatus(enabled=int(enabled.group(1)), pid=to_int(pid.group(1)) if pid else None)


def _missing(out: Output) -> bool:
    text = (out.text + out.err).lower()
    return out.exit_code == 127 or "auditctl: not found" in text or "command not found" in text


def _rules_fact() -> Fact[AuditRules]:
    strict = sh_fact("linux.auditctl_rules", "auditctl -l", parse_rules, root=True)

    def read(out: Output) -> AuditRules | Unknown:
        if not out.timed_out and _missing(out):
            return AuditRules(installed=False)
        return strict.read(out)

    return Fact(strict.name, strict.platform, strict.cmd, read)


AUDIT_RULES = _rules_fact()

AUDIT_STATUS = sh_fact("linux.auditctl_status", "auditctl -s", parse_status, root=True)
