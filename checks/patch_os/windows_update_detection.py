"""Windows: does the host check for operating system updates daily / fortnightly (host side)?

ISM-1701 (OS of internet-facing servers scanned for missing patches at least daily) and ISM-1702
(workstations and other servers at least fortnightly) are **partly** host-checkable: an external
vulnerability scanner's schedule is not visible on a host. What the host shows is when Windows
Update last *successfully searched* for updates, which is the host checking itself for missing OS
updates. This outcome covers that host-side part only; the evidence says so.

**Collected (read-only; nothing starts a search):**
- ``(New-Object -ComObject Microsoft.Update.AutoUpdate).Results.LastSearchSuccessDate`` (the
  Automatic Updates results object; reading it does not start a scan), as UTC ISO text;
- ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\Results\\
  Detect`` ``LastSuccessTime`` (UTC text; written by Windows 7 / 8.1 / Server 2012 R2 era agents,
  absent on current builds);
- policy ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU``: ``NoAutoUpdate``,
  ``DetectionFrequencyEnabled`` / ``DetectionFrequency`` (hours), and ``UseWUServer`` (WSUS).

**Which control applies:** ``e8_internet_facing: true`` → ISM-1701 (period 36 h: a day plus the
agent's default 22 h detection cycle with its random offset); otherwise ISM-1702 (14 days). The
other is not_applicable.

**Judgement:** the newest of the two search times. Effective when it is within the period;
ineffective when it is older (the host has not checked for OS updates within the period;
``NoAutoUpdate = 1`` is named in the evidence); no_visibility when neither time can be read (COM
refused in the remote session, PowerShell 2.0 without ``ConvertTo-Json``, access denied, or the
agent reports no successful search).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from checks._windows_patch import iso, span
from checks.facts.fact import Unknown
from checks.facts.windows.update_detection import UPDATE_DETECTION
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    applicable = "ISM-1701" if ctx.internet_facing else "ISM-1702"
    period = timedelta(hours=36) if ctx.internet_facing else timedelta(days=14)
    info = UPDATE_DETECTION.read(outputs.get("detect"))
    why = info.reason if isinstance(info, Unknown) else None
    found = None if isinstance(info, Unknown) else info
    times = [found.last_search_success, found.detect_last_success] if found else []
    newest = max((t for t in times if t is not None), default=None)
    observed = {
        "last_search_success": iso(found.last_search_success) if found else None,
        "detect_last_success": iso(found.detect_last_success) if found else None,
        "no_auto_update": found.no_auto_update if found else None,
        "detection_frequency_h": found.detection_frequency
        if found and found.detection_frequency_enabled == 1
        else None,
        "wsus": bool(found and found.use_wu_server == 1),
        "period": span(period),
    }
    note = "host-side part only: an external scanner's schedule is not visible on the host"
    findings = []
    for ism in ("ISM-1701", "ISM-1702"):
        if ism != applicable:
            klass = "internet-facing" if ctx.internet_facing else "non-internet-facing"
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NOT_APPLICABLE,
                    evidence=f"not applicable to a {klass} host",
                )
            )
            continue
        if why is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, f"Windows Update state unreadable: {why}"
        elif newest is None:
            outcome = Outcome.NO_VISIBILITY
            evidence = (
                "Windows Update reports no successful search (COM results empty or refused in "
                "the remote session, no Detect LastSuccessTime)"
            )
        elif now - newest > period:
            outcome = Outcome.INEFFECTIVE
            off = (
                "; automatic updates disabled by policy (NoAutoUpdate=1)"
                if found and found.no_auto_update == 1
                else ""
            )
            evidence = (
                f"last successful Windows Update search {iso(newest)} ({span(now - newest)} "
                f"ago), beyond the {span(period)} period{off} ({note})"
            )
        else:
            outcome = Outcome.EFFECTIVE
            evidence = (
                f"last successful Windows Update search {iso(newest)} ({span(now - newest)} ago),"
                f" within {span(period)} ({note})"
            )
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed))
    return findings


CHECK = Check(
    id="patch_os.windows_update_detection",
    title="Windows: host checks for OS updates daily (internet-facing) or fortnightly",
    strategy=Strategy.PATCH_OS,
    ism=("ISM-1701", "ISM-1702"),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"detect": UPDATE_DETECTION.cmd},
    judge=judge,
    version=1,
)
