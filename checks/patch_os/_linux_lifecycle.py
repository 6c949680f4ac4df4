"""``linux_eol.csv`` as typed rows, dated from the endoflife.date feed (``patch_os.linux_os_support``
and ``patch_os.directory_os_support`` share it; the check's docstring describes the table).

- :data:`RELEASES`: the table's rows; :func:`find_release`: a host's row from os-release;
- :func:`dated`: a row with its endoflife.date cycle's dates (``checks/patch_os/_eol_feed.py``);
- :func:`unmapped_lines`: newer release lines the snapshot lists that the table does not map.

Import-time data and pure functions.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from importlib.resources import files

from checks.patch_os._eol_feed import FeedCycle, FeedDated, end_date, feed_cycle
from scanner.model.endoflife import Cycle
from scanner.model.feeds import FeedError, Snapshot


@dataclass(frozen=True)
class Release(FeedDated):
    """One row of ``linux_eol.csv``; a row with ``eol_cycle`` gets its dates from the feed
    (:func:`dated`), any other carries its own with a source."""

    distro: str
    version: str
    line: str
    track: str
    eol_cycle: str
    released: date | None
    support_end: date | None
    extended_kind: str
    extended_end: date | None
    source: str
    note: str
    feed: FeedCycle | None = None


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


def _load() -> tuple[Release, ...]:
    text = files(__package__ or "checks.patch_os").joinpath("linux_eol.csv").read_text("utf-8")
    rows = []
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        rel = Release(
            distro=row["distro"],
            version=row["version"],
            line=row["line"],
            track=row["track"],
            eol_cycle=row["eol_cycle"],
            released=_date(row["released"]),
            support_end=_date(row["support_end"]),
            extended_kind=row["extended_kind"],
            extended_end=_date(row["extended_end"]),
            source=row["source"],
            note=row["note"],
        )
        where = f"linux_eol.csv line {line} ({rel.distro} {rel.version})"
        if rel.eol_cycle and (rel.released or rel.support_end or rel.extended_end):
            raise ValueError(f"{where}: dates come from eol_cycle {rel.eol_cycle}, not the table")
        if not rel.eol_cycle and (rel.released is None or not rel.source):
            raise ValueError(f"{where}: no eol_cycle, so it needs its own dates and a source")
        rows.append(rel)
    return tuple(rows)


RELEASES = _load()

# Which tier of an endoflife.date cycle is the end of vendor support: Debian's ``eol`` is the
# security team's end and ``eoes`` Debian LTS (a Debian project effort, counted as vendor support);
# elsewhere ``eol`` is the end of standard support and ``eoes`` the paid extension (ESM, ELS,
# LTSS, Oracle Extended Support).
_SUPPORT_IS_EOES = frozenset({"debian"})


def dated(rel: Release, feeds: Snapshot, at: datetime) -> Release:
    """``rel`` with its release, support and extension dates from its endoflife.date cycle as the
    snapshot holds it at ``at`` (none when it lacks the cycle); a table row as it is."""
    if not rel.eol_cycle:
        return rel
    fc = feed_cycle(feeds, at, rel.eol_cycle)
    c = fc.cycle
    if c is None:
        return replace(rel, feed=fc, source=fc.why)
    if rel.distro in _SUPPORT_IS_EOES:
        support, extended, tier = end_date(c.eoes), None, f"eoes {c.eoes}"
    else:
        support = end_date(c.eol)
        extended = end_date(c.eoes) if rel.extended_kind != "none" else None
        tier = f"eol {c.eol}" + (f", eoes {c.eoes}" if extended else "")
    return replace(
        rel,
        feed=fc,
        released=c.released,
        support_end=support,
        extended_end=extended,
        source=f"{fc.where()}: released {c.released}, {tier}",
    )


# The distribution key used in linux_eol.csv for an os-release ID.
_ID_ALIASES = {"sles_sap": "sles", "sled": "sles", "rhel": "rhel", "almalinux": "almalinux"}


def distro_key(osr: Mapping[str, str]) -> str:
    distro = osr.get("ID", "").lower()
    if distro == "centos" and "stream" in osr.get("NAME", "").lower():
        return "centos-stream"
    return _ID_ALIASES.get(distro, distro)


def find_release(distro: str, version_id: str) -> Release | None:
    """The table row for a host: exact VERSION_ID, else its major version (RHEL 9.4 → 9)."""
    candidates = [r for r in RELEASES if r.distro == distro]
    for wanted in (version_id, version_id.split(".")[0]):
        for r in candidates:
            if r.version == wanted:
                return r
    return None


def line_key(line: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", line))


def _feed_line(distro: str, c: Cycle) -> tuple[str, str]:
    """(line, track) of an endoflife.date cycle, as the table writes them."""
    if distro == "ubuntu":
        return c.cycle, "lts" if c.lts else "interim"
    if distro == "amzn" and "." in c.cycle:
        return "1", "stable"  # Amazon Linux AMI 20xx.xx releases are line 1
    return c.cycle.split(".")[0], "stable"


def unmapped_lines(rel: Release, rows: list[Release], feeds: Snapshot, on: date) -> dict[str, str]:
    """Newer release lines of the host's distribution and track that the snapshot lists but no
    table row of ``rows`` (the distribution's) maps (a snapshot newer than the table): each is
    out, and unaccounted for."""
    fc = rel.feed
    if fc is None or fc.cycle is None:
        return {}
    try:
        cycles = feeds.cycles(fc.product) or []
    except FeedError:
        return {}
    known = {r.line for r in rows}
    out: dict[str, str] = {}
    for c in cycles:
        line, track = _feed_line(rel.distro, c)
        if line in known or track != rel.track or c.released is None or c.released > on:
            continue
        if line_key(line) > line_key(rel.line):
            out.setdefault(
                line,
                f"endoflife.date {fc.product} {c.cycle} was released {c.released}, but "
                "linux_eol.csv does not map it yet",
            )
    return out
