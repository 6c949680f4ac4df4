"""The workbook: sheets, cells, colours, and host text that must never become a formula."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook

from scanner.check import Check, Finding
from scanner.model import Outcome, Platform, Reach, Strategy
from scanner.policy import Policy
from scanner.record import HostRecord, RawRecord, RunInfo
from scanner.report.xlsx import safe_text, write_xlsx
from scanner.sweep import assess

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


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


def record() -> RawRecord:
    def host(name: str, reach: Reach) -> HostRecord:
        return HostRecord(
            name=name,
            address="127.0.0.9",
            port=22,
            connection="ssh",
            user="scan",
            become=False,
            platform=Platform.LINUX,
            groups=["pilbara"],
            vars={"e8_role": "server"},
            reach=reach,
            reach_detail="" if reach is Reach.OK else "@connection refused",
            host_key="SHA256:abc",
            started=T0,
            finished=T0,
        )

    return RawRecord(
        tool_version="t",
        run=RunInfo(id="r1", started=T0, finished=T0, inventory=[], target_level=2, checks=[]),
        hosts=[host("-hmi01", Reach.OK), host("hist02", Reach.UNREACHABLE)],
    )


def test_workbook_sheets_cells_and_formula_safety(tmp_path: Path) -> None:
    results = assess(record(), [CHECK], Policy())
    path = tmp_path / "r.xlsx"
    write_xlsx(results, path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Summary", "Findings", "Hosts", "Next level", "Register", "Run"]

    summary = wb["Summary"]
    rows = list(summary.iter_rows(values_only=True))
    header = rows[4]
    assert header[0] == "Host" and "Patch OS" in header
    hmi = next(r for r in rows if r[0] == "-hmi01")
    po = header.index("Patch OS")
    assert hmi[po] == "ML0"
    assert summary.cell(row=6, column=po + 1).fill.fgColor.rgb.endswith("F8696B")
    dead = next(r for r in rows if r[0] == "hist02")
    assert dead[2] == "unreachable" and dead[po] == "not assessed"

    findings = wb["Findings"]
    frows = list(findings.iter_rows(values_only=True))
    assert frows[0][:6] == ("Host", "Strategy", "ISM", "E8 id", "Levels", "Outcome")
    assert len(frows) == 1 + sum(len(h.controls) for h in results.hosts)
    evil = next(r for r in frows if r[0] == "-hmi01" and r[2] == "ISM-1501")
    assert evil[5] == "ineffective"
    assert evil[8].startswith("=HYPERLINK") and "\\x07bell" in evil[8]
    for row in findings.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"
    # The raw XML must hold the formula-looking text as a string, not as <f>.
    import zipfile

    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet2.xml").decode()
    assert "<f>" not in xml

    hosts = list(wb["Hosts"].iter_rows(values_only=True))
    assert hosts[1][0] == "-hmi01" and hosts[1][6] == "SHA256:abc"
    assert hosts[2][4] == "unreachable" and hosts[2][5] == "@connection refused"
    nxt = list(wb["Next level"].iter_rows(values_only=True))
    po = next(r for r in nxt if r[0] == "-hmi01" and r[1] == "Patch operating systems")
    assert po[2] == "ML0" and "ISM-1501 ineffective" in po[3]
    assert not [r for r in nxt if r[0] == "hist02"]  # unreachable: nothing to climb from
    run = dict(r[:2] for r in wb["Run"].iter_rows(values_only=True))
    assert run["Target level"] == "ML2" and run["Model version"] == "E8MM November 2023"


def test_safe_text_escapes_control_characters_and_caps_length() -> None:
    assert safe_text("a\x00b\x1bc\td\ne") == "a\\x00b\\x1bc\td\ne"
    assert len(safe_text("x" * 100_000)) < 32_767
