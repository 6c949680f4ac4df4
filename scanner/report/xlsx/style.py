"""The workbook's look and table plumbing: fills, cell styles, tables that continue past
Excel's last row, and the small text helpers every sheet uses."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from scanner.assess.results import HostResult, RunSummary
from scanner.model.vocabulary import Outcome, Reach
from scanner.report.xlsx.sheetml import (
    MAX_ROWS,
    Cell,
    Sheet,
    Style,
    Workbook,
    col_letter,
    row_height,
)

MAX_GROUP_COLUMNS = 30

# Level fills run from red (ML0) through light red and amber to green (the framework's top level).
_LOW, _MID, _TOP, _ZERO, _NONE = "FFC7CE", "FFEB84", "63BE7B", "F8696B", "D9D9D9"


def level_fills(top: int) -> dict[int | None, str]:
    """Fill per level 0…top (and None: not assessed, grey) for a framework whose top level is
    ``top``; the levels between ML0 and the top shade from light red to amber."""
    between = top - 1
    shades = [_mix(_LOW, _MID, i / max(between - 1, 1)) for i in range(between)]
    if between == 1:
        shades = [_MID]
    return {0: _ZERO, **{n + 1: c for n, c in enumerate(shades)}, top: _TOP, None: _NONE}


def _mix(a: str, b: str, t: float) -> str:
    return "".join(
        f"{round(int(a[i : i + 2], 16) * (1 - t) + int(b[i : i + 2], 16) * t):02X}"
        for i in (0, 2, 4)
    )


LEVEL_FILL = level_fills(3)  # the Essential Eight's: ML0 red, ML1 light red, ML2 amber, ML3 green
OUTCOME_FILL = {
    Outcome.EFFECTIVE: "C6EFCE",
    Outcome.ALTERNATE_CONTROL: "DDEBF7",
    Outcome.INEFFECTIVE: "FFC7CE",
    Outcome.NO_VISIBILITY: "FFEB9C",
    Outcome.NOT_IMPLEMENTED: "F4B084",
    Outcome.NOT_APPLICABLE: "EDEDED",
    Outcome.NOT_ASSESSED: "FFFFFF",
}
NO_VISIBILITY_FILL = "FFEB9C"
INCOMPLETE_FILL = "FFC7CE"  # light red: a run stopped before every host was collected
NOT_APPLICABLE_FILL = "E4DFEC"  # lavender: distinct from not assessed (grey) and no visibility
STALE_FILL = "FFC7CE"
MET_FILL = "C6EFCE"


def run_status(run: RunSummary) -> str:
    """The run's completeness in words, for the Summary and Run sheets."""
    if not run.incomplete:
        return "complete"
    missing = run.not_collected
    names = ", ".join(missing[:50]) + (
        f" and {len(missing) - 50} more" if len(missing) > 50 else ""
    )
    return (
        f"INCOMPLETE ({run.incomplete_reason or 'stopped early'}): {len(missing)} in-scope "
        f"host(s) not collected and not in this report: {names}"
    )


HEADER = Style(
    fill="1F3864", bold=True, colour="FFFFFF", wrap=True, horizontal="center", vertical="center"
)
HEADER_VERTICAL = Style(
    fill="1F3864", bold=True, colour="FFFFFF", horizontal="center", vertical="bottom", rotation=90
)
TITLE = Style(bold=True, size=14)
SECTION = Style(bold=True, size=12, colour="1F3864")


def distribution(levels: Sequence[int]) -> list[tuple[str, str]]:
    """Series order in the Summary distribution table (and the chart built on it): ML0, each of
    the framework's levels, then not applicable, not assessed and no visibility."""
    return [
        ("0", "ML0"),
        *((str(n), f"ML{n}") for n in levels),
        ("not_applicable", "Not applicable"),
        ("not_assessed", "Not assessed"),
        ("no_visibility", "No visibility"),
    ]


STALE_STATUSES = ("expired", "incomplete", "not yet valid")


class Table:
    """A sheet (or, past Excel's last row, a run of sheets) of rows under one header.

    Every sheet of the run repeats the header, freezes it, filters it and prints it on every
    page; continuation sheets are titled "Findings (2)", "Findings (3)" …
    """

    def __init__(
        self,
        book: Workbook,
        title: str,
        widths: Sequence[float],
        header: Sequence[str] = (),
        freeze: str | None = "B2",
        pages_tall: int = 0,
        max_rows: int = MAX_ROWS,
    ) -> None:
        self.book, self.title = book, title
        # a column at least as wide as the longest word of its (bold) header: "Truncated" whole,
        # not "Truncate" over "d"
        words = [max((len(w) for w in re.split(r"[\s-]", n)), default=0) for n in header]
        self.widths = [
            max(w, round(n * 1.15) + 1) if n else w
            for w, n in zip(widths, [*words, *[0] * len(widths)], strict=False)
        ]
        self.freeze, self.pages_tall, self.max_rows = freeze, pages_tall, max_rows
        self.names = list(header)
        self.sheets: list[Sheet] = []
        self.sheet = self._open()

    def _open(self) -> Sheet:
        n = len(self.sheets) + 1
        title = self.title if n == 1 else f"{self.title[:25]} ({n})"
        sheet = self.book.sheet(
            title,
            self.widths,
            freeze=self.freeze if self.names else None,
            pages_tall=self.pages_tall,
        )
        self.sheets.append(sheet)
        if self.names:
            sheet.row(
                [(n, self.book.style(HEADER)) for n in self.names],
                height=header_height(self.names, self.widths),
            )
            sheet.print_title_rows = "1:1"
        return sheet

    def row(self, cells: Sequence[Cell], style: int = 0, height: float | None = None) -> None:
        self._room().row(cells, style, height)

    def row_xml(self, cells_xml: str, height: float | None = None) -> None:
        """A row of cells rendered with ``book.cell`` (the fast path for the big tables; the
        caller gives the height its wrapped cells need, :func:`row_height`)."""
        self._room().row_xml(cells_xml, height)

    def _room(self) -> Sheet:
        if self.sheet.rows >= self.max_rows:
            self.finish()
            self.sheet = self._open()
        return self.sheet

    def finish(self) -> None:
        """Filter each sheet over every row it holds."""
        if self.names:
            last = col_letter(len(self.names))
            self.sheet.filter_ref = f"A1:{last}{max(self.sheet.rows, 1)}"


class Styles:
    """Cell formats by what they look like, registered once per workbook."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self._ids: dict[tuple[str | None, bool, bool, bool], int] = {}

    def __call__(
        self, fill: str | None = None, bold: bool = False, wrap: bool = False, center: bool = False
    ) -> int:
        key = (fill, bold, wrap, center)
        sid = self._ids.get(key)
        if sid is None:
            sid = self._ids[key] = self.book.style(
                Style(
                    fill=fill,
                    bold=bold,
                    wrap=wrap,
                    horizontal="center" if center else None,
                )
            )
        return sid


def level_text(v: int | None) -> str:
    return "not assessed" if v is None else f"ML{v}"


def levels_span(levels: Iterable[int]) -> str:
    """(1, 2, 3) → 'ML1-3'; (3,) → 'ML3'."""
    ns = sorted(levels)
    if not ns:
        return "-"
    return f"ML{ns[0]}" if len(ns) == 1 else f"ML{ns[0]}-{ns[-1]}"


def when(d: datetime) -> str:
    return d.isoformat(timespec="seconds")


def reached(h: HostResult) -> bool:
    return h.reach is Reach.OK


def yes_no(v: bool) -> str:
    return "yes" if v else "no"


def header_row(s: Sheet, st: Styles, names: Sequence[str]) -> None:
    s.row([(n, st.book.style(HEADER)) for n in names], height=header_height(names, s.widths))


def header_height(names: Sequence[str], widths: Sequence[float]) -> float:
    """A header row's height: two lines at least, more if a name wraps to more."""
    return max(30.0, row_height(names, widths, range(len(names))) or 0)


def fit_width(values: Iterable[str], least: float, most: float) -> float:
    """A column width (characters) that shows the longest of ``values`` whole, between ``least``
    and ``most``: a character a unit (a digit's width), capitals a quarter more, and a margin."""
    longest = max((len(v) + 0.25 * sum(c.isupper() for c in v) for v in values), default=0)
    return float(min(most, max(least, round(longest) + 2)))
