"""ISM-1815, event logs protected from unauthorised modification and deletion: the judges and the
check factory that ``application_control``, ``restrict_admin``, ``mfa`` and
``user_app_hardening`` share (one thin Windows and one thin Linux module each).

Facts: ``windows.log_forwarders`` and ``windows.security_log``; ``linux.syslog_forwarding`` and
``linux.log_files``. Forwarding is judged by ``checks/_logging.py``. Pure functions only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks._logging import all_ways, no_forwarder, win_forwarders
from checks.facts.fact import Unknown
from checks.facts.linux.log_files import LOG_FILES, LogPath
from checks.facts.linux.syslog_forwarding import SYSLOG_FORWARDING
from checks.facts.windows.log_forwarders import LOG_FORWARDERS
from checks.facts.windows.security_log import SECURITY_LOG
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISM = "ISM-1815"

# Event log access rights (winevt): 0x1 read, 0x2 write, 0x4 clear; generic/standard rights too.
_WRITE_BITS = 0x2 | 0x4 | 0x10000000 | 0x40000000 | 0x00040000 | 0x00080000 | 0x00010000
# SDDL access-right letter codes (two letters each) → mask.
_RIGHT_LETTERS = {
    "GA": 0x10000000, "GR": 0x80000000, "GW": 0x40000000, "GX": 0x20000000,
    "RC": 0x20000, "SD": 0x10000, "WD": 0x40000, "WO": 0x80000,
    "CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "RP": 0x10, "WP": 0x20, "DT": 0x40,
    "LO": 0x80, "CR": 0x100,
    "FA": 0x1F01FF, "FR": 0x120089, "FW": 0x120116, "FX": 0x1200A0,
    "KA": 0xF003F, "KR": 0x20019, "KW": 0x20006, "KX": 0x20019,
}  # fmt: skip
_TRUSTED_SIDS = {"SY", "BA", "S-1-5-18", "S-1-5-32-544"}
_ACE = re.compile(r"\(([A-Z]+);([A-Z]*);(0x[0-9A-Fa-f]+|(?:[A-Z]{2})+);[^;()]*;[^;()]*;([^;()]+)\)")
_DACL_FLAGS = re.compile(r"(?:P|AI|AR|NO_ACCESS_CONTROL)*")
NULL_DACL = "everyone (NULL DACL: D:NO_ACCESS_CONTROL)"


def _mask(rights: str) -> int | None:
    if rights.lower().startswith("0x"):
        return int(rights, 16)
    letters = [rights[i : i + 2] for i in range(0, len(rights), 2)]
    if any(x not in _RIGHT_LETTERS for x in letters):
        return None
    return sum(_RIGHT_LETTERS[x] for x in letters)


def _dacl(sddl: str) -> str | None:
    """The ``D:`` part of an SDDL string (up to a top-level ``S:``), or None when absent."""
    depth, start = 0, None
    for i, ch in enumerate(sddl):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and sddl.startswith("D:", i) and start is None:
            start = i + 2
        elif depth == 0 and sddl.startswith("S:", i) and start is not None:
            return sddl[start:i]
    return None if start is None else sddl[start:]


def channel_writers(sddl: str) -> list[str] | None:
    """Who other than SYSTEM and Administrators may write to or clear the log, per the channel
    SDDL's DACL; None when the DACL is missing or holds what is not understood here (conditional
    callback ACEs, unknown right codes, trailing text)."""
    dacl = _dacl(sddl)
    if dacl is None:
        return None
    flags = _DACL_FLAGS.match(dacl)
    if flags is not None and "NO_ACCESS_CONTROL" in flags.group(0):
        return [NULL_DACL]
    rest = dacl[flags.end() if flags else 0 :]
    aces = _ACE.findall(rest)
    if _ACE.sub("", rest).strip():
        return None
    bad: list[str] = []
    for kind, _flags, rights, sid in aces:
        if kind in ("D", "OD"):  # deny ACEs only take rights away
            continue
        mask = _mask(rights)
        if kind not in ("A", "OA") or mask is None:
            return None
        if sid.upper() not in _TRUSTED_SIDS and mask & _WRITE_BITS:
            bad.append(f"{sid} ({rights})")
    return bad


def world_writable(paths: tuple[LogPath, ...]) -> list[str]:
    """Log files and directories anyone may write (sticky directories excepted)."""
    bad = []
    for p in paths:
        mode = int(p.mode, 8)
        sticky_dir = p.type == "directory" and mode & 0o1000
        if mode & 0o002 and not sticky_dir:
            bad.append(f"{p.path} ({p.mode} {p.owner}:{p.group})")
    return bad


def _verdict(problems: list[str], effective: str, observed: dict[str, Any]) -> list[Finding]:
    if problems:
        evidence, outcome = (
            "event logs are not protected: " + "; ".join(problems),
            Outcome.INEFFECTIVE,
        )
    else:
        evidence, outcome = effective, Outcome.EFFECTIVE
    return [Finding(ism=ISM, outcome=outcome, evidence=evidence, observed=observed)]


def _not_read(reason: str) -> list[Finding]:
    return [Finding(ism=ISM, outcome=Outcome.NO_VISIBILITY, evidence=f"not read: {reason}")]


def judge_windows(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    fwd = LOG_FORWARDERS.read(outputs.get("forwarders"))
    log = SECURITY_LOG.read(outputs.get("eventlog"))
    if isinstance(fwd, Unknown):
        return _not_read(fwd.reason)
    if isinstance(log, Unknown):
        return _not_read(log.reason)
    found, notes = win_forwarders(fwd)
    writers = channel_writers(log.channel_access)
    if writers is None:
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.NO_VISIBILITY,
                evidence="Security log channel access not understood (channelAccess "
                f"{log.channel_access[:200]!r}): who may write or clear it is not known",
            )
        ]
    observed: dict[str, Any] = {
        "forwarders": found,
        "forwarder_notes": notes,
        "channelAccess": log.channel_access,
        "non_admin_writers": writers,
        "maxSize": log.max_size,
        "retention": log.retention,
        "autoBackup": log.auto_backup,
    }
    problems = [] if found else [no_forwarder(notes)]
    if writers:
        problems.append(
            "Security log channel lets non-admins write or clear: " + ", ".join(writers)
        )
    effective = (
        f"host-side part: events leave the host ({'; '.join(found)}) and the Security log channel "
        f"grants write/clear only to SYSTEM and Administrators (maxSize {log.max_size}); "
        "protection at the collector is not visible"
    )
    return _verdict(problems, effective, observed)


def judge_linux(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    fwd = SYSLOG_FORWARDING.read(outputs.get("forwarders"))
    files = LOG_FILES.read(outputs.get("logfiles"))
    if isinstance(fwd, Unknown):
        return _not_read(fwd.reason)
    if isinstance(files, Unknown):
        return _not_read(files.reason)
    if not files.paths:
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.NO_VISIBILITY,
                evidence="no log file permissions could be read under /var/log",
            )
        ]
    ways, _audit = all_ways(fwd, files)
    ww = world_writable(files.paths)
    storage = files.journald_storage or "auto (default)"
    auditd = fwd.units.get("auditd", "unknown")
    observed: dict[str, Any] = {
        "forwarding": ways,
        "world_writable": ww,
        "journald_storage": storage,
        "auditd": auditd,
        "log_files": [f"{p.mode} {p.owner}:{p.group} {p.path}" for p in files.paths],
    }
    problems = []
    if not ways:
        problems.append(
            "no forwarding off the host (no rsyslog/syslog-ng remote action, "
            "systemd-journal-upload, au-remote or known agent)"
        )
    if ww:
        problems.append("world-writable log files: " + ", ".join(ww))
    effective = (
        f"host-side part: logs leave the host ({'; '.join(ways)}), no log file under /var/log is "
        f"world-writable (journald Storage {storage}, auditd {auditd}); protection at the "
        "collector is not visible"
    )
    return _verdict(problems, effective, observed)


_DOC = {
    Platform.LINUX: """Linux: are event logs protected from unauthorised modification and deletion (ISM-1815)?

ISM-1815 (ML2-3) is part of the common "detect and respond" block that the November 2023 model
repeats in four strategies; this module scores it for **{strategy}**. The same evidence and judge
(``checks/_event_log_protection.py``) serve ``application_control``, ``restrict_admin``, ``mfa``
and ``user_app_hardening``; the runner runs the commands once per host.

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
  audisp ``au-remote`` ``active = yes`` with auditd running, or a known agent process or unit
  (Splunk, Elastic Agent, Filebeat, Fluent Bit, Wazuh, OSSEC …; data in
  ``checks/facts/linux/syslog_forwarding.py``) — **and** none of the
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
(``checks/_event_log_protection.py``) serve ``application_control``, ``restrict_admin``, ``mfa``
and ``user_app_hardening``; the runner runs the commands once per host.

**Collected (read-only PowerShell):** the Windows Event Forwarding client policy
(``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding\\SubscriptionManager``
values), the state of known log-forwarding agent services (Splunk UF, Azure Monitor Agent, MMA
HealthService, Elastic Agent, Winlogbeat, NXLog, Wazuh, OSSEC, Defender for Endpoint ``Sense`` …;
the list is data in ``checks/facts/windows/log_forwarders.py``) via ``Win32_Service``, and
``wevtutil gl Security`` (channel access SDDL, ``maxSize``, ``retention``).

**Judgement (host-side part only):**
- effective: a forwarder is present and running (WEF subscription manager configured, or a
  known agent service in state Running) **and** the DACL of the Security log's ``channelAccess``
  SDDL gives write (0x2), clear (0x4) or generic/ownership rights (hex masks or letter codes
  such as ``DC``, ``LC``, ``GA``, ``GW``, ``FA``, ``WD``) only to SYSTEM and
  BUILTIN\\Administrators;
- ineffective: no forwarder running (installed-but-stopped agents are named), or a non-admin SID
  may write to or clear the Security log, or the DACL is NULL (``D:NO_ACCESS_CONTROL``: everyone);
- no_visibility: a read failed (PowerShell 2.0 without ``ConvertTo-Json``, access denied,
  timeout), ``wevtutil`` printed no channel access, or the SDDL has no DACL or holds what is not
  understood here (conditional ACEs, unknown right codes).
Kept simple on purpose: only the Security channel's SDDL is judged; log size and retention are
reported, not judged; the collector side (SIEM retention, immutability, who may delete there)
is not visible from the host, which is why the ISM row is "partly" host-checkable. A WEF
subscription that does not select the Security channel is not detectable here. Evidence grade:
good.
""",
}
_TITLE = {
    Platform.LINUX: "Linux logs are forwarded off the host and log files are not world-writable",
    Platform.WINDOWS: "Windows event logs are forwarded off the host and the Security log is admin-only",
}


def event_log_protection(strategy: Strategy, platform: Platform) -> Check:
    """The ISM-1815 check for one strategy: the same commands and judge in every strategy."""
    linux = platform is Platform.LINUX
    return Check(
        id=f"{strategy.value}.{platform.value}_event_log_protection",
        title=_TITLE[platform],
        strategy=strategy,
        ism=(ISM,),
        platforms=frozenset({platform}),
        collect=(
            {"forwarders": SYSLOG_FORWARDING.cmd, "logfiles": LOG_FILES.cmd}
            if linux
            else {"forwarders": LOG_FORWARDERS.cmd, "eventlog": SECURITY_LOG.cmd}
        ),
        judge=judge_linux if linux else judge_windows,
        # v2: Windows judges the DACL (NULL, missing, unparsed, letter-coded rights); Linux no
        # longer counts a module load or a syslog-ng network source as forwarding.
        version=2,
        doc=_DOC[platform].format(strategy=strategy.value).strip(),
    )
