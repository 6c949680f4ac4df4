"""The workbook's palette (told apart in greyscale, readable under black text), the colour key on
every sheet that uses colours, the per-strategy controls key and the chart's whole-host axis."""

from __future__ import annotations

import itertools
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from scanner.assess.pipeline import assess
from scanner.assess.results import RegisterUse, Results
from scanner.model.framework import requirements
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Strategy
from scanner.report.html import render_html
from scanner.report.xlsx.sheetml import PRINT_WIDTH, PT_PER_WIDTH, col_letter, whole_step
from scanner.report.xlsx.sheetml import Workbook as Workbook_
from scanner.report.xlsx.style import (
    INCOMPLETE_FILL,
    LISTED_FILL,
    MET_FILL,
    NO_VISIBILITY_FILL,
    NOT_APPLICABLE_FILL,
    OUTCOME_FILL,
    STALE_FILL,
    Styles,
    Table,
    level_fills,
    outcome_key,
)
from scanner.report.xlsx.workbook import write_xlsx
from tests.unit.test_xlsx import CHECK, HOSTILE, record

# Two fills of one set must differ by at least this luminance ratio, (L1 + 0.05) / (L2 + 0.05),
# the WCAG contrast formula applied between fills. Why 1.2: black text needs every fill at
# luminance >= 0.175 (4.5:1), so seven fills between 0.175 and 1.0 can be at most 1.29:1 apart
# if evenly spaced; 1.2:1 is about 6 CIE L* units at the light end (much more than the ~1 unit a
# reader just notices side by side), which survives a printer's or a photocopier's greyscale.
MIN_FILL_RATIO = 1.2
# Printers and pdftoppm -gray turn colour into grey by luma (0.299 R' + 0.587 G' + 0.114 B', on
# the encoded values), not by luminance: the fills of a set must also differ by 5 % there.
MIN_LUMA_STEP = 0.05
HEADER_FILL = "1F3864"  # white bold text on the header rows: not a meaning, not in any key


def luminance(fill: str) -> float:
    """WCAG 2 relative luminance of an sRGB hex colour."""
    channels = [int(fill[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def luma(fill: str) -> float:
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b


def level_set(top: int) -> dict[str, str]:
    """What the heat map, the per-strategy Level columns and the chart show side by side."""
    fills = level_fills(top)
    named = {f"ML{n}": fills[n] for n in range(top + 1)}
    return named | {
        "not assessed": fills[None],
        "not applicable": NOT_APPLICABLE_FILL,
        "no visibility": NO_VISIBILITY_FILL,
    }


def assert_apart(fills: dict[str, str]) -> None:
    for (a, fa), (b, fb) in itertools.combinations(fills.items(), 2):
        assert ratio(fa, fb) >= MIN_FILL_RATIO, (a, fa, b, fb, ratio(fa, fb))
        assert abs(luma(fa) - luma(fb)) >= MIN_LUMA_STEP, (a, fa, b, fb)


def test_outcome_fills_differ_in_greyscale() -> None:
    assert_apart({o.value: f for o, f in OUTCOME_FILL.items()})


@pytest.mark.parametrize("top", [1, 2, 3, 4])
def test_level_fills_differ_in_greyscale_and_darken_towards_ml0(top: int) -> None:
    fills = level_set(top)
    assert_apart(fills)
    ramp = [luminance(level_fills(top)[n]) for n in range(top + 1)]
    assert ramp == sorted(ramp)  # ML0 darkest: the order of the levels survives greyscale


def test_black_text_is_readable_on_every_fill() -> None:
    every = set(OUTCOME_FILL.values()) | set(level_fills(3).values()) | set(level_fills(5).values())
    every |= {MET_FILL, STALE_FILL, INCOMPLETE_FILL, LISTED_FILL, NO_VISIBILITY_FILL}
    for fill in every:
        assert (luminance(fill) + 0.05) / 0.05 >= 4.5, fill


def test_no_level_takes_the_colour_of_an_outcome_with_another_meaning() -> None:
    # A per-strategy sheet shows levels and outcomes; the Summary levels and met / not met.
    # Only "not assessed", "not applicable" and "no visibility" mean the same in both.
    for top in (1, 2, 3, 4, 5):
        levels = set(level_fills(top).values()) - {OUTCOME_FILL[Outcome.NOT_ASSESSED]}
        outcomes = {f for o, f in OUTCOME_FILL.items() if o is not Outcome.NOT_ASSESSED}
        assert not levels & outcomes, top
        assert not levels & {MET_FILL, STALE_FILL, NO_VISIBILITY_FILL, NOT_APPLICABLE_FILL}
    # ML1 was the pink of "not met"/ineffective, ML2 the yellow of no visibility: now far apart.
    ml = level_fills(3)
    assert distance(ml[1], OUTCOME_FILL[Outcome.INEFFECTIVE]) >= 80
    assert distance(ml[2], NO_VISIBILITY_FILL) >= 80


def distance(a: str, b: str) -> float:
    """Euclidean distance of two colours in 8-bit sRGB (0-441)."""
    return sum((int(a[i : i + 2], 16) - int(b[i : i + 2], 16)) ** 2 for i in (0, 2, 4)) ** 0.5


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path, Workbook]:
    results = assess(record(), [CHECK], Policy()).model_copy(
        update={
            "register_use": [
                RegisterUse(
                    id="EX-1",
                    kind="exception",
                    expires="2026-01-01",
                    statuses={"expired": 3},
                    hosts=["-hmi01"],
                ),
                RegisterUse(
                    id="AT-1",
                    kind="attestation",
                    expires="2027-01-01",
                    statuses={"incomplete": 1},
                    hosts=[HOSTILE],
                ),
            ]
        }
    )
    path = tmp_path_factory.mktemp("palette") / "r.xlsx"
    write_xlsx(results, path)
    return results, path, load_workbook(path)


def _rgb(cell: object) -> str | None:
    fill = getattr(cell, "fill", None)
    if fill is None or fill.fill_type != "solid":
        return None
    return str(fill.fgColor.rgb)[-6:]


def _key_start(ws: object) -> int | None:
    for row in ws.iter_rows(min_col=1, max_col=1):  # type: ignore[attr-defined]
        v = row[0].value
        if isinstance(v, str) and v.startswith("Colour key"):
            return int(row[0].row)
    return None


def test_every_sheet_that_uses_colours_prints_a_key_to_them(
    book: tuple[Results, Path, Workbook],
) -> None:
    _, path, wb = book
    keyed = []
    for ws in wb.worksheets:
        start = _key_start(ws)
        used: set[str] = set()
        key: dict[str, str] = {}
        for row in ws.iter_rows():
            for cell in row:
                fill = _rgb(cell)
                if fill is None or fill == HEADER_FILL:
                    continue
                if start is not None and cell.row > start and cell.column == 1:
                    # A key row: the colour with its label, and its meaning beside it.
                    meaning = ws.cell(row=cell.row, column=2).value
                    assert cell.value and meaning, (ws.title, cell.coordinate)
                    key[fill] = str(cell.value)
                elif start is None or cell.row < start:
                    used.add(fill)
                    # Colour never alone: a coloured cell carries its value, or (a row marked
                    # whole, as on Coverage) a cell of its row in the same colour does.
                    words = [c.value for c in row if _rgb(c) == fill and c.value not in (None, "")]
                    assert words, (ws.title, cell.coordinate)
        assert used <= set(key), (ws.title, used - set(key))
        if used:
            keyed.append(ws.title)
    assert {"Summary", "Heatmap", "Patch OS", "Controls", "Findings"} <= set(keyed)
    assert {"Exceptions", "Attestations", "Coverage", "Next level"} <= set(keyed)
    assert not {"Evidence index", "Run"} & set(keyed)
    # The chart's colours are the Summary key's.
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    # (a hatched series: its colour is the pattern's background)
    series = re.findall(r'<c:ser>.*?(?:solidFill|bgClr)><a:srgbClr val="([0-9A-F]{6})"', chart)
    summary = wb["Summary"]
    start = _key_start(summary)
    assert start is not None
    labels = {
        _rgb(summary.cell(row=r, column=1)): summary.cell(row=r, column=1).value
        for r in range(start + 1, summary.max_row + 1)
    }
    assert len(series) == 7 and all(labels.get(c) for c in series)
    assert [labels[c] for c in series[:4]] == ["ML0", "ML1", "ML2", "ML3"]


def test_each_strategy_sheet_prints_its_controls(book: tuple[Results, Path, Workbook]) -> None:
    results, _, wb = book
    for strategy in Strategy:
        ws = wb[strategy.short_label]
        header = [c.value for c in ws[1]]
        cells = list(ws.iter_rows(values_only=True))
        at = next(i for i, r in enumerate(cells) if str(r[0]).startswith("Controls on this sheet"))
        assert cells[at + 1][:4] == ("ISM", "Levels", "E8 id", "Requirement")
        listed = {r[0]: r for r in cells[at + 2 :]}
        reqs = [r for r in requirements() if r.strategy is strategy]
        assert [f"{r[0]} ({r[1]})" for r in cells[at + 2 :]] == header[4:]
        merged = {m.min_row: m for m in ws.merged_cells.ranges}
        last = ws.cell(row=1, column=len(header)).column_letter
        widths = [ws.column_dimensions[col_letter(i)].width for i in range(1, len(header) + 1)]
        for r in reqs:
            row = listed[r.ism]
            assert row[2] == r.local_id and row[3] == r.requirement
            n = at + 2 + list(listed).index(r.ism) + 1
            m = merged[n]  # the requirement across the columns to the right ...
            assert (m.min_col, m.max_row) == (4, n)
            # ... to the last, or, when the sheet prints more than a page wide, as far as its
            # first page reaches at any scale (a merged cell across two pages prints cut)
            assert m.max_col == len(header) or (
                ws.page_setup.fitToWidth > 1
                and sum(widths[: m.max_col]) * PT_PER_WIDTH <= PRINT_WIDTH
                and m.max_col >= 8
            ), (ws.title, m)
            if len(r.requirement) > 2 * 13 * len(reqs):
                assert (ws.row_dimensions[n].height or 0) >= 30  # wrapped text gets its lines
        # The keys are outside the filter: sorting the hosts never moves them.
        assert ws.auto_filter.ref == f"A1:{last}{1 + len(results.hosts)}"


def test_the_chart_counts_whole_hosts_from_zero(book: tuple[Results, Path, Workbook]) -> None:
    _, path, _ = book
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    value_axis = re.search(r"<c:valAx>.*</c:valAx>", chart)
    assert value_axis is not None
    axis = value_axis.group()
    assert '<c:min val="0"/>' in axis
    assert '<c:numFmt formatCode="0" sourceLinked="0"/>' in axis
    assert '<c:majorUnit val="1"/>' in axis  # four hosts: a gridline per host
    # No visibility, the last series, is hatched as well as yellow: "not seen" on any printer.
    series = re.findall(r"<c:ser>.*?</c:ser>", chart)
    assert [("<a:pattFill" in x) for x in series] == [False] * 6 + [True]
    assert f'<a:bgClr><a:srgbClr val="{NO_VISIBILITY_FILL}"/>' in series[-1]
    steps = [m * 10**e for e in range(6) for m in (1, 2, 5)]  # 1, 2, 5, 10, 20, 50 …
    for largest in (0, 1, 7, 10, 11, 40, 99, 101, 999, 12_345):
        step = whole_step(largest)
        # The smallest whole step of the series that needs no more than ten gridlines.
        assert step == next(s for s in steps if largest <= s * 10), largest


def test_the_html_report_uses_the_same_palette(book: tuple[Results, Path, Workbook]) -> None:
    results = book[0]
    page = render_html(results)
    assert f"td.na {{ background: #{NOT_APPLICABLE_FILL};" in page
    fills = {f.upper() for f in re.findall(r"background: #([0-9A-Fa-f]{6})", page)}
    palette = set(OUTCOME_FILL.values()) | set(level_fills(results.framework.top).values())
    chrome = {"F3F3F3"}  # row headings: not a meaning
    assert fills <= palette | {NOT_APPLICABLE_FILL} | chrome, fills - palette
    assert level_fills(3)[0] in fills  # the heat map's ML0 cell


def test_a_key_that_would_pass_the_last_row_goes_on_a_continuation_sheet(tmp_path: Path) -> None:
    path = tmp_path / "k.xlsx"
    with path.open("wb") as fh, Workbook_(fh) as wb:
        st = Styles(wb)
        t = Table(wb, "T", [20, 40], ["Host", "Outcome"], max_rows=5)
        for n in range(4):
            t.row([f"h{n}", "effective"])
        t.finish()
        t.legend(st, outcome_key([Outcome.EFFECTIVE, Outcome.INEFFECTIVE]))
    book = load_workbook(path)
    assert book.sheetnames == ["T", "T (2)"]
    assert book["T"].max_row == 5 and book["T"].auto_filter.ref == "A1:B5"
    rest = list(book["T (2)"].iter_rows(values_only=True))
    assert rest[0] == ("Host", "Outcome") and rest[2][0].startswith("Colour key")
    assert [r[0] for r in rest[3:]] == ["ineffective", "effective"]
    assert book["T (2)"].auto_filter.ref == "A1:B1"
