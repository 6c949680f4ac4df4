"""The workbook's look and table plumbing: fills, cell styles, tables that continue past
Excel's last row, and the small text helpers every sheet uses."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Sequence
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

# --- The palette ------------------------------------------------------------------------------
#
# One place for every fill of the workbook (and of the HTML report, which imports these). Why
# these colours: a printed report is often black and white, and about one reader in twelve does
# not tell red from green, so a fill must be told apart by its lightness alone. Every set of fills
# that meets on one sheet is spaced in lightness: the outcomes among themselves, the levels among
# themselves (with "not applicable", "not assessed" and "no visibility", which the heat map and
# the chart show beside them), the darkest the worst (ML0, ineffective). Black text on every fill keeps a contrast of
# at least 4.5:1 (WCAG AA), so the seven fills of a set share the luminance range 0.18-1.0:
# about 8 CIE L* units apart, at least 1.2:1 in luminance between any two (tests/unit/
# test_xlsx_palette.py computes it). Levels are a single violet ramp, a hue no outcome uses, so ML1 is
# never mistaken for "ineffective" nor ML2 for "no visibility"; outcomes keep the usual hues (red
# ineffective, orange not implemented, green effective, yellow no visibility). Colour is never
# the only cue: a coloured cell carries its outcome or level as text, a coloured count sits under
# a header naming it, and each sheet that uses colours prints a key (:func:`legend`).
EFFECTIVE_FILL = "9BC596"  # green, L* 75
ALTERNATE_FILL = "6DAEBD"  # teal, L* 67
INEFFECTIVE_FILL = "B86059"  # red, L* 51: the darkest, it draws the eye first
NOT_IMPLEMENTED_FILL = "BF824D"  # orange, L* 59
NO_VISIBILITY_FILL = "FDE690"  # yellow, L* 92
NOT_APPLICABLE_FILL = "D0D0D0"  # grey, L* 84
NOT_ASSESSED_FILL = "FFFFFF"  # white, L* 100: nothing was judged
# The level ramp: ML0 (L* 51) to the framework's top level (L* 76), mixed in between.
_ML0, _TOP = "946B9F", "AEBCE5"


def level_fills(top: int) -> dict[int | None, str]:
    """Fill per level 0…top (and None: not assessed) for a framework whose top level is ``top``:
    a violet ramp from dark (ML0) to light (the top level), evenly mixed in between, so the
    order of the levels survives greyscale printing for any number of levels. Up to five levels
    (ML0-ML4) stay at least 1.2:1 apart in luminance; more levels get closer shades."""
    steps = max(top, 1)
    return {
        **{n: _mix(_ML0, _TOP, n / steps) for n in range(top + 1)},
        None: NOT_ASSESSED_FILL,
    }


def _mix(a: str, b: str, t: float) -> str:
    return "".join(
        f"{round(int(a[i : i + 2], 16) * (1 - t) + int(b[i : i + 2], 16) * t):02X}"
        for i in (0, 2, 4)
    )


LEVEL_FILL = level_fills(3)  # the Essential Eight's: ML0 946B9F … ML3 AEBCE5
OUTCOME_FILL = {
    Outcome.EFFECTIVE: EFFECTIVE_FILL,
    Outcome.ALTERNATE_CONTROL: ALTERNATE_FILL,
    Outcome.INEFFECTIVE: INEFFECTIVE_FILL,
    Outcome.NO_VISIBILITY: NO_VISIBILITY_FILL,
    Outcome.NOT_IMPLEMENTED: NOT_IMPLEMENTED_FILL,
    Outcome.NOT_APPLICABLE: NOT_APPLICABLE_FILL,
    Outcome.NOT_ASSESSED: NOT_ASSESSED_FILL,
}
# Verdicts take the outcome colours of the same sense: met is effective, a problem ineffective.
MET_FILL = EFFECTIVE_FILL
STALE_FILL = INEFFECTIVE_FILL  # an expired or incomplete register entry; hosts short of target
INCOMPLETE_FILL = INEFFECTIVE_FILL  # a run stopped before every host was collected
LISTED_FILL = "98C0D8"  # light blue, L* 76 (Not scanned: an inventory line to check)


# What each colour means, for the printed keys (label, fill, meaning).
OUTCOME_MEANING = {
    Outcome.EFFECTIVE: "in place and working, shown by the host's own evidence",
    Outcome.ALTERNATE_CONTROL: "not met as written; a compensating control under an exception",
    Outcome.INEFFECTIVE: "in place but not working as required",
    Outcome.NO_VISIBILITY: "could not be seen: host not reached, or its data missing or unreadable",
    Outcome.NOT_IMPLEMENTED: "not in place (or a risk accepted without a compensating control)",
    Outcome.NOT_APPLICABLE: "does not concern this host (shown by the host)",
    Outcome.NOT_ASSESSED: "not judged: no host check (organisational) and no valid attestation",
}
KeyEntry = tuple[str, str, str]


def outcome_key(outcomes: Iterable[Outcome] = tuple(Outcome)) -> list[KeyEntry]:
    """Key rows for outcome fills, darkest first (as they print in grey)."""
    order = sorted(outcomes, key=lambda o: _lightness_rank(OUTCOME_FILL[o]))
    return [(o.value, OUTCOME_FILL[o], OUTCOME_MEANING[o]) for o in order]


def level_key(top: int, reach: bool = True) -> list[KeyEntry]:
    """Key rows for level fills ML0…top, then not assessed, not applicable and (with ``reach``)
    no visibility, which the heat map, the per-strategy sheets and the chart show beside them."""
    fill = level_fills(top)
    rows: list[KeyEntry] = [("ML0", fill[0], "does not meet ML1")]
    rows += [(f"ML{n}", fill[n], f"meets ML{n}, not ML{n + 1}") for n in range(1, top)]
    if top:
        rows.append((f"ML{top}", fill[top], f"meets ML{top}, the top level"))
    rows += [
        ("not assessed", fill[None], "no assessed control behind any level"),
        ("not applicable", NOT_APPLICABLE_FILL, "the strategy does not concern this host"),
    ]
    if reach:
        rows.append(
            ("no visibility", NO_VISIBILITY_FILL, "host not reached or not readable (Reach)")
        )
    return rows


def _lightness_rank(fill: str) -> float:
    return sum(int(fill[i : i + 2], 16) * w for i, w in ((0, 0.299), (2, 0.587), (4, 0.114)))


KEY_TITLE = "Colour key (every coloured cell also says it in words)"


def legend(sheet: Sheet, st: Styles, entries: Sequence[KeyEntry], title: str = KEY_TITLE) -> None:
    """A printable key below a sheet's table: one row per colour, the colour with its label
    beside what it means (cells, so it prints, unlike a note)."""
    sheet.row([])
    sheet.row([(title, st(bold=True))])
    for label, fill, meaning in entries:
        sheet.row([(label, st(fill=fill)), meaning])


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
    page; continuation sheets are titled "Findings (2)", "Findings (3)" … A table wider than a
    page at a legible size prints on more pages across, its first ``title_cols`` columns (what
    names a row: the host) repeated on each, page after page across before the next rows.
    ``vertical``: the (0-based) columns whose header is written upwards, so a column of counts
    needs no more width than its numbers.
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
        title_cols: int = 1,
        vertical: Container[int] = (),
    ) -> None:
        self.book, self.title = book, title
        # a column at least as wide as the longest word of its (bold) header: "Truncated" whole,
        # not "Truncate" over "d"
        words = [
            0 if i in vertical else max((len(w) for w in re.split(r"[\s-]", n)), default=0)
            for i, n in enumerate(header)
        ]
        self.widths = [
            max(w, round(n * 1.15) + 1) if n else w
            for w, n in zip(widths, [*words, *[0] * len(widths)], strict=False)
        ]
        self.freeze, self.pages_tall, self.max_rows = freeze, pages_tall, max_rows
        self.title_cols, self.vertical = title_cols, vertical
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
        sheet.title_cols = self.title_cols
        if self.names:
            up, across = self.book.style(HEADER_VERTICAL), self.book.style(HEADER)
            flat = ["" if i in self.vertical else n for i, n in enumerate(self.names)]
            upright = [len(n) for i, n in enumerate(self.names) if i in self.vertical]
            sheet.row(
                [(n, up if i in self.vertical else across) for i, n in enumerate(self.names)],
                # a header written upwards: about 6 pt a (bold) character and a margin
                height=max(header_height(flat, self.widths), 6.0 * (max(upright, default=0) + 2)),
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

    def legend(self, st: Styles, entries: Sequence[KeyEntry], title: str = "") -> None:
        """The colour key below the last rows (after :meth:`finish`, so outside the filter); on
        a sheet of its own in the run when the last one has no room left."""
        if self.sheet.rows + len(entries) + 2 > self.max_rows:
            self.sheet = self._open()
            self.finish()
        legend(self.sheet, st, entries, title or KEY_TITLE)


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


def host_width(names: Iterable[str]) -> float:
    """Column A of a table with a colour key below it: host names, and the key's labels
    ("alternate_control") whole."""
    labels = [o.value for o in Outcome] + ["not applicable", "no visibility"]
    return fit_width([*names, *labels], 14, 32)
