"""Application control judging shared by the application_control checks (no command lives here).

The commands and their parsers are facts: ``windows.app_control`` / ``windows.app_control_logs``
(``checks/facts/windows/app_control.py``) and ``linux.fapolicyd_state`` / ``_conf`` / ``_rules``
(``checks/facts/linux/fapolicyd.py``). Here: ``class_findings`` (which of ISM-0843 / 1490 / 1656
applies to the host's class); WDAC summaries; the AppLocker policy model (``parse_applocker`` reads
the effective policy XML and answers which collections are enforced, which user-writable folders
an Allow path rule opens, and which of Microsoft's recommended-block binaries have deny rules);
the fapolicyd rule model (which rule file set fapolicyd loads, catch-all rules, allowed folders).
Pure functions only; no check lives here.
"""

from __future__ import annotations

import csv
import fnmatch
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.facts.windows.app_control import Wdac
from scanner.checking.api import Context, Finding
from scanner.model.vocabulary import Outcome

# --------------------------------------------------------------------------- host class

CLASS_ISM = ("ISM-0843", "ISM-1490", "ISM-1656")
_CLASS_TEXT = {
    "ISM-0843": "workstations",
    "ISM-1490": "internet-facing servers",
    "ISM-1656": "non-internet-facing servers",
}


def host_class_ism(ctx: Context) -> str | None:
    """The one of ISM-0843 / 1490 / 1656 that applies to this host (inventory e8_role and
    e8_internet_facing), or None for other roles (network devices)."""
    role = ctx.role
    if role == "workstation":
        return "ISM-0843"
    if role == "server":
        return "ISM-1490" if ctx.internet_facing else "ISM-1656"
    return None


def class_findings(
    ctx: Context, outcome: Outcome, evidence: str, observed: dict[str, Any]
) -> list[Finding]:
    """Findings for ISM-0843, 1490 and 1656: the host's class gets the verdict, the rest are
    not_applicable with the reason."""
    applies = host_class_ism(ctx)
    found = []
    for ism in CLASS_ISM:
        if ism == applies:
            found.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed))
        else:
            found.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NOT_APPLICABLE,
                    evidence=(
                        f"applies to {_CLASS_TEXT[ism]}; this host is e8_role={ctx.role}, "
                        f"e8_internet_facing={str(ctx.internet_facing).lower()}"
                    ),
                    observed={"e8_role": ctx.role, "e8_internet_facing": ctx.internet_facing},
                )
            )
    return found


def all_findings(ism: tuple[str, ...], outcome: Outcome, evidence: str) -> list[Finding]:
    """The same verdict for every control (a failed read)."""
    return [Finding(ism=i, outcome=outcome, evidence=evidence) for i in ism]


# --------------------------------------------------------------------------- WDAC

CI_MODE = {0: "off", 1: "audit", 2: "enforced"}


def wdac_summary(wdac: Wdac) -> str:
    if wdac.error is not None:
        return f"WDAC state unread ({wdac.error[:100]})"
    um = CI_MODE.get(wdac.um or 0, str(wdac.um))
    km = CI_MODE.get(wdac.km or 0, str(wdac.km))
    return f"WDAC user-mode {um}, kernel-mode {km}, {len(wdac.policies)} active .cip policy file(s)"


def citool_enforced(p: Mapping[str, Any]) -> bool:
    """A CiTool policy block that says it is enforced now."""
    return any(v is True for k, v in p.items() if "enforced" in k.lower())


# --------------------------------------------------------------------------- AppLocker

ADMIN_SIDS = ("S-1-5-32-544", "S-1-5-18")  # Administrators, SYSTEM
_ADMIN_RIDS = ("-512", "-519")  # Domain Admins, Enterprise Admins
COLLECTIONS = ("Exe", "Msi", "Script", "Dll", "Appx")

# A file a standard user could create in each location (after path normalisation).
USER_WRITABLE = {
    "user profile": r"%OSDRIVE%\USERS\E8USER\DOWNLOADS\E8PROBE.EXE",
    "user temp folder (%TEMP%)": r"%OSDRIVE%\USERS\E8USER\APPDATA\LOCAL\TEMP\E8PROBE.EXE",
    "browser/email temp (INetCache)": (
        r"%OSDRIVE%\USERS\E8USER\APPDATA\LOCAL\MICROSOFT\WINDOWS\INETCACHE\E8PROBE.EXE"
    ),
    r"%WINDIR%\Temp": r"%WINDIR%\TEMP\E8PROBE.EXE",
}
OTHER_WRITABLE = {
    r"%WINDIR%\Tasks": r"%WINDIR%\TASKS\E8PROBE.EXE",
    r"%WINDIR%\tracing": r"%WINDIR%\TRACING\E8PROBE.EXE",
    r"%SYSTEM32%\Tasks": r"%WINDIR%\SYSTEM32\TASKS\E8PROBE.EXE",
    r"%SYSTEM32%\spool\drivers\color": r"%WINDIR%\SYSTEM32\SPOOL\DRIVERS\COLOR\E8PROBE.EXE",
    r"%OSDRIVE%\ProgramData": r"%OSDRIVE%\PROGRAMDATA\E8DIR\E8PROBE.EXE",
    r"a new folder at the drive root": r"%OSDRIVE%\E8NEWDIR\E8PROBE.EXE",
}

_VAR_MAP = (
    (r"%SYSTEMDRIVE%", r"%OSDRIVE%"),
    (r"%SYSTEMROOT%", r"%WINDIR%"),
    (r"%SYSTEM32%", r"%WINDIR%\SYSTEM32"),
    (r"%PROGRAMFILES%", r"%OSDRIVE%\PROGRAM FILES"),
    (r"%PROGRAMFILES(X86)%", r"%OSDRIVE%\PROGRAM FILES (X86)"),
    (r"%PROGRAMDATA%", r"%OSDRIVE%\PROGRAMDATA"),
    (r"%USERPROFILE%", r"%OSDRIVE%\USERS\E8USER"),
    (r"%LOCALAPPDATA%", r"%OSDRIVE%\USERS\E8USER\APPDATA\LOCAL"),
    (r"%APPDATA%", r"%OSDRIVE%\USERS\E8USER\APPDATA\ROAMING"),
    (r"%TEMP%", r"%OSDRIVE%\USERS\E8USER\APPDATA\LOCAL\TEMP"),
    (r"%TMP%", r"%OSDRIVE%\USERS\E8USER\APPDATA\LOCAL\TEMP"),
    (r"C:\WINDOWS", r"%WINDIR%"),
    (r"C:", r"%OSDRIVE%"),
)


def norm_path(path: str) -> str:
    """An AppLocker path condition in one spelling: upper case, variables expanded to %OSDRIVE% /
    %WINDIR% forms; a bare folder (no wildcard, no extension) means everything under it."""
    p = path.strip().strip('"').upper().replace("/", "\\")
    for old, new in _VAR_MAP:
        if p.startswith(old):
            p = new + p[len(old) :]
    if p.endswith("\\"):
        p += "*"
    elif "*" not in p and "." not in p.rsplit("\\", 1)[-1]:
        p += "\\*"
    return p


def _matches(pattern: str, target: str) -> bool:
    return fnmatch.fnmatchcase(target, pattern)


def _is_admin(sid: str) -> bool:
    return sid in ADMIN_SIDS or (sid.startswith("S-1-5-21-") and sid.endswith(_ADMIN_RIDS))


@dataclass
class Rule:
    kind: str  # FilePathRule / FilePublisherRule / FileHashRule
    action: str
    sid: str
    name: str
    paths: list[str] = field(default_factory=list)  # normalised path conditions
    binaries: list[str] = field(default_factory=list)  # publisher BinaryName / hash file names
    exceptions: list[str] = field(default_factory=list)  # normalised path exceptions


@dataclass
class Collection:
    type: str
    mode: str
    rules: list[Rule]

    @property
    def enforced(self) -> bool:
        """Enabled, or NotConfigured with rules (AppLocker then enforces them)."""
        return self.mode == "Enabled" or (self.mode == "NotConfigured" and bool(self.rules))

    @property
    def audit(self) -> bool:
        return self.mode == "AuditOnly" and bool(self.rules)

    def allowing(self, target: str) -> Rule | None:
        """The non-admin Allow path rule that lets ``target`` run (deny rules and the rule's
        path exceptions taken into account), or None."""
        for rule in self.rules:
            if (
                rule.action == "Deny"
                and rule.kind == "FilePathRule"
                and not _is_admin(rule.sid)
                and any(_matches(p, target) for p in rule.paths)
            ):
                return None
        for rule in self.rules:
            if rule.action != "Allow" or rule.kind != "FilePathRule" or _is_admin(rule.sid):
                continue
            if any(_matches(p, target) for p in rule.paths) and not any(
                _matches(x, target) for x in rule.exceptions
            ):
                return rule
        return None


def parse_applocker(xml_text: str) -> dict[str, Collection]:
    """Rule collections by type. Raises ValueError when the text is not an AppLocker policy."""
    text = xml_text.strip().lstrip("\ufeff")
    if not text:
        return {}
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"AppLocker policy is not XML ({exc})") from None
    if root.tag != "AppLockerPolicy":
        raise ValueError(f"unexpected XML root {root.tag!r}")
    out: dict[str, Collection] = {}
    for rc in root.findall("RuleCollection"):
        ctype = rc.get("Type", "")
        rules = []
        for el in rc:
            if not el.tag.endswith("Rule"):
                continue
            rule = Rule(
                kind=el.tag,
                action=el.get("Action", ""),
                sid=el.get("UserOrGroupSid", ""),
                name=el.get("Name", ""),
            )
            conds = el.find("Conditions")
            if conds is not None:
                for c in conds.iter():
                    if c.tag == "FilePathCondition" and c.get("Path"):
                        rule.paths.append(norm_path(c.get("Path", "")))
                    elif c.tag == "FilePublisherCondition":
                        rule.binaries.append(c.get("BinaryName", "").upper())
                    elif c.tag == "FileHash":
                        rule.binaries.append(c.get("SourceFileName", "").upper())
            exc_el = el.find("Exceptions")
            if exc_el is not None:
                rule.exceptions = [
                    norm_path(c.get("Path", ""))
                    for c in exc_el.iter("FilePathCondition")
                    if c.get("Path")
                ]
            rules.append(rule)
        out[ctype] = Collection(
            type=ctype, mode=rc.get("EnforcementMode", "NotConfigured"), rules=rules
        )
    return out


def open_locations(cols: Mapping[str, Collection], probes: Mapping[str, str]) -> list[str]:
    """``"<collection>: <location> (rule '<name>' allows <path>)"`` for every enforced
    collection (Exe, Msi, Script, Dll) whose Allow path rules let standard users run files from a
    probed user-writable location."""
    found = []
    for ctype in ("Exe", "Dll", "Script", "Msi"):
        col = cols.get(ctype)
        if col is None or not (col.enforced or col.audit):
            continue
        for label, target in probes.items():
            rule = col.allowing(target)
            if rule is not None:
                found.append(
                    f"{ctype}: {label} (rule '{rule.name}' allows {', '.join(rule.paths)})"
                )
    return found


def denied_binaries(col: Collection | None) -> set[str]:
    """Upper-case file names that a Deny rule in ``col`` names (path tail, publisher
    BinaryName or hash SourceFileName)."""
    if col is None:
        return set()
    names: set[str] = set()
    for rule in col.rules:
        if rule.action != "Deny" or _is_admin(rule.sid):
            continue
        names.update(b for b in rule.binaries if b and b != "*")
        for p in rule.paths:
            tail = p.rsplit("\\", 1)[-1]
            if "*" not in tail and "." in tail:
                names.add(tail)
    return names


def load_list(name: str) -> list[str]:
    """Lower-case names from a one-column CSV beside this module (header ``name``)."""
    path = Path(__file__).parent / name
    with path.open(encoding="utf-8") as fh:
        return [row["name"].strip().lower() for row in csv.DictReader(fh) if row["name"].strip()]


# --------------------------------------------------------------------------- Linux fapolicyd


@dataclass
class FaRule:
    decision: str
    perm: str
    subject: str
    obj: str
    source: str

    @property
    def allows(self) -> bool:
        return self.decision.startswith("allow")

    @property
    def denies(self) -> bool:
        return self.decision.startswith("deny")

    @property
    def logs(self) -> bool:
        return self.decision.endswith(("_audit", "_syslog", "_log"))

    @property
    def covers_execute(self) -> bool:
        return self.perm in ("execute", "any")

    @property
    def root_only(self) -> bool:
        return bool(re.search(r"(?:^|\s)(?:uid|auid|gid)=0(?:\s|$)", self.subject))


def effective_rules(files: Mapping[str, tuple[str, ...]]) -> tuple[str, list[FaRule]]:
    """The rule set fapolicyd loads: compiled.rules (built from rules.d by fagenrules), else
    rules.d in name order, else the legacy fapolicyd.rules."""
    compiled = "/etc/fapolicyd/compiled.rules"
    ruled = sorted(k for k in files if k.startswith("/etc/fapolicyd/rules.d/"))
    lines: tuple[str, ...]
    if files.get(compiled):
        src, lines = compiled, files[compiled]
    elif ruled:
        src, lines = "/etc/fapolicyd/rules.d/*.rules", tuple(ln for k in ruled for ln in files[k])
    else:
        src, lines = (
            "/etc/fapolicyd/fapolicyd.rules",
            files.get("/etc/fapolicyd/fapolicyd.rules", ()),
        )
    rules = []
    for line in lines:
        if line.startswith("%") or ":" not in line:
            continue  # macro definitions (%languages=...) and stray text
        head, _, obj = line.partition(":")
        words = head.split()
        if not words:
            continue
        decision = words[0]
        perm = "open"  # fapolicyd's default when perm= is omitted
        subj = []
        for w in words[1:]:
            if w.startswith("perm="):
                perm = w[5:]
            else:
                subj.append(w)
        rules.append(FaRule(decision, perm, " ".join(subj) or "all", obj.strip(), line))
    return src, rules


USER_WRITABLE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/home", "/run/user", "/root")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/etc", "/opt")


def allow_dirs(rules: list[FaRule]) -> list[tuple[str, FaRule]]:
    """(directory, rule) for allow rules reaching execute that name an object dir= or path=,
    for subjects not restricted to root."""
    found = []
    for r in rules:
        if not (r.allows and r.covers_execute) or r.root_only:
            continue
        for m in re.finditer(r"(?:^|\s)(?:dir|path)=(\S+)", r.obj):
            found.append((m.group(1), r))
    return found


def under(path: str, roots: tuple[str, ...]) -> bool:
    p = path.rstrip("/") or "/"
    return any(p == r or p.startswith(r + "/") for r in roots)


def first_catch_all(rules: list[FaRule], perm_ok: Callable[[FaRule], bool]) -> FaRule | None:
    """The first rule that matches every subject and object for the given permission."""
    for r in rules:
        if perm_ok(r) and r.subject == "all" and r.obj == "all":
            return r
    return None
