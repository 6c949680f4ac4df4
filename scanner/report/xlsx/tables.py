"""The workbook's long tables: Controls, Findings, Exceptions, Attestations, Coverage, Evidence
index, Next level and Run."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from scanner.assess.results import RegisterUse, Results
from scanner.model.framework import short_statement
from scanner.model.vocabulary import Grade, Outcome, Strategy
from scanner.record.raw import CommandRecord, RawRecord
from scanner.report.xlsx.grouping import grouped, grouped_notes
from scanner.report.xlsx.sheetml import row_height
from scanner.report.xlsx.style import (
    NO_VISIBILITY_FILL,
    OUTCOME_FILL,
    STALE_FILL,
    STALE_STATUSES,
    Styles,
    Table,
    fit_width,
    host_width,
    level_fills,
    level_key,
    level_text,
    levels_span,
    outcome_key,
    reached,
    run_status,
    when,
    yes_no,
)

# --- Controls, findings, register, coverage, evidence -----------------------------------------

# Text columns are as narrow as printing legibly needs (sheetml.FLOOR_SCALE): a sheet's columns
# fit one A4 page at that scale or its rows continue on a second page across; the rows grow.
GROUPED_WIDTH = 36  # Controls: why no host showed the control, and on how many hosts
REQUIREMENT_WIDTH = 34  # Findings: the requirement in short (up to 100 characters)
COUNT_WIDTH = 6  # Controls: hosts per outcome (the header written upwards)

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
        [fit_width((x.value for x in results.framework.groups), 10, 28), 11, 8, 10, 11, 52]
        + [COUNT_WIDTH] * len(Outcome)
        + [GROUPED_WIDTH],
        CONTROLS_HEADER,
        freeze="C2",
        vertical=range(6, 6 + len(Outcome)),  # one page wide: the counts' headers upwards
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
            # counts centred: apart from the note beside the last of them
            + [
                (seen[o], st(fill=OUTCOME_FILL[o] if seen[o] else None, center=True))
                for o in Outcome
            ]
            + [(note, wrap)],
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
    checks = {c.id for c in results.run.checks} | {
        c.check or "" for h in results.hosts for c in h.controls
    }
    # By column name (a column without an entry is 12 wide): identifiers as wide as the longest
    # (bounded; beyond it a host name or check id wraps), Evidence and Observed wrapped; each row
    # is as tall as its most wrapped cell needs.
    levels = (",".join(f"ML{n}" for n in r.levels) for r in results.framework.controls)
    width = {
        "Host": host_width(h.name for h in results.hosts),
        "Strategy": fit_width((x.value for x in results.framework.groups), 10, 28),
        "ISM": fit_width((r.ism for r in results.framework.controls), 9, 14),
        "Requirement (short)": REQUIREMENT_WIDTH,
        "E8 id": 8,
        "Levels": fit_width(levels, 6, 14),
        "Outcome": fit_width((o.value for o in Outcome), 10, 20),
        "Host-checkable": 10,
        "Evidence": 50,  # the last column of the first page ...
        "Observed": 56,  # ... the first of the second, which has room to spare
        "Grade": 9,
        "Check": fit_width(checks, 12, 50),
        "Check version": 8,
        "Collected at": fit_width((when(h.collected_at) for h in results.hosts), 12, 28),
        "Register entry": 18,
    }
    t = Table(
        st.book,
        "Findings",
        [width.get(name, 12) for name in FINDINGS_HEADER],
        FINDINGS_HEADER,
        freeze="C2",
        max_rows=max_rows,
        # Two pages wide at a legible size (its identifiers alone, whole, fill most of one page):
        # the host again on the second, whose check id names the control.
        title_cols=1,
    )
    width = dict(zip(FINDINGS_HEADER, t.widths, strict=True))  # a header word may widen one
    cell, cached = st.book.cell, st.book.cached
    wrap = st(wrap=True)
    centred = st(center=True)  # the version apart from the date beside it
    outcomes = {o: cell(o.value, st(fill=f)) for o, f in OUTCOME_FILL.items()}
    grades = {g: cell(g.value) for g in Grade}
    checkable = {k: cell(k) for k in ("yes", "partly", "no")}
    empty = cell(None)
    about: dict[tuple[Strategy, str, str, tuple[int, ...]], tuple[str, float]] = {}
    ctl_widths = (width["Evidence"], width["Check"], width["Register entry"])
    part: dict[tuple[str, str | None, str | None], float] = {}
    for h in results.hosts:
        host = cell(h.name, wrap)
        host_tall = row_height((h.name,), (width["Host"],), (0,)) or 0.0
        collected = cell(when(h.collected_at))
        observed: dict[int, tuple[str, str, float]] = {}  # id → (text, cell, height)
        for c in h.controls:
            if c.outcome is Outcome.NOT_APPLICABLE or grouped(c):
                continue  # counted (and explained) on the Controls sheet; in results.json
            key = (c.strategy, c.ism, c.local_id, c.levels)
            control, control_tall = about.get(key) or ("", 0.0)
            if not control:
                span = ",".join(f"ML{n}" for n in c.levels)
                short = short_statement(c.requirement)
                control = (
                    cell(c.strategy.value)
                    + cell(c.ism)
                    + cell(short, wrap)
                    + cell(c.local_id)
                    + cell(span)
                )
                control_tall = row_height((short,), (width["Requirement (short)"],), (0,)) or 0.0
                about[key] = control, control_tall
            seen, seen_text, seen_tall = empty, "", 0.0
            if c.observed:
                seen_text, seen, seen_tall = observed.get(id(c.observed)) or _observed(
                    cell, c.observed, wrap, width["Observed"]
                )
                observed[id(c.observed)] = seen_text, seen, seen_tall
            # the row's height: the tallest of host, requirement, evidence, observed, check and
            # register entry (row_height of each part, cached: the parts repeat row after row)
            texts = (c.evidence, c.check, c.register_entry)
            tall = part.get(texts)
            if tall is None:
                if len(part) >= 50_000:  # bounded, as the writer's cell cache is
                    part.clear()
                tall = part[texts] = row_height(texts, ctl_widths, (0, 1, 2)) or 0.0
            height = max(host_tall, control_tall, tall, seen_tall) or None
            # cached(): a dict lookup, falling back to cell() the first time a value shows up
            t.row_xml(
                host
                + control
                + outcomes[c.outcome]
                + checkable[c.checkable]
                + (cached((c.evidence, wrap)) or cell(c.evidence, wrap))
                + seen
                + grades[c.grade]
                + (cached((c.check, wrap)) or cell(c.check, wrap))
                + (cached((c.check_version, centred)) or cell(c.check_version, centred))
                + collected
                + (cached((c.register_entry, wrap)) or cell(c.register_entry, wrap)),
                height,
            )
    t.finish()
    t.legend(st, outcome_key(o for o in Outcome if o is not Outcome.NOT_APPLICABLE))


# An observed value longer than this is cut in its Findings cell, saying so: a package list of
# thousands of characters would otherwise fill a printed page per row (and Excel's 409-point
# row limit would cut it on paper without a word). The whole value is in results.json.
OBSERVED_CHARS = 600


def _observed(
    cell: Callable[[str, int], str], observed: object, wrap: int, width: float
) -> tuple[str, str, float]:
    text = json.dumps(observed, sort_keys=True, default=str)
    if len(text) > OBSERVED_CHARS:
        cut = text[:OBSERVED_CHARS]
        text = f"{cut} … ({len(text) - len(cut):,} more characters: the whole value is in results.json)"
    return text, cell(text, wrap), row_height((text,), (width,), (0,)) or 0.0


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
        t.row([f"No {title.lower()}", why], st(wrap=True))
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
        # wrapped where long: reach detail, host key (a SHA256 fingerprint in two lines), notes
        [host_width(h.name for h in results.hosts), 14, 9, 12, 14, 20, 17]
        + [10, 10, 10, 12, 18, fit_width((when(h.collected_at) for h in results.hosts), 12, 28)],
        COVERAGE_HEADER,
    )
    # Every cell may wrap (a long name, reach detail, groups, notes); rows grow to fit.
    wrap = st(wrap=True)
    blind, blind_bold = (
        st(fill=NO_VISIBILITY_FILL, wrap=True),
        st(fill=NO_VISIBILITY_FILL, bold=True),
    )
    for h in results.hosts:
        seen = reached(h)
        t.row(
            [
                h.name,
                h.address,
                h.platform.value,
                h.connection,
                (h.reach.value, wrap if seen else blind_bold),
                h.reach_detail,
                h.host_key or "",
                h.user or "",
                h.role or "",
                h.ot_zone or "",
                ", ".join(h.groups),
                "; ".join(h.notes),
                when(h.collected_at),
            ],
            wrap if seen else blind,
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


_HASH = "0" * 64  # a SHA-256 in hex, for the row height


def _invalid(c: CommandRecord) -> str:
    return "; ".join(f"{k}: {v}" for k, v in sorted(c.invalid.items()))


def evidence_sheet(st: Styles, raw: RawRecord | None, max_rows: int) -> None:
    hosts = [h.name for h in raw.hosts] if raw else []
    ids = {i for h in raw.hosts for c in h.commands for i in c.checks} if raw else set()
    # Checks (a check id a line at least), command and as-run text wrap; a SHA-256 (64 hex
    # digits) takes two lines of its column. Two pages wide at a legible size, the host on each:
    # the first ends at the stdout hash, the text columns take the room each page leaves.
    widths = [fit_width(hosts, 14, 32), fit_width(ids, 20, 50), 36, 36, 6, 35, 9, 35]
    widths += [9, 9, 9, 6, 26, 9, 36]
    t = Table(
        st.book,
        "Evidence index",
        widths,
        EVIDENCE_HEADER,
        max_rows=max_rows,
    )
    widths = t.widths  # a header word may have widened a column
    if raw is None:
        t.row(
            [
                "(raw record not available)",
                "This workbook was written without the raw record; "
                "hash raw.json's outputs with e8scan rescore to fill this sheet.",
            ],
            st(wrap=True),
        )
        t.finish()
        return
    cell, wrap = st.book.cell, st(wrap=True)
    ran: dict[tuple[str, str, tuple[str, ...]], tuple[str, float]] = {}  # → (cells, height)
    hashes = row_height((_HASH,), widths[5:6], (0,)) or 0.0  # each part's height, as Findings
    for h in raw.hosts:
        host = cell(h.name, wrap)
        host_tall = row_height((h.name,), widths, (0,)) or 0.0
        for c in h.commands:
            key = (c.command, c.as_run, tuple(c.checks))
            what, tall = ran.get(key) or ("", 0.0)
            if not what:
                checks = ", ".join(c.checks)
                what = cell(checks, wrap) + cell(c.command, wrap) + cell(c.as_run, wrap)
                tall = row_height((checks, c.command, c.as_run), widths[1:4], (0, 1, 2)) or 0.0
                ran[key] = what, tall
            invalid = _invalid(c)
            if invalid:
                tall = max(tall, row_height((invalid,), widths[14:], (0,)) or 0.0)
            height = max(host_tall, tall, hashes) or None
            t.row_xml(
                host
                + what
                + cell(c.exit_code)
                + cell(hashlib.sha256(c.stdout).hexdigest(), wrap)
                + cell(len(c.stdout))
                + cell(hashlib.sha256(c.stderr).hexdigest(), wrap)
                + cell(len(c.stderr))
                + cell(yes_no(c.truncated))
                + cell(yes_no(c.timed_out))
                + cell(yes_no(c.ran))
                + cell(_epoch(c.started))
                + cell(yes_no(c.stderr_truncated))
                + cell(invalid, wrap),
                height,
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
    labels = [f"Check {c.id}" for c in results.run.checks] + ["OSCAL catalog ML1"]
    r = Table(st.book, "Run", [fit_width(labels, 20, 60), 100], ["Field", "Value"])
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
    rows += _policy_rows(run.policy)
    rows += [
        (f"Register file {i + 1}", f"{src.path}  sha256:{src.sha256}")
        for i, src in enumerate(run.register_files)
    ]
    rows += [
        (f"Feed {f.name}", f"as of {f.as_of.isoformat()}  {f.source}  sha256:{f.sha256}")
        for f in run.feeds
    ]
    rows += [(f"Check {c.id}", f"version {c.version}") for c in run.checks]
    bold, wrap = st(bold=True, wrap=True), st(wrap=True)
    for k, v in rows:
        r.row([(k, bold), (str(v), wrap)])  # a number too, left-aligned as the rest
    r.finish()


POLICY_LINES = 25  # a row of 25 lines (375 pt) fits under Excel's 409-pt limit and on a page


def _policy_rows(policy: dict[str, Any]) -> list[tuple[str, Any]]:
    """The policy as indented JSON, in rows of at most :data:`POLICY_LINES` lines."""
    lines = json.dumps(policy, sort_keys=True, indent=2, default=str).split("\n")
    return [
        ("Policy" if i == 0 else "Policy (continued)", "\n".join(lines[i : i + POLICY_LINES]))
        for i in range(0, len(lines), POLICY_LINES)
    ]
