"""The assessor's workbook, shaped like ASD's Essential Eight assessment report.

Sheets, in order: Summary (scope, coverage, fleet maturity, a chart, run metadata), Heatmap
(host × strategy levels, with host-group columns to filter a site or OT zone), one sheet per
strategy (host × control outcomes), Findings (host × control, with evidence), Exceptions and
Attestations (what the register did), Coverage (reach of every in-scope host), Evidence index
(SHA-256 of every stored command output), Next level and Run.

Everything is written in write-only mode, row by row, so memory stays bounded for large fleets.
Host-derived text is always a string cell (a value starting with ``=`` never becomes a formula)
and characters Excel rejects are escaped as ``\\xNN`` instead of crashing the writer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from scanner.model import Outcome, Reach, Strategy
from scanner.record import RawRecord
from scanner.report.files import write_atomic
from scanner.requirements import Requirement, requirements
from scanner.results import HostResult, RegisterUse, Results

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_CELL = 32_000  # Excel's limit is 32,767 characters
MAX_GROUP_COLUMNS = 30

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
NO_VISIBILITY_FILL = "FFEB9C"
STALE_FILL = "FFC7CE"
MET_FILL = "C6EFCE"
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12, color="1F3864")
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
VERTICAL_ALIGN = Alignment(text_rotation=90, horizontal="center", vertical="bottom")
# Series order in the Summary distribution table (and the chart built on it).
DISTRIBUTION = (
    ("0", "ML0"),
    ("1", "ML1"),
    ("2", "ML2"),
    ("3", "ML3"),
    ("not_assessed", "Not assessed"),
    ("no_visibility", "No visibility"),
)
STALE_STATUSES = ("expired", "incomplete", "not yet valid")


def safe_text(value: object) -> str:
    """Any value as cell-safe text: illegal control characters escaped, length capped."""
    text = str(value)
    text = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 20] + " …[truncated]"


@functools.cache
def _fill(colour: str) -> PatternFill:
    """One PatternFill per colour: building a style per cell is what makes big sheets slow."""
    return PatternFill("solid", fgColor=colour)


def _plain(sheet: _Sheet, v: Any) -> Any:
    if isinstance(v, Cell) or v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
        return v
    if isinstance(v, str):
        text = safe_text(v)
        return sheet.cell(text) if text.startswith("=") else text
    return sheet.cell(v)


class _Sheet:
    """A write-only sheet whose every text cell is a string cell; it counts the rows it wrote."""

    def __init__(
        self,
        wb: Workbook,
        title: str,
        widths: Sequence[float],
        pages_tall: int = 0,
        freeze: str | None = None,
    ) -> None:
        """``freeze``: the top-left cell that scrolls (write-only: fixed before any row)."""
        self.ws: WriteOnlyWorksheet = wb.create_sheet(title)
        self.ws.freeze_panes = freeze
        self.rows = 0
        for i, w in enumerate(widths, start=1):
            self.ws.column_dimensions[_col(i)].width = w
        # Printed (or exported to PDF) landscape, one page wide (and ``pages_tall`` high; 0: any).
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = pages_tall
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True

    def cell(
        self,
        value: Any,
        fill: str | None = None,
        bold: bool = False,
        wrap: bool = False,
        font: Font | None = None,
        center: bool = False,
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
            c.fill = _fill(fill)
        if bold:
            c.font = BOLD
        if font is not None:
            c.font = font
        if wrap:
            c.alignment = WRAP
        elif center:
            c.alignment = CENTER
        return c

    def header(
        self,
        names: Iterable[str],
        vertical_from: int | None = None,
        height: float = 30,
        notes: Sequence[str | None] = (),
    ) -> None:
        """A header row ``height`` points tall; columns from ``vertical_from`` (0-based) get
        rotated text; ``notes`` become cell comments (for example a control's requirement)."""
        # Write-only sheets take row heights set before the row is written (stubs lack it).
        self.ws.row_dimensions[self.rows + 1].height = height  # type: ignore[attr-defined]
        row = []
        for i, n in enumerate(names):
            c = self.cell(n)
            c.fill = HEADER_FILL
            c.font = HEADER_FONT
            c.alignment = (
                VERTICAL_ALIGN if vertical_from is not None and i >= vertical_from else HEADER_ALIGN
            )
            if i < len(notes) and notes[i]:
                c.comment = Comment(safe_text(notes[i]), "e8scan", width=300, height=120)
            row.append(c)
        self.append(row)

    def row(self, values: Iterable[Any], fill: str | None = None, wrap: bool = False) -> None:
        """A row of values; ``fill``/``wrap`` apply to every plain value (not to ready cells).

        Unstyled values take a fast path: numbers and text go in as they are (text escaped), and
        only text that openpyxl would read as a formula (a leading ``=``) becomes a string cell.
        """
        if fill or wrap:
            self.append(
                [v if isinstance(v, Cell) else self.cell(v, fill=fill, wrap=wrap) for v in values]
            )
            return
        self.append([_plain(self, v) for v in values])

    def append(self, cells: list[Any]) -> None:
        self.ws.append(cells)
        self.rows += 1

    def section(self, title: str) -> None:
        self.append([self.cell(title, font=SECTION_FONT)])

    def table_top(self, last_col: int) -> None:
        """Repeat the header row just written (row 1) on every page and filter the table."""
        self.ws.print_title_rows = "1:1"
        self.ws.auto_filter.ref = f"A1:{_col(last_col)}1"  # type: ignore[attr-defined]

    def filter_to(self, last_col: int) -> None:
        """Widen the header's auto filter over every row written."""
        self.ws.auto_filter.ref = f"A1:{_col(last_col)}{max(self.rows, 1)}"  # type: ignore[attr-defined]


def _col(i: int) -> str:
    s = ""
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _level(v: int | None) -> str:
    return "not assessed" if v is None else f"ML{v}"


def _levels_span(levels: Iterable[int]) -> str:
    """(1, 2, 3) → 'ML1-3'; (3,) → 'ML3'."""
    ns = sorted(levels)
    if not ns:
        return "-"
    return f"ML{ns[0]}" if len(ns) == 1 else f"ML{ns[0]}-{ns[-1]}"


def _when(d: datetime) -> str:
    return d.isoformat(timespec="seconds")


def _seen(h: HostResult) -> bool:
    return h.reach is Reach.OK


# --- Summary ---------------------------------------------------------------------------------


def _coverage_rows(hosts: Sequence[HostResult]) -> list[tuple[str, str, int, int, int]]:
    """(dimension, value, in inventory, assessed, no visibility): all, by role, OT zone, platform."""
    keys = {
        "Role": lambda h: h.role or "(not set)",
        "OT zone": lambda h: h.ot_zone or "(not OT)",
        "Platform": lambda h: h.platform.value,
    }
    total: Counter[tuple[str, str]] = Counter()
    ok: Counter[tuple[str, str]] = Counter()
    for h in hosts:
        for dim, key in [("All hosts", lambda _h: "")] + list(keys.items()):
            k = (dim, key(h))
            total[k] += 1
            ok[k] += _seen(h)
    return [(d, v, n, ok[(d, v)], n - ok[(d, v)]) for (d, v), n in sorted(total.items(), key=_dim)]


def _dim(item: tuple[tuple[str, str], int]) -> tuple[int, str]:
    order = ("All hosts", "Role", "OT zone", "Platform")
    return order.index(item[0][0]), item[0][1]


def _summary_run(s: _Sheet, results: Results) -> None:
    run = results.run
    s.append([s.cell("Essential Eight assessment report", font=TITLE_FONT)])
    s.append([])
    s.section("Run")
    policy_version = run.policy.get("version", "")
    for k, v in (
        ("Run id", run.id),
        ("Started", _when(run.started)),
        ("Finished", _when(run.finished)),
        ("Tool version", results.tool_version),
        ("Maturity model", results.model_version),
        ("Policy version", policy_version or "(default)"),
        ("Target level", f"ML{run.target_level}"),
        ("Inventory", ", ".join(src.path for src in run.inventory) or "(none recorded)"),
        ("Limit", run.limit or "(all hosts)"),
    ):
        s.row([s.cell(k, bold=True), v])
    s.append([])


def _summary_coverage(s: _Sheet, results: Results) -> None:
    s.section("Scope and coverage")
    s.header(["Breakdown", "Value", "In inventory", "Assessed (reach ok)", "No visibility"])
    for dim, value, n, ok, nv in _coverage_rows(results.hosts):
        s.row(
            [
                s.cell(dim, bold=dim == "All hosts"),
                value,
                n,
                ok,
                s.cell(nv, fill=NO_VISIBILITY_FILL if nv else None),
            ]
        )
    s.append([])


def _summary_fleet(s: _Sheet, results: Results) -> tuple[int, int]:
    """The fleet maturity table; returns its header row and last strategy row (for the chart)."""
    target = results.run.target_level
    s.section(f"Fleet maturity per strategy (target ML{target})")
    s.header(
        ["Strategy", "Fleet level (lowest)", "Target met", "Hosts below target"]
        + [label for _, label in DISTRIBUTION]
    )
    top = s.rows
    for f in results.fleet:
        below = sum(f.distribution.get(str(n), 0) for n in range(target))
        s.row(
            [
                f.strategy.short_label,
                s.cell(_level(f.level), fill=LEVEL_FILL[f.level], bold=True),
                _met(s, f.level, target),
                s.cell(below, fill=STALE_FILL if below else None),
            ]
            + [f.distribution.get(k, 0) for k, _ in DISTRIBUTION]
        )
    last = s.rows
    below_all = sum(1 for h in results.hosts if h.level is not None and h.level < target)
    s.row(
        [
            s.cell("All strategies (overall)", bold=True),
            s.cell(_level(results.fleet_level), fill=LEVEL_FILL[results.fleet_level], bold=True),
            _met(s, results.fleet_level, target),
            s.cell(below_all, fill=STALE_FILL if below_all else None),
        ]
    )
    s.row(
        [
            "Levels are what each host's own evidence supports; the per-strategy sheets also show "
            "the level an assessor could sign ('claimable'). No visibility is a result: see Coverage."
        ]
    )
    return top, last


def _met(s: _Sheet, level: int | None, target: int) -> Cell:
    if level is None:
        return s.cell("not assessed", fill=LEVEL_FILL[None])
    return s.cell("met", fill=MET_FILL) if level >= target else s.cell("not met", fill=STALE_FILL)


def _summary_chart(s: _Sheet, top: int, last: int) -> None:
    """A clustered bar chart of hosts per level per strategy, over the distribution cells."""
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = "Hosts per maturity level, by strategy"
    chart.y_axis.title = "Hosts"
    chart.y_axis.majorGridlines = None
    first_series = 5  # column E: ML0
    data = Reference(
        s.ws, min_col=first_series, max_col=first_series + len(DISTRIBUTION) - 1, min_row=top
    )
    data.max_row = last
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(s.ws, min_col=1, min_row=top + 1, max_row=last))
    colours = [LEVEL_FILL[n] for n in (0, 1, 2, 3)] + [LEVEL_FILL[None], NO_VISIBILITY_FILL]
    for series, colour in zip(chart.series, colours, strict=True):
        series.graphicalProperties.solidFill = colour
        series.graphicalProperties.line.solidFill = "7F7F7F"
    chart.width = 26
    chart.height = 9
    s.ws.add_chart(chart, f"A{s.rows + 2}")  # type: ignore[misc]  # stubs: Worksheet only


def _summary(wb: Workbook, results: Results) -> None:
    # The management page: one sheet of paper.
    s = _Sheet(wb, "Summary", [30, 22, 14, 20, 14, 10, 10, 10, 14, 14], pages_tall=1)
    _summary_run(s, results)
    _summary_coverage(s, results)
    top, last = _summary_fleet(s, results)
    _summary_chart(s, top, last)


# --- Heatmap and per-strategy sheets ----------------------------------------------------------


def _top_groups(hosts: Sequence[HostResult]) -> list[str]:
    """Inventory groups to show as filter columns: the most common first, at most 30."""
    seen: Counter[str] = Counter(g for h in hosts for g in set(h.groups) if g != "all")
    ranked = sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))
    return [g for g, _ in ranked[:MAX_GROUP_COLUMNS]]


def _heatmap(wb: Workbook, results: Results) -> None:
    strategies = list(Strategy)
    groups = _top_groups(results.hosts)
    target = results.run.target_level
    fixed = ["Host", "Role", "OT zone", "Platform", "Reach"]
    names = fixed + [x.short_label for x in strategies] + ["Overall", "Claimable", "Meets target"]
    hm = _Sheet(
        wb,
        "Heatmap",
        [28, 13, 13, 10, 14] + [13] * (len(strategies) + 3) + [3.5] * len(groups),
        freeze="B2",
    )
    longest = max((len(g) for g in groups), default=0)
    hm.header(
        names + [f"group: {g}" for g in groups],
        vertical_from=len(names),
        height=max(30, min(160, 6.5 * (longest + 7))),
    )
    hm.table_top(len(names) + len(groups))
    for h in results.hosts:
        cells: list[Any] = [
            h.name,
            h.role or "",
            h.ot_zone or "",
            h.platform.value,
            hm.cell(h.reach.value, fill=None if _seen(h) else NO_VISIBILITY_FILL),
        ]
        cells += [hm.cell(_level(h.levels[x]), fill=LEVEL_FILL[h.levels[x]]) for x in strategies]
        cells.append(hm.cell(_level(h.level), fill=LEVEL_FILL[h.level], bold=True))
        cells.append(hm.cell(_level(h.claimable_level), fill=LEVEL_FILL[h.claimable_level]))
        meets = h.level is not None and h.level >= target
        cells.append("yes" if meets else ("no visibility" if not _seen(h) else "no"))
        member = set(h.groups)
        cells += [hm.cell("x", center=True) if g in member else None for g in groups]
        hm.row(cells)
    hm.filter_to(len(names) + len(groups))


def _strategy_controls(strategy: Strategy) -> list[Requirement]:
    """The strategy's controls, ML1 first, then ML2, then ML3 (table order within a level)."""
    reqs = [r for r in requirements() if r.strategy is strategy]
    return sorted(reqs, key=lambda r: min(r.levels, default=4))


def _strategy_sheet(wb: Workbook, results: Results, strategy: Strategy) -> None:
    reqs = _strategy_controls(strategy)
    fixed = ["Host", "Reach", "Level", "Claimable"]
    st = _Sheet(wb, strategy.short_label[:31], [28, 14, 13, 13] + [13] * len(reqs), freeze="C2")
    st.header(
        fixed + [f"{r.ism} ({_levels_span(r.levels)})" for r in reqs],
        notes=[None] * len(fixed) + [f"{r.local_id}: {r.requirement}" for r in reqs],
    )
    st.table_top(len(fixed) + len(reqs))
    for h in results.hosts:
        outcome = {c.ism: c.outcome for c in h.controls if c.strategy is strategy}
        cells: list[Any] = [
            h.name,
            st.cell(h.reach.value, fill=None if _seen(h) else NO_VISIBILITY_FILL),
            st.cell(_level(h.levels[strategy]), fill=LEVEL_FILL[h.levels[strategy]], bold=True),
            st.cell(_level(h.claimable[strategy]), fill=LEVEL_FILL[h.claimable[strategy]]),
        ]
        for r in reqs:
            o = outcome.get(r.ism)
            cells.append(st.cell(o.value, fill=OUTCOME_FILL[o]) if o is not None else None)
        st.row(cells)
    st.filter_to(len(fixed) + len(reqs))


# --- Findings, register, coverage, evidence ---------------------------------------------------


FINDINGS_HEADER = [
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
    "Register entry",
]


def _findings(wb: Workbook, results: Results) -> None:
    f = _Sheet(
        wb, "Findings", [24, 18, 11, 8, 10, 16, 50, 10, 50, 40, 9, 28, 8, 20, 24], freeze="C2"
    )
    f.header(FINDINGS_HEADER)
    f.table_top(len(FINDINGS_HEADER))
    for h in results.hosts:
        collected = _when(h.collected_at)
        for c in h.controls:
            f.row(
                [
                    h.name,
                    c.strategy.value,
                    c.ism,
                    c.local_id,
                    ",".join(f"ML{n}" for n in c.levels),
                    f.cell(c.outcome.value, fill=OUTCOME_FILL[c.outcome]),
                    f.cell(c.requirement, wrap=True),
                    c.checkable,
                    f.cell(c.evidence, wrap=True),
                    f.cell(
                        json.dumps(c.observed, sort_keys=True, default=str) if c.observed else "",
                        wrap=True,
                    ),
                    c.grade.value,
                    c.check or "",
                    c.check_version,
                    collected,
                    c.register_entry or "",
                ]
            )
    f.filter_to(len(FINDINGS_HEADER))


def _register_sheet(wb: Workbook, results: Results, kind: str, title: str) -> None:
    rg = _Sheet(wb, title, [24, 12, 14, 40, 8, 60], freeze="B2")
    rg.header(["Id", "Expires", "State", "Controls by status", "Hosts", "Host names"])
    uses = [u for u in results.register_use if u.kind == kind]
    if not uses:
        why = (
            "The register files of this run hold none."
            if results.run.register_files
            else "No exception register or attestation file was given for this run."
        )
        rg.row([f"No {title.lower()}", why])
        return
    for u in uses:
        state = _register_state(u)
        fill = STALE_FILL if state not in ("current", "unused") else None
        rg.row(
            [
                u.id,
                rg.cell(u.expires, fill=fill),
                rg.cell(state, fill=fill, bold=fill is not None),
                ", ".join(f"{k}: {v}" for k, v in sorted(u.statuses.items())),
                len(u.hosts),
                rg.cell(", ".join(u.hosts), wrap=True),
            ]
        )


def _register_state(u: RegisterUse) -> str:
    stale = [k for k in STALE_STATUSES if k in u.statuses]
    if stale:
        return ", ".join(stale)
    return "unused" if set(u.statuses) == {"unused"} else "current"


COVERAGE_HEADER = [
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
    "Collected at",
]


def _coverage(wb: Workbook, results: Results) -> None:
    cv = _Sheet(wb, "Coverage", [24, 16, 9, 12, 16, 40, 52, 12, 12, 12, 30, 40, 26], freeze="B2")
    cv.header(COVERAGE_HEADER)
    cv.table_top(len(COVERAGE_HEADER))
    for h in results.hosts:
        fill = None if _seen(h) else NO_VISIBILITY_FILL
        cv.row(
            [
                h.name,
                h.address,
                h.platform.value,
                h.connection,
                cv.cell(h.reach.value, fill=fill, bold=fill is not None),
                h.reach_detail,
                h.host_key or "",
                h.user or "",
                h.role or "",
                h.ot_zone or "",
                ", ".join(h.groups),
                "; ".join(h.notes),
                _when(h.collected_at),
            ],
            fill=fill,
        )
    cv.filter_to(len(COVERAGE_HEADER))


EVIDENCE_HEADER = [
    "Host",
    "Checks",
    "Command",
    "As run",
    "Exit code",
    "Stdout SHA-256",
    "Stdout bytes",
    "Stderr SHA-256",
    "Stderr bytes",
    "Truncated",
    "Timed out",
    "Ran",
    "Started",
]


def _epoch(t: float | None) -> str:
    return "" if t is None else _when(datetime.fromtimestamp(t, UTC))


def _evidence(wb: Workbook, raw: RawRecord | None) -> None:
    ev = _Sheet(wb, "Evidence index", [22, 26, 50, 50, 8, 66, 10, 66, 10, 9, 9, 6, 26], freeze="B2")
    ev.header(EVIDENCE_HEADER)
    ev.table_top(len(EVIDENCE_HEADER))
    if raw is None:
        ev.row(
            [
                "(raw record not available)",
                "This workbook was written without the raw record; "
                "hash raw.json's outputs with e8scan rescore to fill this sheet.",
            ]
        )
        return
    for h in raw.hosts:
        for c in h.commands:
            ev.row(
                [
                    h.name,
                    ", ".join(c.checks),
                    c.command,
                    c.as_run,
                    c.exit_code,
                    hashlib.sha256(c.stdout).hexdigest(),
                    len(c.stdout),
                    hashlib.sha256(c.stderr).hexdigest(),
                    len(c.stderr),
                    c.truncated,
                    c.timed_out,
                    c.ran,
                    _epoch(c.started),
                ]
            )
    ev.filter_to(len(EVIDENCE_HEADER))


# --- Next level and Run -----------------------------------------------------------------------


def _next_level(wb: Workbook, results: Results) -> None:
    nx = _Sheet(wb, "Next level", [28, 34, 12, 90], freeze="B2")
    nx.header(
        ["Host", "Strategy", "Level", "Blocked by (controls at the next level that are not met)"]
    )
    nx.table_top(4)
    for h in results.hosts:
        for x in Strategy:
            if h.blockers.get(x):
                v = h.levels[x]
                nx.row(
                    [
                        h.name,
                        x.label,
                        nx.cell(_level(v), fill=LEVEL_FILL[v]),
                        nx.cell(", ".join(h.blockers[x]), wrap=True),
                    ]
                )
    nx.filter_to(4)


def _run_sheet(wb: Workbook, results: Results) -> None:
    r = _Sheet(wb, "Run", [26, 100])
    run = results.run
    rows: list[tuple[str, Any]] = [
        ("Tool version", results.tool_version),
        ("Model version", results.model_version),
        ("Results schema", results.schema_version),
        ("Run id", run.id),
        ("Started", _when(run.started)),
        ("Finished", _when(run.finished)),
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
        r.row([r.cell(k, bold=True), r.cell(v, wrap=True)])


def build_workbook(results: Results, raw: RawRecord | None = None) -> Workbook:
    """The whole workbook, sheet by sheet, in write-only mode (see the module docstring)."""
    wb = Workbook(write_only=True)
    _summary(wb, results)
    _heatmap(wb, results)
    for strategy in Strategy:
        _strategy_sheet(wb, results, strategy)
    _findings(wb, results)
    _register_sheet(wb, results, "exception", "Exceptions")
    _register_sheet(wb, results, "attestation", "Attestations")
    _coverage(wb, results)
    _evidence(wb, raw)
    _next_level(wb, results)
    _run_sheet(wb, results)
    return wb


def write_xlsx(results: Results, path: Path, raw: RawRecord | None = None) -> None:
    """Write the workbook atomically to ``path``."""
    wb = build_workbook(results, raw)

    def fill(fh: IO[bytes]) -> None:
        wb.save(fh)

    write_atomic(path, fill)
