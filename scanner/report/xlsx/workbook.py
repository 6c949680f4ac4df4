"""The assessor's workbook, shaped like ASD's Essential Eight assessment report.

Generic over the framework the results were scored against (``results.framework``: its levels,
groups and controls); the built-in Essential Eight gives the sheets below.

Sheets, in order: Summary (scope, coverage, fleet maturity, a chart, run metadata), Heatmap
(host × strategy levels, with host-group columns to filter a site or OT zone), one sheet per
strategy (host × control outcomes; :mod:`scanner.report.xlsx.overview`), Controls (each
requirement once, with host counts per outcome and, for controls no host can show, the reason
once: :mod:`scanner.report.xlsx.grouping`), Findings (host × control, with evidence),
Exceptions and Attestations (what the register did), Coverage (reach of every in-scope host),
Not scanned (only when the run had a directory target: active computer objects not in the
inventory, inventory hosts not in the directory; :mod:`scanner.report.xlsx.directory`),
Evidence index (SHA-256 of every stored command output), Next level and Run
(:mod:`scanner.report.xlsx.tables`); fills and table plumbing in :mod:`scanner.report.xlsx.style`.
Every sheet that uses colours ends with a printed colour key, and each per-strategy sheet with
its controls (ISM id, levels, requirement), after the rows (outside the filter).

Written row by row by :mod:`scanner.report.xlsx.sheetml`, so memory stays flat for large fleets.
Host-derived text is always a string cell (a value starting with ``=`` never becomes a formula)
and characters XML cannot carry are escaped as ``\\xNN`` instead of crashing the writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from scanner.assess.results import Results
from scanner.record.raw import RawRecord
from scanner.report.files import write_atomic
from scanner.report.xlsx.directory import not_scanned_sheet
from scanner.report.xlsx.overview import heatmap_sheet, strategy_sheet, summary_sheet
from scanner.report.xlsx.sheetml import (
    MAX_ROWS,
    Workbook,
)
from scanner.report.xlsx.style import Styles
from scanner.report.xlsx.tables import (
    controls_sheet,
    coverage_sheet,
    evidence_sheet,
    findings_sheet,
    next_level_sheet,
    register_sheet,
    run_sheet,
)


def write_workbook(
    results: Results, fh: IO[bytes], raw: RawRecord | None = None, max_rows: int = MAX_ROWS
) -> None:
    """The whole workbook, sheet by sheet, streamed into ``fh`` (see the module docstring).

    ``max_rows`` is where the Findings and Evidence index tables continue on a new sheet
    (Excel's last row unless a test says otherwise)."""
    with Workbook(fh) as book:
        st = Styles(book)
        summary_sheet(st, results)
        heatmap_sheet(st, results)
        for strategy in results.framework.groups:
            strategy_sheet(st, results, strategy)
        controls_sheet(st, results)
        findings_sheet(st, results, max_rows)
        register_sheet(st, results, "exception", "Exceptions")
        register_sheet(st, results, "attestation", "Attestations")
        coverage_sheet(st, results)
        not_scanned_sheet(st, results)
        evidence_sheet(st, raw, max_rows)
        next_level_sheet(st, results)
        run_sheet(st, results)


def write_xlsx(results: Results, path: Path, raw: RawRecord | None = None) -> None:
    """Write the workbook atomically to ``path``."""
    write_atomic(path, lambda fh: write_workbook(results, fh, raw))
