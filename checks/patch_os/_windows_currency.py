"""``patch_os.windows_os_support``'s ISM-1407 judgement (is the release the latest or the
previous of its servicing channel) and the wording both its verdicts share; the check's
docstring describes the rules. Split from the check to keep each module short.

Pure functions over ``windows_lifecycle.csv`` (:data:`checks._windows_patch.LIFECYCLE`) dated
from the endoflife.date snapshot.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from checks._windows_patch import LIFECYCLE, RELEASES_REVIEWED, Lifecycle, WinOs, dated
from checks.patch_os._eol_feed import stale_finding
from scanner.checking.api import Context, Finding
from scanner.model.feeds import FeedError
from scanner.model.vocabulary import Outcome

_CHANNELS = {
    "client_ga": "Windows client general-availability channel",
    "client_ltsc": "Windows client Long-Term Servicing Channel",
    "server_ltsc": "Windows Server Long-Term Servicing Channel",
    "server_sac": "Windows Server Semi-Annual Channel",
    "server_annual": "Windows Server Annual Channel",
}


def name_of(host: WinOs, lc: Lifecycle | None) -> str:
    release = lc.release if lc is not None else host.product_name or "Windows"
    edition = f"{host.edition}, " if host.edition else ""
    return f"{release} ({edition}build {host.version})"


def no_date(name: str, lc: Lifecycle, what: str) -> str:
    """Why ``what`` (end of support, release date) of the host's release is not known."""
    if lc.feed is not None and lc.feed.cycle is None:
        return f"{name}: {what} not known: {lc.why}"
    if lc.feed is not None:
        return f"{name}: {what} not known: {lc.feed.where()} gives no date"
    return f"{name}: {what} is not recorded in windows_lifecycle.csv ({lc.note})"


def _order(lc: Lifecycle) -> tuple[int, date]:
    """Sort key within a channel: Windows 11 after Windows 10 after older clients, then date."""
    generation = 0
    if lc.kind == "client":
        generation = 11 if lc.build >= 22000 else 10 if lc.build >= 10240 else 6
    known = lc.known_from
    assert known is not None  # callers pass dated rows only
    return generation, known


_CLIENT_GA = re.compile(r"(?:10|11)-\d\dh\d(?:-[we])?|10-\d{4}(?:-[we])?")
_SERVER_LTSC = re.compile(r"\d{4}(?:-r2)?(?:-sp\d)?")


def feed_channel(product: str, cycle: str) -> str | None:
    """The servicing channel of an endoflife.date Windows cycle (None: one the table does not
    rank, e.g. Windows 10 IoT Core, XP)."""
    if product == "windows":
        if cycle.endswith("-lts"):
            return "client_ltsc"
        return "client_ga" if _CLIENT_GA.fullmatch(cycle) else None
    if product == "windows-server":
        if cycle.endswith("-sac"):
            return "server_sac"
        if cycle.endswith("-ac"):
            return "server_annual"
        return "server_ltsc" if _SERVER_LTSC.fullmatch(cycle) else None
    return None


def _unmapped(lc: Lifecycle, ctx: Context, mine: tuple[int, date]) -> dict[str, str]:
    """Newer releases of the host's channel the snapshot lists but no table row maps to a build
    (a snapshot newer than the table): each may be out, so it counts as unconfirmed, never as
    absent. Keyed by release (a -w/-e pair is one release)."""
    fc = lc.feed
    if fc is None or fc.cycle is None:
        return {}
    try:
        cycles = ctx.feeds.cycles(fc.product) or []
    except FeedError:
        return {}
    mapped = {r.eol_cycle for r in LIFECYCLE}
    on = ctx.collected_at.date()
    out: dict[str, str] = {}
    for c in cycles:
        if f"{fc.product}:{c.cycle}" in mapped or c.released is None or c.released > on:
            continue
        if feed_channel(fc.product, c.cycle) != lc.channel:
            continue
        generation = 11 if c.cycle.startswith("11-") else 10 if c.cycle.startswith("10-") else 0
        if lc.kind == "client" and (generation, c.released) <= mine:
            continue
        if lc.kind == "server" and (0, c.released) <= mine:
            continue
        release = f"endoflife.date {fc.product} {re.sub(r'-[we]$', '', c.cycle)}"
        out.setdefault(
            release,
            f"released {c.released} per the snapshot, but windows_lifecycle.csv maps no build "
            "to it yet",
        )
    return out


def _settled_release(r: Lifecycle) -> bool:
    """A release date that cannot move: from the table, a fresh snapshot, or a stale snapshot's
    past (a planned release after a stale snapshot's date may have slipped)."""
    return r.released is not None and (r.feed is None or r.feed.settled(r.released))


def currency(host: WinOs, lc: Lifecycle, ctx: Context, observed: dict[str, Any]) -> Finding:
    """ISM-1407. From a stale snapshot an effective verdict is no_visibility (it may miss a newer
    release); "two or more behind" stands when two newer releases were out by its date (release
    dates do not move and newer releases only add), as does "no release supported" when every
    end had passed by its date."""
    on = ctx.collected_at.date()
    obs = dict(observed)
    name = name_of(host, lc)
    channel = _CHANNELS.get(lc.channel, lc.channel)
    if lc.released is None:  # an announced release is not ranked on its announcement
        return Finding(
            ism="ISM-1407",
            outcome=Outcome.NO_VISIBILITY,
            evidence=no_date(name, lc, "release date"),
            observed=obs,
        )
    line = [
        dated(r, ctx.feeds, ctx.collected_at)
        for r in LIFECYCLE
        if r.channel == lc.channel and r.kind == lc.kind
    ]
    mine = _order(lc)
    # One entry per release (edition rows of a release share its date), keyed by sort order.
    newer: dict[tuple[int, date], str] = {}
    pending: dict[str, str] = {}
    settled = set()
    for r in line:
        if not r.ranked:
            continue
        if r.known_from is None:
            if r.build > lc.build:  # not in the snapshot: it may be out, or not yet
                pending.setdefault(r.release, r.why)
            continue
        if _order(r) <= mine:
            continue
        if r.released is not None and r.released <= on:
            newer.setdefault(_order(r), r.release)
            if _settled_release(r):
                settled.add(_order(r))
        elif r.released is None and r.announced is not None and r.announced <= on:
            pending.setdefault(r.release, "")
    unmapped = _unmapped(lc, ctx, mine)
    pending.update(unmapped)
    names = [newer[k] for k in sorted(newer, reverse=True)]
    rank = len(names)
    stale_years = max(0, (on - RELEASES_REVIEWED).days) // 365
    obs.update(channel=lc.channel, newer_releases=names, rank=rank, unconfirmed=sorted(pending))
    source = f"release dates: {lc.source}" if lc.feed is not None else lc.source
    ends_known = all(r.support_end is not None for r in line)
    supported_left = [r for r in line if r.support_end is None or r.support_end >= on]
    if ends_known and not supported_left:
        found = Finding(
            ism="ISM-1407",
            outcome=Outcome.INEFFECTIVE,
            evidence=f"{name}: no release of the {channel} is supported any more ({source})",
            observed=obs,
        )
        if lc.usable or all(r.settled(r.support_end) for r in line):
            return found
        return stale_finding(found, lc)
    if rank >= 2:
        found = Finding(
            ism="ISM-1407",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"{name} is {rank} releases behind in the {channel} (newer: {', '.join(names)}); "
                f"ML3 allows only the latest or the previous release ({source})"
            ),
            observed=obs,
        )
        if lc.usable or len(settled) >= 2:
            return found
        return stale_finding(found, lc)
    which = "the latest" if rank == 0 else "the previous"
    unseen = len(pending) + stale_years
    if rank + unseen <= 1:
        later = f" (newer: {names[0]})" if names else ""
        note = (
            f"; {', '.join(sorted(pending))} is listed but its release date is not known, "
            "and it would still leave this the previous release"
            if pending
            else ""
        )
        found = Finding(
            ism="ISM-1407",
            outcome=Outcome.EFFECTIVE,
            evidence=f"{name} is {which} release of the {channel}{later}{note} ({source})",
            observed=obs,
        )
        return found if lc.usable else stale_finding(found, lc)
    why = []
    for release, reason in sorted(pending.items()):
        why.append(
            f"{release}: {reason}"
            if reason
            else f"{release} was announced but whether it was generally available by {on} is "
            "not recorded"
        )
    fix = (
        "update the feed snapshot (e8scan feeds update)"
        if any(pending.values()) and not stale_years and not unmapped
        else "verify and update the table"
    )
    if stale_years:
        why.append(
            f"the release list was last reviewed {RELEASES_REVIEWED}, more than a year before "
            "collection"
        )
    return Finding(
        ism="ISM-1407",
        outcome=Outcome.NO_VISIBILITY,
        evidence=(
            f"{name} is {which} release of the {channel} known to windows_lifecycle.csv"
            f"{' (newer: ' + names[0] + ')' if names else ''}, but {'; '.join(why)}: a newer "
            f"release would make it two behind; {fix}"
        ),
        observed=obs,
    )
