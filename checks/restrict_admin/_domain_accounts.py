"""Judging rules for privileged domain accounts, shared by the directory check and the Windows
host checks that expand a host's local Administrators through the directory. Pure functions;
no check lives here.

- :func:`inactivity` sorts accounts for ISM-1648 by ``lastLogonTimestamp`` and the domain's sync
  interval (the timestamp may lag a real logon by up to ``msDS-LogonTimeSyncInterval`` days):
  inactive for certain only beyond the limit plus that lag; between the two, not determinable.
  An account that never logged on is inactive once it is older than the limit (``whenCreated``).
- :func:`expiry` sorts accounts for ISM-1647 by ``accountExpires``: never (0 or the maximum) or
  more than 12 months after the collection fails; within 12 months passes; unreadable is unknown.
- :func:`holds_access`: an enabled account not past its ``accountExpires`` (others hold no access
  and are not judged).

Each sorter returns what failed, what could not be determined and what passed, as labelled
lines; the caller turns them into a verdict (ineffective if anything failed, no_visibility if
anything was not determinable, effective only when every account passed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from checks.facts.directory.objects import Domain
from checks.facts.directory.privileged import PrivilegedAccount
from checks.facts.directory.search import NEVER, filetime, generalized_time

YEAR = timedelta(days=365)


def day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "unknown"


def label(a: PrivilegedAccount, domain: str = "") -> str:
    """``name`` (``DOMAIN\\name`` when ``domain`` is given), with the group chain when nested."""
    name = f"{domain}\\{a.name}" if domain else a.name
    return f"{name} (via {' → '.join(a.via)})" if len(a.via) > 1 else name


def holds_access(a: PrivilegedAccount, now: datetime) -> bool:
    """Enabled and not past its ``accountExpires`` (``enabled`` None is the caller's to handle)."""
    ends = filetime(a.entry.integer("accountExpires"))
    return bool(a.enabled) and not (ends is not None and ends <= now)


Label = Callable[[PrivilegedAccount], str]


@dataclass
class Sorted:
    """Accounts sorted for one control: ``failing`` breaks it, ``unknown`` cannot be decided,
    ``passing`` shows it working. ``maybe`` (a subset of ``unknown`` for ISM-1648) are the
    accounts inside the replication lag window."""

    failing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    passing: list[str] = field(default_factory=list)
    maybe: list[str] = field(default_factory=list)

    def __iadd__(self, other: Sorted) -> Sorted:
        self.failing += other.failing
        self.unknown += other.unknown
        self.passing += other.passing
        self.maybe += other.maybe
        return self


def lag_note(dom: Domain) -> str:
    return (
        f"lastLogonTimestamp may lag a real logon by up to {dom.sync_days} days "
        f"(msDS-LogonTimeSyncInterval{'' if dom.sync_set else ' default'})"
    )


def inactivity(
    accts: Sequence[PrivilegedAccount],
    now: datetime,
    limit: int,
    dom: Domain,
    name: Label = label,
) -> Sorted:
    """ISM-1648: inactive for certain (failing), maybe inactive or unreadable (unknown), active
    or new (passing)."""
    lag = dom.sync_days
    out = Sorted()
    for a in accts:
        last = filetime(a.entry.integer("lastLogonTimestamp"))
        if last is not None:
            age = (now - last).days
            text = f"{name(a)}: last logon {day(last)}"
            if age > limit + lag:
                out.failing.append(text)
            elif age > limit:
                out.maybe.append(text)
                out.unknown.append(text)
            else:
                out.passing.append(text)
            continue
        created = generalized_time(a.entry.first("whenCreated"))
        if created is None:
            out.unknown.append(f"{name(a)}: no logon recorded, creation date not readable")
        elif (now - created).days > limit:
            out.failing.append(f"{name(a)}: never logged on, created {day(created)}")
        else:
            out.passing.append(f"{name(a)}: new, created {day(created)}")
    return out


def expiry(accts: Sequence[PrivilegedAccount], now: datetime, name: Label = label) -> Sorted:
    """ISM-1647: never expiring or beyond 12 months (failing), unreadable (unknown), expiring
    within 12 months (passing)."""
    horizon = now + YEAR
    out = Sorted()
    for a in accts:
        raw = a.entry.integer("accountExpires")
        ends = filetime(raw)
        if raw is None:
            out.unknown.append(name(a))
        elif raw in (0, NEVER) or raw >= NEVER:
            out.failing.append(f"{name(a)}: never expires")
        elif ends is None:
            out.unknown.append(name(a))
        elif ends > horizon:
            out.failing.append(f"{name(a)}: expires {day(ends)}")
        else:
            out.passing.append(f"{name(a)}: expires {day(ends)}")
    return out
