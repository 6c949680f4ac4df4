"""The commands that work on what earlier runs left: report, verify, history, diff, merge and
schema (registered on the ``e8scan`` group by :mod:`scanner.cli.main`)."""

from __future__ import annotations

import difflib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from scanner.assess.results import Results, schema
from scanner.assess.target import EXIT_ERROR, EXIT_REGRESSION, exit_code
from scanner.cli import complete
from scanner.cli.formats import format_option
from scanner.cli.support import (
    DEFAULT_HISTORY,
    INPUT_FILE,
    examples,
    extra_reports,
    friendly,
    history_option,
    print_summary,
    read_model_file,
    report_options,
    say,
    writable_dir,
    write_outputs,
)
from scanner.model.terminal import printable
from scanner.report.files import check_writable
from scanner.report.xlsx.workbook import write_xlsx


@click.command(
    "report",
    short_help="Write the workbook, HTML or JUnit XML from a results.json.",
    epilog=examples(
        "e8scan report reports/today/results.json --xlsx today.xlsx",
        "e8scan report reports/today/results.json --html today.html --junit j.xml",
    ),
)
@click.argument("results_file", type=INPUT_FILE)
@click.option(
    "--xlsx", "xlsx_path", type=click.Path(path_type=Path), default=None, help="Workbook to write."
)
@report_options
@friendly
def report_cmd(
    results_file: Path, xlsx_path: Path | None, html_file: Path | None, junit_file: Path | None
) -> None:
    """Write the Excel workbook, HTML report and/or JUnit XML from a results.json."""
    if not (xlsx_path or html_file or junit_file):
        raise click.UsageError("name at least one output: --xlsx, --html or --junit")
    results: Results = read_model_file(results_file, Results, "results file")
    for option, f in (("--xlsx", xlsx_path), ("--html", html_file), ("--junit", junit_file)):
        if f is not None:
            check_writable(f, option)
    if xlsx_path is not None:
        write_xlsx(results, xlsx_path)
    extra_reports(results, html_file, junit_file)
    for f in (xlsx_path, html_file, junit_file):
        if f is not None:
            say(f"wrote {f}")


@click.command(
    "verify",
    short_help="Check an evidence bundle (and its signature).",
    epilog=examples(
        "e8scan verify reports/today/evidence",
        "e8scan verify evidence.zip --pubkey keys/e8scan-signing.pub",
    ),
)
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--pubkey",
    type=INPUT_FILE,
    default=None,
    help="Ed25519 public key (PEM); the manifest must carry a valid signature by it.",
)
@friendly
def verify_cmd(bundle: Path, pubkey: Path | None) -> None:
    """Check an evidence bundle (a BagIt bag, or a bundle from before BagIt) against its manifest;
    exit 1 on any altered, missing or extra file, link, duplicate zip entry, BagIt manifest that
    does not match, or (with --pubkey) a missing or bad signature."""
    from scanner.runs.evidence import check_bundle
    from scanner.runs.signing import load_public_key

    key = None if pubkey is None else load_public_key(pubkey)
    verdict = check_bundle(bundle, key)
    for p in verdict.problems:
        say(f"FAIL {p}")
    if verdict.problems:
        say(
            f"e8scan: error: {bundle}: {len(verdict.problems)} problem(s); the bundle is not intact",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    say(f"OK {bundle}: intact, {verdict.signature}; every file matches the manifest")


@click.group(
    "keys",
    short_help="Ed25519 keys that sign evidence bundles.",
    epilog=examples(
        "e8scan keys generate --out keys/",
        "e8scan verify evidence.zip --pubkey keys/e8scan-signing.pub",
    ),
)
def keys_group() -> None:
    """Ed25519 keys that sign evidence bundles (scan --sign-key, verify --pubkey)."""


@keys_group.command(
    "generate",
    epilog=examples(
        "e8scan keys generate --out keys/",
        "e8scan keys generate --private /secure/e8scan.key --public e8scan.pub",
    ),
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    metavar="DIR",
    default=None,
    help="Folder (made if missing) for the pair: e8scan-signing.key (private, mode 0600) and "
    "e8scan-signing.pub.",
)
@click.option("--private", "private", type=click.Path(path_type=Path), default=None,
              help="Private key file to write (PKCS#8 PEM, mode 0600).")  # fmt: skip
@click.option("--public", "public", type=click.Path(path_type=Path), default=None,
              help="Public key file to write (SubjectPublicKeyInfo PEM).")  # fmt: skip
@friendly
def keys_generate_cmd(out_dir: Path | None, private: Path | None, public: Path | None) -> None:
    """Make a new Ed25519 key pair; never replaces an existing file."""
    from scanner.runs.signing import fingerprint, generate_keys

    if out_dir is not None:
        if private is not None or public is not None:
            raise click.UsageError("give --out DIR, or --private FILE --public FILE")
        out_dir = writable_dir(out_dir, "--out", "key folder")  # made when missing
        private, public = out_dir / "e8scan-signing.key", out_dir / "e8scan-signing.pub"
    if private is None or public is None:
        raise click.UsageError("give --out DIR, or both --private FILE and --public FILE")
    key = generate_keys(private, public)
    say(f"wrote {private} (private, keep it secret) and {public}")
    say(f"public key fingerprint {fingerprint(key)}")


@click.command(
    "history",
    epilog=examples(
        "e8scan history",
        "e8scan history --host perth-app01.corp.example",
        "e8scan history --history /var/lib/e8scan/history.sqlite --format json",
    ),
)
@click.option(
    "--history",
    "history_file",
    type=INPUT_FILE,
    default=DEFAULT_HISTORY,
    show_default=True,
    help="The SQLite run history to read (scan, import and merge write it).",
)
@click.option(
    "--host",
    default=None,
    metavar="NAME",
    shell_complete=complete.history_hosts,
    help="Show this host's trend instead of the run list.",
)
@format_option("text", "json", help="text for people, json for scripts.")
@friendly
def history_cmd(history_file: Path, host: str | None, fmt: str) -> None:
    """List recorded runs, or one host's levels over time.

    A --host in no recorded run is a bad value (exit 2, with the closest recorded names)."""
    from scanner.runs.history import History, render_runs, render_trend

    with History.open(history_file, create=False) as hist:
        if not host:
            runs = hist.runs()
            say(_json([asdict(r) for r in runs]) if fmt == "json" else render_runs(runs))
            return
        trend = hist.trend(host)
        if not trend:
            close = difflib.get_close_matches(host, hist.hosts(), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise click.BadParameter(
                printable(f"host {host!r} is in no recorded run of {history_file}{hint}"),
                param_hint="'--host'",
            )
        say(_json([asdict(r) for r in trend]) if fmt == "json" else render_trend(trend, host))


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=1, default=lambda v: v.isoformat())


@click.command(
    "diff",
    short_help="Compare two runs; exit 5 on regression.",
    epilog=examples(
        "e8scan diff previous last",
        "e8scan diff reports/mon/results.json reports/tue/results.json",
        "e8scan diff previous last --format json --history /srv/e8/history.sqlite",
    ),
)
@click.argument("old")
@click.argument("new")
@history_option
@format_option("text", "json", legacy_json=True, help="text for people, json for scripts.")
@friendly
def diff_cmd(old: str, new: str, history_file: Path, fmt: str) -> None:
    """Compare two runs (results.json paths or history run ids, or 'last'); exit 5 on regression."""
    from scanner.runs.drift import compare, load_results_ref, render_table

    drift = compare(load_results_ref(old, history_file), load_results_ref(new, history_file))
    say(drift.model_dump_json(indent=1) if fmt == "json" else render_table(drift))
    sys.exit(EXIT_REGRESSION if drift.regressed else 0)


@click.command(
    "merge",
    short_help="Combine per-site results into one fleet result.",
    epilog=examples(
        "e8scan merge reports/perth reports/pilbara --out reports/fleet",
        "e8scan merge perth/results.json pilbara/results.json --out fleet -q",
    ),
)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="DIR",
    required=True,
    help="Folder for the fleet result.",
)
@click.option(
    "--allow-mixed", is_flag=True, help="Merge results of different tool/model versions or targets."
)
@history_option
@click.option("--no-history", is_flag=True, help="Do not record the merged run in the history.")
@click.option("-q", "--quiet", is_flag=True, help="No summary table.")
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
    import contextlib

    from scanner.runs.history import run_lock

    with contextlib.ExitStack() as stack:
        if not no_history:  # the history is written under its lock, as by scan
            stack.enter_context(run_lock(history_file))
        code = _merge(inputs, out, allow_mixed, None if no_history else history_file, quiet)
    sys.exit(code)


def _merge(
    inputs: tuple[Path, ...], out: Path, allow_mixed: bool, history_file: Path | None, quiet: bool
) -> int:
    from scanner.runs.merge import merge_results
    from scanner.runs.treecopy import check_tree, copy_tree

    loaded = []
    bundles: list[tuple[Path, str]] = []
    for i, path in enumerate(inputs):
        file = path / "results.json" if path.is_dir() else path
        if path.is_dir():
            _inside(path, file)
        loaded.append((str(path), read_model_file(file, Results, "results file")))
        bundle = path / "evidence"
        if path.is_dir() and (bundle.is_symlink() or bundle.exists()):
            check_tree(bundle)  # before anything is written: a link in it is refused by name
            if (bundle / "manifest.json").is_file():
                bundles.append((bundle, f"{i + 1}-{path.name}"))
    merged = merge_results(loaded, allow_mixed)
    out_dir = writable_dir(out)
    write_outputs(out_dir, None, merged)
    for bundle, name in bundles:
        copy_tree(bundle, out_dir / "evidence" / name)
    if history_file is not None:
        from scanner.runs.history import History

        with History.open(history_file) as hist:
            hist.add(merged)
    if not quiet:
        print_summary(merged, out_dir)
    return exit_code(merged)


def _inside(folder: Path, file: Path) -> None:
    """Refuse ``file`` when it is a link leading out of the input ``folder``."""
    if file.is_symlink() and not file.resolve().is_relative_to(folder.resolve()):
        from scanner.runs.treecopy import refuse_link

        raise refuse_link(file, "an input scan folder")


@click.command(
    "schema",
    epilog=examples(
        "e8scan schema > results.schema.json",
        "e8scan schema | python3 -m json.tool --sort-keys | less",
    ),
)
def schema_cmd() -> None:
    """Print the JSON Schema of results.json."""
    say(json.dumps(schema(), indent=2))


COMMANDS = (report_cmd, verify_cmd, keys_group, history_cmd, diff_cmd, merge_cmd, schema_cmd)
