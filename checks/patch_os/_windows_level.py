"""How far a Windows host's installed updates reach, for ``patch_os.windows_updates``.

- :func:`installed_updates`: dated installs from the Windows Update history and ``Get-HotFix``
  (facts ``windows.update_history`` and ``windows.hotfixes``), newest first.
- :func:`table_level`: what the host provably has and lacks from its build.UBR and
  ``windows_ubr.csv``; :func:`history_level`: the fallbacks (monthly-update titles, the newest
  install date) when the table cannot decide.
- :func:`reboot_state`: since when a restart has been pending.

The verdicts are the check's; these compute the evidence. Pure functions only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from checks._windows_patch import (
    UBR_TABLE_COMPLETE,
    Lifecycle,
    WinOs,
    iso,
    next_patch_tuesday,
    patch_tuesday,
    release_moment,
    updates_for,
)
from checks.facts.windows.updates import HistoryEntry, HotFix

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


def installed_updates(
    hotfixes: tuple[HotFix, ...], history: tuple[HistoryEntry, ...], now: datetime
) -> list[Installed]:
    """Dated installs, newest first; future dates (misparsed locales) are dropped."""
    found: list[Installed] = []
    removed = {kb.upper() for e in history if e.operation == 2 for kb in _KB.findall(e.title)}
    for e in history:
        moment = e.date
        title = e.title
        if moment is None or moment > now or e.operation != 1:
            continue
        if e.result_code not in (2, 3):
            continue
        m = _MONTHLY_TITLE.match(title)
        kbs = {k.upper() for k in _KB.findall(title)}
        month = (int(m.group(1)), int(m.group(2))) if m and not kbs & removed else None
        found.append(Installed(moment, title[:120], "history", month))
    for h in hotfixes:
        moment = h.installed_on
        if moment is None or moment > now:
            continue
        what = f"{h.id or '?'} ({h.description or 'update'})"
        found.append(Installed(moment, what, "hotfix"))
    return sorted(found, key=lambda i: i.moment, reverse=True)


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
            + (f" (its end of updates is not known: {lc.why})" if lc is not None and lc.why else "")
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
    keys: tuple[str, ...] | None, installs: list[Installed], last_boot: datetime | None
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
