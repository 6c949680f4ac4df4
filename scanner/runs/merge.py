"""Federated sweeps: combine the results of per-site collectors into one fleet result.

Segmented OT zones are often reachable only from a collector inside the zone; each collector runs
its own scan, and ``e8scan merge`` joins their results.json files. A host present in several
inputs is taken from the newest collection, with a warning. Inputs written by another tool
version or against another maturity-model version are refused unless ``allow_mixed`` — mixing them
would put two sets of rules in one number.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime

from scanner import __version__
from scanner.assess.coverage import merged_coverage
from scanner.assess.results import HostResult, Results, RunSummary
from scanner.assess.scoring import fleet_summary, lowest
from scanner.model.errors import InputError
from scanner.record.raw import new_run_id


def merge_results(inputs: Sequence[tuple[str, Results]], allow_mixed: bool = False) -> Results:
    """One Results from several (name, Results) pairs; InputError on incompatible inputs."""
    if len(inputs) < 2:
        raise InputError("merge", "give at least two results.json files or scan folders to merge")
    first_name, first = inputs[0]
    for name, r in inputs[1:]:
        if r.framework != first.framework:  # levels and groups differ: no flag makes them mix
            raise InputError(
                name,
                f"scored against {r.framework.model_version!r}, {first_name} against "
                f"{first.framework.model_version!r}; rescore both with one --framework",
            )
        for what, a, b in (
            ("tool version", first.tool_version, r.tool_version),
            ("model version", first.model_version, r.model_version),
            ("results schema", str(first.schema_version), str(r.schema_version)),
        ):
            if a != b and not allow_mixed:
                raise InputError(
                    name,
                    f"{what} {b!r} differs from {first_name}'s {a!r}; rescore both with one e8scan "
                    "(e8scan rescore raw.json) or pass --allow-mixed",
                )
        if r.run.target_level != first.run.target_level and not allow_mixed:
            raise InputError(
                name,
                f"target level ML{r.run.target_level} differs from {first_name}'s "
                f"ML{first.run.target_level}; pass --allow-mixed to merge anyway",
            )
    chosen: dict[str, tuple[str, HostResult]] = {}
    for name, r in inputs:
        for h in r.hosts:
            if h.name in chosen:
                other_name, other = chosen[h.name]
                newer = h if h.collected_at > other.collected_at else other
                warnings.warn(
                    f"host {h.name} is in {other_name} and {name}; keeping the newer collection "
                    f"({newer.collected_at.isoformat(timespec='seconds')})",
                    stacklevel=2,
                )
                if newer is other:
                    continue
            chosen[h.name] = (name, h)
    hosts = [h for _, h in chosen.values()]
    # An interrupted collector's missing hosts, unless another collector has them.
    missing = sorted({n for _, r in inputs for n in r.run.not_collected} - set(chosen))
    fleet = fleet_summary(hosts, first.framework)
    started = min(r.run.started for _, r in inputs)
    run = RunSummary(
        id="merge-" + new_run_id(datetime.now(UTC)),
        started=started,
        finished=max(r.run.finished for _, r in inputs),
        inventory=[src for _, r in inputs for src in r.run.inventory],
        limit=None,
        target_level=max(r.run.target_level for _, r in inputs),
        checks=first.run.checks,
        policy=first.run.policy,
        register_files=[src for _, r in inputs for src in r.run.register_files],
        raw_record="",
        merged_from=[f"{name}: run {r.run.id}" for name, r in inputs],
        incomplete=bool(missing),
        incomplete_reason="; ".join(
            f"{name}: {r.run.incomplete_reason}"
            for name, r in inputs
            if set(r.run.not_collected) & set(missing)
        ),
        not_collected=missing,
        # every snapshot the collectors were judged with, each once
        feeds=list({(f.name, f.sha256): f for _, r in inputs for f in r.run.feeds}.values()),
    )
    return Results(
        tool_version=__version__,
        model_version=first.model_version,
        run=run,
        hosts=hosts,
        fleet=fleet,
        fleet_level=lowest(f.level for f in fleet),
        register_use=[u for _, r in inputs for u in r.register_use],
        coverage=merged_coverage([c for _, r in inputs for c in r.coverage], hosts),
        framework=first.framework,
    )
