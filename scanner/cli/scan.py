"""``e8scan scan``: inventory → plan → collect → raw record → assess → outputs, history and drift."""

from __future__ import annotations

import contextlib
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from scanner.assess.pipeline import assess
from scanner.assess.register import load_register
from scanner.assess.results import Results
from scanner.assess.target import EXIT_ERROR, EXIT_REGRESSION, exit_code
from scanner.cli.feeds import snapshot_in_use, stale_warning
from scanner.cli.options import (
    checks_option,
    inventory_of,
    inventory_option,
    limit_option,
    policy_option,
    register_options,
    selected_checks,
    timing_options,
)
from scanner.cli.preflight import (
    check_known_hosts,
    check_outputs,
    load_baseline,
    load_signing_key,
    require_hosts,
)
from scanner.cli.support import (
    INPUT_FILE,
    examples,
    extra_reports,
    framework_option,
    friendly,
    history_option,
    load_framework_option,
    print_summary,
    report_options,
    say,
    terminal_may_close,
    writable_dir,
    write_outputs,
)
from scanner.collect.budget import COMMAND_GRACE
from scanner.collect.plan import make_plan
from scanner.collect.runner import RunOptions, Stop
from scanner.collect.transports.ssh import SSHOptions
from scanner.inventory.connection import HostKeyPolicy
from scanner.inventory.load import Inventory
from scanner.model.errors import InputError
from scanner.model.policy import load_policy
from scanner.record.raw import HostRecord, RawRecord, inventory_sources
from scanner.report.files import write_text_atomic
from scanner.runs.signing import Ed25519PrivateKey


@click.command(
    "scan",
    short_help="Scan hosts; write results, workbook and summary.",
    epilog=examples(
        "e8scan scan -i inventories/site.ini --out reports/today",
        "e8scan scan -i inventories/site.ini -l linux_servers --target-level 2",
        "e8scan scan -i inventories/site.ini -q --baseline last \\",
        "    --policy examples/policy.yml --exceptions examples/exceptions.yml \\",
        "    --evidence reports/today/evidence --sign-key keys/e8scan-signing.key",
    ),
)
@inventory_option
@limit_option
@checks_option
@click.option(
    "-f",
    "--forks",
    default=20,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Hosts scanned at once (groups can cap themselves with e8_max_concurrency).",
)
@click.option(
    "--target-level",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Exit 3 when an assessed host is below this maturity level (at most the framework's top).",
)
@framework_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="DIR",
    default=None,
    help="Output folder (default: a new reports/scan-<UTC time>, -2, -3… if taken).",
)
@policy_option
@click.option(
    "--known-hosts",
    multiple=True,
    type=INPUT_FILE,
    help="Extra known_hosts file (~/.ssh/known_hosts is always read).",
)
@click.option(
    "--host-key-policy",
    type=click.Choice([p.value for p in HostKeyPolicy]),
    default="strict",
    show_default=True,
    help="accept-new records unknown keys; a changed key is always refused.",
)
@timing_options
@click.option(
    "--stop-grace",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="After Ctrl-C or SIGTERM: seconds hosts in flight get to finish before the partial "
    "results are written (a second Ctrl-C exits at once).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
@register_options
@click.option(
    "--evidence",
    type=click.Path(path_type=Path),
    metavar="DEST",
    default=None,
    help="Write a sealed evidence bundle to this folder (or .zip); check it with `e8scan verify`.",
)
@click.option(
    "--sign-key",
    type=INPUT_FILE,
    default=None,
    help="Sign the evidence manifest with this Ed25519 private key (PEM, from `e8scan keys "
    "generate` or openssl); writes manifest.json.sig.",
)
@history_option
@click.option("--no-history", is_flag=True, help="Do not record this run in the history.")
@click.option(
    "--baseline",
    default=None,
    metavar="last|RUN|FILE",
    help="Compare with 'last', a history run id or a results.json; exit 5 on regression.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the scan that OUT/journal.jsonl recorded (needs the same --out and inputs); "
    "hosts already journaled are not contacted again.",
)
@click.option(
    "--prom",
    "prom_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Prometheus textfile-collector output (written atomically).",
)
@report_options
@friendly
def scan_cmd(no_history: bool, **options: Any) -> None:
    """Scan hosts, write raw.json, results.json and e8-report.xlsx, print a summary.

    The run history is locked for the whole scan, so two cron runs never overlap on one history.
    Ctrl-C or SIGTERM stops the scan, writing partial results marked incomplete: exit 130 or 143.
    \f
    The options are the ones declared above; they go on to ``_scan``, which names and types them.
    Signals are handled by :mod:`scanner.cli.interrupt`.
    """
    from scanner.cli.interrupt import Interrupts
    from scanner.runs.history import release_held_locks, run_lock

    if no_history:
        options["history_file"] = None
    stop = Stop()
    with (
        Interrupts(stop, options["stop_grace"], release_held_locks) as interrupts,
        contextlib.ExitStack() as stack,
    ):
        if options["history_file"] is not None:
            stack.enter_context(run_lock(options["history_file"]))
        code = _scan(stop=stop, **options)
    sys.exit(interrupts.exit_code or code)


def _scan(
    *,
    inventories: tuple[Path, ...],
    limit: str | None,
    check_ids: tuple[str, ...],
    forks: int,
    target_level: int,
    out: Path | None,
    policy_file: Path | None,
    known_hosts: tuple[Path, ...],
    host_key_policy: str,
    connect_timeout: float,
    command_timeout: int,
    host_timeout: float | None,
    quiet: bool,
    exceptions_file: Path | None,
    attestations_file: Path | None,
    evidence: Path | None,
    history_file: Path | None,
    baseline: str | None,
    prom_file: Path | None,
    html_file: Path | None,
    junit_file: Path | None,
    framework_file: Path | None = None,
    resume: bool = False,
    sign_key: Path | None = None,
    stop_grace: float = 5.0,
    stop: Stop | None = None,
    command_grace: float = COMMAND_GRACE,
) -> int:
    from scanner.collect.journal import JOURNAL_NAME, journaled_scan

    started = time.monotonic()
    if resume and out is None:
        raise InputError("--resume", "needs the --out folder of the scan to continue")
    framework = load_framework_option(framework_file, target_level)
    policy = load_policy(policy_file)
    register = load_register(exceptions_file, attestations_file)
    feeds = snapshot_in_use(policy.feed_max_age_days)
    inv = inventory_of(inventories)
    checks = selected_checks(check_ids)
    hosts = inv.select(limit)
    require_hosts(hosts, inventories)
    plans = make_plan(hosts, checks)  # every inventory problem surfaces here, before any connection
    # Missing credentials stop that host only (recorded as an error, never contacted) while the
    # others are scanned; when no host is left, the scan is refused as bad input.
    problems = [p.problem for p in plans if p.problem is not None]
    if problems and len(problems) == len(plans):
        for problem in problems[1:]:
            click.echo(f"e8scan: error: {problem}", err=True)
        raise problems[0]
    for problem in problems:
        click.echo(f"e8scan: error: {problem} (this host is not contacted)", err=True)
    check_known_hosts(known_hosts)
    # Everything the run will read or write after the sweep is tried now, before any connection.
    old = load_baseline(baseline, history_file)
    signer = load_signing_key(sign_key, evidence)
    check_outputs(
        evidence,
        history_file,
        [("--html", html_file), ("--junit", junit_file), ("--prom", prom_file)],
    )
    out_dir = writable_dir(out)
    # once per scan, not per host; after every input is checked, so a usage error comes alone
    if (stale := stale_warning(feeds, datetime.now(UTC))) is not None:
        click.echo(f"e8scan: warning: {stale}", err=True)
    opts = RunOptions(
        forks=forks,
        command_timeout=command_timeout,
        command_grace=command_grace,
        host_budget=host_timeout,
        ssh=SSHOptions(
            known_hosts=tuple(known_hosts),
            host_key_policy=HostKeyPolicy(host_key_policy),
            connect_timeout=connect_timeout,
        ),
        group_caps=inv.group_caps(),
        stop=stop or Stop(),
        stop_grace=stop_grace,
    )
    if opts.stop.is_set():
        click.echo("e8scan: interrupted before any host was contacted; nothing written", err=True)
        return EXIT_ERROR
    show_progress = not quiet and sys.stderr.isatty()
    with (
        click.progressbar(length=len(plans), label="scanning", file=sys.stderr, show_pos=True)
        if show_progress
        else _NoBar() as bar
    ):

        def done(_: HostRecord) -> None:
            bar.update(1)

        raw = journaled_scan(
            plans,
            checks,
            opts,
            inventory_sources(inv.files_read, inv.host_lists),  # --resume refuses any change
            limit,
            target_level,
            out_dir / JOURNAL_NAME,
            resume,
            done,
            command_line=shlex.join(["e8scan", *sys.argv[1:]]),
        )
    opts.jump_pool.close()  # the sweep's shared bastion connections
    raw = raw.model_copy(update={"model_version": framework.model_version})
    results = assess(raw, checks, policy, target_level, register, framework, feeds=feeds)
    write_outputs(out_dir, raw, results)
    if raw.run.incomplete:  # stopped: partial outputs only, no history, evidence or drift
        click.echo(
            f"e8scan: {raw.run.incomplete_reason}: {len(raw.hosts)} host(s) collected, "
            f"{len(raw.run.not_collected)} not; partial results (marked incomplete) in {out_dir}; "
            "run the same command with --resume to finish",
            err=True,
        )
        return EXIT_ERROR
    sources = [  # the inventory's files are copied from what its loader read (inv.reads)
        *(f for f in (policy_file, exceptions_file, attestations_file) if f),
        *([framework_file] if framework_file else []),
    ]
    return _after_scan(
        raw,
        results,
        out_dir,
        (inv, sources),
        evidence,
        signer,
        history_file,
        old,
        prom_file,
        html_file,
        junit_file,
        time.monotonic() - started,
        quiet,
    )


def _after_scan(
    raw: RawRecord,
    results: Results,
    out_dir: Path,
    sources: tuple[Inventory, list[Path]],
    evidence: Path | None,
    signer: Ed25519PrivateKey | None,
    history_file: Path | None,
    old: Results | None,
    prom_file: Path | None,
    html_file: Path | None,
    junit_file: Path | None,
    duration: float,
    quiet: bool,
) -> int:
    """Everything a finished scan feeds: evidence, reports, history, drift, metrics. Returns the exit code."""
    code = exit_code(results)
    if evidence is not None:
        from scanner.runs.evidence import write_bundle

        inventory, files = sources
        write_bundle(evidence, raw, results, files, signer, inventory)
    extra_reports(results, html_file, junit_file)
    if history_file is not None:
        from scanner.runs.history import History

        with History.open(history_file) as hist:
            hist.add(results)
    if prom_file is not None:
        from scanner.report.prom import write_prom

        write_prom(results, prom_file, duration)
    drift = None
    if old is not None:
        from scanner.runs.drift import compare

        drift = compare(old, results)
        write_text_atomic(out_dir / "drift.json", drift.model_dump_json(indent=1))
        if drift.regressed:
            code = max(code, EXIT_REGRESSION)
    # Every file is written and the exit code decided: only the terminal is left. A reader that
    # went away (`e8scan scan … | head`) costs the summary lines, never the scan's exit code.
    with terminal_may_close():
        if not quiet:
            print_summary(results, out_dir)
        if drift is not None and (not quiet or drift.regressed):
            from scanner.runs.drift import render_table

            say(render_table(drift))
        if evidence is not None:  # even with -q: the line for the change record
            from scanner.runs.evidence import manifest_sha256

            signed = "signed" if signer is not None else "unsigned"
            say(f"evidence {evidence}: manifest.json sha256 {manifest_sha256(evidence)} ({signed})")
    return code


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None
