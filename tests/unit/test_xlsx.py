"""The workbook: sheets, cells, colours, the chart, and host text that must never become a formula."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from scanner.assess.pipeline import assess
from scanner.assess.results import RegisterUse, Results
from scanner.checking.api import Check, Finding
from scanner.model.framework import requirements
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach, Strategy
from scanner.record.raw import CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.report.xlsx import sheetml
from scanner.report.xlsx.grouping import grouped
from scanner.report.xlsx.sheetml import (
    LINE_HEIGHT,
    MAX_HEIGHT,
    row_height,
    safe_text,
    wrapped_lines,
)
from scanner.report.xlsx.style import LEVEL_FILL, NO_VISIBILITY_FILL, OUTCOME_FILL, STALE_FILL
from scanner.report.xlsx.tables import OBSERVED_CHARS
from scanner.report.xlsx.workbook import write_workbook, write_xlsx

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
HOSTILE = "=cmd|' /C calc'!A0"
SHEETS = [
    "Summary",
    "Heatmap",
    "Application control",
    "Patch applications",
    "Office macros",
    "App hardening",
    "Restrict admin",
    "Patch OS",
    "MFA",
    "Regular backups",
    "Controls",
    "Findings",
    "Exceptions",
    "Attestations",
    "Coverage",
    "Evidence index",
    "Next level",
    "Run",
]


def evil_judge(out, ctx):  # type: ignore[no-untyped-def]
    return [
        Finding(
            ism="ISM-1501",
            outcome=Outcome.INEFFECTIVE,
            evidence='=HYPERLINK("http://x","y")\x07bell',
            observed={"name": "+cmd|' /C calc'!A0"},
        )
    ]


CHECK = Check(
    id="patch_os.evil",
    title="Evidence that looks like a formula",
    strategy=Strategy.PATCH_OS,
    ism=("ISM-1501",),
    platforms=frozenset({Platform.LINUX}),
    collect={"x": "true"},
    judge=evil_judge,
    version=1,
)


def _host(
    name: str,
    reach: Reach,
    groups: list[str],
    role: str,
    ot_zone: str | None = None,
    platform: Platform = Platform.LINUX,
) -> HostRecord:
    hvars: dict[str, Any] = {"e8_role": role}
    if ot_zone:
        hvars["e8_ot_zone"] = ot_zone
    ok = reach is Reach.OK
    return HostRecord(
        name=name,
        address="127.0.0.9",
        port=22,
        connection="ssh",
        user="scan",
        become=False,
        platform=platform,
        groups=groups,
        vars=hvars,
        reach=reach,
        reach_detail="" if ok else "@connection refused",
        host_key="SHA256:abc" if ok else None,
        started=T0,
        finished=T0,
        commands=[
            CommandRecord(
                command="true",
                as_run="true",
                checks=["patch_os.evil"],
                stdout=f"{name} out \xff".encode("utf-8", "surrogateescape") + b"\xfe",
                stderr=HOSTILE.encode(),
                exit_code=0,
                started=T0.timestamp(),
                finished=T0.timestamp(),
            )
        ]
        if ok
        else [],
    )


def record() -> RawRecord:
    return RawRecord(
        tool_version="t",
        run=RunInfo(id="r1", started=T0, finished=T0, inventory=[], target_level=2, checks=[]),
        hosts=[
            _host("-hmi01", Reach.OK, ["pilbara", "ot"], "workstation", "level2"),
            _host("hist02", Reach.UNREACHABLE, ["pilbara", "ot"], "server", "level3"),
            _host("app03", Reach.OK, ["perth"], "server", None, Platform.WINDOWS),
            _host(HOSTILE, Reach.AUTH_FAILED, ["perth", "x\x01y"], "server"),
        ],
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, RawRecord, Path, Workbook]:
    raw = record()
    results = assess(raw, [CHECK], Policy())
    path = tmp_path_factory.mktemp("x") / "r.xlsx"
    write_xlsx(results, path, raw)
    return results, raw, path, load_workbook(path)


def rows(wb: Workbook, sheet: str) -> list[tuple[Any, ...]]:
    return list(wb[sheet].iter_rows(values_only=True))


def table(wb: Workbook, sheet: str) -> list[tuple[Any, ...]]:
    """A table sheet's header and data rows: up to the empty row before its colour key."""
    got = rows(wb, sheet)
    end = next((i for i, r in enumerate(got) if all(v is None for v in r)), len(got))
    return got[:end]


def test_every_sheet_in_order(built: tuple[Results, RawRecord, Path, Workbook]) -> None:
    assert built[3].sheetnames == SHEETS
    assert all(len(n) <= 31 for n in SHEETS)


def test_summary_coverage_by_role_ot_zone_and_platform(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    summary = rows(built[3], "Summary")
    cov = {
        (r[0], r[1]): r[2:5]
        for r in summary
        if r[0] in ("All hosts", "Role", "OT zone", "Platform")
    }
    # (in inventory, assessed, no visibility)
    assert cov[("All hosts", None)] == (4, 2, 2)
    assert cov[("Role", "server")] == (3, 1, 2)
    assert cov[("Role", "workstation")] == (1, 1, 0)
    assert cov[("OT zone", "level2")] == (1, 1, 0)
    assert cov[("OT zone", "level3")] == (1, 0, 1)
    assert cov[("OT zone", "(not OT)")] == (2, 1, 1)
    assert cov[("Platform", "linux")] == (3, 1, 2)
    assert cov[("Platform", "windows")] == (1, 1, 0)
    meta = {r[0]: r[1] for r in summary if r[0]}
    assert meta["Run id"] == "r1" and meta["Target level"] == "ML2"
    assert meta["Maturity model"] == "essential-eight@ISM-OSCAL 2025.12.9" and meta["Tool version"]


def test_summary_fleet_table_and_chart(built: tuple[Results, RawRecord, Path, Workbook]) -> None:
    results, _, path, wb = built
    summary = rows(wb, "Summary")
    header = next(r for r in summary if r[0] == "Strategy")
    assert header[:4] == (
        "Strategy",
        "Fleet level (lowest)",
        "Target met",
        "Hosts not meeting target",
    )
    po = next(r for r in summary if r[0] == "Patch OS")
    fleet = next(f for f in results.fleet if f.strategy is Strategy.PATCH_OS)
    assert po[1] == "ML0" and po[2] == "not met"
    keys = ("0", "1", "2", "3", "not_applicable", "not_assessed", "no_visibility")
    assert po[4:11] == tuple(fleet.distribution.get(k, 0) for k in keys)
    # Below the target (ML2) or not seen at all: neither meets it.
    dist = fleet.distribution
    assert po[3] == dist["0"] + dist["1"] + dist["no_visibility"] and dist["no_visibility"] > 0
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    # The chart's series point at the distribution cells on the Summary sheet.
    first = summary.index(header) + 1
    assert f"'Summary'!$E${first + 1}:$E${first + 8}" in chart
    assert f"'Summary'!$K${first + 1}:$K${first + 8}" in chart  # no visibility, the last series
    assert f"'Summary'!$A${first + 1}:$A${first + 8}" in chart


def test_heatmap_levels_groups_and_fills(built: tuple[Results, RawRecord, Path, Workbook]) -> None:
    wb = built[3]
    heat = rows(wb, "Heatmap")
    header = heat[0]
    assert header[:5] == ("Host", "Role", "OT zone", "Platform", "Reach")
    # Groups, the most common first (ties by name); host text escaped in the header too.
    groups = [h for h in header if str(h).startswith("group: ")]
    assert groups == ["group: ot", "group: perth", "group: pilbara", "group: x\\x01y"]
    hmi = next(r for r in heat if r[0] == "-hmi01")
    assert hmi[header.index("group: ot")] == "x" and hmi[header.index("group: perth")] is None
    po = header.index("Patch OS")
    assert hmi[po] == "ML0" and hmi[1:4] == ("workstation", "level2", "linux")
    row = heat.index(hmi) + 1
    ws = wb["Heatmap"]
    assert ws.cell(row=row, column=po + 1).fill.fgColor.rgb.endswith(LEVEL_FILL[0])
    dead = next(r for r in heat if r[0] == "hist02")
    assert dead[4] == "unreachable" and dead[po] == "not assessed"
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == f"A1:{_col(len(header))}5"


def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def test_strategy_sheet_headers_and_outcomes(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    results, _, _, wb = built
    sheet = rows(wb, "Patch OS")
    header = sheet[0]
    assert header[:4] == ("Host", "Reach", "Level", "Claimable")
    controls = header[4:]
    assert "ISM-1501 (ML1-3)" in controls
    first_levels = [int(re.search(r"\(ML(\d)", str(h)).group(1)) for h in controls]  # type: ignore[union-attr]
    assert first_levels == sorted(first_levels)  # ML1 controls first, ML3 last
    col = header.index("ISM-1501 (ML1-3)")
    hmi = next(r for r in sheet if r[0] == "-hmi01")
    assert hmi[col] == "ineffective" and hmi[2] == "ML0"
    fill = wb["Patch OS"].cell(row=sheet.index(hmi) + 1, column=col + 1).fill.fgColor.rgb
    assert fill.endswith(OUTCOME_FILL[Outcome.INEFFECTIVE])
    expected = {
        c.ism: c.outcome.value
        for h in results.hosts
        if h.name == "hist02"
        for c in h.controls
        if c.strategy is Strategy.PATCH_OS
    }
    dead = next(r for r in sheet if r[0] == "hist02")
    got = {str(h).split()[0]: v for h, v in zip(controls, dead[4:], strict=True) if v}
    assert got == expected


def test_findings_keep_evidence_and_hostile_text(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    results, _, _, wb = built
    frows = table(wb, "Findings")
    assert frows[0][:7] == (
        "Host",
        "Strategy",
        "ISM",
        "Requirement (short)",
        "E8 id",
        "Levels",
        "Outcome",
    )
    assert frows[0][7:14] == (
        "Host-checkable",
        "Evidence",
        "Observed",
        "Grade",
        "Check",
        "Check version",
        "Collected at",
    )
    applicable = [
        (h.name, c.ism)
        for h in results.hosts
        for c in h.controls
        if c.outcome is not Outcome.NOT_APPLICABLE and not grouped(c)
    ]
    # not-applicable and unattested organisational rows: Controls sheet
    assert [(r[0], r[2]) for r in frows[1:]] == applicable
    assert len(applicable) < sum(len(h.controls) for h in results.hosts)
    evil = next(r for r in frows if r[0] == "-hmi01" and r[2] == "ISM-1501")
    assert evil[3] == "Operating systems that are no longer supported by vendors are replaced."
    assert evil[6] == "ineffective" and evil[11] == "patch_os.evil" and evil[12] == 1
    assert evil[8].startswith("=HYPERLINK") and "\\x07bell" in evil[8]
    assert "+cmd|' /C calc'!A0" in evil[9]
    assert any(r[0] == HOSTILE for r in frows)


def test_no_formula_anywhere(built: tuple[Results, RawRecord, Path, Workbook]) -> None:
    path, wb = built[2], built[3]
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(SHEETS)
        for name in sheets:
            assert "<f>" not in z.read(name).decode() and "<f " not in z.read(name).decode()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)


def test_coverage_reports_every_host_and_fills_no_visibility(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    wb = built[3]
    cov = table(wb, "Coverage")
    assert cov[0][:7] == (
        "Host",
        "Address",
        "Platform",
        "Connection",
        "Reach",
        "Reach detail",
        "Host key",
    )
    by = {r[0]: (i + 1, r) for i, r in enumerate(cov[1:], start=1)}
    assert set(by) == {"-hmi01", "hist02", "app03", HOSTILE}
    assert by["-hmi01"][1][4] == "ok" and by["-hmi01"][1][6] == "SHA256:abc"
    assert by["hist02"][1][4] == "unreachable" and by["hist02"][1][5] == "@connection refused"
    assert by[HOSTILE][1][4] == "auth_failed"
    ws = wb["Coverage"]
    assert ws.cell(row=by["hist02"][0], column=1).fill.fgColor.rgb.endswith(NO_VISIBILITY_FILL)
    assert ws.cell(row=by["-hmi01"][0], column=1).fill.fill_type is None


def test_evidence_index_hashes_the_stored_output(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    _, raw, _, wb = built
    ev = rows(wb, "Evidence index")
    assert ev[0][:9] == (
        "Host",
        "Checks",
        "Command",
        "As run",
        "Exit code",
        "Stdout SHA-256",
        "Stdout bytes",
        "Stderr SHA-256",
        "Stderr bytes",
    )
    assert len(ev) == 1 + sum(len(h.commands) for h in raw.hosts) == 3
    for h in raw.hosts:
        for c in h.commands:
            row = next(r for r in ev if r[0] == h.name and r[2] == c.command)
            assert row[5] == hashlib.sha256(c.stdout).hexdigest()
            assert (
                row[7]
                == hashlib.sha256(c.stderr).hexdigest()
                == hashlib.sha256(HOSTILE.encode()).hexdigest()
            )
            assert row[4] == 0 and row[6] == len(c.stdout) and row[9:12] == ("no", "no", "yes")


def test_without_raw_record_or_register_the_sheets_say_so(tmp_path: Path) -> None:
    results = assess(record(), [CHECK], Policy())
    path = tmp_path / "r.xlsx"
    write_xlsx(results, path)
    wb = load_workbook(path)
    ev = rows(wb, "Evidence index")
    assert len(ev) == 2 and "raw record not available" in ev[1][0]
    for sheet in ("Exceptions", "Attestations"):
        reg = rows(wb, sheet)
        assert len(reg) == 2 and reg[1][0] == f"No {sheet.lower()}"
        assert "No exception register" in reg[1][1]


def test_register_sheets_highlight_expired_and_incomplete(tmp_path: Path) -> None:
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
                    id="EX-2",
                    kind="exception",
                    expires="2027-01-01",
                    statuses={"risk acceptance": 2},
                    hosts=["app03"],
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
    path = tmp_path / "r.xlsx"
    write_xlsx(results, path)
    wb = load_workbook(path)
    ex = table(wb, "Exceptions")
    assert ex[0][:4] == ("Id", "Expires", "State", "Controls by status")
    assert [r[0] for r in ex[1:]] == ["EX-1", "EX-2"]
    assert ex[1][2] == "expired" and ex[2][2] == "current"
    ws = wb["Exceptions"]
    assert ws.cell(row=2, column=2).fill.fgColor.rgb.endswith(STALE_FILL)
    assert ws.cell(row=3, column=2).fill.fill_type is None
    at = rows(wb, "Attestations")
    assert at[1][0] == "AT-1" and at[1][2] == "incomplete" and at[1][5] == HOSTILE


def test_next_level_and_run(built: tuple[Results, RawRecord, Path, Workbook]) -> None:
    wb = built[3]
    nxt = rows(wb, "Next level")
    po = next(r for r in nxt if r[0] == "-hmi01" and r[1] == "Patch operating systems")
    assert po[2] == "ML0" and "ISM-1501 ineffective" in po[3]
    assert not [r for r in nxt if r[0] == "hist02"]  # unreachable: nothing to climb from
    run = dict(r[:2] for r in rows(wb, "Run"))
    assert (
        run["Target level"] == "ML2"
        and run["Model version"] == "essential-eight@ISM-OSCAL 2025.12.9"
    )


def test_safe_text_escapes_control_characters_and_caps_length() -> None:
    assert safe_text("a\x00b\x1bc\td\ne") == "a\\x00b\\x1bc\td\ne"
    assert len(safe_text("x" * 100_000)) < 32_767


def test_heatmap_group_columns_are_capped_most_common_first(tmp_path: Path) -> None:
    raw = record()
    many = [f"g{i:02d}" for i in range(40)]
    hosts = [h.model_copy(update={"groups": many}) for h in raw.hosts]
    hosts[0] = hosts[0].model_copy(update={"groups": [*many, "all"]})
    hosts[1] = hosts[1].model_copy(update={"groups": ["g39", "g38"]})
    results = assess(raw.model_copy(update={"hosts": hosts}), [CHECK], Policy())
    write_xlsx(results, tmp_path / "r.xlsx")
    header = rows(load_workbook(tmp_path / "r.xlsx"), "Heatmap")[0]
    groups = [h for h in header if str(h).startswith("group: ")]
    assert len(groups) == 30 and groups[:3] == ["group: g38", "group: g39", "group: g00"]
    assert "group: all" not in groups


def test_controls_sheet_lists_each_control_once_with_host_counts(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    results, _, _, wb = built
    ctl = table(wb, "Controls")
    assert ctl[0][:6] == ("Strategy", "ISM", "E8 id", "Levels", "Host-checkable", "Requirement")
    assert len(ctl) == 1 + len(requirements())
    row = next(r for r in ctl if r[0] == "patch_os" and r[1] == "ISM-1501")
    req = next(r for r in requirements() if r.strategy is Strategy.PATCH_OS and r.ism == "ISM-1501")
    assert row[5] == req.requirement and row[3] == "ML1-3"
    counts = dict(zip(ctl[0][6:-1], row[6:-1], strict=True))
    expected = {o.value: 0 for o in Outcome}
    for h in results.hosts:
        for c in h.controls:
            if c.strategy is Strategy.PATCH_OS and c.ism == "ISM-1501":
                expected[c.outcome.value] += 1
    assert counts == expected and counts["ineffective"] == 1


def test_strategy_headers_carry_the_requirement_as_a_note_and_print_titles(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    ws = built[3]["Patch OS"]
    header = [c.value for c in ws[1]]
    note = ws.cell(row=1, column=header.index("ISM-1501 (ML1-3)") + 1).comment
    req = next(r for r in requirements() if r.strategy is Strategy.PATCH_OS and r.ism == "ISM-1501")
    assert note is not None and note.text == f"{req.local_id}: {req.requirement}"
    assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "C2"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth >= 1
    # wider than a page at a legible size: the host column on every page, down the hosts first
    assert ws.print_title_cols == "$A:$A" and ws.page_setup.pageOrder == "downThenOver"


def test_a_table_past_the_row_limit_continues_on_numbered_sheets(tmp_path: Path) -> None:
    raw = record()
    results = assess(raw, [CHECK], Policy())
    path = tmp_path / "r.xlsx"
    with path.open("wb") as fh:
        write_workbook(results, fh, raw, max_rows=100)  # 1 header + 99 findings per sheet
    wb = load_workbook(path)
    want = [
        (h.name, c.ism)
        for h in results.hosts
        for c in h.controls
        if c.outcome is not Outcome.NOT_APPLICABLE and not grouped(c)
    ]
    total = len(want)  # rows left to the Controls sheet take no room: sheets fill to the cap
    parts = ["Findings"] + [f"Findings ({n})" for n in range(2, 2 + (total - 1) // 99)]
    assert len(parts) >= 3
    assert [s for s in wb.sheetnames if s.startswith("Findings")] == parts
    got = []
    for name in parts:
        sheet = table(wb, name)
        assert sheet[0][:3] == ("Host", "Strategy", "ISM")
        assert len(sheet) == (100 if name != parts[-1] else 1 + (total - 1) % 99 + 1)
        assert wb[name].auto_filter.ref == f"A1:O{len(sheet)}" and wb[name].freeze_panes == "C2"
        got += sheet[1:]
    assert [(r[0], r[2]) for r in got] == want


def test_the_package_is_well_formed_complete_and_reproducible(
    built: tuple[Results, RawRecord, Path, Workbook], tmp_path: Path
) -> None:
    import xml.etree.ElementTree as ET

    results, raw, path, _ = built
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        for n in names:
            if not n.endswith(".vml"):
                ET.fromstring(z.read(n))  # every part parses as XML
        types = z.read("[Content_Types].xml").decode()
    for n in names:
        if n.endswith(".xml") and not n.startswith("[") and "_rels" not in n:
            part = "/" + n
            assert f'PartName="{part}"' in types or n.endswith(".vml"), part
    again = tmp_path / "again.xlsx"
    write_xlsx(results, again, raw)
    assert again.read_bytes() == path.read_bytes()


def test_the_writer_keeps_text_as_text_and_refuses_what_excel_cannot_hold(tmp_path: Path) -> None:
    with (tmp_path / "w.xlsx").open("wb") as fh, sheetml.Workbook(fh) as book:
        s = book.sheet("T")
        s.row([" lead", "=1+1", "bad \ud800 \ufffe", "a&b<c>", 7, 2.5, None, "", 1, 0])
        for flag in (True, False):  # equal to the 1 and 0 just written, still refused
            with pytest.raises(TypeError):
                s.row([flag])
        for bad in ("a/b", "x" * 32, "t"):
            with pytest.raises(ValueError, match="sheet name|used twice"):
                book.sheet(bad)
    ws = load_workbook(tmp_path / "w.xlsx")["T"]
    assert [c.value for c in ws[1]][:6] == [
        " lead",
        "=1+1",
        "bad \\xd800 \\xfffe",
        "a&b<c>",
        7,
        2.5,
    ]
    assert ws.cell(row=1, column=2).data_type == "s"


def test_strategy_sheets_do_not_depend_on_the_order_of_controls(tmp_path: Path) -> None:
    raw = record()
    results = assess(raw, [CHECK], Policy())
    shuffled = results.model_copy(
        update={
            "hosts": [h.model_copy(update={"controls": h.controls[::-1]}) for h in results.hosts]
        }
    )
    write_xlsx(results, tmp_path / "a.xlsx")
    write_xlsx(shuffled, tmp_path / "b.xlsx")
    a, b = load_workbook(tmp_path / "a.xlsx"), load_workbook(tmp_path / "b.xlsx")
    for sheet in SHEETS[2:10]:
        assert rows(a, sheet) == rows(b, sheet), sheet


def test_controls_rows_are_tall_enough_for_their_requirement_text(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    ws = built[3]["Controls"]
    heights = {}
    for row in ws.iter_rows(min_row=2, max_row=len(table(built[3], "Controls"))):
        heights[row[5].value] = ws.row_dimensions[row[0].row].height
    longest = max(heights, key=len)
    shortest = min(heights, key=len)
    assert heights[longest] is not None and heights[longest] >= 30
    assert heights[shortest] is None  # one line: the reader's default height


def test_a_workbook_abandoned_by_an_error_leaves_no_temporary_files(tmp_path: Path) -> None:
    def half_written(fh: IO[bytes]) -> Path:
        with sheetml.Workbook(fh) as book:
            book.sheet("First").row(["packed in the background"])
            book.sheet("Second").row(["still being written"])
            scratch.append(book.tmp)
            raise RuntimeError("mid-sheet")

    scratch: list[Path] = []
    with (tmp_path / "w.xlsx").open("wb") as fh, pytest.raises(RuntimeError, match="mid-sheet"):
        half_written(fh)
    assert scratch and not scratch[0].exists()


def test_row_height_counts_lines_by_words_and_explicit_breaks() -> None:
    # width 10 holds 11 characters a line (CHARS_PER_WIDTH 1.1)
    assert wrapped_lines("short", 10) == 1
    assert wrapped_lines("aaaa bbbb cccc", 10) == 2  # by words: "aaaa bbbb" / "cccc"
    assert wrapped_lines("aaaaa bbbbbb", 10) == 2  # 12 characters, no word split
    assert wrapped_lines("x" * 23, 10) == 3  # a word longer than a line breaks where it ends
    assert wrapped_lines("a\nb\n\nc", 10) == 4  # explicit breaks, an empty line too
    assert row_height(["one line", "also"], [10, 10], {0, 1}) is None  # the default height
    assert row_height(["a\nb\nc", "x " * 20], [10, 10], {0}) == 3 * LINE_HEIGHT  # col 1 not wrapped
    assert row_height(["a\nb", "aaaa bbbb cccc dddd eeee"], [10, 10], {0, 1}) == 3 * LINE_HEIGHT
    assert row_height(["x\n" * 1000], [10], {0}) == MAX_HEIGHT == 409


def _needed_lines(text: str, width: float) -> int:
    """A lower bound, independent of the writer: at most 1.3 characters fit a unit of width."""
    return sum(max(1, -(-len(p) // int(width * 1.3))) for p in text.split("\n"))


def test_every_row_with_wrapped_text_is_tall_enough_and_prints_a4_landscape(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    wb = built[3]
    checked = 0
    for ws in wb.worksheets:
        ps = ws.page_setup
        assert (ps.paperSize, ps.orientation) == (9, "landscape"), ws.title
        assert ps.fitToWidth >= 1, ws.title  # pages across: test_every_sheet_prints_legibly
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert "Page &P of &N" in ws.oddFooter.right.text, ws.title
        widths = {k: d.width for k, d in ws.column_dimensions.items()}
        merged = {  # a merged cell's text wraps in all its columns
            f"{_col(m.min_col)}{m.min_row}": sum(
                widths[_col(i)] for i in range(m.min_col, m.max_col + 1)
            )
            for m in ws.merged_cells.ranges
        }
        if ws.title != "Summary":  # every table: its header on every printed page
            assert ws.print_title_rows == "$1:$1", ws.title
            for c in ws[1]:  # no header word broken across lines ("Truncate" / "d")
                if c.alignment.textRotation:  # the Heatmap's group columns: written upwards
                    continue
                longest = max(len(w) for w in re.split(r"[\s-]", str(c.value)))
                assert widths.get(c.column_letter, 0) >= longest, (ws.title, c.value)
        for row in ws.iter_rows(min_row=2):
            need = 1
            for c in row:
                if c.value is not None and c.fill.fgColor.rgb != "FF1F3864":  # but headers
                    assert c.alignment.vertical == "top", (ws.title, c.coordinate)
                if c.column == 1 and c.fill.fill_type == "solid" and isinstance(c.value, str):
                    # a coloured label (a key's "alternate_control") is whole in its column
                    assert widths["A"] >= len(c.value), (ws.title, c.coordinate, c.value)
                if c.alignment.wrap_text and isinstance(c.value, str):
                    width = merged.get(c.coordinate) or widths.get(c.column_letter)
                    assert width, (ws.title, c.coordinate)
                    need = max(need, _needed_lines(c.value, width))
            if need > 1:
                checked += 1
                height = ws.row_dimensions[row[0].row].height
                assert height and height >= min(409, need * 15), (ws.title, row[0].row, need)
    assert checked > 20
    # Summary: its tables, then its colour key and the chart whole on the next page (on one page
    # it printed at 53 %)
    summary = wb["Summary"]
    assert summary.page_setup.fitToHeight == 0
    (brk,) = summary.row_breaks.brk
    assert str(summary.cell(brk.id + 2, 1).value).startswith("Colour key")


def test_identifier_columns_fit_their_longest_value(
    built: tuple[Results, RawRecord, Path, Workbook],
) -> None:
    results, wb = built[0], built[3]
    ws = wb["Findings"]
    head = [c.value for c in ws[1]]
    width = {h: ws.column_dimensions[_col(head.index(h) + 1)].width for h in head}
    assert width["Levels"] >= len("ML1,ML2,ML3")
    assert width["Check"] >= max(len(c.check or "") for h in results.hosts for c in h.controls)
    assert width["Host"] >= len("-hmi01") and width["Strategy"] >= len("application_control")
    assert width["Outcome"] >= len("alternate_control") and width["Collected at"] >= len(
        "2026-11-20T03:00:00+00:00"
    )
    run = wb["Run"]
    assert run.column_dimensions["A"].width >= max(len(f"Check {c.id}") for c in results.run.checks)
    policy = dict(r[:2] for r in rows(wb, "Run"))["Policy"]
    assert policy.startswith("{\n  ") and json.loads(policy) == results.run.policy


def test_a_long_observed_value_is_cut_in_its_cell_saying_so(tmp_path: Path) -> None:
    # A pending-updates list runs to thousands of characters: whole, it filled a printed page
    # per row and Excel's 409-point row limit cut it on paper without a word.
    packages = [f"libexample{i}-dev 1.{i}.0-1+deb12u1 (Debian-Security:12)" for i in range(200)]

    def long_judge(out, ctx):  # type: ignore[no-untyped-def]
        return [
            Finding(
                ism="ISM-1501",
                outcome=Outcome.INEFFECTIVE,
                evidence="200 fixes pending",
                observed={"pending": packages},
            )
        ]

    check = CHECK.model_copy(update={"judge": long_judge})
    raw = record()
    results = assess(raw, [check], Policy())
    path = tmp_path / "r.xlsx"
    write_xlsx(results, path, raw)
    frows = table(load_workbook(path), "Findings")
    col = frows[0].index("Observed")
    cells = [r[col] for r in frows[1:] if r[frows[0].index("ISM")] == "ISM-1501" and r[col]]
    whole = json.dumps({"pending": packages}, sort_keys=True)
    assert cells and all(c.startswith(whole[:OBSERVED_CHARS]) for c in cells)
    left = len(whole) - OBSERVED_CHARS
    assert all(
        c.endswith(f" … ({left:,} more characters: the whole value is in results.json)")
        for c in cells
    )
    # the whole value is where the cell says
    assert any(c.observed == {"pending": packages} for h in results.hosts for c in h.controls)
