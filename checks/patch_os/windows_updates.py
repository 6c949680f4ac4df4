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
2026-07-22 once it is out. Only releases up to the build's end of updates (ESU included, from
``windows_lifecycle.csv``) count.

Critical or not cannot be told from a UBR: Microsoft's monthly releases almost always carry fixes
rated Critical or already exploited, so every missing security release is treated as possibly
critical, and the 48-hour controls (ISM-1877/1696) fail 48 hours after a release the host lacks.
Optional previews and out-of-band releases are not counted as security releases (whether an
out-of-band release carries security fixes is not in the data), except the October 2025 WSUS fix
(CVE-2025-59287), marked in the table from memory.

**Judgement, per applicable control (window W):**
- ineffective when a security release the host provably lacks is older than W; when a reboot is
  pending (either key) and the newest update installed since the last boot was installed more
  than W ago, or when the time it became pending is unknown and the host has been up longer than
  W (a staged update is not in force until the restart);
- effective when the host provably has every security release published more than W before
  collection and no reboot is overdue;
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
an out-of-band security release outside the table is invisible; whether a specific CVE is on
CISA KEV is not consulted. A working exploit found for a non-critical fix is not visible either.
Evidence grade: good (the installed level is read from the system; release dates are vendor
data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from checks._windows import as_list, ps_json, unreadable
from checks._windows_patch import (
    CURRENT_VERSION,
    UBR_TABLE_COMPLETE,
    WIN32_OS,
    Lifecycle,
    WinOs,
    iso,
    lifecycle_for,
    next_patch_tuesday,
    patch_tuesday,
    read_os,
    release_moment,
    span,
    updates_for,
)
from checks.facts.windows.dates import ps_date
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

INTERNET_FACING = ("ISM-1877", "ISM-1694")
OTHER_HOSTS = ("ISM-1695", "ISM-1696", "ISM-1902")
CHECK_ISM = ("ISM-1877", "ISM-1694", "ISM-1695", "ISM-1696", "ISM-1902")

FOREVER = datetime.max.replace(tzinfo=UTC)

_MONTHLY_TITLE = re.compile(
    r"^(\d{4})-(\d{2}) (?:Cumulative Update(?: Preview)?|Security Monthly Quality Rollup"
    r"|Security Only Quality Update) for (?:Windows|Microsoft server operating system)",
    re.I,
)
_KB = re.compile(r"\bKB\d{6,8}\b", re.I)


@dataclass(frozen=True)
class Installed:
    """One installed update with a date: from the Windows Update history or Get-HotFix."""

    moment: datetime
    what: str
    source: str  # history | hotfix
    month: tuple[int, int] | None = None  # YYYY-MM of a monthly OS security update title


@dataclass
class Level:
    """What the host provably has and lacks."""

    oldest_missing: datetime | None = None
    missing: str = ""
    complete_until: datetime | None = None
    basis: list[str] = field(default_factory=list)
    blind: str | None = None
    needs_history: bool = False  # the table alone cannot place the host


# ---------------------------------------------------------------------------------------------
# Parsing


def _first(text: str) -> str:
    return next((ln.strip()[:160] for ln in text.splitlines() if ln.strip()), "")


def parse_hotfixes(out: Output | None) -> tuple[list[dict[str, Any]], str | None]:
    why = unreadable(out)
    if why is not None or out is None:
        return [], why
    try:
        data = ps_json(out)
    except ValueError:
        return [], "Get-HotFix output is not JSON"
    if data is None and not out.ok:
        return [], f"Get-HotFix failed: {_first(out.err)}"
    return [i for i in as_list(data) if isinstance(i, dict)], None


def parse_history(out: Output | None) -> tuple[list[dict[str, Any]], str | None]:
    why = unreadable(out)
    if why is not None or out is None:
        return [], why
    try:
        data = ps_json(out)
    except ValueError:
        return [], "Windows Update history output is not JSON"
    if not isinstance(data, dict):
        return [], f"Windows Update history not returned ({_first(out.err) or 'no output'})"
    return [e for e in as_list(data.get("Entries")) if isinstance(e, dict)], None


def installed_updates(
    hotfixes: list[dict[str, Any]], history: list[dict[str, Any]], now: datetime
) -> list[Installed]:
    """Dated installs, newest first; future dates (misparsed locales) are dropped."""
    found: list[Installed] = []
    removed = {
        kb.upper()
        for e in history
        if e.get("Operation") == 2
        for kb in _KB.findall(str(e.get("Title") or ""))
    }
    for e in history:
        moment = ps_date(e.get("Date"))
        title = str(e.get("Title") or "")
        if moment is None or moment > now or e.get("Operation") != 1:
            continue
        if e.get("ResultCode") not in (2, 3):
            continue
        m = _MONTHLY_TITLE.match(title)
        kbs = {k.upper() for k in _KB.findall(title)}
        month = (int(m.group(1)), int(m.group(2))) if m and not kbs & removed else None
        found.append(Installed(moment, title[:120], "history", month))
    for h in hotfixes:
        moment = ps_date(h.get("InstalledOn"))
        if moment is None or moment > now:
            continue
        what = f"{h.get('HotFixID') or '?'} ({h.get('Description') or 'update'})"
        found.append(Installed(moment, what, "hotfix"))
    return sorted(found, key=lambda i: i.moment, reverse=True)


def parse_reboot(out: Output | None) -> tuple[list[str] | None, str | None]:
    """Which pending-reboot keys exist; None when unreadable."""
    why = unreadable(out)
    if why is not None or out is None:
        return None, why
    try:
        data = ps_json(out)
    except ValueError:
        return None, "pending-reboot output is not JSON"
    if not isinstance(data, dict):
        return None, f"pending-reboot state not returned ({_first(out.err) or 'no output'})"
    names = {
        "CbsRebootPending": "Component Based Servicing\\RebootPending",
        "WuRebootRequired": "WindowsUpdate\\Auto Update\\RebootRequired",
    }
    return [label for key, label in names.items() if data.get(key) is True], None


# ---------------------------------------------------------------------------------------------
# The installed level


def _updates_continue(lc: Lifecycle | None, day: date) -> bool:
    end = lc.updates_end if lc is not None else None
    return end is not None and day <= end


def _after_table(
    level: Level, lc: Lifecycle | None, now: datetime, have_newer: bool, host_version: str = ""
) -> None:
    """The host has every security release in the table: what the calendar says after it."""
    first = next_patch_tuesday(UBR_TABLE_COMPLETE)
    if lc is not None and lc.updates_end is not None and first > lc.updates_end:
        level.complete_until = FOREVER
        level.basis.append(f"no security releases for this build after {lc.updates_end}")
        return
    level.complete_until = release_moment(first)
    if have_newer:
        level.basis.append(
            f"{host_version} is newer than everything in windows_ubr.csv (complete to "
            f"{UBR_TABLE_COMPLETE})"
        )
        level.needs_history = True
        level.blind = (
            f"{host_version} is newer than windows_ubr.csv (complete to {UBR_TABLE_COMPLETE}), "
            "so its release date is unknown: extend the table, or let the scanning account read "
            "the Windows Update history"
        )
        return
    if release_moment(first) > now:
        return
    if not _updates_continue(lc, first):
        level.blind = (
            "the installed UBR is the newest in windows_ubr.csv, and whether Microsoft still "
            f"published updates for this build after {UBR_TABLE_COMPLETE} is not recorded"
        )
        level.complete_until = release_moment(first)
        return
    if release_moment(first) <= now:
        level.oldest_missing = release_moment(first)
        level.missing = (
            f"the {first:%Y-%m} monthly security release (published {first}, after "
            f"windows_ubr.csv ends on {UBR_TABLE_COMPLETE}; the installed UBR is not newer than "
            "the table, so it cannot include it)"
        )


def table_level(host: WinOs, lc: Lifecycle | None, now: datetime) -> Level | None:
    """The level from the UBR table, or None when the table has nothing for this build.

    A hotpatch UBR (exact match) has the security content of its release date. Any other UBR
    has every non-hotpatch release with a UBR at or below it (UBRs rise with each release on the
    non-hotpatch track; an out-of-band UBR published on Patch Tuesday is still below that day's
    security release).
    """
    rows = updates_for(host.build, host.kind)
    if not rows or host.ubr is None:
        return None
    ubr = host.ubr
    end = lc.updates_end if lc is not None else None
    security = [u for u in rows if u.security and (end is None or u.released <= end)]
    published = [u for u in security if release_moment(u.released) <= now]
    level = Level()
    exact = [u for u in rows if u.ubr == ubr]
    plain = [u for u in rows if not u.hotpatch]
    if exact and all(u.hotpatch for u in exact):
        row = max(exact, key=lambda u: u.released)
        level.basis.append(f"installed {host.version} is {row.label}")
        missing = [u for u in published if u.released > row.released]
        later = [u for u in security if u.released > row.released and u not in published]
    elif ubr > max(u.ubr for u in rows):
        _after_table(level, lc, now, have_newer=True, host_version=host.version)
        return level
    elif plain and ubr >= min(u.ubr for u in plain):
        if exact:
            level.basis.append(f"installed {host.version} is {exact[0].label}")
        else:
            below = max((u for u in plain if u.ubr < ubr), key=lambda u: u.ubr)
            level.basis.append(
                f"{host.version} is not in windows_ubr.csv; nearest lower update: {below.label}"
            )
        missing = [u for u in published if not u.hotpatch and u.ubr > ubr]
        later = [u for u in security if not u.hotpatch and u.ubr > ubr and u not in published]
    else:
        first = min(published, key=lambda u: u.released) if published else None
        level.blind = (
            f"{host.version} is older than windows_ubr.csv, which starts at "
            f"{min(plain or rows, key=lambda u: u.ubr).label}"
        )
        if first is not None:
            level.oldest_missing = release_moment(first.released)
            level.missing = f"at least {first.label}, the table's first security release"
        return level
    if missing:
        # A standard host is told about the standard release, not the same day's hotpatch.
        oldest = min(missing, key=lambda u: (u.released, u.hotpatch, u.ubr))
        count = len({u.released for u in missing}) - 1
        level.oldest_missing = release_moment(oldest.released)
        level.complete_until = level.oldest_missing
        level.missing = oldest.label + (
            f" and {count} later security release{'s' if count > 1 else ''}" if count else ""
        )
        return level
    if later:
        # The table already lists the next release, published after this collection.
        level.complete_until = release_moment(min(u.released for u in later))
        level.basis.append("nothing newer was published before collection")
        return level
    _after_table(level, lc, now, have_newer=False)
    return level


def history_level(
    level: Level, installs: list[Installed], lc: Lifecycle | None, now: datetime
) -> None:
    """Fallbacks when the table cannot decide: Windows Update titles and the newest install date."""
    monthly = [i for i in installs if i.month is not None]
    if monthly:
        newest = max(monthly, key=lambda i: (i.month, i.moment))
        assert newest.month is not None
        tuesday = patch_tuesday(*newest.month)
        until = release_moment(next_patch_tuesday(tuesday))
        if level.complete_until is None or until > level.complete_until:
            level.complete_until = until
            level.basis.append(
                f"Windows Update history: {newest.what!r} installed {newest.moment.date()} "
                f"(the {newest.month[0]}-{newest.month[1]:02d} security release is installed)"
            )
    if level.oldest_missing is not None or not installs:
        return
    last = installs[0]
    following = next_patch_tuesday(last.moment.date())
    if _updates_continue(lc, following) and release_moment(following) <= now:
        if level.complete_until is not None and level.complete_until > release_moment(following):
            return
        level.oldest_missing = release_moment(following)
        level.missing = (
            f"the {following:%Y-%m} monthly security release (published {following}): no update "
            f"has been installed since {iso(last.moment)} ({last.what}, {last.source})"
        )


def reboot_state(
    keys: list[str] | None, installs: list[Installed], last_boot: datetime | None
) -> tuple[datetime | None, str]:
    """(since when a reboot is pending, description); description empty when none is pending."""
    if not keys:
        return None, ""
    since_boot = [i for i in installs if last_boot is None or i.moment > last_boot]
    since = since_boot[0].moment if since_boot else None
    what = f"reboot pending ({', '.join(keys)})"
    if since is not None:
        what += f" since {since_boot[0].what} was installed {iso(since)}"
    return since, what


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
    host, why = read_os(outputs.get("current_version"), outputs.get("os"))
    hotfixes, hotfix_why = parse_hotfixes(outputs.get("hotfixes"))
    history, history_why = parse_history(outputs.get("update_history"))
    keys, reboot_why = parse_reboot(outputs.get("reboot"))
    installs = installed_updates(hotfixes, history, now)
    observed: dict[str, Any] = {
        "hotfix_count": len(hotfixes),
        "hotfixes_unreadable": hotfix_why,
        "update_history_unreadable": history_why,
        "newest_install": (f"{installs[0].what} {iso(installs[0].moment)}" if installs else None),
        "reboot_pending": keys,
        "reboot_unreadable": reboot_why,
    }
    level = Level()
    lc: Lifecycle | None = None
    if host is None:
        level.blind = f"OS identity not readable: {why}"
    else:
        observed.update(host.observed())
        observed["last_boot"] = iso(host.last_boot)
        lc = lifecycle_for(host)
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
        findings.append(_verdict(ism, window, now, level, since, reboot_text, host, observed))
    return findings


def _verdict(
    ism: str,
    window: timedelta,
    now: datetime,
    level: Level,
    since: datetime | None,
    reboot_text: str,
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
    if level.complete_until is not None and level.complete_until > cutoff:
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


_HISTORY = (
    "$q = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher(); "
    "$n = $q.GetTotalHistoryCount(); $h = @(); "
    "if ($n -gt 0) { $h = @($q.QueryHistory(0, [Math]::Min($n, 500)) | "
    "Where-Object { $_.Title -match 'Cumulative Update|Quality Rollup|Quality Update|"
    "Security Update|Servicing Stack|Update for Windows|Update for Microsoft server' } | "
    "Select-Object -First 30 @{n='Date';e={$_.Date.ToString('s')}},Title,ResultCode,Operation) }; "
    "New-Object PSObject -Property @{ Total = $n; Entries = $h } | ConvertTo-Json -Depth 4 -Compress"
)
_REBOOT = (
    "New-Object PSObject -Property @{ "
    "CbsRebootPending = (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\"
    "Component Based Servicing\\RebootPending'); "
    "WuRebootRequired = (Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\"
    "WindowsUpdate\\Auto Update\\RebootRequired') } | ConvertTo-Json -Compress"
)

CHECK = Check(
    id="patch_os.windows_updates",
    title="Windows OS security updates installed within the deadline",
    strategy=Strategy.PATCH_OS,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.WINDOWS}),
    collect={
        "current_version": Cmd(line=CURRENT_VERSION),
        "os": Cmd(line=WIN32_OS),
        "hotfixes": Cmd(
            line="Get-HotFix | Select-Object HotFixID,Description,InstalledOn | "
            "ConvertTo-Json -Depth 4 -Compress"
        ),
        "reboot": Cmd(line=_REBOOT),
        "update_history": Cmd(line=_HISTORY),
    },
    judge=judge,
    version=1,
)
