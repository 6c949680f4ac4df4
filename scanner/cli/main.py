"""The e8scan command line (click). Thin: it parses options, calls the stages, prints and exits."""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from scanner import __version__
from scanner.assess.pipeline import assess
from scanner.assess.register import load_register
from scanner.assess.results import Results
from scanner.assess.target import EXIT_REGRESSION, exit_code
from scanner.checking.loader import load_checks
from scanner.cli.files import COMMANDS
from scanner.cli.support import (
    DEFAULT_HISTORY,
    F,
    copy_file,
    extra_reports,
    framework_option,
    friendly,
    load_framework_option,
    print_summary,
    read_model_file,
    report_options,
    writable_dir,
    write_outputs,
)
from scanner.collect.plan import make_plan, select_checks
from scanner.collect.runner import RunOptions
from scanner.collect.transports.ssh import SSHOptions
from scanner.inventory.connection import HostKeyPolicy
from scanner.inventory.load import Inventory, load_inventory
from scanner.model.errors import InputError
from scanner.model.policy import load_policy
from scanner.record.raw import HostRecord, RawRecord
from scanner.report.files import write_atomic, write_text_atomic


def _show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    click.echo(f"e8scan: warning: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="e8scan")
def main() -> None:
    """Agentless Essential Eight scanner: Ansible inventories in, ASD maturity levels out.

    \b
    Exit codes: 0 clean; 1 error (bad input, nothing trustworthy produced); 2 usage error;
    3 some assessed host below --target-level; 4 some in-scope host with no visibility;
    5 regression against the baseline. Where several apply, the highest wins.
    """
    warnings.showwarning = _show_warning


inventory_option = click.option(
    "-i",
    "--inventory",
    "inventories",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="Ansible inventory (INI or YAML); repeat to merge several.",
)
limit_option = click.option(
    "-l",
    "--limit",
    default=None,
    help="Ansible host pattern: names, groups, globs, ~regex, a:b, a:&b, a:!b.",
)


def register_options(fn: F) -> F:
    """--exceptions and --attestations, shared by scan and rescore."""
    fn = click.option(
        "--attestations",
        "attestations_file",
        type=str,
        default=None,
        help="YAML attestations for organisational controls (README 'Exceptions and attestations').",
    )(fn)
    fn = click.option(
        "--exceptions",
        "exceptions_file",
        type=str,
        default=None,
        help="YAML exception register: approved exceptions with compensating controls and expiry.",
    )(fn)
    return fn


checks_option = click.option(
    "--checks",
    "check_ids",
    multiple=True,
    help="Only these check ids or id prefixes (e.g. patch_os); repeat or comma-separate.",
)


def _inventory(paths: Sequence[Path]) -> Inventory:
    return load_inventory(list(paths))


def _checks(check_ids: Sequence[str]):  # type: ignore[no-untyped-def]
    wanted = [c.strip() for ids in check_ids for c in ids.split(",") if c.strip()]
    return select_checks(load_checks(), wanted)


@main.command("inventory")
@inventory_option
@click.option(
    "--list", "as_list", is_flag=True, help="Print the same JSON as ansible-inventory --list."
)
@limit_option
@friendly
def inventory_cmd(inventories: tuple[Path, ...], as_list: bool, limit: str | None) -> None:
    """Show the inventory as e8scan resolves it."""
    inv = _inventory(inventories)
    if as_list:
        click.echo(json.dumps(inv.to_ansible_list(), indent=4, sort_keys=True, default=str))
        return
    for h in inv.select(limit):
        click.echo(f"{h.name}\t{','.join(h.groups)}")


@main.command("plan")
@inventory_option
@limit_option
@checks_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@friendly
def plan_cmd(
    inventories: tuple[Path, ...], limit: str | None, check_ids: tuple[str, ...], fmt: str
) -> None:
    """Print, per host, the transport, user and every exact command a scan would run. Connects to nothing."""
    plans = make_plan(_inventory(inventories).select(limit), _checks(check_ids), secrets=False)
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "host": p.host.name,
                        "address": p.spec.address,
                        "port": p.spec.port,
                        "transport": p.spec.connection,
                        "user": p.login,
                        "become": p.spec.become,
                        "platform": p.platform.value,
                        "checks": [c.id for c in p.checks],
                        "commands": [
                            {"command": c.step.line, "as_run": c.step.as_run, "checks": c.checks}
                            for c in p.commands
                        ],
                    }
                    for p in plans
                ],
                indent=2,
            )
        )
        return
    for p in plans:
        click.echo(
            f"# {p.host.name}: {p.spec.connection} to {p.spec.address}:{p.spec.port} as {p.login}"
            f" (platform {p.platform.value}, become {'yes' if p.spec.become else 'no'},"
            f" {len(p.checks)} checks, {len(p.commands)} commands)"
        )
        if not p.commands:
            click.echo(f"  (no check applies to {p.platform.value} hosts in this version)")
        for c in p.commands:
            click.echo(f"  {c.step.as_run}    # {', '.join(c.checks)}")
        click.echo("")


@main.group("checks")
def checks_group() -> None:
    """The check catalogue."""


@checks_group.command("list")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "md", "json"]),
    default="table",
    show_default=True,
)
@framework_option
@friendly
def checks_list(fmt: str, framework_file: Path | None) -> None:
    """List every check with its strategy, ISM controls, levels (in --framework) and platforms."""
    from scanner.report.catalogue import catalogue_json, catalogue_md, catalogue_table

    checks = load_checks()
    framework = load_framework_option(framework_file)
    click.echo(
        {"md": catalogue_md, "json": catalogue_json, "table": catalogue_table}[fmt](
            checks, framework
        ),
        nl=False,
    )


@main.command("scan")
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
    default=None,
    help="Output folder (default reports/scan-<UTC time>).",
)
@click.option(
    "--policy",
    "policy_file",
    type=str,
    default=None,
    help="Policy YAML overriding default thresholds.",
)
@click.option(
    "--known-hosts",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra known_hosts file (~/.ssh/known_hosts is always read).",
)
@click.option(
    "--host-key-policy",
    type=click.Choice([p.value for p in HostKeyPolicy]),
    default="strict",
    show_default=True,
    help="accept-new records unknown keys; a changed key is always refused.",
)
@click.option("--connect-timeout", default=10.0, show_default=True, type=click.FloatRange(0.5, 300))
@click.option(
    "--command-timeout",
    default=60,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds per command, enforced on the host.",
)
@click.option(
    "--host-timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(1, 86400),
    help="Seconds per host, connect included.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
@register_options
@click.option(
    "--evidence",
    type=click.Path(path_type=Path),
    default=None,
    help="Write a sealed evidence bundle to this folder (or .zip); check it with `e8scan verify`.",
)
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    default=DEFAULT_HISTORY,
    show_default=True,
    help="SQLite run history this run is added to.",
)
@click.option("--no-history", is_flag=True, help="Do not record this run in the history.")
@click.option(
    "--baseline",
    default=None,
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

    The options are the ones declared above; they go on to ``_scan``, which names and types them.
    The run history is locked for the whole scan, so two cron runs never overlap on one history.
    """
    if no_history:
        options["history_file"] = None
    with contextlib.ExitStack() as stack:
        if options["history_file"] is not None:
            from scanner.runs.history import run_lock

            stack.enter_context(run_lock(options["history_file"]))
        code = _scan(**options)
    sys.exit(code)


def _scan(
    *,
    inventories: tuple[Path, ...],
    limit: str | None,
    check_ids: tuple[str, ...],
    forks: int,
    target_level: int,
    out: Path | None,
    policy_file: str | None,
    known_hosts: tuple[Path, ...],
    host_key_policy: str,
    connect_timeout: float,
    command_timeout: int,
    host_timeout: float,
    quiet: bool,
    exceptions_file: str | None,
    attestations_file: str | None,
    evidence: Path | None,
    history_file: Path | None,
    baseline: str | None,
    prom_file: Path | None,
    html_file: Path | None,
    junit_file: Path | None,
    framework_file: Path | None = None,
    resume: bool = False,
) -> int:
    from scanner.collect.journal import JOURNAL_NAME, journaled_scan

    started = time.monotonic()
    if resume and out is None:
        raise InputError("--resume", "needs the --out folder of the scan to continue")
    framework = load_framework_option(framework_file, target_level)
    policy = load_policy(policy_file)
    register = load_register(exceptions_file, attestations_file)
    inv = _inventory(inventories)
    checks = _checks(check_ids)
    hosts = inv.select(limit)
    plans = make_plan(hosts, checks)  # every inventory problem surfaces here, before any connection
    for kh in known_hosts:
        if not kh.is_file():
            raise InputError(f"--known-hosts {kh}", "file not found")
    out_dir = writable_dir(out)
    if evidence is not None:  # find an unwritable evidence destination before scanning, not after
        writable_dir(
            evidence.parent if evidence.suffix == ".zip" else evidence,
            "--evidence",
            "evidence folder",
        )
    opts = RunOptions(
        forks=forks,
        command_timeout=command_timeout,
        host_budget=host_timeout,
        ssh=SSHOptions(
            known_hosts=tuple(known_hosts),
            host_key_policy=HostKeyPolicy(host_key_policy),
            connect_timeout=connect_timeout,
        ),
        group_caps=inv.group_caps(),
    )
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
            list(inventories),
            limit,
            target_level,
            out_dir / JOURNAL_NAME,
            resume,
            done,
            command_line=shlex.join(["e8scan", *sys.argv[1:]]),
        )
    opts.jump_pool.close()  # the sweep's shared bastion connections
    raw = raw.model_copy(update={"model_version": framework.model_version})
    results = assess(raw, checks, policy, target_level, register, framework)
    write_outputs(out_dir, raw, results)
    sources = [
        *inventories,
        *(Path(f) for f in (policy_file, exceptions_file, attestations_file) if f),
        *([framework_file] if framework_file else []),
    ]
    for inv_path in inventories:  # group_vars/ and host_vars/ beside an inventory are part of it
        base = inv_path if inv_path.is_dir() else inv_path.parent
        sources += [
            d for d in (base / "group_vars", base / "host_vars") if d.is_dir() and d not in sources
        ]
    return _after_scan(
        raw,
        results,
        out_dir,
        sources,
        evidence,
        history_file,
        baseline,
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
    sources: list[Path],
    evidence: Path | None,
    history_file: Path | None,
    baseline: str | None,
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

        write_bundle(evidence, raw, results, sources)
    extra_reports(results, html_file, junit_file)
    old = None
    if baseline is not None:
        from scanner.runs.drift import load_results_ref
        from scanner.runs.history import History

        first_run = False
        if baseline in ("last", "previous") and history_file is not None:
            with History.open(history_file) as hist:
                first_run = not hist.runs()
        if first_run:
            warnings.warn(
                f"no earlier run in {history_file} to compare with; this run becomes the baseline",
                stacklevel=1,
            )
        else:
            old = load_results_ref(baseline, history_file)
    if history_file is not None:
        from scanner.runs.history import History

        with History.open(history_file) as hist:
            hist.add(results)
    if prom_file is not None:
        from scanner.report.prom import write_prom

        write_prom(results, prom_file, duration)
    if not quiet:
        print_summary(results, out_dir)
    if old is not None:
        from scanner.runs.drift import compare, render_table

        drift = compare(old, results)
        write_text_atomic(out_dir / "drift.json", drift.model_dump_json(indent=1))
        if not quiet or drift.regressed:
            click.echo(render_table(drift))
        if drift.regressed:
            code = max(code, EXIT_REGRESSION)
    return code


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


@main.command("rescore")
@click.argument("raw_file", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder for results.json and the workbook.",
)
@click.option("--policy", "policy_file", type=str, default=None)
@register_options
@click.option("--target-level", default=None, type=click.IntRange(min=1))
@framework_option
@click.option("-q", "--quiet", is_flag=True)
@friendly
def rescore_cmd(
    raw_file: Path,
    out: Path,
    policy_file: str | None,
    target_level: int | None,
    framework_file: Path | None,
    quiet: bool,
    exceptions_file: str | None,
    attestations_file: str | None,
) -> None:
    """Judge and score a raw.json again with the current checks and policy (and --framework).
    No network."""
    raw: RawRecord = read_model_file(raw_file, RawRecord, "raw record")
    framework = load_framework_option(framework_file, target_level)
    if target_level is None and raw.run.target_level > framework.top:
        raise InputError(
            "--target-level",
            f"the raw record's target ML{raw.run.target_level} is above {framework.id}'s top "
            f"level ML{framework.top}; give --target-level",
        )
    policy = load_policy(policy_file)
    register = load_register(exceptions_file, attestations_file)
    try:
        results = assess(raw, load_checks(), policy, target_level, register, framework)
    except InputError as exc:  # a bad e8_ variable stored in an older raw record
        raise InputError(f"{raw_file}: {exc.where}", exc.message) from None
    out_dir = writable_dir(out)
    write_atomic(out_dir / "raw.json", lambda fh: copy_file(raw_file, fh))
    write_outputs(out_dir, raw, results, write_raw=False)
    if not quiet:
        print_summary(results, out_dir)
    sys.exit(exit_code(results))


for _command in COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
