"""The Excel workbook: Summary, Findings, Hosts and Run sheets, written in write-only mode.

Host-derived text is always stored as a string cell (a value starting with ``=`` never becomes a
formula) and characters Excel rejects are escaped as ``\\xNN`` instead of crashing the writer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from scanner.model import Outcome, Strategy
from scanner.report.files import write_atomic
from scanner.results import Results

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_CELL = 32_000  # Excel's limit is 32,767 characters

LEVEL_FILL = {
    0: "F8696B",  # red
    1: "FFC7CE",  # light red
    2: "FFEB84",  # amber
    3: "63BE7B",  # green
    None: "D9D9D9",  # grey: not assessed
}
OUTCOME_FILL = {
    Outcome.EFFECTIVE: "C6EFCE",
    Outcome.ALTERNATE_CONTROL: "DDEBF7",
    Outcome.INEFFECTIVE: "FFC7CE",
    Outcome.NO_VISIBILITY: "FFEB9C",
    Outcome.NOT_IMPLEMENTED: "F4B084",
    Outcome.NOT_APPLICABLE: "EDEDED",
    Outcome.NOT_ASSESSED: "FFFFFF",
}
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
WRAP = Alignment(wrap_text=True, vertical="top")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")


def safe_text(value: object) -> str:
    """Any value as cell-safe text: illegal control characters escaped, length capped."""
    text = str(value)
    text = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 20] + " …[truncated]"


class _Sheet:
    """A write-only sheet whose every text cell is a string cell."""

    def __init__(self, wb: Workbook, title: str, widths: Sequence[int]) -> None:
        self.ws: WriteOnlyWorksheet = wb.create_sheet(title)
        for i, w in enumerate(widths, start=1):
            self.ws.column_dimensions[_col(i)].width = w
        # Printed (or exported to PDF) landscape, one page wide.
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True

    def cell(
        self, value: Any, fill: str | None = None, bold: bool = False, wrap: bool = False
    ) -> Cell:
        if value is None:
            c = WriteOnlyCell(self.ws, value=None)
        elif isinstance(value, bool):
            c = WriteOnlyCell(self.ws, value="yes" if value else "no")
            c.data_type = "s"
        elif isinstance(value, int | float):
            c = WriteOnlyCell(self.ws, value=value)
        else:
            c = WriteOnlyCell(self.ws, value=safe_text(value))
            c.data_type = "s"  # never a formula, whatever the text starts with
        if fill:
            c.fill = PatternFill("solid", fgColor=fill)
        if bold:
            c.font = BOLD
        if wrap:
            c.alignment = WRAP
        return c

    def header(self, names: Iterable[str]) -> None:
        row = []
        for n in names:
            c = self.cell(n)
            c.fill = HEADER_FILL
            c.font = HEADER_FONT
            c.alignment = HEADER_ALIGN
            row.append(c)
        self.ws.append(row)

    def row(self, values: Iterable[Any]) -> None:
        self.ws.append([v if isinstance(v, Cell) else self.cell(v) for v in values])


def _col(i: int) -> str:
    s = ""
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _level(v: int | None) -> str:
    return "not assessed" if v is None else f"ML{v}"


def build_workbook(results: Results) -> Workbook:
    wb = Workbook(write_only=True)
    strategies = list(Strategy)
    target = results.run.target_level

    # Summary: host × strategy matrix, then the fleet row.
    s = _Sheet(wb, "Summary", [30, 10, 14, 14] + [19] * len(strategies) + [12, 14])
    s.ws.freeze_panes = "B6"
    s.row([s.cell("Essential Eight maturity by host", bold=True)])
    s.row(
        [
            "Model",
            results.model_version,
            "Target level",
            f"ML{target}",
            "Run",
            results.run.id,
            "Finished",
            results.run.finished.isoformat(timespec="seconds"),
        ]
    )
    s.row(
        [
            "Levels are what each host's own evidence supports; 'Claimable' (Hosts sheet) adds "
            "organisational controls. Grey = not assessed."
        ]
    )
    s.row([])
    s.header(
        ["Host", "Platform", "Reach", "Role"]
        + [x.short_label for x in strategies]
        + ["Overall", "Meets target"]
    )
    for h in results.hosts:
        cells: list[Any] = [h.name, h.platform.value, h.reach.value, h.role or ""]
        for x in strategies:
            v = h.levels[x]
            cells.append(s.cell(_level(v), fill=LEVEL_FILL[v]))
        meets = h.level is not None and h.level >= target
        cells.append(s.cell(_level(h.level), fill=LEVEL_FILL[h.level], bold=True))
        cells.append("yes" if meets else ("no visibility" if h.reach.value != "ok" else "no"))
        s.row(cells)
    s.row([])
    fleet = [s.cell("Fleet (lowest)", bold=True), "", "", ""]
    for summary in results.fleet:
        fleet.append(s.cell(_level(summary.level), fill=LEVEL_FILL[summary.level], bold=True))
    fleet.append(
        s.cell(_level(results.fleet_level), fill=LEVEL_FILL[results.fleet_level], bold=True)
    )
    s.row(fleet)
    for key, label in (
        ("0", "hosts at ML0"),
        ("1", "hosts at ML1"),
        ("2", "hosts at ML2"),
        ("3", "hosts at ML3"),
        ("not_assessed", "not assessed"),
        ("no_visibility", "no visibility"),
    ):
        s.row([label, "", "", ""] + [x.distribution.get(key, 0) for x in results.fleet])

    # Findings: one row per host × control.
    f = _Sheet(wb, "Findings", [28, 20, 11, 9, 10, 17, 60, 8, 50, 40, 9, 30, 8, 20])
    f.ws.freeze_panes = "C2"
    f.header(
        [
            "Host",
            "Strategy",
            "ISM",
            "E8 id",
            "Levels",
            "Outcome",
            "Requirement",
            "Host-checkable",
            "Evidence",
            "Observed",
            "Grade",
            "Check",
            "Check version",
            "Collected at",
        ]
    )
    for h in results.hosts:
        for c in h.controls:
            f.row(
                [
                    h.name,
                    c.strategy.value,
                    c.ism,
                    c.local_id,
                    ",".join(f"ML{n}" for n in c.levels),
                    f.cell(c.outcome.value, fill=OUTCOME_FILL[c.outcome]),
                    c.requirement,
                    c.checkable,
                    c.evidence,
                    json.dumps(c.observed, sort_keys=True, default=str) if c.observed else "",
                    c.grade.value,
                    c.check or "",
                    c.check_version,
                    h.collected_at.isoformat(timespec="seconds"),
                ]
            )
    f.ws.auto_filter.ref = f"A1:N{1 + sum(len(h.controls) for h in results.hosts)}"  # type: ignore[attr-defined]

    # Hosts: reach, platform, fingerprint, claimable levels.
    hs = _Sheet(
        wb, "Hosts", [28, 18, 10, 10, 16, 40, 50, 16, 14, 12, 30, 40] + [12] * len(strategies)
    )
    hs.ws.freeze_panes = "B2"
    hs.header(
        [
            "Host",
            "Address",
            "Platform",
            "Connection",
            "Reach",
            "Reach detail",
            "Host key",
            "User",
            "Role",
            "OT zone",
            "Groups",
            "Connection notes",
        ]
        + [f"Claimable: {x.value}" for x in strategies]
    )
    for h in results.hosts:
        hs.row(
            [
                h.name,
                h.address,
                h.platform.value,
                h.connection,
                hs.cell(h.reach.value, fill=None if h.reach.value == "ok" else "FFEB9C"),
                h.reach_detail,
                h.host_key or "",
                h.user or "",
                h.role or "",
                h.ot_zone or "",
                ", ".join(h.groups),
                "; ".join(h.notes),
            ]
            + [_level(h.claimable[x]) for x in strategies]
        )

    # Next level: what stops each host one level higher, per strategy.
    nx = _Sheet(wb, "Next level", [28, 34, 12, 90])
    nx.ws.freeze_panes = "A2"
    nx.header(
        ["Host", "Strategy", "Level", "Blocked by (controls at the next level that are not met)"]
    )
    for h in results.hosts:
        for x in strategies:
            if h.blockers.get(x):
                v = h.levels[x]
                nx.row(
                    [
                        h.name,
                        x.label,
                        nx.cell(_level(v), fill=LEVEL_FILL[v]),
                        ", ".join(h.blockers[x]),
                    ]
                )

    # Register: exceptions and attestations, and what each did in this run.
    rg = _Sheet(wb, "Register", [22, 12, 12, 50, 60])
    rg.header(["Id", "Kind", "Expires", "Controls by status", "Hosts"])
    for u in results.register_use:
        stale = any(k in u.statuses for k in ("expired", "incomplete", "not yet valid"))
        rg.row(
            [
                u.id,
                u.kind,
                rg.cell(u.expires, fill="FFC7CE" if stale else None),
                ", ".join(f"{k}: {v}" for k, v in sorted(u.statuses.items())),
                ", ".join(u.hosts),
            ]
        )

    # Run: what produced these numbers.
    r = _Sheet(wb, "Run", [26, 90])
    run = results.run
    rows: list[tuple[str, Any]] = [
        ("Tool version", results.tool_version),
        ("Model version", results.model_version),
        ("Results schema", results.schema_version),
        ("Run id", run.id),
        ("Started", run.started.isoformat(timespec="seconds")),
        ("Finished", run.finished.isoformat(timespec="seconds")),
        ("Target level", f"ML{run.target_level}"),
        ("Limit", run.limit or "(all hosts)"),
        ("Raw record", run.raw_record),
    ]
    rows += [
        (f"Inventory {i + 1}", f"{src.path}  sha256:{src.sha256}")
        for i, src in enumerate(run.inventory)
    ]
    rows += [("Policy", json.dumps(run.policy, sort_keys=True))]
    rows += [
        (f"Register file {i + 1}", f"{src.path}  sha256:{src.sha256}")
        for i, src in enumerate(run.register_files)
    ]
    rows += [(f"Check {c.id}", f"version {c.version}") for c in run.checks]
    for k, v in rows:
        r.row([r.cell(k, bold=True), v])
    return wb


def write_xlsx(results: Results, path: Path) -> None:
    wb = build_workbook(results)

    def fill(fh: IO[bytes]) -> None:
        wb.save(fh)

    write_atomic(path, fill)
