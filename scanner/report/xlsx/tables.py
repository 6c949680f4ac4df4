"""The workbook's long tables: Controls, Findings, Exceptions, Attestations, Coverage, Evidence
index, Next level and Run."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from scanner.assess.results import RegisterUse, Results
from scanner.model.framework import short_statement
from scanner.model.vocabulary import Grade, Outcome, Strategy
from scanner.record.raw import CommandRecord, RawRecord
from scanner.report.xlsx.grouping import grouped, grouped_notes
from scanner.report.xlsx.style import (
    NO_VISIBILITY_FILL,
    OUTCOME_FILL,
    STALE_FILL,
    STALE_STATUSES,
    Styles,
    Table,
    level_fills,
    level_key,
    level_text,
    levels_span,
    outcome_key,
    reached,
    run_status,
    when,
    wrapped_height,
    yes_no,
)

# --- Controls, findings, register, coverage, evidence -----------------------------------------

GROUPED_WIDTH = 44  # Controls: why no host showed the control, and on how many hosts
REQUIREMENT_WIDTH = 40  # Findings: the requirement in short (up to 100 characters)

CONTROLS_HEADER = [
    "Strategy",
    "ISM",
    "E8 id",
    "Levels",
    "Host-checkable",
    "Requirement",
    *(o.value for o in Outcome),
    "Not shown from a host (these hosts are not on Findings)",
]


def controls_sheet(st: Styles, results: Results) -> None:
    """Each control of the model once, with its text, how many hosts had each outcome, and for
    controls no host can show the reason once with the hosts it stands for
    (:mod:`scanner.report.xlsx.grouping`: those rows are not repeated on Findings)."""
    tally = Counter(
        (c.strategy, c.ism, c.outcome, c.checkable) for h in results.hosts for c in h.controls
    )
    counts: dict[tuple[Strategy, str], Counter[Outcome]] = {}
    checkable: dict[tuple[Strategy, str], set[str]] = {}
    for (strategy, ism, outcome, showable), n in tally.items():
        counts.setdefault((strategy, ism), Counter())[outcome] += n
        checkable.setdefault((strategy, ism), set()).add(showable)
    t = Table(
        st.book,
        "Controls",
        [18, 11, 8, 10, 14, 70] + [17] * len(Outcome) + [GROUPED_WIDTH],
        CONTROLS_HEADER,
        freeze="C2",
    )
    wrap = st(wrap=True)
    notes = grouped_notes(results)
    for r in results.framework.controls:
        key = (r.strategy, r.ism)
        seen = counts.get(key, Counter())
        note = notes.get(key, "")
        t.row(
            [
                r.strategy.value,
                r.ism,
                r.local_id,
                levels_span(r.levels),
                ", ".join(sorted(checkable.get(key, {r.checkable}))),
                (r.requirement, wrap),
            ]
            + [(seen[o], st(fill=OUTCOME_FILL[o])) if seen[o] else 0 for o in Outcome]
            + [(note, wrap)],
            height=max(
                wrapped_height(r.requirement, 70) or 0,
                wrapped_height(note, GROUPED_WIDTH) or 0,
            )
            or None,
        )
    t.finish()
    t.legend(st, outcome_key(), "Colour key (a count is coloured as the outcome its column names)")


FINDINGS_HEADER = [
    "Host",
    "Strategy",
    "ISM",
    "Requirement (short)",
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


def findings_sheet(st: Styles, results: Results, max_rows: int) -> None:
    """Every host × control that applies to the host, with its evidence and the requirement in
    short (the full text and the not-applicable counts are on the Controls sheet). A control no
    host can show, not_assessed with no register entry, is given once on the Controls sheet
    instead of on every host (:mod:`scanner.report.xlsx.grouping`).

    Rows are assembled from rendered cells: the control's own columns once per control, the
    host's once per host, an observed value once per finding that several controls share."""
    t = Table(
        st.book,
        "Findings",
        [24, 18, 11, REQUIREMENT_WIDTH, 8, 10, 16, 10, 60, 40, 9, 28, 8, 20, 24],
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
        collected = cell(when(h.collected_at))
        observed: dict[int, str] = {}
        for c in h.controls:
            if c.outcome is Outcome.NOT_APPLICABLE or grouped(c):
                continue  # counted (and explained) on the Controls sheet; in results.json
            key = (c.strategy, c.ism, c.local_id, c.levels)
            control = about.get(key)
            if control is None:
                span = ",".join(f"ML{n}" for n in c.levels)
                control = about[key] = (
                    cell(c.strategy.value)
                    + cell(c.ism)
                    + cell(short_statement(c.requirement), wrap)
                    + cell(c.local_id)
                    + cell(span)
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
    t.legend(st, outcome_key(o for o in Outcome if o is not Outcome.NOT_APPLICABLE))


def register_sheet(st: Styles, results: Results, kind: str, title: str) -> None:
    t = Table(
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
    if any(_register_state(u) not in ("current", "unused") for u in uses):
        t.legend(st, [(", ".join(STALE_STATUSES), STALE_FILL, "the entry was not applied")])


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


def coverage_sheet(st: Styles, results: Results) -> None:
    t = Table(
        st.book,
        "Coverage",
        [24, 16, 9, 12, 16, 40, 52, 12, 12, 12, 30, 40, 26],
        COVERAGE_HEADER,
    )
    blind, blind_bold = st(fill=NO_VISIBILITY_FILL), st(fill=NO_VISIBILITY_FILL, bold=True)
    for h in results.hosts:
        seen = reached(h)
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
                when(h.collected_at),
            ],
            0 if seen else blind,
        )
    t.finish()
    if not all(reached(h) for h in results.hosts):
        t.legend(st, [("no visibility", NO_VISIBILITY_FILL, "host not reached or not readable")])


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
    "Stderr truncated",
    "Impossible values (host text)",
]


def _epoch(t: float | None) -> str:
    # The record holds only times a datetime can show (scanner.record.hostvalues).
    return "" if t is None else when(datetime.fromtimestamp(t, UTC))


def _invalid(c: CommandRecord) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(c.invalid.items()))


def evidence_sheet(st: Styles, raw: RawRecord | None, max_rows: int) -> None:
    t = Table(
        st.book,
        "Evidence index",
        [22, 26, 50, 50, 8, 66, 10, 66, 10, 9, 9, 6, 26, 9, 30],
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
                + cell(yes_no(c.truncated))
                + cell(yes_no(c.timed_out))
                + cell(yes_no(c.ran))
                + cell(_epoch(c.started))
                + cell(yes_no(c.stderr_truncated))
                + cell(_invalid(c))
            )
    t.finish()


# --- Next level and Run -----------------------------------------------------------------------


def next_level_sheet(st: Styles, results: Results) -> None:
    t = Table(
        st.book,
        "Next level",
        [28, 34, 12, 90],
        ["Host", "Strategy", "Level", "Blocked by (controls at the next level that are not met)"],
    )
    wrap = st(wrap=True)
    fill = level_fills(results.framework.top)
    for h in results.hosts:
        for x in results.framework.groups:
            if h.blockers.get(x):
                v = h.levels[x]
                t.row(
                    [
                        h.name,
                        x.label,
                        (level_text(v), st(fill=fill[v])),
                        (", ".join(h.blockers[x]), wrap),
                    ]
                )
    t.finish()
    if t.sheet.rows > 1:
        t.legend(st, level_key(results.framework.top, reach=False)[:-1])


def run_sheet(st: Styles, results: Results) -> None:
    r = st.book.sheet("Run", [26, 100])
    run = results.run
    rows: list[tuple[str, Any]] = [
        ("Tool version", results.tool_version),
        ("Model version", results.model_version),
        ("Framework", f"{results.framework.title} ({results.framework.id})"),
        ("Results schema", results.schema_version),
        ("Run id", run.id),
        ("Status", run_status(run)),
        ("Started", when(run.started)),
        ("Finished", when(run.finished)),
        ("Target level", f"ML{run.target_level}"),
        ("Limit", run.limit or "(all hosts)"),
        ("Raw record", run.raw_record),
    ]
    rows += [
        (f"Inventory {i + 1}", f"{src.path}  sha256:{src.sha256}")
        for i, src in enumerate(run.inventory)
    ]
    rows += [
        (f"OSCAL catalog ML{c.level}", f"{c.file}  version {c.version}  sha256:{c.sha256}")
        for c in results.framework.catalogs
    ]
    rows += [("Policy", json.dumps(run.policy, sort_keys=True))]
    rows += [
        (f"Register file {i + 1}", f"{src.path}  sha256:{src.sha256}")
        for i, src in enumerate(run.register_files)
    ]
    rows += [
        (f"Feed {f.name}", f"as of {f.as_of.isoformat()}  {f.source}  sha256:{f.sha256}")
        for f in run.feeds
    ]
    rows += [(f"Check {c.id}", f"version {c.version}") for c in run.checks]
    bold, wrap = st(bold=True), st(wrap=True)
    for k, v in rows:
        r.row([(k, bold), (v, wrap)])
