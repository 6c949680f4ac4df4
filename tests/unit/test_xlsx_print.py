"""The workbook on paper: LibreOffice prints it to PDF, and the pages are A4 landscape with every
check id and ISM id whole (nothing clipped by a narrow column or printed over by the next row).

One conversion for the module (a few seconds); the fixture is a fleet assessed by the whole check
catalogue, so the ids, evidence sentences and host names are the real ones."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime

import pytest

from scanner.assess.pipeline import assess
from scanner.assess.results import Results
from scanner.checking.loader import load_checks
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach
from scanner.record.raw import CheckRef, CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.report.xlsx.grouping import grouped
from scanner.report.xlsx.workbook import write_xlsx

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


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
def printed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Results, dict[str, str], list[str]]:
    """(results, text per sheet from the footer's sheet name, each page's size in points)."""
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
    return results, sheets, sizes


def test_every_page_is_a4_landscape_and_every_sheet_prints(
    printed: tuple[Results, dict[str, str], list[str]],
) -> None:
    results, sheets, sizes = printed
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


def test_every_check_id_and_ism_id_prints_whole(
    printed: tuple[Results, dict[str, str], list[str]],
) -> None:
    results, sheets, _ = printed
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
