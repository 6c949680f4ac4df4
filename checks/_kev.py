"""CISA KEV for the patch judgements: which pending fixes close a known exploited vulnerability.

The 48-hour rows of the patch controls cover fixes the vendor rates critical *and* fixes for a
vulnerability with a working exploit. A pending non-critical fix naming a CVE on the KEV
catalogue is due ``max(release, KEV dateAdded) + 48 h`` (the e8 reference's deadline rule: the
clock starts when the exploit became known, never before the fix was released). A judgement that
rests on "none of the pending fixes is exploited" needs a usable KEV snapshot
(``ctx.feeds.state("kev", ctx.collected_at)``); without one it is no_visibility, never effective.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Protocol

from checks.facts.linux.times import iso
from scanner.checking.api import Context
from scanner.model.feeds import Kev, KevEntry


class Pending(Protocol):
    """A pending fix as the patch checks hold it: an advisory with severity, date and CVEs."""

    @property
    def ident(self) -> str: ...
    @property
    def severity(self) -> str: ...  # critical | other | unknown
    @property
    def released(self) -> datetime | None: ...
    @property
    def cves(self) -> tuple[str, ...]: ...


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"


NO_APT_EXPLOIT_STATUS = (
    "exploit status not visible on apt hosts (no CVE ids offline; every fix is judged as "
    "possibly critical)"
)


@dataclass(frozen=True)
class Exploited:
    """A pending non-critical fix for CVEs on the KEV catalogue, and its 48-hour deadline."""

    fix: Pending
    entries: tuple[KevEntry, ...]  # earliest added first: its date starts the 48 h clock
    deadline: datetime | None  # None: the fix's release date is unknown

    def describe(self) -> str:
        released = self.fix.released.date().isoformat() if self.fix.released else "undated"
        listed = ", ".join(
            f"{e.cve} (on CISA KEV since {e.date_added.isoformat()}"
            + ("; known ransomware campaign use)" if e.ransomware else ")")
            for e in self.entries[:3]
        )
        more = f" and {len(self.entries) - 3} more" if len(self.entries) > 3 else ""
        return f"{self.fix.ident} ({self.fix.severity}, {released}) fixes {listed}{more}"


def exploited(fixes: Sequence[Pending], kev: Kev, window: timedelta) -> list[Exploited]:
    """Each non-critical fix naming KEV CVEs, with its deadline ``max(release, dateAdded) +
    window`` (the e8 reference's 48-hour rule; the earliest date added of its CVEs)."""
    found = []
    for f in fixes:
        entries = sorted(
            (kev.entries[c] for c in f.cves if c in kev.entries), key=lambda e: e.date_added
        )
        if f.severity != "other" or not entries:
            continue
        added = datetime.combine(entries[0].date_added, time(), tzinfo=UTC)
        deadline = max(f.released, added) + window if f.released is not None else None
        found.append(Exploited(f, tuple(entries), deadline))
    return found


def exploit_judgement(
    fixes: Sequence[Pending], ctx: Context, window: timedelta
) -> tuple[list[str], str | None, str]:
    """For a 48-hour row: (overdue lines, why no_visibility, a note for effective evidence).

    Only non-critical advisories need KEV (critical and undated-severity ones are already due in
    48 h of release, which is never later than the KEV rule's deadline)."""
    unique: dict[str, Pending] = {}
    for f in fixes:  # one row per package of an advisory: judge each advisory once
        if f.severity == "other":
            unique.setdefault(f.ident, f)
    others = list(unique.values())
    if not others:
        return [], None, ""
    now = ctx.collected_at
    names = ", ".join(f.ident for f in others[:5])
    state = ctx.feeds.state("kev", now)
    kev = ctx.feeds.kev() if state.usable else None
    if kev is None:
        why = state.reason or "no KEV catalogue in the snapshot"
        return (
            [],
            f"{len(others)} non-critical security advisories pending ({names}): whether any "
            f"fixes a known exploited vulnerability needs CISA KEV, which cannot be used ({why})",
            "",
        )
    hits = exploited(others, kev, window)
    overdue = [
        f"{x.describe()}: pending beyond {_span(window)} of max(release, KEV date added) "
        f"(due {iso(x.deadline)})"
        for x in sorted(hits, key=lambda x: (x.deadline is None, x.deadline, x.fix.ident))
        if x.deadline is not None and now > x.deadline
    ]
    unsure: list[str] = []
    undated = [x for x in hits if x.deadline is None]
    if undated:
        unsure.append(
            f"{undated[0].describe()}: the advisory has no release date, so its 48 h deadline "
            "cannot be told"
        )
    no_cve = [f.ident for f in others if not f.cves]
    if no_cve:
        unsure.append(
            f"{len(no_cve)} pending advisories name no CVE ({', '.join(no_cve[:5])}): whether "
            "they fix a known exploited vulnerability cannot be told"
        )
    catalogue = f"CISA KEV {kev.catalog_version}"
    in_time = [x.describe() for x in hits if x.deadline is not None and now <= x.deadline]
    note = (
        f"; on {catalogue}, within {_span(window)} of max(release, KEV date added): "
        + "; ".join(in_time[:3])
        if in_time
        else f"; none of the {len(others)} non-critical advisories fixes a CVE on {catalogue}"
    )
    return overdue, "; ".join(unsure) or None, note


def kev_observed(fixes: Sequence[Pending], ctx: Context, window: timedelta) -> dict[str, object]:
    """What a 48-hour row records of KEV in ``observed``: the catalogue (or why it is unusable)
    and each pending non-critical advisory on it, with its 48-hour deadline."""
    state = ctx.feeds.state("kev", ctx.collected_at)
    kev = ctx.feeds.kev() if state.usable else None
    if kev is None:
        return {"usable": False, "reason": state.reason or "no KEV catalogue in the snapshot"}
    unique = {f.ident: f for f in fixes if f.severity == "other"}
    return {
        "usable": True,
        "catalog_version": kev.catalog_version,
        "exploited": [
            {
                "advisory": x.fix.ident,
                "cves": [e.cve for e in x.entries],
                "date_added": x.entries[0].date_added.isoformat(),
                "known_ransomware_use": any(e.ransomware for e in x.entries),
                "due": iso(x.deadline),
            }
            for x in exploited(list(unique.values()), kev, window)[:20]
        ],
    }
