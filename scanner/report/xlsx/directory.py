"""The workbook's directory coverage: the "Not scanned" sheet and its lines on the Summary.

Both show ``results.coverage`` (:mod:`scanner.assess.coverage`) and appear only when the run had a
directory target: the computers a directory knows and nobody listed (an HMI a site forgot), the
listed Windows hosts no directory knows, and the hosts known only by IP address that could not be
matched by name.
"""

from __future__ import annotations

from scanner.assess.coverage import ACTIVE_DAYS
from scanner.assess.results import DirectoryCoverage, Results
from scanner.report.xlsx.sheetml import Cell, Sheet
from scanner.report.xlsx.style import (
    LISTED_FILL,
    NO_VISIBILITY_FILL,
    SECTION,
    STALE_FILL,
    Styles,
    Table,
    header_row,
)

NOT_SCANNED = "not in the inventory"
NOT_IN_DIRECTORY = "not in the directory"
IP_ONLY = "IP only: not matched"
UNREAD = "could not be read"

HEADER = [
    "Directory",
    "Finding",
    "Name",
    "DNS name or address",
    "Operating system",
    "OS version",
    "Last logon (UTC)",
    "Days since logon",
    "Distinguished name (OU)",
    "Note",
]
FINDING_NOTE = (
    f"{NOT_SCANNED}: an active computer object (enabled, logged on within {ACTIVE_DAYS} days) "
    f"that matches no host of the run. {NOT_IN_DIRECTORY}: a Windows host of the run that matches "
    f"no computer object of any directory read (a workgroup host, or a stale inventory line). "
    f"{IP_ONLY}: a host known only by IP address, which cannot be matched by name. {UNREAD}: "
    "the Note says why; nothing is claimed either way."
)
LOGON_NOTE = (
    f"lastLogonTimestamp. Active: enabled and logged on within {ACTIVE_DAYS} days of the read. "
    "The attribute is replicated with up to 14 days' lag (msDS-LogonTimeSyncInterval), so it "
    "can be that much older than the real last logon."
)


WIDTHS = [24, 20, 20, 28, 30, 12, 12, 10, 54, 44]
NOT_IN_DIRECTORY_NOTE = "a workgroup host, or a stale inventory line"
IP_ONLY_NOTE = "may be a computer listed here, by its IP address"


def not_scanned_sheet(st: Styles, results: Results) -> None:
    """One row per finding of each directory target, to filter by the Finding column."""
    if not results.coverage:
        return
    t = Table(st.book, "Not scanned", WIDTHS, HEADER, "D2")
    t.sheet.comment(1, 2, FINDING_NOTE)
    t.sheet.comment(1, 7, LOGON_NOTE)
    for d in results.coverage:
        for cells, _dn, _note in _rows(st, d):
            t.row(cells)  # as tall as the wrapped DN and note need
    t.finish()
    t.legend(
        st,
        [
            (NOT_SCANNED, NO_VISIBILITY_FILL, "an active computer no host of the run matches"),
            (NOT_IN_DIRECTORY, LISTED_FILL, NOT_IN_DIRECTORY_NOTE),
            (UNREAD, STALE_FILL, "the directory could not be read (see the Note)"),
        ],
    )


def _rows(st: Styles, d: DirectoryCoverage) -> list[tuple[list[Cell], str, str]]:
    """Each row's cells, with its DN and note (the wrapped columns)."""
    wrap = st(wrap=True)

    def row(finding: Cell, name: str, dns: str = "", os: str = "", *rest: Cell, dn: str = "",
            note: str = "") -> tuple[list[Cell], str, str]:  # fmt: skip
        cells = [d.directory, finding, name, dns, os, *rest]
        cells += [""] * (8 - len(cells))
        return [*cells, (dn, wrap), (note, wrap)], dn, note

    if not d.read:
        return [row((UNREAD, st(fill=STALE_FILL, bold=True)), "", note=d.reason)]
    found, centred = st(fill=NO_VISIBILITY_FILL, bold=True), st(center=True)
    rows = [
        row(
            (NOT_SCANNED, found),
            n.name,
            n.dns_name,
            n.operating_system,
            n.os_version,
            n.last_logon.date().isoformat(),
            ((d.collected_at - n.last_logon).days if d.collected_at else "", centred),
            dn=n.dn,
        )
        for n in d.not_scanned
    ]
    listed = st(fill=LISTED_FILL)
    rows += [
        row((NOT_IN_DIRECTORY, listed), h.host, h.address, h.platform.value,
            note=NOT_IN_DIRECTORY_NOTE)
        for h in d.not_in_directory
    ]  # fmt: skip
    rows += [row(IP_ONLY, name, note=IP_ONLY_NOTE) for name in d.ip_only_hosts]
    if not rows:
        rows.append(row("nothing to report", "", note=_read(d)))
    return rows


def _read(d: DirectoryCoverage) -> str:
    return (
        f"{d.computers} computer objects read, {d.active} active (enabled, logged on within "
        f"{d.active_days} days), every one of them in the inventory"
    )


def directory_summary(s: Sheet, st: Styles, results: Results) -> None:
    """The Summary's lines on directory coverage (nothing when the run read no directory)."""
    if not results.coverage:
        return
    s.row([("Directory coverage (see the Not scanned sheet)", st.book.style(SECTION))])
    header_row(
        s,
        st,
        [
            "Directory",
            "Computer objects read",
            f"Active ({ACTIVE_DAYS} days)",
            "Not in the inventory",
            "Not in the directory",
            "IP-only hosts",
        ],
    )
    for d in results.coverage:
        if not d.read:
            s.row([d.directory, (f"could not be read: {d.reason}", st(fill=STALE_FILL))])
            continue
        s.row(
            [
                d.directory,
                d.computers,
                d.active,
                (
                    len(d.not_scanned),
                    st(fill=NO_VISIBILITY_FILL if d.not_scanned else None, bold=True),
                ),
                (len(d.not_in_directory), st(fill=LISTED_FILL if d.not_in_directory else None)),
                d.unmatched_ip_hosts,
            ]
        )
    notes = dict.fromkeys(n for d in results.coverage for n in d.notes)
    for note in notes:
        s.row([note])
    s.row([])
