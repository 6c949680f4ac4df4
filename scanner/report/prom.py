"""Prometheus output for node_exporter's textfile collector (``scan --prom FILE``).

Written atomically (a temporary file beside the target, then renamed) so the collector never
reads half a file. Metrics (all gauges):

- ``e8scan_level{host,strategy}`` — the level the host's own evidence supports, 0 up to the
  framework's top level (3 for the Essential Eight). A strategy that was not assessed (null in
  results.json) has **no sample**: absence means "not assessed", so ``min()`` and ``<``
  comparisons never see a made-up number.
- ``e8scan_host_level{host}`` — the host's overall level (lowest over its strategies); no sample
  when nothing was assessed (e.g. an unreachable host).
- ``e8scan_host_up{host}`` — 1 when the scan reached the host, else 0.
- ``e8scan_controls{host,outcome}`` — controls per ASD outcome on each host (every outcome, 0s
  included, so series do not come and go).
- ``e8scan_hosts{reach}`` — hosts per reach value (every value, 0s included).
- ``e8scan_fleet_level{strategy}`` — fleet level per strategy; no sample when not assessed.
- ``e8scan_target_level``, ``e8scan_run_duration_seconds``, ``e8scan_run_timestamp_seconds``
  (when the run finished, Unix time).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from scanner.assess.results import Results
from scanner.model.vocabulary import Outcome, Reach
from scanner.report.files import write_atomic

Sample = tuple[dict[str, str], float]


def escape_label(value: str) -> str:
    """A label value as the exposition format wants it: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _metric(name: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        lab = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{lab}}} {_number(value)}" if lab else f"{name} {_number(value)}")
    return lines


def render_prom(results: Results, duration_s: float) -> str:
    """The textfile-collector text for one run."""
    hosts = results.hosts
    reach = Counter(h.reach for h in hosts)
    out: list[str] = []
    out += _metric(
        "e8scan_level",
        "Maturity level (0 up to the framework's top) the host's own evidence supports per "
        "strategy; absent = not assessed.",
        (
            ({"host": h.name, "strategy": s.value}, float(lv))
            for h in hosts
            for s in results.framework.groups
            if (lv := h.levels.get(s)) is not None
        ),
    )
    out += _metric(
        "e8scan_host_level",
        "Overall maturity level of the host (lowest over strategies); absent = not assessed.",
        (({"host": h.name}, float(h.level)) for h in hosts if h.level is not None),
    )
    out += _metric(
        "e8scan_host_up",
        "1 when the scan reached the host, 0 otherwise.",
        (({"host": h.name}, 1.0 if h.reach is Reach.OK else 0.0) for h in hosts),
    )
    out += _metric(
        "e8scan_controls",
        "Controls per ASD assessment outcome on each host.",
        (
            ({"host": h.name, "outcome": o.value}, float(h.counts.get(o, 0)))
            for h in hosts
            for o in Outcome
        ),
    )
    out += _metric(
        "e8scan_hosts",
        "Hosts per reach value (ok, unreachable, auth_failed, ...).",
        (({"reach": r.value}, float(reach.get(r, 0))) for r in Reach),
    )
    out += _metric(
        "e8scan_fleet_level",
        "Fleet maturity level per strategy (lowest over assessed hosts); absent = not assessed.",
        (
            ({"strategy": f.strategy.value}, float(f.level))
            for f in results.fleet
            if f.level is not None
        ),
    )
    out += _metric(
        "e8scan_target_level",
        "The target maturity level of the run.",
        [({}, float(results.run.target_level))],
    )
    out += _metric(
        "e8scan_run_duration_seconds",
        "Wall-clock seconds the scan took.",
        [({}, round(duration_s, 3))],
    )
    out += _metric(
        "e8scan_run_timestamp_seconds",
        "Unix time the run finished.",
        [({}, round(results.run.finished.timestamp(), 3))],
    )
    return "\n".join(out) + "\n"


def write_prom(results: Results, path: Path, duration_s: float) -> None:
    """Write the metrics atomically to ``path`` (e.g. /var/lib/node_exporter/textfile/e8scan.prom)."""
    data = render_prom(results, duration_s).encode("utf-8")

    def fill(fh: IO[bytes]) -> None:
        os.fchmod(fh.fileno(), 0o644)  # node_exporter usually runs as another user
        fh.write(data)

    write_atomic(path, fill)
