"""When apt last upgraded packages: the newest ``Upgrade:`` stanza of ``/var/log/apt/history.log``
(and its first rotation), in the host's local time with its UTC offset (``date +'tz %z'``), and
the ``unattended-upgrades-stamp`` time. Both absent is a value (no run on record), not unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from checks.facts.linux.shell import sh_fact
from checks.facts.linux.times import from_epoch


@dataclass(frozen=True)
class UpgradeRuns:
    """``apt_history``: start of the newest apt run that upgraded packages;
    ``unattended``: the last unattended-upgrades run."""

    apt_history: datetime | None
    unattended: datetime | None

    def newest(self) -> tuple[datetime, str] | None:
        """The later of the two, with what it was."""
        found = [
            (moment, kind)
            for moment, kind in (
                (self.apt_history, "apt history upgrade"),
                (self.unattended, "unattended-upgrades run"),
            )
            if moment is not None
        ]
        return max(found) if found else None


def parse(text: str) -> UpgradeRuns:
    offset: timezone = UTC
    for line in text.splitlines():
        if m := re.match(r"^tz ([+-])(\d\d)(\d\d)$", line.strip()):
            delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
            offset = timezone(delta if m.group(1) == "+" else -delta)
    history: list[datetime] = []
    stamps: list[datetime] = []
    for line in text.splitlines():
        if line.startswith("apt-history "):
            try:
                local = datetime.strptime(line[12:].strip(), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
            history.append(local.replace(tzinfo=offset))
        elif line.strip().endswith("unattended-upgrades-stamp"):
            moment = from_epoch(line.split(" ", 1)[0])
            if moment is not None:
                stamps.append(moment)
    return UpgradeRuns(max(history, default=None), max(stamps, default=None))


UPGRADE_HISTORY = sh_fact(
    "linux.apt_upgrade_history",
    "date +'tz %z'; "
    "zcat -f /var/log/apt/history.log.1.gz /var/log/apt/history.log 2>/dev/null | "
    'awk \'/^Start-Date:/{d=$2" "$3} /^Upgrade:/{u=d} '
    'END{if(u!="")print "apt-history "u}\'; '
    "stat -c '%Y %n' /var/lib/apt/periodic/unattended-upgrades-stamp 2>/dev/null; true",
    parse,
)
