"""Windows: is there a successful backup newer than the recovery point objective?

**Collected (read-only PowerShell; Windows Server Backup reads need Administrators or Backup
Operators, which the WinRM account has or has not: access denied is no_visibility):**
- ``summary``: ``Get-WBSummary`` (``LastSuccessfulBackupTime``, ``LastBackupTime``,
  ``LastBackupResultHR``, ``LastBackupResultDetailedHR``, ``NumberOfVersions``,
  ``NextBackupTime``), only where the WindowsServerBackup module is installed; otherwise the step
  prints ``{"E8Absent":true}``;
- ``versions``: ``wbadmin get versions`` (when ``%SystemRoot%\\System32\\wbadmin.exe`` exists),
  its text and exit code as JSON. Each backup has a ``Version identifier: MM/DD/YYYY-HH:MM``, in
  UTC and not localised (from memory; verify), which is what is parsed;
- ``events``: the newest ``Microsoft-Windows-Backup`` event 4 ("the backup operation has finished
  successfully") and the newest failure event (ids 5, 8, 9, 17, 22, 49, 50, 52, 517, 518, 521, 527,
  528, 544, 545, 546, 561, 564, 612; from memory, verify), with UTC times formatted on the host;
  "no events" and "no such log" are not errors;
- ``services``: ``Get-Service`` (``Name``, ``DisplayName``, ``Status``, ``StartType``), matched
  against ``windows_backup_agents.csv`` beside this module (service-name or display-name patterns
  → product; Veeam, Commvault, Acronis, Veritas Backup Exec and NetBackup, Datto, ShadowProtect,
  Cohesity, Rubrik, Arcserve, Azure Backup MARS, NetWorker, Avamar, Data Protector, IBM Storage
  Protect, N-able, Druva, NAKIVO; names from memory, marked "verify").

**ISM-1511** (ML1-3, backups performed and retained per business criticality). The model fixes no
frequency; the RPO is the organisation's: ``e8_backup_rpo_hours`` for the host, else the policy's
``backup_rpo_hours``. The newest success is the latest of ``LastSuccessfulBackupTime``, the
newest ``wbadmin`` version and the newest event 4.
- effective: the newest success is within the RPO of the collection time;
- no_visibility: a third-party backup agent's service is running and no local success is within
  the RPO ("backup run by <product>; recency lives on its console — attest it or add an
  exception"); or a local success exists but is older than the RPO while the service list could
  not be read (an agent cannot be ruled out); or nothing was found while a source could not be
  read (access denied, PowerShell 2.0 without ``ConvertTo-Json``);
- ineffective: the newest local success is older than the RPO and no backup agent runs; or no
  backup evidence at all (no Windows Server Backup history, no backup event, no running agent
  service). A backup agent whose service is installed but not running is named in the evidence
  but does not count.

Caveats: agentless backups (hypervisor snapshots, storage replication, a backup server pulling
over the network) leave no trace on the host: record them as an exception or attestation. Volume
shadow copies, File History and OneDrive are not backups for this control and are not looked at.
Whether the backup is complete, restorable or off-host is not visible (ISM-1810/1811/1515).
Evidence grade: fair (job history, not a restore).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from importlib.resources import files
from typing import Any

from checks._windows import as_list, ps_json, unreadable
from checks._windows_patch import iso, span
from checks.facts.windows.dates import ps_date
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

FAILURE_EVENTS = (
    5,
    8,
    9,
    17,
    22,
    49,
    50,
    52,
    517,
    518,
    521,
    527,
    528,
    544,
    545,
    546,
    561,
    564,
    612,
)
_VERSION_ID = re.compile(r"\b(\d{2})/(\d{2})/(\d{4})-(\d{2}):(\d{2})\b")
_DENIED_TEXT = ("access is denied", "requires elevation")
# ConvertTo-Json writes the ServiceControllerStatus and ServiceStartMode enums as numbers.
_STATUS = {1: "Stopped", 2: "StartPending", 3: "StopPending", 4: "Running", 7: "Paused"}
_START = {0: "Boot", 1: "System", 2: "Automatic", 3: "Manual", 4: "Disabled"}


@dataclass(frozen=True)
class AgentPattern:
    field: str  # name | display
    pattern: str
    product: str
    kind: str  # agent | windows


def _load_patterns() -> tuple[AgentPattern, ...]:
    text = files("checks.backups").joinpath("windows_backup_agents.csv").read_text("utf-8")
    return tuple(
        AgentPattern(r["field"], r["pattern"].lower(), r["product"], r["kind"])
        for r in csv.DictReader(text.splitlines())
    )


PATTERNS = _load_patterns()


@dataclass(frozen=True)
class Agent:
    product: str
    kind: str
    service: str
    status: str
    start: str

    @property
    def running(self) -> bool:
        return self.status == "Running"


def match_agents(services: list[dict[str, Any]]) -> list[Agent]:
    """Backup services found, one per service, in service-name order."""
    found: dict[str, Agent] = {}
    for svc in services:
        name = str(svc.get("Name") or "")
        display = str(svc.get("DisplayName") or "")
        for p in PATTERNS:
            value = name if p.field == "name" else display
            if value and fnmatchcase(value.lower(), p.pattern) and name not in found:
                status, start = svc.get("Status"), svc.get("StartType")
                found[name] = Agent(
                    product=p.product,
                    kind=p.kind,
                    service=name,
                    status=_STATUS.get(status, str(status))
                    if isinstance(status, int)
                    else str(status),
                    start=_START.get(start, str(start)) if isinstance(start, int) else str(start),
                )
    return [found[k] for k in sorted(found)]


def parse_versions(text: str) -> list[datetime]:
    """``wbadmin get versions`` version identifiers (MM/DD/YYYY-HH:MM, UTC), newest first."""
    out = []
    for m in _VERSION_ID.finditer(text):
        month, day, year, hour, minute = (int(g) for g in m.groups())
        try:
            out.append(datetime(year, month, day, hour, minute, tzinfo=UTC))
        except ValueError:
            continue
    return sorted(set(out), reverse=True)


def _json(out: Output | None) -> tuple[Any, str | None]:
    why = unreadable(out)
    if why is not None or out is None:
        return None, why
    try:
        data = ps_json(out)
    except ValueError:
        return None, f"output is not JSON ({out.text.strip()[:80]!r})"
    if data is None and not out.ok:
        err = next((ln.strip() for ln in out.err.splitlines() if ln.strip()), "no output")
        return None, f"failed: {err[:160]}"
    return data, None


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    rpo_var = ctx.vars.get("e8_backup_rpo_hours")
    rpo_hours = float(rpo_var) if rpo_var not in (None, "") else float(ctx.policy.backup_rpo_hours)
    rpo = timedelta(hours=rpo_hours)
    blind: list[str] = []
    successes: list[tuple[datetime, str]] = []
    notes: list[str] = []
    observed: dict[str, Any] = {"rpo_hours": rpo_hours}

    summary, why = _json(outputs.get("summary"))
    if why is not None:
        blind.append(f"Get-WBSummary: {why}")
    elif isinstance(summary, dict) and not summary.get("E8Absent"):
        last_ok = ps_date(summary.get("LastSuccessfulBackupTime"))
        last_try = ps_date(summary.get("LastBackupTime"))
        hr = summary.get("LastBackupResultHR")
        observed["wsb"] = {
            "last_success": iso(last_ok),
            "last_attempt": iso(last_try),
            "last_result_hr": hr,
            "versions": summary.get("NumberOfVersions"),
        }
        if last_ok is not None:
            successes.append((last_ok, "Windows Server Backup (Get-WBSummary)"))
        if last_try is not None and hr not in (0, None) and (last_ok is None or last_try > last_ok):
            code = f"0x{hr & 0xFFFFFFFF:08X}" if isinstance(hr, int) else str(hr)
            notes.append(f"the last Windows Server Backup attempt {iso(last_try)} failed ({code})")
    else:
        observed["wsb"] = "WindowsServerBackup module not installed"

    versions_data, why = _json(outputs.get("versions"))
    if why is not None:
        blind.append(f"wbadmin: {why}")
    elif isinstance(versions_data, dict) and versions_data.get("Present"):
        text = str(versions_data.get("Text") or "")
        found = parse_versions(text)
        observed["wbadmin_versions"] = len(found)
        if found:
            successes.append((found[0], "wbadmin get versions"))
        elif any(d in text.lower() for d in _DENIED_TEXT):
            line = next((ln.strip() for ln in text.splitlines() if "error" in ln.lower()), "")
            blind.append(
                f"wbadmin: access denied ({line[:120] or 'needs an elevated administrator'})"
            )

    events, why = _json(outputs.get("events"))
    if why is not None:
        blind.append(f"Microsoft-Windows-Backup event log: {why}")
    elif isinstance(events, dict):
        ok = events.get("Success") if isinstance(events.get("Success"), dict) else None
        bad = events.get("Failure") if isinstance(events.get("Failure"), dict) else None
        ok_time = ps_date(ok.get("Time")) if ok else None
        bad_time = ps_date(bad.get("Time")) if bad else None
        observed["events"] = {
            "log_present": events.get("LogPresent"),
            "last_success": iso(ok_time),
            "last_failure": iso(bad_time),
            "last_failure_id": bad.get("Id") if bad else None,
        }
        if ok_time is not None:
            successes.append((ok_time, "Microsoft-Windows-Backup event 4"))
        if bad is not None and bad_time is not None and (ok_time is None or bad_time > ok_time):
            message = str(bad.get("Message") or "").strip().splitlines()
            detail = f": {message[0][:160]}" if message else ""
            notes.append(f"backup failure event {bad.get('Id')} at {iso(bad_time)}{detail}")

    services, why = _json(outputs.get("services"))
    agents: list[Agent] = []
    services_read = why is None
    if why is not None:
        blind.append(f"services: {why}")
    else:
        agents = match_agents([s for s in as_list(services) if isinstance(s, dict)])
    third = [a for a in agents if a.kind == "agent"]
    running = [a for a in third if a.running]
    idle = [a for a in third if not a.running]
    observed["agents"] = [f"{a.product} [{a.service}: {a.status}, {a.start}]" for a in agents][:10]

    newest = max(successes, default=None)
    if newest is not None:
        observed["newest_success"] = iso(newest[0])
        observed["newest_source"] = newest[1]
    tail = f"; {'; '.join(notes)}" if notes else ""
    agent_note = (
        f"; {', '.join(sorted({a.product for a in running}))} also running" if running else ""
    )
    idle_note = (
        "; installed but not running: "
        + ", ".join(f"{a.product} ({a.service} {a.status}, {a.start})" for a in idle)
        if idle
        else ""
    )

    def finding(outcome: Outcome, evidence: str) -> list[Finding]:
        return [Finding(ism="ISM-1511", outcome=outcome, evidence=evidence, observed=observed)]

    if newest is not None and now - newest[0] <= rpo:
        return finding(
            Outcome.EFFECTIVE,
            f"newest successful backup {iso(newest[0])} ({newest[1]}), "
            f"{span(now - newest[0])} before collection, within the RPO of {rpo_hours:g} h"
            f"{tail}{agent_note}",
        )
    stale = (
        f"newest local successful backup {iso(newest[0])} ({newest[1]}) is "
        f"{span(now - newest[0])} old, beyond the RPO of {rpo_hours:g} h"
        if newest is not None
        else ""
    )
    if running:
        products = ", ".join(sorted({f"{a.product} ({a.service})" for a in running}))
        return finding(
            Outcome.NO_VISIBILITY,
            f"backup run by {products}; recency lives on its console — attest it or add an "
            f"exception{'; ' + stale if stale else ''}{tail}",
        )
    if newest is not None:
        if not services_read:
            return finding(
                Outcome.NO_VISIBILITY,
                f"{stale}, but the service list could not be read, so a third-party backup agent "
                f"cannot be ruled out ({'; '.join(blind)}){tail}",
            )
        return finding(Outcome.INEFFECTIVE, f"{stale}{tail}{idle_note}")
    if blind:
        return finding(
            Outcome.NO_VISIBILITY,
            f"no backup evidence found, but not every source could be read: {'; '.join(blind)}"
            f"{tail}",
        )
    return finding(
        Outcome.INEFFECTIVE,
        "no backup evidence: no successful Windows Server Backup, no wbadmin backup version, "
        "no Microsoft-Windows-Backup success event and no running backup agent service"
        f"{tail}{idle_note}",
    )


_SUMMARY = (
    "if (Get-Command Get-WBSummary -ErrorAction SilentlyContinue) { Get-WBSummary | "
    "Select-Object LastSuccessfulBackupTime,LastBackupTime,LastBackupResultHR,"
    "LastBackupResultDetailedHR,NumberOfVersions,NextBackupTime | "
    "ConvertTo-Json -Depth 4 -Compress } else { '{\"E8Absent\":true}' }"
)
_VERSIONS = (
    "$w = Join-Path $env:SystemRoot 'System32\\wbadmin.exe'\n"
    "if (Test-Path -LiteralPath $w) {\n"
    "  $t = (& $w get versions 2>&1 | Out-String)\n"
    "  New-Object PSObject -Property @{ Present = $true; ExitCode = $LASTEXITCODE; Text = $t }"
    " | ConvertTo-Json -Compress\n"
    "} else { New-Object PSObject -Property @{ Present = $false } | ConvertTo-Json -Compress }"
)
_EVENTS = (
    "$f = \"yyyy-MM-dd'T'HH:mm:ss'Z'\"\n"
    "$inv = [Globalization.CultureInfo]::InvariantCulture\n"
    "function E8Last($ids) {\n"
    "  try {\n"
    "    $filter = @{ LogName = 'Microsoft-Windows-Backup'; Id = $ids }\n"
    "    $e = Get-WinEvent -FilterHashtable $filter -MaxEvents 1 -ErrorAction Stop\n"
    "    $m = [string]$e.Message\n"
    "    if ($m.Length -gt 200) { $m = $m.Substring(0, 200) }\n"
    "    New-Object PSObject -Property @{ Id = $e.Id; "
    "Time = $e.TimeCreated.ToUniversalTime().ToString($f, $inv); Message = $m }\n"
    "  } catch {\n"
    "    $id = [string]$_.FullyQualifiedErrorId\n"
    "    if ($id -notmatch 'NoMatchingEventsFound|NoMatchingLogsFound') {\n"
    "      throw ('Get-WinEvent: ' + $_.Exception.Message + ' (' + $id + ')')\n"
    "    }\n"
    "  }\n"
    "}\n"
    "$log = @(Get-WinEvent -ListLog 'Microsoft-Windows-Backup' -ErrorAction SilentlyContinue).Count -gt 0\n"
    f"$bad = @({', '.join(str(i) for i in FAILURE_EVENTS)})\n"
    "New-Object PSObject -Property @{ LogPresent = $log; Success = (E8Last @(4)); "
    "Failure = (E8Last $bad) } | ConvertTo-Json -Depth 4 -Compress"
)

CHECK = Check(
    id="backups.windows_backup",
    title="Windows backups are more recent than the recovery point objective",
    strategy=Strategy.BACKUPS,
    ism=("ISM-1511",),
    platforms=frozenset({Platform.WINDOWS}),
    grade=Grade.FAIR,
    collect={
        "summary": Cmd(line=_SUMMARY),
        "versions": Cmd(line=_VERSIONS),
        "events": Cmd(line=_EVENTS),
        "services": Cmd(
            line="Get-Service -ErrorAction SilentlyContinue | "
            "Select-Object Name,DisplayName,Status,StartType | ConvertTo-Json -Depth 4 -Compress"
        ),
    },
    judge=judge,
    version=1,
)
