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
  against ``windows_backup_agents.csv`` beside this module (service-name, display-name or either
  (``any``) patterns → product: Windows Server Backup, Veeam Agent, Commvault, Acronis, Veritas
  Backup Exec and NetBackup, ShadowProtect, Rubrik, Azure Backup MARS, NetWorker, IBM Storage
  Protect (TSM) and N-able Cove). Every row cites the public document or script that names the
  service, and an example name the tests match; agents without a sourced row (Datto, Cohesity,
  Arcserve, Avamar, Data Protector, Druva, NAKIVO…) are not recognised.

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
- ineffective: the newest local success is older than the RPO and no recognised backup agent
  runs; or no backup evidence at all (no Windows Server Backup history, no backup event, no
  running service of a recognised agent; the evidence names the products looked for, since an
  agent the table does not know is not seen). A backup agent whose service is installed but not
  running is named in the evidence but does not count.

Caveats: agentless backups (hypervisor snapshots, storage replication, a backup server pulling
over the network) leave no trace on the host: record them as an exception or attestation. Volume
shadow copies, File History and OneDrive are not backups for this control and are not looked at.
Whether the backup is complete, restorable or off-host is not visible (ISM-1810/1811/1515).
Evidence grade: fair (job history, not a restore).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from importlib.resources import files
from typing import Any

from checks._windows_patch import iso, span
from checks.facts.fact import Unknown
from checks.facts.windows.backup import BACKUP_EVENTS, WB_SUMMARY, WBADMIN_VERSIONS
from checks.facts.windows.services import SERVICES, Service
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy


@dataclass(frozen=True)
class AgentPattern:
    field: str  # name | display | any (the service name or the display name)
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
RECOGNISED = ", ".join(sorted({p.product for p in PATTERNS if p.kind == "agent"}))


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


def match_agents(services: tuple[Service, ...]) -> list[Agent]:
    """Backup services found, one per service, in service-name order."""
    found: dict[str, Agent] = {}
    for svc in services:
        name, display = svc.name, svc.display_name
        for p in PATTERNS:
            values = {"name": (name,), "display": (display,), "any": (name, display)}[p.field]
            hit = any(v and fnmatchcase(v.lower(), p.pattern) for v in values)
            if hit and name not in found:
                found[name] = Agent(
                    product=p.product,
                    kind=p.kind,
                    service=name,
                    status=svc.status,
                    start=svc.start_type,
                )
    return [found[k] for k in sorted(found)]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    rpo_var = ctx.profile.e8_backup_rpo_hours
    rpo_hours = rpo_var if rpo_var is not None else float(ctx.policy.backup_rpo_hours)
    rpo = timedelta(hours=rpo_hours)
    blind: list[str] = []
    successes: list[tuple[datetime, str]] = []
    notes: list[str] = []
    observed: dict[str, Any] = {"rpo_hours": rpo_hours}

    summary = WB_SUMMARY.read(outputs.get("summary"))
    if isinstance(summary, Unknown):
        blind.append(f"Get-WBSummary: {summary.reason}")
    elif summary.installed:
        last_ok, last_try, hr = summary.last_success, summary.last_attempt, summary.last_result_hr
        observed["wsb"] = {
            "last_success": iso(last_ok),
            "last_attempt": iso(last_try),
            "last_result_hr": hr,
            "versions": summary.versions,
        }
        if last_ok is not None:
            successes.append((last_ok, "Windows Server Backup (Get-WBSummary)"))
        if last_try is not None and hr not in (0, None) and (last_ok is None or last_try > last_ok):
            code = f"0x{hr & 0xFFFFFFFF:08X}" if hr is not None else "?"
            notes.append(f"the last Windows Server Backup attempt {iso(last_try)} failed ({code})")
    else:
        observed["wsb"] = "WindowsServerBackup module not installed"

    wbadmin = WBADMIN_VERSIONS.read(outputs.get("versions"))
    if isinstance(wbadmin, Unknown):
        blind.append(f"wbadmin: {wbadmin.reason}")
    elif wbadmin.present:
        observed["wbadmin_versions"] = len(wbadmin.versions)
        if wbadmin.versions:
            successes.append((wbadmin.versions[0], "wbadmin get versions"))
        elif wbadmin.refused is not None:
            line = wbadmin.refused[:120] or "needs an elevated administrator"
            blind.append(f"wbadmin: access denied ({line})")

    events = BACKUP_EVENTS.read(outputs.get("events"))
    if isinstance(events, Unknown):
        blind.append(f"Microsoft-Windows-Backup event log: {events.reason}")
    else:
        ok, bad = events.success, events.failure
        ok_time = ok.time if ok else None
        bad_time = bad.time if bad else None
        observed["events"] = {
            "log_present": events.log_present,
            "last_success": iso(ok_time),
            "last_failure": iso(bad_time),
            "last_failure_id": bad.id if bad else None,
        }
        if ok_time is not None:
            successes.append((ok_time, "Microsoft-Windows-Backup event 4"))
        if bad is not None and bad_time is not None and (ok_time is None or bad_time > ok_time):
            message = bad.message.strip().splitlines()
            detail = f": {message[0][:160]}" if message else ""
            notes.append(f"backup failure event {bad.id} at {iso(bad_time)}{detail}")

    services = SERVICES.read(outputs.get("services"))
    agents: list[Agent] = []
    services_read = not isinstance(services, Unknown)
    if isinstance(services, Unknown):
        blind.append(f"services: {services.reason}")
    else:
        agents = match_agents(services)
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
        return finding(
            Outcome.INEFFECTIVE,
            f"{stale}, and no service of a recognised backup agent runs (looked for: "
            f"{RECOGNISED}){tail}{idle_note}",
        )
    if blind:
        return finding(
            Outcome.NO_VISIBILITY,
            f"no backup evidence found, but not every source could be read: {'; '.join(blind)}"
            f"{tail}",
        )
    return finding(
        Outcome.INEFFECTIVE,
        "no backup evidence: no successful Windows Server Backup, no wbadmin backup version, "
        "no Microsoft-Windows-Backup success event and no running service of a recognised backup "
        f"agent (looked for: {RECOGNISED}; an agent not in windows_backup_agents.csv is not seen)"
        f"{tail}{idle_note}",
    )


CHECK = Check(
    id="backups.windows_backup",
    title="Windows backups are more recent than the recovery point objective",
    strategy=Strategy.BACKUPS,
    ism=("ISM-1511",),
    platforms=frozenset({Platform.WINDOWS}),
    grade=Grade.FAIR,
    collect={
        "summary": WB_SUMMARY.cmd,
        "versions": WBADMIN_VERSIONS.cmd,
        "events": BACKUP_EVENTS.cmd,
        "services": SERVICES.cmd,
    },
    # Effective needs one record of a completed backup within the RPO: Get-WBSummary's last
    # success, a wbadmin catalogue version or a Microsoft-Windows-Backup event 4 (alternatives:
    # each is Windows Server Backup's own record). The service list only names third-party
    # agents, which never make the control effective.
    rests_on={"ISM-1511": ("summary|versions|events",)},
    judge=judge,
    version=1,
)
