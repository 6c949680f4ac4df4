"""Windows: are operating system security updates installed within ASD's deadlines?

**Collected (read-only; nothing starts a Windows Update scan):**
- the installed cumulative-update level: registry ``CurrentVersion`` ``CurrentBuild`` + ``UBR``
  (with edition and installation type), and ``Get-WmiObject Win32_OperatingSystem`` (product type,
  ``LastBootUpTime``): the same two lines as ``patch_os.windows_os_support``;
- ``Get-HotFix`` (``HotFixID``, ``Description``, ``InstalledOn``): supporting evidence and, for
  builds the table does not cover, the newest install date. ``InstalledOn`` may be null, a
  ``"/Date(ms)/"`` string (Windows PowerShell 5.1) or ISO text;
- pending reboot: ``Test-Path`` of the ``Component Based Servicing\\RebootPending`` and
  ``WindowsUpdate\\Auto Update\\RebootRequired`` keys (JSON booleans);
- the local Windows Update history through the Update Agent COM API
  (``CreateUpdateSearcher().GetTotalHistoryCount()`` / ``QueryHistory``; no ``Search``), newest
  30 OS update entries: date (UTC, as WUA reports it), title, result code (2 succeeded, 3 with
  errors, 4 failed, 5 aborted), operation (1 install, 2 uninstall). Remote sessions are often
  refused (``E_ACCESSDENIED``, seen on Server 2025 and recent Windows 11); the check then goes on
  without it.

**Which controls apply (host class from the inventory):** ``e8_internet_facing: true`` →
ISM-1877 (critical or exploited fixes within ``patch_critical_hours``, 48 h) and ISM-1694 (other
fixes within ``patch_internet_facing_days``, two weeks); otherwise → ISM-1695 (every fix within
``patch_other_days``, one month; ML1-2), ISM-1696 (critical within 48 h; ML3) and ISM-1902 (other
within one month; ML3). The others are not_applicable.

**Method: build.UBR → release date.** ``windows_ubr.csv`` lists every cumulative update for
builds 14393, 17763, 19044/19045, 20348, 22000, 22621/22631, 25398, 26100 (client and Server 2025,
which diverge from January 2026), 26200 and 28000 from 2024-10-08 to 2026-07-22 (monthly security
releases, hotpatches, optional previews and out-of-band releases, from the DataForGeeks copy of
Microsoft's update-history pages). Every monthly security release of the host's build and kind
with a higher UBR is missing (UBRs rise release by release on the non-hotpatch track, so an
out-of-band UBR published on Patch Tuesday is still below that day's security release); a hotpatch
UBR has the security content of its own release date. The oldest missing release starts the clock,
at 17:00 UTC on its release date (about 10:00 in Redmond). After the table ends, Microsoft's calendar
stands in: a security release comes out for every serviced build on the second Tuesday of each
month, so a host still at or below the table's newest UBR provably lacks the first one after
2026-07-22 once it is out. Only releases up to the build's end of updates (ESU included: the
endoflife.date cycle ``windows_lifecycle.csv`` maps the build to, from the feed snapshot) count.
Without a usable snapshot that end is unknown (from a stale one, known only when already past on
the snapshot's date): every tabled release then counts, and whether releases continue after the
table is not assumed, which leaves the host no_visibility rather than effective.

Critical or not cannot be told from a UBR: Microsoft's monthly releases almost always carry fixes
rated Critical or already exploited, so every missing security release is treated as possibly
critical, and the 48-hour controls (ISM-1877/1696) fail 48 hours after a release the host lacks.
Optional previews and out-of-band releases are not counted as security releases (whether an
out-of-band release carries security fixes is not in the data), except the October 2025 WSUS fix
(CVE-2025-59287), whose rows cite Microsoft's advisory and reports of the out-of-band security
updates in their note.

**Judgement, per applicable control (window W):**
- ineffective when a security release the host provably lacks is older than W; when a reboot is
  pending (either key) and the newest update installed since the last boot was installed more
  than W ago, or when the time it became pending is unknown and the host has been up longer than
  W (a staged update is not in force until the restart);
- effective when the host provably has every security release published more than W before
  collection and no reboot is overdue; every control rests on the pending-reboot read (a staged
  update is not in force until the restart), so when the two keys cannot be read the control is
  no_visibility, never "no reboot pending";
- no_visibility otherwise, with the reason: identity unreadable (PowerShell 2.0 has no
  ``ConvertTo-Json``; access denied), a build the table does not cover (Windows Server 2012 R2,
  Windows 7, Insider builds), a UBR newer than the table with no dated evidence of what it is.
  Without table coverage two fallbacks still decide: the newest successful monthly update in the
  Windows Update history (its title starts "YYYY-MM"; the host has that month's security release)
  and, for proof of lateness only, the newest install date of any update (history or
  ``Get-HotFix``): the monthly release that followed it cannot be installed, so a build still
  serviced is late once that release is older than W. ``Get-HotFix`` dates are date-only and
  locale-parsed by PowerShell; a date in the future is ignored.

Caveats: the table must be extended each month (a UBR newer than it is judged from the Windows
Update history or not at all); hotpatch hosts of Windows Server 2025 are not in the source data;
an out-of-band security release outside the table is invisible. CISA KEV is not consulted: the
feed snapshot holds no KB ↔ CVE mapping (none is guessed), and every missing security release is
already judged against the 48-hour window, so a working exploit could not make the verdict
stricter.
Evidence grade: good (the installed level is read from the system; release dates are vendor
data).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from checks._windows_patch import Lifecycle, WinOs, host_os, iso, lifecycle_for, span, updates_for
from checks.facts.fact import Unknown
from checks.facts.windows.os_identity import CURRENT_VERSION, WIN32_OS
from checks.facts.windows.updates import HOTFIXES, REBOOT_PENDING, UPDATE_HISTORY
from checks.patch_os._windows_level import (
    FOREVER,
    Level,
    history_level,
    installed_updates,
    reboot_state,
    table_level,
)
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

INTERNET_FACING = ("ISM-1877", "ISM-1694")
OTHER_HOSTS = ("ISM-1695", "ISM-1696", "ISM-1902")
CHECK_ISM = ("ISM-1877", "ISM-1694", "ISM-1695", "ISM-1696", "ISM-1902")

# ---------------------------------------------------------------------------------------------
# Judge


def _windows(ctx: Context) -> dict[str, timedelta]:
    p = ctx.policy
    crit = timedelta(hours=p.patch_critical_hours)
    month = timedelta(days=p.patch_other_days)
    return {
        "ISM-1877": crit,
        "ISM-1694": timedelta(days=p.patch_internet_facing_days),
        "ISM-1695": month,
        "ISM-1696": crit,
        "ISM-1902": month,
    }


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    applicable = INTERNET_FACING if ctx.internet_facing else OTHER_HOSTS
    klass = "internet-facing" if ctx.internet_facing else f"non-internet-facing {ctx.role}"
    read_host = host_os(
        CURRENT_VERSION.read(outputs.get("current_version")), WIN32_OS.read(outputs.get("os"))
    )
    host = None if isinstance(read_host, str) else read_host
    read_fixes = HOTFIXES.read(outputs.get("hotfixes"))
    hotfixes = () if isinstance(read_fixes, Unknown) else read_fixes
    hotfix_why = read_fixes.reason if isinstance(read_fixes, Unknown) else None
    read_history = UPDATE_HISTORY.read(outputs.get("update_history"))
    history = () if isinstance(read_history, Unknown) else read_history.entries
    history_why = read_history.reason if isinstance(read_history, Unknown) else None
    read_keys = REBOOT_PENDING.read(outputs.get("reboot"))
    keys = None if isinstance(read_keys, Unknown) else read_keys
    reboot_why = read_keys.reason if isinstance(read_keys, Unknown) else None
    installs = installed_updates(hotfixes, history, now)
    observed: dict[str, Any] = {
        "hotfix_count": len(hotfixes),
        "hotfixes_unreadable": hotfix_why,
        "update_history_unreadable": history_why,
        "newest_install": (f"{installs[0].what} {iso(installs[0].moment)}" if installs else None),
        "reboot_pending": list(keys) if keys is not None else None,
        "reboot_unreadable": reboot_why,
    }
    level = Level()
    lc: Lifecycle | None = None
    if host is None:
        level.blind = f"OS identity not readable: {read_host}"
    else:
        observed.update(host.observed())
        observed["last_boot"] = iso(host.last_boot)
        lc = lifecycle_for(host, ctx.feeds, ctx.collected_at)
        observed["release"] = lc.release if lc is not None else None
        found = table_level(host, lc, now)
        if found is None:
            covered = bool(updates_for(host.build, host.kind))
            level.blind = (
                "the registry reported no UBR (update build revision)"
                if covered
                else f"build {host.build} ({host.kind}) is not covered by windows_ubr.csv"
                + ("" if lc is not None else " nor windows_lifecycle.csv")
            )
            if history_why:
                level.blind += f"; Windows Update history unreadable ({history_why})"
            elif installs:
                level.blind += (
                    f"; the newest install ({installs[0].what}, {iso(installs[0].moment)}) does "
                    "not show which monthly release it was"
                )
            level.needs_history = True
        else:
            level = found
        if level.needs_history:
            history_level(level, installs, lc, now)
    since, reboot_text = reboot_state(keys, installs, host.last_boot if host else None)
    observed.update(
        oldest_missing=iso(level.oldest_missing) if level.oldest_missing else None,
        missing=level.missing or None,
        complete_until=(
            "no further releases" if level.complete_until == FOREVER else iso(level.complete_until)
        ),
        basis=level.basis[:4],
    )
    findings = []
    for ism in CHECK_ISM:
        if ism not in applicable:
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NOT_APPLICABLE,
                    evidence=f"not applicable to a {klass} host",
                )
            )
            continue
        window = _windows(ctx)[ism]
        findings.append(
            _verdict(ism, window, now, level, since, reboot_text, reboot_why, host, observed)
        )
    return findings


def _verdict(
    ism: str,
    window: timedelta,
    now: datetime,
    level: Level,
    since: datetime | None,
    reboot_text: str,
    reboot_why: str | None,
    host: WinOs | None,
    observed: dict[str, Any],
) -> Finding:
    cutoff = now - window
    obs = {**observed, "window": span(window)}
    late: list[str] = []
    if level.oldest_missing is not None and level.oldest_missing <= cutoff:
        critical = (
            "; every missing monthly security release is treated as critical"
            if window <= timedelta(hours=72)
            else ""
        )
        late.append(
            f"missing {level.missing}, released {span(now - level.oldest_missing)} before "
            f"collection (window {span(window)}{critical})"
        )
    if reboot_text:
        uptime = now - host.last_boot if host is not None and host.last_boot else None
        if since is not None and now - since > window:
            late.append(f"{reboot_text}: pending {span(now - since)}, so it is not in force")
        elif since is None and (uptime is None or uptime > window):
            up = f"up {span(uptime)}" if uptime is not None else "boot time unknown"
            late.append(
                f"{reboot_text}; when it became pending is unknown ({up}), so a staged update "
                "may have been waiting longer than the window"
            )
    basis = "; ".join(level.basis)
    if late:
        return Finding(ism=ism, outcome=Outcome.INEFFECTIVE, evidence="; ".join(late), observed=obs)
    complete = level.complete_until is not None and level.complete_until > cutoff
    if reboot_why is not None and complete:
        return Finding(
            ism=ism,
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"pending-reboot state not readable ({reboot_why}): an installed update may not "
                f"be in force until a restart{' (' + basis + ')' if basis else ''}"
            ),
            observed=obs,
        )
    if complete:
        if level.complete_until == FOREVER:
            text = f"every security release for this build is installed ({basis})"
        elif level.oldest_missing is not None:
            text = (
                f"missing {level.missing}, released {span(now - level.oldest_missing)} ago, "
                f"inside the window of {span(window)} ({basis})"
            )
        else:
            text = f"no security release older than {span(window)} is missing ({basis})"
        if reboot_text:
            text += f"; {reboot_text} (within the window)"
        return Finding(ism=ism, outcome=Outcome.EFFECTIVE, evidence=text, observed=obs)
    reason = level.blind or (
        f"cannot tell whether security releases published before {cutoff.date()} are installed"
        f"{' (' + basis + ')' if basis else ''}"
    )
    extra = [b for b in level.basis if "windows_ubr.csv" not in b or not level.blind]
    if level.blind and extra:
        reason += f" ({'; '.join(extra)})"
    return Finding(ism=ism, outcome=Outcome.NO_VISIBILITY, evidence=reason, observed=obs)


CHECK = Check(
    id="patch_os.windows_updates",
    title="Windows OS security updates installed within the deadline",
    strategy=Strategy.PATCH_OS,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.WINDOWS}),
    collect={
        "current_version": CURRENT_VERSION.cmd,
        "os": WIN32_OS.cmd,
        "hotfixes": HOTFIXES.cmd,
        "reboot": REBOOT_PENDING.cmd,
        "update_history": UPDATE_HISTORY.cmd,
    },
    # The installed level comes from the registry's build.UBR or, for builds the table does not
    # cover, the newest successful monthly update in the Windows Update history (its build from
    # the registry or WMI); the reboot read shows no staged update waits. ``hotfixes`` (install
    # dates) only proves lateness or dates a pending reboot; WMI's boot time only shows that a
    # reboot has waited too long: an effective verdict needs neither.
    rests_on=dict.fromkeys(
        CHECK_ISM, ("current_version|os", "current_version|update_history", "reboot")
    ),
    judge=judge,
    version=3,
)
