"""What the Windows patching checks share: OS identity, the release tables and release dates.

- :func:`host_os`: the host's build, UBR, edition family and product type from the two identity
  facts (``windows.current_version`` and ``windows.win32_os`` in
  ``checks/facts/windows/os_identity.py``; both patch_os checks declare the same commands, so the
  planner runs each once per host). Windows 11 is told from Windows 10 by
  ``CurrentBuild >= 22000``: the registry ``ProductName`` still says "Windows 10" on Windows 11.
- ``patch_os/windows_lifecycle.csv`` (:data:`LIFECYCLE`): per build, kind (client/server) and
  edition family, the release, its servicing channel and its endoflife.date cycle (``eol_cycle``,
  e.g. ``windows:11-24h2-e``, ``windows-server:2022``); :func:`dated` fills in the release date,
  end of support (the cycle's ``eol``) and end of paid Extended Security Updates (``eoes``) from
  the feed snapshot the run is judged with (``checks/patch_os/_eol_feed.py``). A row without a
  cycle would carry its own dates and a source (none does today: every build maps to a cycle).
- ``patch_os/windows_ubr.csv`` (:data:`UPDATES`): every cumulative update (monthly security
  release, hotpatch, optional preview, out-of-band) from 2024-10-08 to :data:`UBR_TABLE_COMPLETE`,
  with the build.UBR it produces and its release date.
- :func:`patch_tuesday` and friends: Microsoft's monthly security release falls on the second
  Tuesday of the month (about 10:00 Redmond time; taken as 17:00 UTC here).

Where the tables come from (``altrhombus/DataForGeeks``, machine-readable copies of Microsoft's
update-history, lifecycle and release-information pages; the e8 reference, section 2.1, names it):
``content/ms/win/buildnumbers.json`` @0170213e (collected 2026-07-23) for every UBR row, and
``releases.json`` @0c99c0df (2026-09-29) for the list of releases (builds) in the lifecycle table.
The lifecycle dates are endoflife.date's (issue 14); before that they were typed from DataForGeeks'
lifecycle files, and the shipped snapshot (endoflife.date commit a70eca33) agrees with every one of
them except Windows Server 2008 / 2008 R2 (the feed dates the service pack the build carries, and
ends ESU with year 3) and Windows Server 2016 (the feed adds ESU to 2030-01-12).
Windows 11 26H2 (build 26300) is not listed: no source at hand dates it, and a host on it is
no_visibility ("not in windows_lifecycle.csv") rather than judged on expected dates.

Pure functions and import-time data only; the commands and parsers are facts.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.os_identity import CurrentVersion, Win32Os
from checks.patch_os._eol_feed import FeedCycle, FeedDated, end_date, feed_cycle
from scanner.model.feeds import Snapshot

# All releases up to this date are in windows_ubr.csv (DataForGeeks collected 2026-07-23).
UBR_TABLE_COMPLETE = date(2026, 7, 22)
# The release list in windows_lifecycle.csv was last checked against Microsoft's release
# information (DataForGeeks releases.json) on this date.
RELEASES_REVIEWED = date(2026, 9, 29)
RELEASE_HOUR_UTC = 17


# ---------------------------------------------------------------------------------------------
# Dates


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def patch_tuesday(year: int, month: int) -> date:
    """The second Tuesday of the month: Microsoft's monthly security release."""
    first = date(year, month, 1)
    return first + timedelta(days=(1 - first.weekday()) % 7 + 7)


def next_patch_tuesday(after: date) -> date:
    """The first monthly security release strictly after ``after``."""
    year, month = after.year, after.month
    while True:
        tuesday = patch_tuesday(year, month)
        if tuesday > after:
            return tuesday
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def release_moment(day: date) -> datetime:
    """When a release published on ``day`` became available (17:00 UTC, 10:00 Redmond)."""
    return datetime.combine(day, time(RELEASE_HOUR_UTC), tzinfo=UTC)


def span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if abs(hours) < 72 else f"{hours / 24:.0f} days"


# ---------------------------------------------------------------------------------------------
# OS identity


@dataclass(frozen=True)
class WinOs:
    build: int
    ubr: int | None
    edition: str
    installation_type: str
    product_name: str
    display_version: str
    caption: str
    product_type: int | None
    last_boot: datetime | None

    @property
    def kind(self) -> str:
        """client or server: InstallationType first (Server, Server Core, Nano Server), then
        Win32_OperatingSystem.ProductType (1 workstation, 2 domain controller, 3 server)."""
        it = self.installation_type.lower()
        if it:
            return "server" if it.startswith(("server", "nano")) else "client"
        if self.product_type in (2, 3):
            return "server"
        return "client"

    @property
    def family(self) -> str | None:
        """The edition family that decides the servicing period, or None when unknown."""
        return edition_family(self.edition, self.kind)

    @property
    def version(self) -> str:
        return f"{self.build}.{self.ubr}" if self.ubr is not None else str(self.build)

    def observed(self) -> dict[str, Any]:
        return {
            "build": self.version,
            "edition": self.edition or None,
            "installation_type": self.installation_type or None,
            "product_name": self.product_name or None,
            "display_version": self.display_version or None,
            "caption": self.caption or None,
            "product_type": self.product_type,
        }


def edition_family(edition: str, kind: str) -> str | None:
    """Registry EditionID → home_pro | enterprise | ltsc | iot_ltsc | server | hci | None."""
    e = edition.lower()
    if kind == "server":
        if not e:
            return "server"
        return "hci" if "azurestackhci" in e else "server"
    if e.startswith("iotenterprises"):
        return "iot_ltsc"
    if e.startswith("enterprises"):
        return "ltsc"
    if e.startswith(("enterprise", "education", "iotenterprise", "serverrdsh")):
        return "enterprise"
    if e.startswith(("core", "professional", "cloudedition")):
        return "home_pro"
    return None


def host_os(cv: CurrentVersion | Unknown, wmi: Win32Os | Unknown) -> WinOs | str:
    """The host's identity from the registry and WMI reads, or why it cannot be read.

    The registry read carries build, UBR and edition; WMI adds the caption, product type and
    boot time. Either alone is enough for a build number (WMI alone has no UBR or edition).
    """
    reg = None if isinstance(cv, Unknown) else cv
    osw = None if isinstance(wmi, Unknown) else wmi
    build = (reg.build if reg else None) or (osw.build if osw else None)
    if build is None:
        if isinstance(cv, Unknown):
            return cv.reason
        return "the registry CurrentVersion key reported no CurrentBuild"
    return WinOs(
        build=build,
        ubr=reg.ubr if reg else None,
        edition=reg.edition if reg else "",
        installation_type=reg.installation_type if reg else "",
        product_name=(reg.product_name if reg else "") or (osw.caption if osw else ""),
        display_version=reg.display_version if reg else "",
        caption=osw.caption if osw else "",
        product_type=osw.product_type if osw else None,
        last_boot=osw.last_boot if osw else None,
    )


# ---------------------------------------------------------------------------------------------
# Lifecycle table


@dataclass(frozen=True)
class Lifecycle(FeedDated):
    """One row of ``windows_lifecycle.csv``; its dates filled from the feed by :func:`dated`.

    A row with ``eol_cycle`` (``windows:11-24h2-e``) has no dates of its own: they come from that
    endoflife.date cycle (``feed``); a row without one carries its own dates and ``source``."""

    kind: str
    build: int
    family: str
    release: str
    channel: str
    eol_cycle: str
    released: date | None
    announced: date | None
    support_end: date | None
    esu_end: date | None
    ranked: bool
    source: str
    note: str
    feed: FeedCycle | None = None

    @property
    def known_from(self) -> date | None:
        """The first date the release is known to exist (release date, else announcement)."""
        return self.released or self.announced

    @property
    def updates_end(self) -> date | None:
        """The last day Microsoft publishes security updates for it (ESU included); None when
        not known or, from a stale snapshot, still ahead of the snapshot's date (it may move)."""
        end = self.esu_end or self.support_end
        return end if self.settled(end) else None


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


def _load_lifecycle() -> tuple[Lifecycle, ...]:
    text = files("checks.patch_os").joinpath("windows_lifecycle.csv").read_text("utf-8")
    rows = []
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        rows.append(
            Lifecycle(
                kind=row["kind"],
                build=int(row["build"]),
                family=row["family"],
                release=row["release"],
                channel=row["channel"],
                eol_cycle=row["eol_cycle"],
                released=_date(row["released"]),
                announced=_date(row["announced"]),
                support_end=_date(row["support_end"]),
                esu_end=_date(row["esu_end"]),
                ranked=row["ranked"] == "yes",
                source=row["source"],
                note=row["note"],
            )
        )
        r = rows[-1]
        where = f"windows_lifecycle.csv line {line} ({r.release})"
        if r.eol_cycle and (r.released or r.support_end or r.esu_end):
            raise ValueError(f"{where}: dates come from eol_cycle {r.eol_cycle}, not the table")
        if not r.eol_cycle and (r.known_from is None or not r.source):
            raise ValueError(f"{where}: no eol_cycle, so it needs its own dates and a source")
    return tuple(rows)


LIFECYCLE = _load_lifecycle()


def dated(row: Lifecycle, feeds: Snapshot, at: datetime) -> Lifecycle:
    """``row`` with the release, end-of-support and ESU dates of its endoflife.date cycle as the
    snapshot holds it at ``at`` (none when the snapshot lacks it); a table row as it is."""
    if not row.eol_cycle:
        return row
    fc = feed_cycle(feeds, at, row.eol_cycle)
    c = fc.cycle
    if c is None:
        return replace(row, feed=fc, source=fc.why)
    ends = f"eol {c.eol}" + (f", eoes {c.eoes}" if c.eoes not in (None, False) else "")
    return replace(
        row,
        feed=fc,
        released=c.released,
        support_end=end_date(c.eol),
        esu_end=end_date(c.eoes),
        source=f"{fc.where()}: released {c.released}, {ends}",
    )


def lifecycle_for(host: WinOs, feeds: Snapshot, at: datetime) -> Lifecycle | None:
    """The host's lifecycle row (build, kind, edition family), dated from the feed."""
    row = lifecycle_row(host.build, host.kind, host.family)
    return None if row is None else dated(row, feeds, at)


def lifecycle_row(build: int, kind: str, family: str | None) -> Lifecycle | None:
    """The table row for a build, kind (client/server) and edition family (None: unknown),
    undated (see :func:`dated`).

    The family's own row first, else the build's row for every edition (``*``); an Azure Stack
    HCI / Azure Local server (``hci``) has its own lifecycle, which the table does not hold.
    """
    rows = [r for r in LIFECYCLE if r.build == build and r.kind == kind]
    for r in rows:
        if family is not None and r.family == family:
            return r
    if family == "hci":
        return None
    for r in rows:
        if r.family == "*":
            return r
    return None


# ---------------------------------------------------------------------------------------------
# Cumulative updates table


@dataclass(frozen=True)
class Update:
    build: int
    ubr: int
    kind: str  # client | server | both
    kb: str
    released: date
    rtype: str  # Standard | Hotpatch | Preview | Out-of-band | Hotpatch-OOB
    security: bool
    note: str

    @property
    def hotpatch(self) -> bool:
        return self.rtype.startswith("Hotpatch")

    @property
    def label(self) -> str:
        return f"{self.kb} ({self.build}.{self.ubr}, {self.rtype.lower()}, {self.released})"


def _load_updates() -> tuple[Update, ...]:
    text = files("checks.patch_os").joinpath("windows_ubr.csv").read_text("utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        for version in row["versions"].split():
            build, _, ubr = version.partition(".")
            rows.append(
                Update(
                    build=int(build),
                    ubr=int(ubr),
                    kind=row["kind"],
                    kb=row["kb"],
                    released=date.fromisoformat(row["released"]),
                    rtype=row["type"],
                    security=row["security"] == "1",
                    note=row["note"],
                )
            )
    return tuple(rows)


UPDATES = _load_updates()


def updates_for(build: int, kind: str) -> list[Update]:
    """The table's updates for a build and kind (client/server), by release date then UBR."""
    return sorted(
        (u for u in UPDATES if u.build == build and u.kind in (kind, "both")),
        key=lambda u: (u.released, u.ubr),
    )
