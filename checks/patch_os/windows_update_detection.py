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

from checks._windows import ps_json, unreadable
from checks._windows_patch import iso, span
from checks.facts.windows.dates import ps_date
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

DETECT = (
    "$r = $null; try { $r = (New-Object -ComObject Microsoft.Update.AutoUpdate).Results } "
    "catch { }; "
    "$d = Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate"
    "\\Auto Update\\Results\\Detect' -ErrorAction SilentlyContinue; "
    "$p = Get-ItemProperty 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU' "
    "-ErrorAction SilentlyContinue; "
    "New-Object PSObject -Property @{"
    "LastSearchSuccessDate = $(if ($r -and $r.LastSearchSuccessDate) "
    "{ $r.LastSearchSuccessDate.ToUniversalTime().ToString('o') }); "
    "DetectLastSuccessTime = $(if ($d) { $d.LastSuccessTime }); "
    "NoAutoUpdate = $(if ($p) { $p.NoAutoUpdate }); "
    "DetectionFrequencyEnabled = $(if ($p) { $p.DetectionFrequencyEnabled }); "
    "DetectionFrequency = $(if ($p) { $p.DetectionFrequency }); "
    "UseWUServer = $(if ($p) { $p.UseWUServer })} | ConvertTo-Json -Depth 4 -Compress"
)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    applicable = "ISM-1701" if ctx.internet_facing else "ISM-1702"
    period = timedelta(hours=36) if ctx.internet_facing else timedelta(days=14)
    out = outputs.get("detect")
    why = unreadable(out)
    data: object = None
    if why is None and out is not None:
        try:
            data = ps_json(out)
        except ValueError:
            why = f"output is not JSON ({out.text.strip()[:80]!r})"
    if isinstance(data, list):
        data = data[0] if data else None
    if why is None and not isinstance(data, dict):
        why = "nothing returned"
    info = data if isinstance(data, dict) else {}
    times = [
        t
        for t in (
            ps_date(info.get("LastSearchSuccessDate")),
            ps_date(info.get("DetectLastSuccessTime")),
        )
        if t is not None
    ]
    newest = max(times, default=None)
    observed = {
        "last_search_success": iso(ps_date(info.get("LastSearchSuccessDate"))),
        "detect_last_success": iso(ps_date(info.get("DetectLastSuccessTime"))),
        "no_auto_update": info.get("NoAutoUpdate"),
        "detection_frequency_h": info.get("DetectionFrequency")
        if info.get("DetectionFrequencyEnabled") in (1, "1")
        else None,
        "wsus": info.get("UseWUServer") in (1, "1"),
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
                if info.get("NoAutoUpdate") in (1, "1")
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
    collect={"detect": Cmd(line=DETECT)},
    judge=judge,
    version=1,
)
