"""The workbook on paper: LibreOffice prints it to PDF, and the pages are A4 landscape with every
check id and ISM id whole (nothing clipped by a narrow column or printed over by the next row),
and the text on every page at least 65 % of its size (7.2 pt of the 11-pt font): a sheet too wide
for that prints more pages across, its host column on each.

One conversion for the module (a few seconds); the fixture is a fleet assessed by the whole check
catalogue, so the ids, evidence sentences and host names are the real ones."""

from __future__ import annotations

import re
import statistics
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string

from scanner.assess.pipeline import assess
from scanner.assess.results import Results
from scanner.checking.loader import load_checks
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach
from scanner.record.raw import CheckRef, CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.report.xlsx.grouping import grouped
from scanner.report.xlsx.sheetml import FLOOR_SCALE, PRINT_WIDTH, PT_PER_WIDTH, col_letter
from scanner.report.xlsx.workbook import write_xlsx

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
# The line box pdftotext gives a line of the workbook's 11-pt Calibri (Carlito in LibreOffice)
# printed at 100 %: 1.3 em, 14.3 pt (measured: a sheet at scale="100"). A page's text prints at
# the floor scale or larger when its lines' median height is at least FLOOR_SCALE of that.
LINE_AT_FULL_SIZE = 14.3


@dataclass(frozen=True)
class Printed:
    results: Results
    xlsx: Path
    sheets: dict[str, str]  # text per sheet (by the footer's sheet name)
    sizes: list[str]  # each page's size in points
    lines: list[tuple[str, float]]  # each page's sheet and the median height of its text lines


def _host(name: str, platform: Platform, reach: Reach, checks: list[str]) -> HostRecord:
    ok = reach is Reach.OK
    return HostRecord(
        name=name,
        address="192.0.2.10",
        port=22 if platform is Platform.LINUX else 5986,
        connection="ssh" if platform is Platform.LINUX else "winrm",
        user="scan",
        become=False,
        platform=platform,
        groups=["pilbara", "ot"],
        vars={"e8_role": "server"},
        reach=reach,
        reach_detail="" if ok else "connection refused by 192.0.2.10 port 22 after 3 attempts",
        host_key="SHA256:Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg" if ok else None,
        started=T0,
        finished=T0,
        commands=[  # a command per check (ids whole in the Evidence index's Checks column)
            CommandRecord(
                command="cat /etc/os-release /proc/sys/kernel/modules_disabled",
                as_run="sudo -n -- sh -c 'cat /etc/os-release /proc/sys/kernel/modules_disabled'",
                checks=[check],
                stdout=b"",
                stderr=b"",
                exit_code=1,
                started=T0.timestamp(),
                finished=T0.timestamp(),
            )
            for check in (checks if ok else [])
        ],
    )


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Printed:
    checks = load_checks()
    by = {p: [c.id for c in checks if p in c.platforms] for p in (Platform.LINUX, Platform.WINDOWS)}
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(
            id="20261207T030000Z-print",
            started=T0,
            finished=T0,
            inventory=[],
            target_level=2,
            checks=[CheckRef(id=c.id, version=c.version) for c in checks],
        ),
        hosts=[
            _host("hmi-pilbara-line2-historian01", Platform.LINUX, Reach.OK, by[Platform.LINUX]),
            _host("ws-perth-0042", Platform.WINDOWS, Reach.OK, by[Platform.WINDOWS]),
            _host("plc-gw-karratha", Platform.LINUX, Reach.UNREACHABLE, []),
        ],
    )
    results = assess(raw, checks, Policy())
    tmp = tmp_path_factory.mktemp("print")
    write_xlsx(results, tmp / "e8-report.xlsx", raw)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp),
            str(tmp / "e8-report.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = tmp / "e8-report.pdf"
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    sizes = re.findall(r"^Page\s+\d+ size:\s+(.*)$", info, re.MULTILINE)
    assert len(pages) == len(sizes), "a page printed blank"
    sheets: dict[str, str] = {}
    for n, page in enumerate(pages, start=1):
        footer = re.search(r"^\s*(\S.*?)\s+Page (\d+) of \d+\s*$", page, re.MULTILINE)
        assert footer and int(footer.group(2)) == n, f"page {n} has no footer: {page[:300]!r}"
        sheets[footer.group(1)] = sheets.get(footer.group(1), "") + page
    boxes = subprocess.run(
        ["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    lines = _line_heights(boxes)
    assert len(lines) == len(pages)
    footers = [re.search(r"^\s*(\S.*?)\s+Page \d+ of \d+\s*$", p, re.M) for p in pages]
    named = [(f.group(1) if f else "", h) for f, h in zip(footers, lines, strict=True)]
    return Printed(results, tmp / "e8-report.xlsx", sheets, sizes, named)


def _line_heights(bbox_xhtml: str) -> list[float]:
    """Each page's median text-line height (points) above its footer ("Page n of N")."""
    root = ElementTree.fromstring(re.sub(r'\sxmlns="[^"]+"', "", bbox_xhtml, count=1))
    medians = []
    for page in root.iter("page"):
        words = [w for w in page.iter("word") if w.text]
        footer = max(
            float(w.get("yMin", 0))
            for w, nxt in zip(words, words[1:], strict=False)
            if w.text == "Page" and (nxt.text or "").isdigit()
        )
        heights = [
            float(line.get("yMax", 0)) - float(line.get("yMin", 0))
            for line in page.iter("line")
            if float(line.get("yMax", 0)) < footer - 1
        ]
        medians.append(statistics.median(heights))
    return medians


def test_every_page_is_a4_landscape_and_every_sheet_prints(printed: Printed) -> None:
    results, sheets, sizes = printed.results, printed.sheets, printed.sizes
    for size in sizes:  # "841.89 x 595.304 pts (A4)": A4 is 841.89 x 595.28 points
        w, h = map(float, re.findall(r"[\d.]+", size)[:2])
        assert abs(w - 841.89) < 0.5 and abs(h - 595.28) < 0.5, size
    # the footer names each sheet: every sheet printed, on pages numbered "Page n of N"
    assert {
        "Summary",
        "Heatmap",
        "Controls",
        "Findings",
        "Coverage",
        "Evidence index",
        "Run",
    } <= set(sheets)
    assert {x.short_label for x in results.framework.groups} <= set(sheets)


def test_every_check_id_and_ism_id_prints_whole(printed: Printed) -> None:
    results, sheets = printed.results, printed.sheets
    words = {sheet: set(re.findall(r"[\w.,-]+", text)) for sheet, text in sheets.items()}
    run_checks = {c.id for c in results.run.checks}
    assert len(run_checks) > 40
    assert not run_checks - words["Run"]
    found = {c.check for h in results.hosts for c in h.controls if c.check}
    listed = {  # the Findings sheet leaves out not-applicable rows
        c.check
        for h in results.hosts
        for c in h.controls
        if c.check and c.outcome is not Outcome.NOT_APPLICABLE
    }
    assert len(listed) > 30 and not listed - words["Findings"]
    assert not found - words["Evidence index"]  # each command lists the checks it serves
    isms = {r.ism for r in results.framework.controls}
    assert not isms - words["Controls"]
    shown = {  # Findings: what a host showed (organisational rows are grouped on Controls)
        c.ism
        for h in results.hosts
        for c in h.controls
        if c.outcome is not Outcome.NOT_APPLICABLE and not grouped(c)
    }
    assert len(shown) > 30 and not shown - words["Findings"]
    for x in results.framework.groups:
        mine = {r.ism for r in results.framework.controls if r.strategy is x}
        assert not mine - words[x.short_label], x
    # the Levels column holds "ML1,ML2,ML3" whole; host names whole on every table
    assert "ML1,ML2,ML3" in words["Findings"]
    for sheet in ("Findings", "Coverage", "Heatmap", "Evidence index"):
        assert {"hmi-pilbara-line2-historian01", "ws-perth-0042"} <= words[sheet], sheet


def test_every_page_prints_its_text_at_a_legible_size(printed: Printed) -> None:
    # Before: one page wide whatever the width, strategy sheets printed at 32-37 %, Findings at
    # 38 %, the Evidence index at 42 % (text of 3.5-4.6 pt), the Summary at 53 %.
    least = FLOOR_SCALE * LINE_AT_FULL_SIZE  # 9.3 pt: 11-pt text at 65 %, 7.2 pt
    small = [(n, sheet, round(h, 2)) for n, (sheet, h) in enumerate(printed.lines, 1) if h < least]
    assert not small, f"pages whose text prints below {FLOOR_SCALE:.0%}: {small}"
    assert {sheet for sheet, _ in printed.lines} >= {"Findings", "Evidence index", "MFA"}


def test_each_sheets_page_setup_keeps_its_text_legible(printed: Printed) -> None:
    """From the written XML alone: the pages across each sheet asks for (fitToWidth) hold its
    columns at the floor scale, title columns repeated; matrix sheets repeat the host column and
    number their pages down the hosts first."""
    wb = load_workbook(printed.xlsx)
    room = PRINT_WIDTH / (PT_PER_WIDTH * FLOOR_SCALE)  # column units on a page at the floor
    across = {}
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert ps.scale is None and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        widths = [ws.column_dimensions[col_letter(i)].width for i in range(1, ws.max_column + 1)]
        repeat = re.fullmatch(r"\$A:\$([A-Z]+)", ws.print_title_cols or "")
        lead = sum(widths[: column_index_from_string(repeat.group(1))]) if repeat else 0.0
        pages, used = 1, 0.0
        for w in widths:
            if used and used + w > room:
                pages, used = pages + 1, lead
            used += w
        assert pages <= int(ps.fitToWidth), (ws.title, pages, ps.fitToWidth)
        across[ws.title] = int(ps.fitToWidth)
    matrix = ["Heatmap", *(x.short_label for x in printed.results.framework.groups)]
    for title in matrix:
        ws = wb[title]
        assert ws.print_title_cols == "$A:$A" and ws.print_title_rows == "$1:$1", title
        assert ws.page_setup.pageOrder == "downThenOver", title
    for x in printed.results.framework.groups:
        ws = wb[x.short_label]
        if across[x.short_label] > 1:  # the keys below the hosts: a print range one page wide
            hosts, keys = re.findall(r"\$([A-Z]+)\$(\d+)(?=,|$)", ws.print_area)
            assert hosts == (col_letter(ws.max_column), str(1 + len(printed.results.hosts)))
            last = column_index_from_string(keys[0])
            widths = [ws.column_dimensions[col_letter(i)].width for i in range(1, last + 1)]
            assert sum(widths) * PT_PER_WIDTH <= PRINT_WIDTH and keys[1] == str(ws.max_row)
    assert across["App hardening"] > 1 and across["Restrict admin"] > 1
    assert across["Controls"] == 1 and across["Coverage"] == 1  # long text: one page wide
