"""The loaded Linux audit rules, ``auditctl -l`` (root), and whether auditd is active."""

from __future__ import annotations

from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import first_line

_MARK = "### auditd"


@dataclass(frozen=True)
class AuditRules:
    """``installed``: auditctl was found; ``auditd``: ``systemctl is-active auditd`` ("unknown"
    when it printed nothing); ``rules``: the rule lines (``-w …``, ``-a …``), as loaded."""

    installed: bool
    auditd: str
    rules: tuple[str, ...]


def parse(text: str) -> AuditRules | Unknown:
    lines = text.splitlines()
    marks = [ln for ln in lines if ln.startswith(_MARK)]
    if not marks:
        return Unknown("the output lacks its ### auditd line")
    if "must be root" in text.lower():  # auditctl's own refusal, on stdout through 2>&1
        return Unknown(f"refused for lack of privilege ({first_line(text)})")
    body = [ln for ln in lines if not ln.startswith("###")]
    missing = any("auditctl: not found" in ln or "command not found" in ln for ln in body)
    return AuditRules(
        installed=not missing,
        auditd=marks[-1][len(_MARK) :].strip() or "unknown",
        rules=tuple(ln.strip() for ln in body if ln.strip().startswith("-")),
    )


AUDIT_RULES = sh_fact(
    "linux.audit_rules",
    'PATH="$PATH:/usr/sbin:/sbin" auditctl -l 2>&1; '
    'echo "### auditd $(systemctl is-active auditd 2>/dev/null)"; true',
    parse,
    root=True,
    stdout_denial=True,
)
