"""Package-list age for the Linux patch judgements (``linux.package_metadata_time``).

Two different times, for two different uses (see ``checks/facts/linux/package_metadata.py``):
- ``newest``: no list was published after it, so a pending fix was already in lists of that age
  at the latest (dates an overdue fix: ineffective only on that positive evidence);
- the *freshness* list: the stalest apt security-suite list, or the newest dnf/yum ``repomd.xml``.
  "Nothing pending" is believed only when it is younger than the limit; otherwise the view is
  unreliable and the evidence names the stale file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from checks.facts.fact import Unknown
from checks.facts.linux.package_metadata import PackageMetadata
from checks.facts.linux.times import iso


@dataclass(frozen=True)
class ListsAge:
    """What the metadata shows: ``newest`` (None when unreadable), ``stale`` (why the pending
    view cannot be believed, None when it can) and ``fresh_as_of`` (the freshness list, for
    evidence and observed)."""

    newest: datetime | None
    stale: str | None
    fresh_as_of: str | None


def lists_age(read: PackageMetadata | Unknown, now: datetime, limit: timedelta) -> ListsAge:
    """The lists' age judged against ``limit`` (the oldest a freshness list may be)."""
    if isinstance(read, Unknown):
        why = f"package metadata age unknown ({read.reason}); pending-update view unreliable"
        return ListsAge(None, why, None)
    fresh = read.freshness()
    if isinstance(fresh, str):
        return ListsAge(read.newest, f"{fresh}; pending-update view unreliable", None)
    what = f"{iso(fresh.time)} ({PackageMetadata.describe(fresh)})"
    age = now - fresh.time
    if age > limit:
        return ListsAge(
            read.newest,
            f"package metadata {age.days} days old: {what}; pending-update view unreliable",
            what,
        )
    return ListsAge(read.newest, None, what)
