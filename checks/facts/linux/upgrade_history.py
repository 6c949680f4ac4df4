"""When apt last upgraded packages: the newest ``Upgrade:`` stanza of ``/var/log/apt/history.log``
(and its first rotation), in the host's local time with its UTC offset (``date +'tz %z'``), and
the ``unattended-upgrades-stamp`` time. Both absent is a value (no run on record), not unknown.

``apt_history`` is any stanza that upgraded a package, an ``apt install`` pulling a newer
dependency included; ``upgrade_pass`` only one whose ``Commandline:`` was an upgrade of
everything (``unattended-upgrade``, or apt/apt-get/aptitude ``upgrade``, ``dist-upgrade``,
``full-upgrade``, ``safe-upgrade``): only such a run shows that the security fixes pending at the
time were applied.
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
    upgrade_pass: datetime | None = None

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

    def last_pass(self) -> tuple[datetime, str] | None:
        """The last run that upgraded everything it could (unattended-upgrades or a full apt
        upgrade), with what it was; an ``apt install`` is not one."""
        found = [
            (moment, kind)
            for moment, kind in (
                (self.upgrade_pass, "apt upgrade run"),
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
    passes: list[datetime] = []
    stamps: list[datetime] = []
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        if head in ("apt-history", "apt-upgrade-pass"):
            try:
                local = datetime.strptime(rest.strip(), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
            (history if head == "apt-history" else passes).append(local.replace(tzinfo=offset))
        elif line.strip().endswith("unattended-upgrades-stamp"):
            moment = from_epoch(line.split(" ", 1)[0])
            if moment is not None:
                stamps.append(moment)
    return UpgradeRuns(
        max(history, default=None), max(stamps, default=None), max(passes, default=None)
    )


UPGRADE_HISTORY = sh_fact(
    "linux.apt_upgrade_history",
    "date +'tz %z'; "
    "zcat -f /var/log/apt/history.log.1.gz /var/log/apt/history.log 2>/dev/null | "
    'awk \'/^Start-Date:/{d=$2" "$3; c=""} /^Commandline:/{c=$0" "} '
    "/^Upgrade:/{u=d; if(c~/unattended-upgrade|[ ](upgrade|dist-upgrade|full-upgrade|safe-upgrade)[ ]/)p=d} "
    'END{if(u!="")print "apt-history "u; if(p!="")print "apt-upgrade-pass "p}\'; '
    "stat -c '%Y %n' /var/lib/apt/periodic/unattended-upgrades-stamp 2>/dev/null; true",
    parse,
)
