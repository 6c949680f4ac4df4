"""The e8scan command line (click). Thin: it parses options, calls the stages, prints and exits."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from scanner import __version__
from scanner.connection import HostKeyPolicy
from scanner.errors import InputError
from scanner.inventory import Inventory, load_inventory
from scanner.jsonstream import ItemError, read_model
from scanner.loader import CheckLoadError, load_checks
from scanner.model import Reach, Strategy
from scanner.plan import make_plan, select_checks
from scanner.policy import load_policy
from scanner.record import RAW_SCHEMA_VERSION, HostRecord, RawRecord
from scanner.register import load_register
from scanner.report.files import write_atomic, write_json_atomic, write_text_atomic
from scanner.report.xlsx import write_xlsx
from scanner.results import RESULTS_SCHEMA_VERSION, Results, schema
from scanner.runner import RunOptions
from scanner.sweep import EXIT_ERROR, EXIT_REGRESSION, assess, exit_code
from scanner.transports.ssh import SSHOptions

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_HISTORY = Path("reports") / "history.sqlite"


def friendly(fn: F) -> F:
    """Turn bad input into one line on stderr and exit 1 — never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (InputError, CheckLoadError) as exc:
            click.echo(f"e8scan: error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except Exception as exc:
            if os.environ.get("E8SCAN_DEBUG"):
                raise
            click.echo(
                f"e8scan: internal error: {type(exc).__name__}: {exc} "
                "(a bug: please report it; E8SCAN_DEBUG=1 shows the traceback)",
                err=True,
            )
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


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
@friendly
def checks_list(fmt: str) -> None:
    """List every check with its strategy, ISM controls, levels and platforms."""
    from scanner.report.catalogue import catalogue_json, catalogue_md, catalogue_table

    checks = load_checks()
    click.echo(
        {"md": catalogue_md, "json": catalogue_json, "table": catalogue_table}[fmt](checks),
        nl=False,
    )


def _out_dir(out: Path | None, option: str = "--out", what: str = "output folder") -> Path:
    path = out or Path("reports") / datetime.now(UTC).strftime("scan-%Y%m%dT%H%M%SZ")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".e8scan-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{option} {path}", f"{what} not writable ({exc.strerror})") from None
    return path


def _write(out: Path, raw: RawRecord | None, results: Results, write_raw: bool = True) -> None:
    """results.json and the workbook (its evidence index needs the raw record), and raw.json."""
    if raw is not None and write_raw:
        write_json_atomic(out / "raw.json", raw, "hosts")
    write_json_atomic(out / "results.json", results, "hosts")
    write_xlsx(results, out / "e8-report.xlsx", raw)


SHORT = ("appctl", "patchA", "macros", "harden", "admin", "patchOS", "mfa", "backup")


def _summary(results: Results, out: Path | None) -> None:
    """Host × strategy levels on the terminal; '-' is "not assessed"."""
    width = max([4] + [len(h.name) for h in results.hosts])
    head = " ".join(f"{s:>7}" for s in SHORT)
    click.echo(f"{'host':<{width}}  {'reach':<16} {head}  overall")
    for h in results.hosts:
        lv = " ".join(f"{'-' if h.levels[s] is None else h.levels[s]:>7}" for s in Strategy)
        overall = "-" if h.level is None else f"ML{h.level}"
        click.echo(f"{h.name:<{width}}  {h.reach.value:<16} {lv}  {overall}")
        if h.reach is not Reach.OK:
            click.echo(f"{'':<{width}}  {h.reach_detail}")
    fl = results.fleet_level
    click.echo(
        f"fleet level (lowest over assessed hosts): {'not assessed' if fl is None else f'ML{fl}'}; "
        f"target ML{results.run.target_level}; '-' = not assessed"
    )
    if out is not None:
        click.echo(f"wrote {out}/raw.json, {out}/results.json, {out}/e8-report.xlsx")


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
    type=click.IntRange(1, 3),
    help="Exit 3 when an assessed host is below this maturity level.",
)
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
@click.option(
    "--html",
    "html_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the self-contained HTML report here.",
)
@click.option(
    "--junit",
    "junit_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write JUnit XML (one test case per host × control).",
)
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
            from scanner.history import run_lock

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
    resume: bool = False,
) -> int:
    from scanner.journal import JOURNAL_NAME, journaled_scan

    started = time.monotonic()
    if resume and out is None:
        raise InputError("--resume", "needs the --out folder of the scan to continue")
    policy = load_policy(policy_file)
    register = load_register(exceptions_file, attestations_file)
    inv = _inventory(inventories)
    checks = _checks(check_ids)
    hosts = inv.select(limit)
    plans = make_plan(hosts, checks)  # every inventory problem surfaces here, before any connection
    for kh in known_hosts:
        if not kh.is_file():
            raise InputError(f"--known-hosts {kh}", "file not found")
    out_dir = _out_dir(out)
    if evidence is not None:  # find an unwritable evidence destination before scanning, not after
        _out_dir(
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
    results = assess(raw, checks, policy, target_level, register)
    _write(out_dir, raw, results)
    sources = [
        *inventories,
        *(Path(f) for f in (policy_file, exceptions_file, attestations_file) if f),
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
        from scanner.evidence import write_bundle

        write_bundle(evidence, raw, results, sources)
    _extra_reports(results, html_file, junit_file)
    old = None
    if baseline is not None:
        from scanner.drift import load_results_ref
        from scanner.history import History

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
        from scanner.history import History

        with History.open(history_file) as hist:
            hist.add(results)
    if prom_file is not None:
        from scanner.report.prom import write_prom

        write_prom(results, prom_file, duration)
    if not quiet:
        _summary(results, out_dir)
    if old is not None:
        from scanner.drift import compare, render_table

        drift = compare(old, results)
        write_text_atomic(out_dir / "drift.json", drift.model_dump_json(indent=1))
        if not quiet or drift.regressed:
            click.echo(render_table(drift))
        if drift.regressed:
            code = max(code, EXIT_REGRESSION)
    return code


def _extra_reports(results: Results, html_file: Path | None, junit_file: Path | None) -> None:
    if html_file is not None:
        from scanner.report.html import write_html

        write_html(results, html_file)
    if junit_file is not None:
        from scanner.report.junit import write_junit

        write_junit(results, junit_file)


class _NoBar:
    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def _copy(src: Path, fh: IO[bytes]) -> None:
    with src.open("rb") as fin:
        shutil.copyfileobj(fin, fh, 1 << 20)


def _read_model(path: Path, model: type[RawRecord] | type[Results], what: str) -> Any:
    from pydantic import ValidationError

    try:
        parsed = read_model(path, model, "hosts")
    except OSError as exc:
        raise InputError(str(path), f"cannot read {what}: {exc.strerror}") from None
    except ItemError as exc:
        raise InputError(
            f"{path}:{exc.line}: field {exc.loc}", f"not a valid {what}: {exc.msg}"
        ) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InputError(f"{path}: field {field}", f"not a valid {what}: {err['msg']}") from None
    newest = RAW_SCHEMA_VERSION if model is RawRecord else RESULTS_SCHEMA_VERSION
    if parsed.schema_version > newest:
        raise InputError(
            f"{path}: field schema_version",
            f"{what} schema {parsed.schema_version} was written by a newer e8scan "
            f"(this one reads up to {newest}); upgrade e8scan",
        )
    return parsed


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
@click.option("--target-level", default=None, type=click.IntRange(1, 3))
@click.option("-q", "--quiet", is_flag=True)
@friendly
def rescore_cmd(
    raw_file: Path,
    out: Path,
    policy_file: str | None,
    target_level: int | None,
    quiet: bool,
    exceptions_file: str | None,
    attestations_file: str | None,
) -> None:
    """Judge and score a raw.json again with the current checks and policy. No network."""
    raw: RawRecord = _read_model(raw_file, RawRecord, "raw record")
    policy = load_policy(policy_file)
    register = load_register(exceptions_file, attestations_file)
    results = assess(raw, load_checks(), policy, target_level, register)
    out_dir = _out_dir(out)
    write_atomic(out_dir / "raw.json", lambda fh: _copy(raw_file, fh))
    _write(out_dir, raw, results, write_raw=False)
    if not quiet:
        _summary(results, out_dir)
    sys.exit(exit_code(results))


@main.command("report")
@click.argument("results_file", type=click.Path(path_type=Path))
@click.option(
    "--xlsx", "xlsx_path", type=click.Path(path_type=Path), default=None, help="Workbook to write."
)
@click.option(
    "--html",
    "html_file",
    type=click.Path(path_type=Path),
    default=None,
    help="HTML report to write.",
)
@click.option(
    "--junit",
    "junit_file",
    type=click.Path(path_type=Path),
    default=None,
    help="JUnit XML to write.",
)
@friendly
def report_cmd(
    results_file: Path, xlsx_path: Path | None, html_file: Path | None, junit_file: Path | None
) -> None:
    """Write the Excel workbook, HTML report and/or JUnit XML from a results.json."""
    results: Results = _read_model(results_file, Results, "results file")
    if not (xlsx_path or html_file or junit_file):
        raise InputError("report", "name at least one output: --xlsx, --html or --junit")
    if xlsx_path is not None:
        write_xlsx(results, xlsx_path)
    _extra_reports(results, html_file, junit_file)
    for f in (xlsx_path, html_file, junit_file):
        if f is not None:
            click.echo(f"wrote {f}")


@main.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@friendly
def verify_cmd(bundle: Path) -> None:
    """Check an evidence bundle against its manifest; exit 1 on any altered, missing or extra file."""
    from scanner.evidence import verify_bundle

    problems = verify_bundle(bundle)
    for p in problems:
        click.echo(f"FAIL {p}")
    if problems:
        click.echo(
            f"e8scan: error: {bundle}: {len(problems)} problem(s); the bundle is not intact",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    click.echo(f"OK {bundle}: every file matches the manifest")


@main.command("history")
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    default=DEFAULT_HISTORY,
    show_default=True,
)
@click.option("--host", default=None, help="Show this host's trend instead of the run list.")
@friendly
def history_cmd(history_file: Path, host: str | None) -> None:
    """List recorded runs, or one host's levels over time."""
    from scanner.history import History, render_runs, render_trend

    with History.open(history_file, create=False) as hist:
        click.echo(render_trend(hist.trend(host), host) if host else render_runs(hist.runs()))


@main.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    default=DEFAULT_HISTORY,
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print the drift as JSON.")
@friendly
def diff_cmd(old: str, new: str, history_file: Path, as_json: bool) -> None:
    """Compare two runs (results.json paths or history run ids, or 'last'); exit 5 on regression."""
    from scanner.drift import compare, load_results_ref, render_table

    drift = compare(load_results_ref(old, history_file), load_results_ref(new, history_file))
    click.echo(drift.model_dump_json(indent=1) if as_json else render_table(drift))
    sys.exit(EXIT_REGRESSION if drift.regressed else 0)


@main.command("merge")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Folder for the fleet result."
)
@click.option(
    "--allow-mixed", is_flag=True, help="Merge results of different tool/model versions or targets."
)
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    default=DEFAULT_HISTORY,
    show_default=True,
)
@click.option("--no-history", is_flag=True, help="Do not record the merged run in the history.")
@click.option("-q", "--quiet", is_flag=True)
@friendly
def merge_cmd(
    inputs: tuple[Path, ...],
    out: Path,
    allow_mixed: bool,
    history_file: Path,
    no_history: bool,
    quiet: bool,
) -> None:
    """Combine per-site collectors' results (results.json files or scan folders) into one fleet result.

    A host present in several inputs is taken from the newest collection (with a warning); evidence
    bundles found in input folders (evidence/) are copied under OUT/evidence/.
    """
    from scanner.merge import merge_results

    loaded = []
    for path in inputs:
        file = path / "results.json" if path.is_dir() else path
        loaded.append((str(path), _read_model(file, Results, "results file")))
    merged = merge_results(loaded, allow_mixed)
    out_dir = _out_dir(out)
    _write(out_dir, None, merged)
    for i, path in enumerate(inputs):
        bundle = path / "evidence"
        if path.is_dir() and (bundle / "manifest.json").is_file():
            shutil.copytree(
                bundle, out_dir / "evidence" / f"{i + 1}-{path.name}", dirs_exist_ok=True
            )
    if not no_history:
        from scanner.history import History

        with History.open(history_file) as hist:
            hist.add(merged)
    if not quiet:
        _summary(merged, out_dir)
    sys.exit(exit_code(merged))


@main.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of results.json."""
    click.echo(json.dumps(schema(), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
