"""The workbook's overview sheets: Summary (with the chart), Heatmap and one sheet per strategy.

Levels, strategies (the framework's groups) and controls are the framework the results were
scored against (``results.framework``), so a framework with other levels or groups needs no change
here."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence

from scanner.assess.results import ControlResult, HostResult, Results
from scanner.assess.target import (
    fleet_meets,
    host_meets,
    hosts_short,
    level_meets,
    strategy_short,
)
from scanner.model.framework import Framework, Requirement
from scanner.model.vocabulary import Strategy
from scanner.report.xlsx.directory import directory_summary
from scanner.report.xlsx.sheetml import (
    LINE_HEIGHT,
    BarChart,
    Cell,
    Series,
    Sheet,
    absolute_ref,
    col_letter,
    page_columns,
    pages_wide,
    row_height,
)
from scanner.report.xlsx.style import (
    HEADER,
    HEADER_VERTICAL,
    INCOMPLETE_FILL,
    LISTED_FILL,
    MAX_GROUP_COLUMNS,
    MET_FILL,
    NO_VISIBILITY_FILL,
    NOT_APPLICABLE_FILL,
    OUTCOME_FILL,
    SECTION,
    STALE_FILL,
    TITLE,
    KeyEntry,
    Styles,
    distribution,
    header_row,
    host_width,
    legend,
    level_fills,
    level_key,
    level_text,
    levels_span,
    outcome_key,
    reached,
    run_status,
    when,
)

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
            ok[k] += reached(h)
    return [(d, v, n, ok[(d, v)], n - ok[(d, v)]) for (d, v), n in sorted(total.items(), key=_dim)]


def _dim(item: tuple[tuple[str, str], int]) -> tuple[int, str]:
    order = ("All hosts", "Role", "OT zone", "Platform")
    return order.index(item[0][0]), item[0][1]


def _summary_run(s: Sheet, st: Styles, results: Results) -> None:
    run = results.run
    s.row([(f"{results.framework.title}: assessment report", st.book.style(TITLE))], height=20)
    s.row([])
    s.row([("Run", st.book.style(SECTION))])
    policy_version = run.policy.get("version", "")
    for k, v in (
        ("Run id", run.id),
        ("Started", when(run.started)),
        ("Finished", when(run.finished)),
        ("Tool version", results.tool_version),
        ("Maturity model", results.model_version),
        ("Policy version", policy_version or "(default)"),
        ("Target level", f"ML{run.target_level}"),
        ("Inventory", ", ".join(src.path for src in run.inventory) or "(none recorded)"),
        ("Limit", run.limit or "(all hosts)"),
    ):
        s.row([(k, st(bold=True)), str(v)])
    if run.incomplete:
        s.row([("Status", st(bold=True)), (run_status(run), st(fill=INCOMPLETE_FILL, bold=True))])
    s.row([])


def _summary_coverage(s: Sheet, st: Styles, results: Results) -> None:
    s.row([("Scope and coverage", st.book.style(SECTION))])
    header_row(
        s, st, ["Breakdown", "Value", "In inventory", "Assessed (reach ok)", "No visibility"]
    )
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


def _summary_fleet(s: Sheet, st: Styles, results: Results) -> tuple[int, int]:
    """The fleet maturity table; returns its header row and last strategy row (for the chart)."""
    target = results.run.target_level
    fill = level_fills(results.framework.top)
    series = distribution(results.framework.levels)
    s.row([(f"Fleet maturity per strategy (target ML{target})", st.book.style(SECTION))])
    header_row(
        s,
        st,
        ["Strategy", "Fleet level (lowest)", "Target met", "Hosts not meeting target"]
        + [label for _, label in series],
    )
    top = s.rows
    for f in results.fleet:
        n_below = strategy_short(f, target)
        s.row(
            [
                f.strategy.short_label,
                (level_text(f.level), st(fill=fill[f.level], bold=True)),
                _met(st, level_meets(f.level, target, f.distribution.get("no_visibility", 0))),
                (n_below, st(fill=STALE_FILL if n_below else None)),
            ]
            + [f.distribution.get(k, 0) for k, _ in series]
        )
    last = s.rows
    below_all = hosts_short(results)
    s.row(
        [
            ("All strategies (overall)", st(bold=True)),
            (level_text(results.fleet_level), st(fill=fill[results.fleet_level], bold=True)),
            _met(st, fleet_meets(results)),
            (below_all, st(fill=STALE_FILL if below_all else None)),
        ]
    )
    note = (
        "Levels are what each host's own evidence supports; the per-strategy sheets also show "
        "the level an assessor could sign ('claimable'). A host with no visibility never meets "
        "the target: it counts as not meeting it here and in the exit code (see Coverage)."
    )
    # wrapped across the table's width (text running on past the last column would print too,
    # and make the page wider)
    s.row([(note, st(wrap=True))], height=row_height((note,), (sum(s.widths),), (0,)))
    s.merge(s.rows, 1, len(s.widths))
    return top, last


def _met(st: Styles, verdict: str) -> Cell:
    fill = {"met": MET_FILL, "not met": STALE_FILL, "not assessed": level_fills(1)[None]}[verdict]
    return (verdict, st(fill=fill))


def _summary_chart(s: Sheet, results: Results, top: int, last: int) -> None:
    """A clustered column chart of hosts per level per strategy, over the distribution cells."""
    fw = results.framework
    first = 5  # column E: ML0
    fill = level_fills(fw.top)
    colours = [fill[n] for n in (0, *fw.levels)]
    colours += [NOT_APPLICABLE_FILL, fill[None], NO_VISIBILITY_FILL]
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
                    # no visibility (the last series) hatched: not seen, whatever the printer
                    pattern="wdUpDiag" if i == len(colours) - 1 else "",
                )
                for i, colour in enumerate(colours)
            ),
            row=s.rows + 1,
            max_value=max((n for f in results.fleet for n in f.distribution.values()), default=0),
        )
    )


def summary_sheet(st: Styles, results: Results) -> None:
    # The management page: the tables on the first sheet of paper, the key and chart on the next.
    widths = [30, 22, 14, 20, 14] + [10] * len(results.framework.levels) + [14, 14, 14]
    s = st.book.sheet("Summary", widths)
    _summary_run(s, st, results)
    _summary_coverage(s, st, results)
    directory_summary(s, st, results)
    top, last = _summary_fleet(s, st, results)
    s.page_break()  # the colour key and the chart whole on the next page
    legend(s, st, _summary_key(results))
    _summary_chart(s, results, top, last)


def _summary_key(results: Results) -> list[KeyEntry]:
    """The Summary's colours: the levels (also the chart's), the target verdicts and, with a
    directory target, its lines."""
    key = [
        (label, fill, meaning + ("; hatched in the chart" if fill == NO_VISIBILITY_FILL else ""))
        for label, fill, meaning in level_key(results.framework.top)
    ]
    key += [
        ("met", MET_FILL, "the target level is met"),
        ("not met", STALE_FILL, "target not met; hosts short of it; a run that stopped early"),
    ]
    if results.coverage:
        key.append(("not in the directory", LISTED_FILL, "an inventory line to check"))
    return key


# --- Heatmap and per-strategy sheets ----------------------------------------------------------


def _top_groups(hosts: Sequence[HostResult]) -> list[str]:
    """Inventory groups to show as filter columns: the most common first, at most 30."""
    seen: Counter[str] = Counter(g for h in hosts for g in set(h.groups) if g != "all")
    ranked = sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))
    return [g for g, _ in ranked[:MAX_GROUP_COLUMNS]]


def heatmap_sheet(st: Styles, results: Results) -> None:
    strategies = results.framework.groups
    fill = level_fills(results.framework.top)
    groups = _top_groups(results.hosts)
    target = results.run.target_level
    fixed = ["Host", "Role", "OT zone", "Platform", "Reach"]
    names = fixed + [x.short_label for x in strategies] + ["Overall", "Claimable", "Meets target"]
    hm = st.book.sheet(
        "Heatmap",
        [host_width(h.name for h in results.hosts), 12, 12, 10, 14]
        + [12.5] * len(strategies)  # "not applicable" whole
        + [13] * 3
        + [3.5] * len(groups),
        freeze="B2",
    )
    longest = max((len(g) for g in groups), default=0)
    head, vertical = st.book.style(HEADER), st.book.style(HEADER_VERTICAL)
    hm.row(
        [(n, head) for n in names] + [(f"group: {g}", vertical) for g in groups],
        height=max(30, min(160, 6.5 * (longest + 7))),
    )
    hm.print_title_rows = "1:1"
    # Wider than a page (many group columns): more pages, each with the host names at the left;
    # down, then over, so a column's hosts are on consecutive pages.
    hm.title_cols, hm.page_order = 1, "downThenOver"
    level_cell = {v: (level_text(v), st(fill=f)) for v, f in fill.items()}
    bold_level = {v: (level_text(v), st(fill=f, bold=True)) for v, f in fill.items()}
    na_cell = ("not applicable", st(fill=NOT_APPLICABLE_FILL))
    member_cell = ("x", st(center=True))
    blind = st(fill=NO_VISIBILITY_FILL)
    for h in results.hosts:
        cells: list[Cell] = [
            (h.name, st(wrap=True)),  # a name longer than its column wraps, the row grows
            h.role or "",
            h.ot_zone or "",
            h.platform.value,
            (h.reach.value, 0 if reached(h) else blind),
        ]
        cells += [na_cell if x in h.not_applicable else level_cell[h.levels[x]] for x in strategies]
        cells.append(bold_level[h.level])
        cells.append(level_cell[h.claimable_level])
        cells.append(host_meets(h, target))
        member = set(h.groups)
        cells += [member_cell if g in member else None for g in groups]
        hm.row(cells)
    hm.filter_ref = f"A1:{col_letter(len(names) + len(groups))}{hm.rows}"
    hosts_end = hm.rows
    legend(hm, st, level_key(results.framework.top))
    _keys_apart(hm, hosts_end, page_columns(hm.widths))


def _keys_apart(sheet: Sheet, hosts_end: int, last: int) -> None:
    """A matrix more than a page across: the keys below its hosts (columns up to ``last``, one
    page wide at full size) print as a range of their own, so the pages of the last columns carry
    no cut-off copy of the keys' first column (a title column)."""
    if pages_wide(sheet.widths, sheet.title_cols) > 1 and last < len(sheet.widths):
        sheet.print_areas = [
            f"A1:{col_letter(len(sheet.widths))}{hosts_end}",
            f"A{hosts_end + 2}:{col_letter(last)}{sheet.rows}",
        ]


def _strategy_controls(fw: Framework, strategy: Strategy) -> list[Requirement]:
    """The strategy's controls, lowest level first (table order within a level)."""
    reqs = [r for r in fw.controls if r.strategy is strategy]
    return sorted(reqs, key=lambda r: min(r.levels, default=fw.top + 1))


def _of_strategy(fw: Framework, h: HostResult, strategy: Strategy) -> Sequence[ControlResult]:
    """The host's controls of one strategy: a slice when they come in the model's own order (as
    scoring makes them), else a search."""
    first, last = _span(fw, strategy)
    if last and len(h.controls) == len(fw.controls):
        part = h.controls[first:last]
        if all(c.strategy is strategy for c in part):
            return part
    return [c for c in h.controls if c.strategy is strategy]


@functools.lru_cache(maxsize=64)
def _span(fw: Framework, strategy: Strategy) -> tuple[int, int]:
    at = [i for i, r in enumerate(fw.controls) if r.strategy is strategy]
    if at != list(range(at[0], at[-1] + 1)):
        return 0, 0  # not contiguous: _of_strategy searches
    return at[0], at[-1] + 1


def strategy_sheet(st: Styles, results: Results, strategy: Strategy) -> None:
    fw = results.framework
    reqs = _strategy_controls(fw, strategy)
    fixed = ["Host", "Reach", "Level", "Claimable"]
    names = fixed + [f"{r.ism} ({levels_span(r.levels)})" for r in reqs]
    widths = [host_width(h.name for h in results.hosts), 14, 13, 13] + [13.0] * len(reqs)
    sheet = st.book.sheet(strategy.short_label[:31], widths, freeze="C2")
    header_row(sheet, st, names)
    sheet.print_title_rows = "1:1"
    # Printed as many pages wide as the controls need at a legible size, the host column on each
    # page; pages go down the hosts first, then over to the next controls, so a control's column
    # for every host is on consecutive pages (an auditor reads one control across the fleet).
    sheet.title_cols, sheet.page_order = 1, "downThenOver"
    for i, r in enumerate(reqs, start=len(fixed) + 1):
        sheet.comment(1, i, f"{r.local_id}: {r.requirement}")
    fill = level_fills(fw.top)
    level_cell = {v: (level_text(v), st(fill=f)) for v, f in fill.items()}
    bold_level = {v: (level_text(v), st(fill=f, bold=True)) for v, f in fill.items()}
    na_cell = ("not applicable", st(fill=NOT_APPLICABLE_FILL))
    outcome_cell = {o: (o.value, st(fill=f)) for o, f in OUTCOME_FILL.items()}
    blind = st(fill=NO_VISIBILITY_FILL)
    for h in results.hosts:
        outcome = {c.ism: c.outcome for c in _of_strategy(fw, h, strategy)}
        cells: list[Cell] = [
            (h.name, st(wrap=True)),  # a name longer than its column wraps, the row grows
            (h.reach.value, 0 if reached(h) else blind),
            na_cell if strategy in h.not_applicable else bold_level[h.levels[strategy]],
            na_cell if strategy in h.not_applicable else level_cell[h.claimable[strategy]],
        ]
        for r in reqs:
            o = outcome.get(r.ism)
            cells.append(outcome_cell[o] if o is not None else None)
        sheet.row(cells)
    sheet.filter_ref = f"A1:{col_letter(len(names))}{sheet.rows}"
    hosts_end = sheet.rows
    legend(sheet, st, level_key(fw.top), "Colour key: Level and Claimable")
    legend(sheet, st, outcome_key(), "Colour key: the control columns (each cell says its outcome)")
    _keys_apart(sheet, hosts_end, _controls_key(sheet, st, reqs, widths))


def _controls_key(
    sheet: Sheet, st: Styles, reqs: Sequence[Requirement], widths: list[float]
) -> int:
    """The sheet's controls in print (the headers' notes do not print): ISM id, levels, the
    framework's own id and the requirement, wrapped across the columns to the right, up to the
    column returned (1-based)."""
    sheet.row([])
    sheet.row([("Controls on this sheet (the column headers' ISM ids)", st(bold=True))])
    header_row(sheet, st, ["ISM", "Levels", "E8 id", "Requirement"])
    # The requirement spans the columns to the right, as far as the first printed page reaches
    # at any scale (a merged cell split across two pages would print cut in half).
    last = len(widths) if pages_wide(widths, sheet.title_cols) == 1 else page_columns(widths)
    last = max(last, 4)
    room = sum(widths[3:last])
    sheet.merge(sheet.rows, 4, last)
    wrap = st(wrap=True)
    for r in reqs:
        sheet.row(
            [
                (r.ism, wrap),
                (levels_span(r.levels), wrap),
                (r.local_id, wrap),
                (r.requirement, wrap),
            ],
            # the requirement's cell spans the columns to the right: as tall as it needs there
            height=row_height(
                (r.ism, levels_span(r.levels), r.local_id, r.requirement),
                (*widths[:3], room),
                range(4),
            )
            or LINE_HEIGHT,  # one line: said, or the row would be measured in column D alone
        )
        sheet.merge(sheet.rows, 4, last)
    return last
