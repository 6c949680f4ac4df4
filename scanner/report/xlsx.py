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
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from scanner.model import Grade, Outcome, Reach, Strategy
from scanner.record import RawRecord
from scanner.report.files import write_atomic
from scanner.report.sheetml import (
    MAX_ROWS,
    BarChart,
    Cell,
    Series,
    Sheet,
    Style,
    Workbook,
    absolute_ref,
    col_letter,
    safe_text,
)
from scanner.requirements import Requirement, requirements
from scanner.results import ControlResult, HostResult, RegisterUse, Results

__all__ = ["LEVEL_FILL", "OUTCOME_FILL", "safe_text", "write_xlsx"]

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
HEADER = Style(
    fill="1F3864", bold=True, colour="FFFFFF", wrap=True, horizontal="center", vertical="center"
)
HEADER_VERTICAL = Style(
    fill="1F3864", bold=True, colour="FFFFFF", horizontal="center", vertical="bottom", rotation=90
)
TITLE = Style(bold=True, size=14)
SECTION = Style(bold=True, size=12, colour="1F3864")
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


class _Table:
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
        self.book, self.title, self.widths = book, title, widths
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
            sheet.row([(n, self.book.style(HEADER)) for n in self.names], height=30)
            sheet.print_title_rows = "1:1"
        return sheet

    def row(self, cells: Sequence[Cell], style: int = 0) -> None:
        self._room().row(cells, style)

    def row_xml(self, cells_xml: str) -> None:
        """A row of cells rendered with ``book.cell`` (the fast path for the big tables)."""
        self._room().row_xml(cells_xml)

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


class _Styles:
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
                    vertical="top" if wrap else None,
                    horizontal="center" if center else None,
                )
            )
        return sid


def _col(i: int) -> str:
    return col_letter(i)


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


def _yes(v: bool) -> str:
    return "yes" if v else "no"


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


def _header(s: Sheet, st: _Styles, names: Sequence[str]) -> None:
    s.row([(n, st.book.style(HEADER)) for n in names], height=30)


def _summary_run(s: Sheet, st: _Styles, results: Results) -> None:
    run = results.run
    s.row([("Essential Eight assessment report", st.book.style(TITLE))], height=20)
    s.row([])
    s.row([("Run", st.book.style(SECTION))])
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
        s.row([(k, st(bold=True)), str(v)])
    s.row([])


def _summary_coverage(s: Sheet, st: _Styles, results: Results) -> None:
    s.row([("Scope and coverage", st.book.style(SECTION))])
    _header(s, st, ["Breakdown", "Value", "In inventory", "Assessed (reach ok)", "No visibility"])
    for dim, value, n, ok, nv in _coverage_rows(results.hosts):
        s.row(
            [
                (dim, st(bold=dim == "All hosts")),
                value,
                n,
                ok,
                (nv, st(fill=NO_VISIBILITY_FILL if nv else None)),
            ]
        )
    s.row([])


def _summary_fleet(s: Sheet, st: _Styles, results: Results) -> tuple[int, int]:
    """The fleet maturity table; returns its header row and last strategy row (for the chart)."""
    target = results.run.target_level
    s.row([(f"Fleet maturity per strategy (target ML{target})", st.book.style(SECTION))])
    _header(
        s,
        st,
        ["Strategy", "Fleet level (lowest)", "Target met", "Hosts below target"]
        + [label for _, label in DISTRIBUTION],
    )
    top = s.rows
    for f in results.fleet:
        below = sum(f.distribution.get(str(n), 0) for n in range(target))
        s.row(
            [
                f.strategy.short_label,
                (_level(f.level), st(fill=LEVEL_FILL[f.level], bold=True)),
                _met(st, f.level, target),
                (below, st(fill=STALE_FILL if below else None)),
            ]
            + [f.distribution.get(k, 0) for k, _ in DISTRIBUTION]
        )
    last = s.rows
    below_all = sum(1 for h in results.hosts if h.level is not None and h.level < target)
    s.row(
        [
            ("All strategies (overall)", st(bold=True)),
            (_level(results.fleet_level), st(fill=LEVEL_FILL[results.fleet_level], bold=True)),
            _met(st, results.fleet_level, target),
            (below_all, st(fill=STALE_FILL if below_all else None)),
        ]
    )
    s.row(
        [
            "Levels are what each host's own evidence supports; the per-strategy sheets also show "
            "the level an assessor could sign ('claimable'). No visibility is a result: see Coverage."
        ]
    )
    return top, last


def _met(st: _Styles, level: int | None, target: int) -> Cell:
    if level is None:
        return ("not assessed", st(fill=LEVEL_FILL[None]))
    return ("met", st(fill=MET_FILL)) if level >= target else ("not met", st(fill=STALE_FILL))


def _summary_chart(s: Sheet, top: int, last: int) -> None:
    """A clustered column chart of hosts per level per strategy, over the distribution cells."""
    first = 5  # column E: ML0
    colours = [LEVEL_FILL[n] for n in (0, 1, 2, 3)] + [LEVEL_FILL[None], NO_VISIBILITY_FILL]
    s.chart(
        BarChart(
            title="Hosts per maturity level, by strategy",
            y_title="Hosts",
            categories_ref=absolute_ref(s.title, 1, top + 1, 1, last),
            series=tuple(
                Series(
                    name_ref=absolute_ref(s.title, first + i, top, first + i, top),
                    values_ref=absolute_ref(s.title, first + i, top + 1, first + i, last),
                    colour=colour,
                )
                for i, colour in enumerate(colours)
            ),
            row=s.rows + 1,
        )
    )


def _summary(st: _Styles, results: Results) -> None:
    # The management page: one sheet of paper.
    s = st.book.sheet("Summary", [30, 22, 14, 20, 14, 10, 10, 10, 14, 14], pages_tall=1)
    _summary_run(s, st, results)
    _summary_coverage(s, st, results)
    top, last = _summary_fleet(s, st, results)
    _summary_chart(s, top, last)


# --- Heatmap and per-strategy sheets ----------------------------------------------------------


def _top_groups(hosts: Sequence[HostResult]) -> list[str]:
    """Inventory groups to show as filter columns: the most common first, at most 30."""
    seen: Counter[str] = Counter(g for h in hosts for g in set(h.groups) if g != "all")
    ranked = sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))
    return [g for g, _ in ranked[:MAX_GROUP_COLUMNS]]


def _heatmap(st: _Styles, results: Results) -> None:
    strategies = list(Strategy)
    groups = _top_groups(results.hosts)
    target = results.run.target_level
    fixed = ["Host", "Role", "OT zone", "Platform", "Reach"]
    names = fixed + [x.short_label for x in strategies] + ["Overall", "Claimable", "Meets target"]
    hm = st.book.sheet(
        "Heatmap",
        [28, 13, 13, 10, 14] + [13] * (len(strategies) + 3) + [3.5] * len(groups),
        freeze="B2",
    )
    longest = max((len(g) for g in groups), default=0)
    head, vertical = st.book.style(HEADER), st.book.style(HEADER_VERTICAL)
    hm.row(
        [(n, head) for n in names] + [(f"group: {g}", vertical) for g in groups],
        height=max(30, min(160, 6.5 * (longest + 7))),
    )
    hm.print_title_rows = "1:1"
    level_cell = {v: (_level(v), st(fill=f)) for v, f in LEVEL_FILL.items()}
    bold_level = {v: (_level(v), st(fill=f, bold=True)) for v, f in LEVEL_FILL.items()}
    member_cell = ("x", st(center=True))
    blind = st(fill=NO_VISIBILITY_FILL)
    for h in results.hosts:
        cells: list[Cell] = [
            h.name,
            h.role or "",
            h.ot_zone or "",
            h.platform.value,
            (h.reach.value, 0 if _seen(h) else blind),
        ]
        cells += [level_cell[h.levels[x]] for x in strategies]
        cells.append(bold_level[h.level])
        cells.append(level_cell[h.claimable_level])
        meets = h.level is not None and h.level >= target
        cells.append("yes" if meets else ("no visibility" if not _seen(h) else "no"))
        member = set(h.groups)
        cells += [member_cell if g in member else None for g in groups]
        hm.row(cells)
    hm.filter_ref = f"A1:{_col(len(names) + len(groups))}{hm.rows}"


def _strategy_controls(strategy: Strategy) -> list[Requirement]:
    """The strategy's controls, ML1 first, then ML2, then ML3 (table order within a level)."""
    reqs = [r for r in requirements() if r.strategy is strategy]
    return sorted(reqs, key=lambda r: min(r.levels, default=4))


def _of_strategy(h: HostResult, strategy: Strategy) -> Sequence[ControlResult]:
    """The host's controls of one strategy: a slice when they come in the model's own order (as
    scoring makes them), else a search."""
    first, last = _span(strategy)
    if last and len(h.controls) == len(requirements()):
        part = h.controls[first:last]
        if all(c.strategy is strategy for c in part):
            return part
    return [c for c in h.controls if c.strategy is strategy]


@functools.cache
def _span(strategy: Strategy) -> tuple[int, int]:
    at = [i for i, r in enumerate(requirements()) if r.strategy is strategy]
    if at != list(range(at[0], at[-1] + 1)):
        return 0, 0  # not contiguous: _of_strategy searches
    return at[0], at[-1] + 1


def _strategy_sheet(st: _Styles, results: Results, strategy: Strategy) -> None:
    reqs = _strategy_controls(strategy)
    fixed = ["Host", "Reach", "Level", "Claimable"]
    names = fixed + [f"{r.ism} ({_levels_span(r.levels)})" for r in reqs]
    sheet = st.book.sheet(
        strategy.short_label[:31], [28, 14, 13, 13] + [13] * len(reqs), freeze="C2"
    )
    _header(sheet, st, names)
    sheet.print_title_rows = "1:1"
    for i, r in enumerate(reqs, start=len(fixed) + 1):
        sheet.comment(1, i, f"{r.local_id}: {r.requirement}")
    level_cell = {v: (_level(v), st(fill=f)) for v, f in LEVEL_FILL.items()}
    bold_level = {v: (_level(v), st(fill=f, bold=True)) for v, f in LEVEL_FILL.items()}
    outcome_cell = {o: (o.value, st(fill=f)) for o, f in OUTCOME_FILL.items()}
    blind = st(fill=NO_VISIBILITY_FILL)
    for h in results.hosts:
        outcome = {c.ism: c.outcome for c in _of_strategy(h, strategy)}
        cells: list[Cell] = [
            h.name,
            (h.reach.value, 0 if _seen(h) else blind),
            bold_level[h.levels[strategy]],
            level_cell[h.claimable[strategy]],
        ]
        for r in reqs:
            o = outcome.get(r.ism)
            cells.append(outcome_cell[o] if o is not None else None)
        sheet.row(cells)
    sheet.filter_ref = f"A1:{_col(len(names))}{sheet.rows}"


# --- Controls, findings, register, coverage, evidence -----------------------------------------


CONTROLS_HEADER = [
    "Strategy",
    "ISM",
    "E8 id",
    "Levels",
    "Host-checkable",
    "Requirement",
    *(o.value for o in Outcome),
]


def _controls(st: _Styles, results: Results) -> None:
    """Each control of the model once, with its text and how many hosts had each outcome."""
    tally = Counter(
        (c.strategy, c.ism, c.outcome, c.checkable) for h in results.hosts for c in h.controls
    )
    counts: dict[tuple[Strategy, str], Counter[Outcome]] = {}
    checkable: dict[tuple[Strategy, str], set[str]] = {}
    for (strategy, ism, outcome, showable), n in tally.items():
        counts.setdefault((strategy, ism), Counter())[outcome] += n
        checkable.setdefault((strategy, ism), set()).add(showable)
    t = _Table(
        st.book,
        "Controls",
        [18, 11, 8, 10, 14, 70] + [12] * len(Outcome),
        CONTROLS_HEADER,
        freeze="C2",
    )
    wrap = st(wrap=True)
    for r in requirements():
        key = (r.strategy, r.ism)
        seen = counts.get(key, Counter())
        t.row(
            [
                r.strategy.value,
                r.ism,
                r.local_id,
                _levels_span(r.levels),
                ", ".join(sorted(checkable.get(key, {r.checkable}))),
                (r.requirement, wrap),
            ]
            + [(seen[o], st(fill=OUTCOME_FILL[o])) if seen[o] else 0 for o in Outcome]
        )
    t.finish()


FINDINGS_HEADER = [
    "Host",
    "Strategy",
    "ISM",
    "E8 id",
    "Levels",
    "Outcome",
    "Host-checkable",
    "Evidence",
    "Observed",
    "Grade",
    "Check",
    "Check version",
    "Collected at",
    "Register entry",
]


def _findings(st: _Styles, results: Results, max_rows: int) -> None:
    """Every host × control that applies to the host, with its evidence (the requirement text
    and the not-applicable counts are on the Controls sheet).

    Rows are assembled from rendered cells: the control's own columns once per control, the
    host's once per host, an observed value once per finding that several controls share."""
    t = _Table(
        st.book,
        "Findings",
        [24, 18, 11, 8, 10, 16, 10, 60, 40, 9, 28, 8, 20, 24],
        FINDINGS_HEADER,
        freeze="C2",
        max_rows=max_rows,
    )
    cell, cached = st.book.cell, st.book.cached
    wrap = st(wrap=True)
    outcomes = {o: cell(o.value, st(fill=f)) for o, f in OUTCOME_FILL.items()}
    grades = {g: cell(g.value) for g in Grade}
    checkable = {k: cell(k) for k in ("yes", "partly", "no")}
    empty = cell(None)
    about: dict[tuple[Strategy, str, str, tuple[int, ...]], str] = {}
    for h in results.hosts:
        host = cell(h.name)
        collected = cell(_when(h.collected_at))
        observed: dict[int, str] = {}
        for c in h.controls:
            if c.outcome is Outcome.NOT_APPLICABLE:
                continue  # counted on the Controls sheet; in results.json
            key = (c.strategy, c.ism, c.local_id, c.levels)
            control = about.get(key)
            if control is None:
                span = ",".join(f"ML{n}" for n in c.levels)
                control = about[key] = (
                    cell(c.strategy.value) + cell(c.ism) + cell(c.local_id) + cell(span)
                )
            seen = empty
            if c.observed:
                seen = observed.get(id(c.observed)) or cell(
                    json.dumps(c.observed, sort_keys=True, default=str), wrap
                )
                observed[id(c.observed)] = seen
            # cached(): a dict lookup, falling back to cell() the first time a value shows up
            t.row_xml(
                host
                + control
                + outcomes[c.outcome]
                + checkable[c.checkable]
                + (cached((c.evidence, wrap)) or cell(c.evidence, wrap))
                + seen
                + grades[c.grade]
                + (cached((c.check, 0)) or cell(c.check))
                + (cached((c.check_version, 0)) or cell(c.check_version))
                + collected
                + (cached((c.register_entry, 0)) or cell(c.register_entry))
            )
    t.finish()


def _register_sheet(st: _Styles, results: Results, kind: str, title: str) -> None:
    t = _Table(
        st.book,
        title,
        [24, 12, 14, 40, 8, 60],
        ["Id", "Expires", "State", "Controls by status", "Hosts", "Host names"],
    )
    uses = [u for u in results.register_use if u.kind == kind]
    if not uses:
        why = (
            "The register files of this run hold none."
            if results.run.register_files
            else "No exception register or attestation file was given for this run."
        )
        t.row([f"No {title.lower()}", why])
        t.finish()
        return
    for u in uses:
        state = _register_state(u)
        fill = STALE_FILL if state not in ("current", "unused") else None
        t.row(
            [
                u.id,
                (u.expires, st(fill=fill)),
                (state, st(fill=fill, bold=fill is not None)),
                ", ".join(f"{k}: {v}" for k, v in sorted(u.statuses.items())),
                len(u.hosts),
                (", ".join(u.hosts), st(wrap=True)),
            ]
        )
    t.finish()


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


def _coverage(st: _Styles, results: Results) -> None:
    t = _Table(
        st.book,
        "Coverage",
        [24, 16, 9, 12, 16, 40, 52, 12, 12, 12, 30, 40, 26],
        COVERAGE_HEADER,
    )
    blind, blind_bold = st(fill=NO_VISIBILITY_FILL), st(fill=NO_VISIBILITY_FILL, bold=True)
    for h in results.hosts:
        seen = _seen(h)
        t.row(
            [
                h.name,
                h.address,
                h.platform.value,
                h.connection,
                (h.reach.value, 0 if seen else blind_bold),
                h.reach_detail,
                h.host_key or "",
                h.user or "",
                h.role or "",
                h.ot_zone or "",
                ", ".join(h.groups),
                "; ".join(h.notes),
                _when(h.collected_at),
            ],
            0 if seen else blind,
        )
    t.finish()


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


def _evidence(st: _Styles, raw: RawRecord | None, max_rows: int) -> None:
    t = _Table(
        st.book,
        "Evidence index",
        [22, 26, 50, 50, 8, 66, 10, 66, 10, 9, 9, 6, 26],
        EVIDENCE_HEADER,
        max_rows=max_rows,
    )
    if raw is None:
        t.row(
            [
                "(raw record not available)",
                "This workbook was written without the raw record; "
                "hash raw.json's outputs with e8scan rescore to fill this sheet.",
            ]
        )
        t.finish()
        return
    cell = st.book.cell
    ran: dict[tuple[str, str, tuple[str, ...]], str] = {}
    for h in raw.hosts:
        host = cell(h.name)
        for c in h.commands:
            key = (c.command, c.as_run, tuple(c.checks))
            what = ran.get(key)
            if what is None:
                what = ran[key] = cell(", ".join(c.checks)) + cell(c.command) + cell(c.as_run)
            t.row_xml(
                host
                + what
                + cell(c.exit_code)
                + cell(hashlib.sha256(c.stdout).hexdigest())
                + cell(len(c.stdout))
                + cell(hashlib.sha256(c.stderr).hexdigest())
                + cell(len(c.stderr))
                + cell(_yes(c.truncated))
                + cell(_yes(c.timed_out))
                + cell(_yes(c.ran))
                + cell(_epoch(c.started))
            )
    t.finish()


# --- Next level and Run -----------------------------------------------------------------------


def _next_level(st: _Styles, results: Results) -> None:
    t = _Table(
        st.book,
        "Next level",
        [28, 34, 12, 90],
        ["Host", "Strategy", "Level", "Blocked by (controls at the next level that are not met)"],
    )
    wrap = st(wrap=True)
    for h in results.hosts:
        for x in Strategy:
            if h.blockers.get(x):
                v = h.levels[x]
                t.row(
                    [
                        h.name,
                        x.label,
                        (_level(v), st(fill=LEVEL_FILL[v])),
                        (", ".join(h.blockers[x]), wrap),
                    ]
                )
    t.finish()


def _run_sheet(st: _Styles, results: Results) -> None:
    r = st.book.sheet("Run", [26, 100])
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
    bold, wrap = st(bold=True), st(wrap=True)
    for k, v in rows:
        r.row([(k, bold), (v, wrap)])


def write_workbook(
    results: Results, fh: IO[bytes], raw: RawRecord | None = None, max_rows: int = MAX_ROWS
) -> None:
    """The whole workbook, sheet by sheet, streamed into ``fh`` (see the module docstring).

    ``max_rows`` is where the Findings and Evidence index tables continue on a new sheet
    (Excel's last row unless a test says otherwise)."""
    with Workbook(fh) as book:
        st = _Styles(book)
        _summary(st, results)
        _heatmap(st, results)
        for strategy in Strategy:
            _strategy_sheet(st, results, strategy)
        _controls(st, results)
        _findings(st, results, max_rows)
        _register_sheet(st, results, "exception", "Exceptions")
        _register_sheet(st, results, "attestation", "Attestations")
        _coverage(st, results)
        _evidence(st, raw, max_rows)
        _next_level(st, results)
        _run_sheet(st, results)


def write_xlsx(results: Results, path: Path, raw: RawRecord | None = None) -> None:
    """Write the workbook atomically to ``path``."""
    write_atomic(path, lambda fh: write_workbook(results, fh, raw))
