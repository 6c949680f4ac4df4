"""Central logging as the host shows it: forwarders, audit policy, local log protection.

Shared by the ISM-1815 modules of four strategies (``application_control``, ``restrict_admin``,
``mfa``, ``user_app_hardening`` — one Windows and one Linux module each, all thin), the MFA event
logging checks (ISM-1683) and the privileged event logging checks (ISM-1509/1650). The commands
are declared **once** here, so the runner runs each only once per host (identical commands are
de-duplicated). Pure functions and data only; no check lives here.

What a host can show is the **host-side half**: that events are recorded and that something ships
them off the host. Whether the collector receives, protects and analyses them is not visible, so
every finding here says "host-side part". Forwarder names are maintained as data
(:data:`WINDOWS_AGENTS`, :data:`LINUX_AGENTS`); a product missing from the lists reads as "no
forwarder" — add it here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

from checks._linux import first_line
from checks._linux import unreadable as linux_unreadable
from checks._windows import as_list, ps_json
from checks._windows import unreadable as win_unreadable
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

# ---------------------------------------------------------------------------------------------
# Data: known log forwarders. Windows service names (Win32_Service.Name) and Linux process
# names as ``ps -o comm`` prints them (first 15 characters). Names marked "unverified" were not
# confirmed on a real install.
# ---------------------------------------------------------------------------------------------
WINDOWS_AGENTS: dict[str, str] = {
    "SplunkForwarder": "Splunk Universal Forwarder",
    "Splunkd": "Splunk Enterprise (splunkd)",
    "AzureMonitorAgent": "Azure Monitor Agent",
    "HealthService": "Microsoft Monitoring Agent / SCOM (HealthService)",
    "Elastic Agent": "Elastic Agent",
    "winlogbeat": "Elastic Winlogbeat",
    "nxlog": "NXLog",
    "WazuhSvc": "Wazuh agent",
    "OssecSvc": "OSSEC agent",
    "Sense": "Microsoft Defender for Endpoint (Sense)",
    "fluent-bit": "Fluent Bit (unverified service name)",
    "AmazonCloudWatchAgent": "Amazon CloudWatch Agent",
    "datadogagent": "Datadog Agent (unverified service name)",
    "Snare": "Snare agent (unverified service name)",
}
LINUX_AGENTS: dict[str, str] = {
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
    "systemd-journal": "systemd-journal-upload (process name truncated; unit state decides)",
    "amazon-cloudwat": "Amazon CloudWatch Agent",
    "otelcol-contrib": "OpenTelemetry Collector",
    "vector": "Vector",
}
# Agents that also ship the Linux audit log (auditd records), not only syslog/journal.
LINUX_AUDIT_AGENTS = frozenset(
    {"splunkd", "elastic-agent", "auditbeat", "wazuh-agentd", "ossec-agentd", "filebeat"}
)

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

# ---------------------------------------------------------------------------------------------
# Commands (read-only). Windows snippets end in ConvertTo-Json; Linux lines tolerate missing tools.
# ---------------------------------------------------------------------------------------------
_svc_list = ", ".join(f"'{n}'" for n in WINDOWS_AGENTS)
WIN_FORWARDERS = (
    "$lm = [Microsoft.Win32.Registry]::LocalMachine\n"
    "$wef = @()\n"
    "$k = $lm.OpenSubKey('SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding"
    "\\SubscriptionManager')\n"
    "if ($k) { foreach ($n in $k.GetValueNames()) { $wef += [string]$k.GetValue($n) } }\n"
    "$lsa = $lm.OpenSubKey('SYSTEM\\CurrentControlSet\\Control\\Lsa')\n"
    "$sce = $null\n"
    "if ($lsa) { $sce = $lsa.GetValue('SCENoApplyLegacyAuditPolicy') }\n"
    f"$names = @({_svc_list})\n"
    "$svc = @(Get-WmiObject Win32_Service | Where-Object { $names -contains $_.Name } |"
    " ForEach-Object { New-Object PSObject -Property @{ name = $_.Name; state = $_.State;"
    " start = $_.StartMode } })\n"
    "New-Object PSObject -Property @{ wef = $wef; services = $svc;"
    " sce_no_apply_legacy = $sce } | ConvertTo-Json -Depth 4 -Compress"
)
WIN_AUDITPOL = (
    "$csv = & auditpol.exe /get /category:* /r 2>&1 | Out-String\n"
    "New-Object PSObject -Property @{ rc = $LASTEXITCODE; csv = $csv }"
    " | ConvertTo-Json -Depth 4 -Compress"
)
WIN_EVENTLOG = (
    "$gl = & wevtutil.exe gl Security 2>&1 | Out-String\n"
    "New-Object PSObject -Property @{ rc = $LASTEXITCODE; text = $gl }"
    " | ConvertTo-Json -Depth 4 -Compress"
)

_agents = "|".join(re.escape(a) for a in LINUX_AGENTS)
LINUX_FORWARDERS = (
    "for f in /etc/rsyslog.conf /etc/rsyslog.d/*.conf /etc/syslog-ng/syslog-ng.conf "
    '/etc/syslog-ng/conf.d/*.conf; do [ -f "$f" ] && { echo "### $f"; '
    "grep -Ev '^[[:space:]]*(#|$)' \"$f\"; }; done; "
    'echo "### processes"; ps -eo comm= | sort -u; '
    'echo "### units"; for u in systemd-journal-upload auditd rsyslog syslog-ng; do '
    'echo "$u $(systemctl is-active "$u" 2>/dev/null)"; done; true'
)
LINUX_LOGFILES = (
    "for f in /etc/audit/plugins.d/au-remote.conf /etc/audisp/plugins.d/au-remote.conf "
    "/etc/audit/plugins.d/syslog.conf /etc/audisp/plugins.d/syslog.conf; do "
    '[ -f "$f" ] && { echo "### $f"; grep -E \'^[[:space:]]*active\' "$f"; }; done; '
    "echo \"### journald\"; grep -hE '^[[:space:]]*Storage' /etc/systemd/journald.conf "
    "/etc/systemd/journald.conf.d/*.conf 2>/dev/null; "
    "echo \"### perms\"; stat -c '%a %U %G %F %n' /var/log/audit /var/log/audit/audit.log "
    "/var/log/auth.log /var/log/secure /var/log/messages /var/log/syslog /var/log/journal "
    "2>/dev/null; true"
)
# The same line as mfa.linux_ssh_mfa, so the runner runs it once.
LINUX_SSHD = 'PATH="$PATH:/usr/sbin:/sbin" sshd -T 2>&1'
LINUX_AUDITCTL = (
    'PATH="$PATH:/usr/sbin:/sbin" auditctl -l 2>&1; '
    'echo "### auditd $(systemctl is-active auditd 2>/dev/null)"; true'
)
LINUX_SUDO_DEFAULTS = "grep -hE '^[[:space:]]*Defaults' /etc/sudoers /etc/sudoers.d/* 2>&1; true"


def sections(text: str) -> dict[str, list[str]]:
    """``### name`` marked sections of a Linux command's output."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("### "):
            current = out.setdefault(line[4:].strip(), [])
        elif current is not None:
            current.append(line)
    return out


# ---------------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------------
def win_read(out: Output | None) -> tuple[Any, str | None]:
    """A Windows snippet's JSON object, or the reason it cannot be judged."""
    why = win_unreadable(out)
    if why is not None or out is None:
        return None, why or "not collected"
    try:
        data = ps_json(out)
    except ValueError:
        return None, f"output is not JSON ({first_line(out.text) or first_line(out.err)})"
    if not isinstance(data, dict):
        return None, "unexpected output shape (expected a JSON object)"
    return data, None


def win_forwarders(data: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(running forwarders, notes about installed-but-stopped ones)."""
    found: list[str] = []
    notes: list[str] = []
    wef = [str(v) for v in as_list(data.get("wef")) if str(v).strip()]
    if wef:
        found.append(f"Windows Event Forwarding to {wef[0][:120]}")
    for svc in as_list(data.get("services")):
        if not isinstance(svc, dict):
            continue
        name = str(svc.get("name", ""))
        product = WINDOWS_AGENTS.get(name, name)
        if str(svc.get("state", "")).lower() == "running":
            found.append(f"{product} service running")
        else:
            notes.append(f"{product} installed but {svc.get('state', 'not running')}")
    return found, notes


def parse_auditpol(text: str) -> dict[str, str]:
    """``auditpol /r`` CSV: subcategory GUID (upper case) → inclusion setting."""
    result: dict[str, str] = {}
    for row in csv.reader(io.StringIO(text.replace("\r", ""))):
        if len(row) < 5 or not row[3].startswith("{"):
            continue
        result[row[3].strip().upper()] = row[4].strip()
    return result


def audit_policy(out: Output | None) -> tuple[dict[str, str], str | None]:
    data, why = win_read(out)
    if why is not None or data is None:
        return {}, f"audit policy not read: {why}"
    csv_text = str(data.get("csv") or "")
    policy = parse_auditpol(csv_text)
    if not policy:
        return {}, (
            f"audit policy not read: auditpol returned {data.get('rc')} "
            f"({first_line(csv_text) or 'no output'}); it needs local administrator rights"
        )
    return policy, None


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
) -> Finding:
    """Events of ``guids`` audited (Success and Failure) and a forwarder present."""
    policy, why = audit_policy(outputs.get("auditpol"))
    fwd_data, fwd_why = win_read(outputs.get("forwarders"))
    if why is not None:
        return Finding(ism=ism, outcome=Outcome.NO_VISIBILITY, evidence=why)
    if fwd_why is not None or fwd_data is None:
        return Finding(
            ism=ism, outcome=Outcome.NO_VISIBILITY, evidence=f"forwarders not read: {fwd_why}"
        )
    gaps, unknown = audit_gaps(policy, guids)
    found, notes = win_forwarders(fwd_data)
    observed: dict[str, Any] = {
        "audit": {SUBCATEGORY_NAMES[g]: policy.get(g) for g in guids},
        "forwarders": found,
        "forwarder_notes": notes,
        "SCENoApplyLegacyAuditPolicy": fwd_data.get("sce_no_apply_legacy"),
    }
    audit_text = ", ".join(f"{SUBCATEGORY_NAMES[g]}: {policy.get(g)}" for g in guids)
    if gaps or not found:
        parts = []
        if gaps:
            parts.append("not audited for Success and Failure: " + "; ".join(gaps))
        if not found:
            extra = f" ({'; '.join(notes)})" if notes else ""
            parts.append(f"no log forwarder (WEF subscription or known agent) running{extra}")
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


# Event log access rights (winevt): 0x1 read, 0x2 write, 0x4 clear; generic/standard rights too.
_WRITE_BITS = 0x2 | 0x4 | 0x10000000 | 0x40000000 | 0x00040000 | 0x00080000 | 0x00010000
_WRITE_LETTERS = ("GA", "GW", "WD", "WO", "SD", "FA", "FW", "CC")
_TRUSTED_SIDS = {"SY", "BA", "S-1-5-18", "S-1-5-32-544"}
_ACE = re.compile(r"\(([A-Z]+);([^;]*);([^;]*);[^;]*;[^;]*;([^)]+)\)")


def channel_writers(sddl: str) -> list[str]:
    """Allow ACEs of a channel SDDL that let a non-admin SID write to or clear the log."""
    bad: list[str] = []
    for kind, _flags, rights, sid in _ACE.findall(sddl):
        if kind not in ("A", "OA") or sid.upper() in _TRUSTED_SIDS:
            continue
        if rights.lower().startswith("0x"):
            try:
                writes = int(rights, 16) & _WRITE_BITS != 0
            except ValueError:
                writes = True
        else:
            letters = [rights[i : i + 2] for i in range(0, len(rights), 2)]
            writes = any(x in _WRITE_LETTERS for x in letters)
        if writes:
            bad.append(f"{sid} ({rights})")
    return bad


def parse_wevtutil(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.replace("\r", "").splitlines():
        key, sep, value = raw.strip().partition(":")
        if sep and key and " " not in key:
            values.setdefault(key, value.strip())
    return values


def judge_windows_1815(outputs: Mapping[str, Output]) -> list[Finding]:
    ism = "ISM-1815"
    fwd_data, fwd_why = win_read(outputs.get("forwarders"))
    log_data, log_why = win_read(outputs.get("eventlog"))
    why = fwd_why or log_why
    if why is not None or fwd_data is None or log_data is None:
        return [Finding(ism=ism, outcome=Outcome.NO_VISIBILITY, evidence=f"not read: {why}")]
    gl = parse_wevtutil(str(log_data.get("text") or ""))
    if "channelAccess" not in gl:
        text = first_line(str(log_data.get("text") or "")) or "no output"
        return [
            Finding(
                ism=ism,
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"Security log configuration not read (wevtutil gl Security: {text})",
            )
        ]
    found, notes = win_forwarders(fwd_data)
    writers = channel_writers(gl["channelAccess"])
    observed: dict[str, Any] = {
        "forwarders": found,
        "forwarder_notes": notes,
        "channelAccess": gl["channelAccess"],
        "non_admin_writers": writers,
        "maxSize": gl.get("maxSize"),
        "retention": gl.get("retention"),
        "autoBackup": gl.get("autoBackup"),
    }
    problems = []
    if not found:
        extra = f" ({'; '.join(notes)})" if notes else ""
        problems.append(f"no log forwarder (WEF subscription or known agent) running{extra}")
    if writers:
        problems.append(
            "Security log channel lets non-admins write or clear: " + ", ".join(writers)
        )
    if problems:
        return [
            Finding(
                ism=ism,
                outcome=Outcome.INEFFECTIVE,
                evidence="event logs are not protected: " + "; ".join(problems),
                observed=observed,
            )
        ]
    return [
        Finding(
            ism=ism,
            outcome=Outcome.EFFECTIVE,
            evidence=(
                f"host-side part: events leave the host ({'; '.join(found)}) and the Security "
                f"log channel grants write/clear only to SYSTEM and Administrators (maxSize "
                f"{gl.get('maxSize')}); protection at the collector is not visible"
            ),
            observed=observed,
        )
    ]


# ---------------------------------------------------------------------------------------------
# Linux
# ---------------------------------------------------------------------------------------------
_FORWARD_LINE = re.compile(r"(^|\s)@@?[\[\w.:-]|omfwd|omrelp|omelasticsearch|omkafka")
_SYSLOGNG_NET = re.compile(r"\b(network|syslog|tcp|udp|tcp6|udp6)\s*\(")


def linux_forwarders(text: str) -> dict[str, Any]:
    """Forwarding seen in LINUX_FORWARDERS output.

    Returns ``syslog`` (syslog/journal forwarders), ``audit_capable`` (agents that can ship the
    audit log), ``units`` (unit → is-active) and ``rsyslog_imfile_audit``.
    """
    sec = sections(text)
    procs = {p.strip() for p in sec.get("processes", []) if p.strip()}
    units: dict[str, str] = {}
    for line in sec.get("units", []):
        name, _, state = line.strip().partition(" ")
        if name:
            units[name] = state.strip() or "unknown"
    syslog: list[str] = []
    audit_agents: list[str] = []
    imfile_audit = False
    for path, lines in sec.items():
        if "rsyslog" in path:
            body = "\n".join(lines)
            if "/var/log/audit" in body:
                imfile_audit = True
            for line in lines:
                if _FORWARD_LINE.search(line):
                    if "rsyslogd" in procs or units.get("rsyslog") == "active":
                        syslog.append(f"rsyslog forwards ({path}: {line.strip()[:100]})")
                    break
        elif "syslog-ng" in path:
            body = "\n".join(lines)
            running = "syslog-ng" in procs or units.get("syslog-ng") == "active"
            if "destination" in body and _SYSLOGNG_NET.search(body) and running:
                syslog.append(f"syslog-ng network destination ({path})")
    if units.get("systemd-journal-upload") == "active":
        syslog.append("systemd-journal-upload active")
    for comm, product in LINUX_AGENTS.items():
        if comm == "systemd-journal":
            continue
        if comm in procs:
            syslog.append(f"{product} running")
            if comm in LINUX_AUDIT_AGENTS:
                audit_agents.append(product)
    return {
        "syslog": syslog,
        "audit_agents": audit_agents,
        "units": units,
        "rsyslog_imfile_audit": imfile_audit,
    }


def _plugin_active(lines: list[str]) -> bool:
    return any(re.match(r"^\s*active\s*=\s*yes\b", ln) for ln in lines)


def linux_logfiles(text: str) -> dict[str, Any]:
    sec = sections(text)
    au_remote = any(_plugin_active(v) for k, v in sec.items() if k.endswith("au-remote.conf"))
    audisp_syslog = any(_plugin_active(v) for k, v in sec.items() if k.endswith("/syslog.conf"))
    storage = [ln.split("=", 1)[1].strip() for ln in sec.get("journald", []) if "=" in ln]
    perms: list[dict[str, str]] = []
    for line in sec.get("perms", []):
        parts = line.split(" ", 3)
        if len(parts) == 4 and re.fullmatch(r"[0-7]{3,4}", parts[0]):
            mode, owner, group, rest = parts
            kind, _, path = rest.rpartition(" ")
            perms.append({"mode": mode, "owner": owner, "group": group, "type": kind, "path": path})
    return {
        "au_remote": au_remote,
        "audisp_syslog": audisp_syslog,
        "journald_storage": storage[-1] if storage else "auto (default)",
        "perms": perms,
    }


def world_writable(perms: list[dict[str, str]]) -> list[str]:
    bad = []
    for p in perms:
        mode = int(p["mode"], 8)
        sticky_dir = p["type"] == "directory" and mode & 0o1000
        if mode & 0o002 and not sticky_dir:
            bad.append(f"{p['path']} ({p['mode']} {p['owner']}:{p['group']})")
    return bad


def audit_forwarding(fwd: Mapping[str, Any], files: Mapping[str, Any]) -> list[str]:
    """How auditd records leave the host (empty when they do not visibly)."""
    ways: list[str] = []
    if files.get("au_remote"):
        ways.append("audisp au-remote active")
    syslog_fwd = bool(fwd.get("syslog"))
    if files.get("audisp_syslog") and syslog_fwd:
        ways.append("audisp syslog plugin active and syslog forwarded")
    if fwd.get("rsyslog_imfile_audit") and syslog_fwd:
        ways.append("rsyslog reads /var/log/audit and forwards")
    ways += [f"{a} running" for a in fwd.get("audit_agents", [])]
    return ways


def linux_read(out: Output | None, *, stdout_denial: bool = False) -> str | None:
    why = linux_unreadable(out, stdout_denial=stdout_denial)
    if why is None and out is not None and out.exit_code not in (0, None):
        why = f"exit {out.exit_code}: {first_line(out.err) or first_line(out.text)}"
    return why


def judge_linux_1815(outputs: Mapping[str, Output]) -> list[Finding]:
    ism = "ISM-1815"
    fwd_out, files_out = outputs.get("forwarders"), outputs.get("logfiles")
    why = linux_read(fwd_out) or linux_read(files_out)
    if why is not None or fwd_out is None or files_out is None:
        return [Finding(ism=ism, outcome=Outcome.NO_VISIBILITY, evidence=f"not read: {why}")]
    fwd = linux_forwarders(fwd_out.text)
    files = linux_logfiles(files_out.text)
    if not files["perms"]:
        return [
            Finding(
                ism=ism,
                outcome=Outcome.NO_VISIBILITY,
                evidence="no log file permissions could be read under /var/log",
            )
        ]
    ways = list(fwd["syslog"]) + [w for w in audit_forwarding(fwd, files) if w not in fwd["syslog"]]
    ww = world_writable(files["perms"])
    observed: dict[str, Any] = {
        "forwarding": ways,
        "world_writable": ww,
        "journald_storage": files["journald_storage"],
        "auditd": fwd["units"].get("auditd", "unknown"),
        "log_files": [f"{p['mode']} {p['owner']}:{p['group']} {p['path']}" for p in files["perms"]],
    }
    problems = []
    if not ways:
        problems.append(
            "no forwarding off the host (no rsyslog/syslog-ng remote action, "
            "systemd-journal-upload, au-remote or known agent)"
        )
    if ww:
        problems.append("world-writable log files: " + ", ".join(ww))
    if problems:
        return [
            Finding(
                ism=ism,
                outcome=Outcome.INEFFECTIVE,
                evidence="event logs are not protected: " + "; ".join(problems),
                observed=observed,
            )
        ]
    return [
        Finding(
            ism=ism,
            outcome=Outcome.EFFECTIVE,
            evidence=(
                f"host-side part: logs leave the host ({'; '.join(ways)}), no log file under "
                f"/var/log is world-writable (journald Storage {files['journald_storage']}, "
                f"auditd {observed['auditd']}); protection at the collector is not visible"
            ),
            observed=observed,
        )
    ]


# --- ISM-1815, one check per strategy that carries it ------------------------------------------

_DOC_1815 = {
    Platform.LINUX: """Linux: are event logs protected from unauthorised modification and deletion (ISM-1815)?

ISM-1815 (ML2-3) is part of the common "detect and respond" block that the November 2023 model
repeats in four strategies; this module scores it for **{strategy}**. The same evidence and judge
(``checks/_logging.py``) serve ``application_control``, ``restrict_admin``, ``mfa`` and
``user_app_hardening``; the runner runs the commands once per host.

**Collected:** (1) without root: the non-comment lines of ``/etc/rsyslog.conf``,
``/etc/rsyslog.d/*.conf`` and syslog-ng configuration, the running process names
(``ps -eo comm=``) and ``systemctl is-active`` of systemd-journal-upload, auditd, rsyslog and
syslog-ng; (2) as root: the ``active`` line of the audisp ``au-remote`` and ``syslog`` plugins
(``/etc/audit/plugins.d`` or ``/etc/audisp/plugins.d``), journald ``Storage=``, and
``stat`` (mode, owner, group) of ``/var/log/audit``, ``/var/log/audit/audit.log``,
``/var/log/auth.log``, ``/var/log/secure``, ``/var/log/messages``, ``/var/log/syslog`` and
``/var/log/journal`` (whichever exist).

**Judgement (host-side part only):**
- effective: logs leave the host — an rsyslog remote action (``@``/``@@``, ``omfwd``, ``omrelp``
  …) with rsyslog running, a syslog-ng network destination, systemd-journal-upload active,
  audisp ``au-remote`` ``active = yes``, or a known agent process (Splunk, Elastic Agent,
  Filebeat, Fluent Bit, Wazuh, OSSEC …; data in ``checks/_logging.py``) — **and** none of the
  log files or directories above is world-writable;
- ineffective: no forwarding, or a world-writable log file or directory (sticky directories
  excepted);
- no_visibility: a read was refused (sudo) or timed out, or no log file could be stat'ed.
journald storage and whether auditd is active are reported, not judged (ISM-1509/1650 judge
auditd). What the forwarder sends and how the collector protects it are not visible: the ISM
row is only "partly" host-checkable. Evidence grade: good.
""",
    Platform.WINDOWS: """Windows: are event logs protected from unauthorised modification and deletion (ISM-1815)?

ISM-1815 (ML2-3) is part of the common "detect and respond" block that the November 2023 model
repeats in four strategies; this module scores it for **{strategy}**. The same evidence and judge
(``checks/_logging.py``) serve ``application_control``, ``restrict_admin``, ``mfa`` and
``user_app_hardening``; the runner runs the commands once per host.

**Collected (read-only PowerShell):** the Windows Event Forwarding client policy
(``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding\\SubscriptionManager``
values), the state of known log-forwarding agent services (Splunk UF, Azure Monitor Agent, MMA
HealthService, Elastic Agent, Winlogbeat, NXLog, Wazuh, OSSEC, Defender for Endpoint ``Sense`` …;
the list is data in ``checks/_logging.py``) via ``Win32_Service``, and ``wevtutil gl Security``
(channel access SDDL, ``maxSize``, ``retention``).

**Judgement (host-side part only):**
- effective: a forwarder is present and running (WEF subscription manager configured, or a
  known agent service in state Running) **and** the Security log's ``channelAccess`` SDDL gives
  write (0x2), clear (0x4) or generic/ownership rights only to SYSTEM and BUILTIN\\Administrators;
- ineffective: no forwarder running (installed-but-stopped agents are named), or a non-admin SID
  may write to or clear the Security log;
- no_visibility: a read failed (PowerShell 2.0 without ``ConvertTo-Json``, access denied,
  timeout) or ``wevtutil`` printed no channel access.
Kept simple on purpose: only the Security channel's SDDL is judged; log size and retention are
reported, not judged; the collector side (SIEM retention, immutability, who may delete there)
is not visible from the host, which is why the ISM row is "partly" host-checkable. A WEF
subscription that does not select the Security channel is not detectable here. Evidence grade:
good.
""",
}
_TITLE_1815 = {
    Platform.LINUX: "Linux logs are forwarded off the host and log files are not world-writable",
    Platform.WINDOWS: "Windows event logs are forwarded off the host and the Security log is admin-only",
}


def _judge_linux_1815(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    return judge_linux_1815(outputs)


def _judge_windows_1815(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    return judge_windows_1815(outputs)


def event_log_protection(strategy: Strategy, platform: Platform) -> Check:
    """The ISM-1815 check for one strategy: the same commands and judge in every strategy."""
    linux = platform is Platform.LINUX
    return Check(
        id=f"{strategy.value}.{platform.value}_event_log_protection",
        title=_TITLE_1815[platform],
        strategy=strategy,
        ism=("ISM-1815",),
        platforms=frozenset({platform}),
        collect=(
            {
                "forwarders": Cmd(line=LINUX_FORWARDERS),
                "logfiles": Cmd(line=LINUX_LOGFILES, root=True),
            }
            if linux
            else {"forwarders": Cmd(line=WIN_FORWARDERS), "eventlog": Cmd(line=WIN_EVENTLOG)}
        ),
        judge=_judge_linux_1815 if linux else _judge_windows_1815,
        version=1,
        doc=_DOC_1815[platform].format(strategy=strategy.value).strip(),
    )
