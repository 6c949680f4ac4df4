"""``e8scan kit`` and ``e8scan import``: the field kit for hosts nothing can reach."""

from __future__ import annotations

import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from scanner import __version__
from scanner.assess.pipeline import assess
from scanner.assess.register import load_register
from scanner.assess.target import exit_code
from scanner.checking.api import Check
from scanner.checking.loader import load_checks
from scanner.cli.feeds import snapshot_in_use, stale_warning
from scanner.cli.options import (
    checks_option,
    inventory_of,
    limit_option,
    policy_option,
    register_options,
    vault_options,
)
from scanner.cli.options import selected_checks as choose_checks
from scanner.cli.support import (
    INPUT_FILE,
    examples,
    friendly,
    history_option,
    load_framework_option,
    print_summary,
    say,
    writable_dir,
    write_outputs,
)
from scanner.collect.kit import kit_plan, platform_host, write_kit
from scanner.collect.offline import KitOutput, host_record, read_kit_output
from scanner.model.errors import InputError
from scanner.model.policy import load_policy
from scanner.model.vocabulary import Platform
from scanner.record.raw import CheckRef, RawRecord, RunInfo, SourceFile, new_run_id


@click.command(
    "kit",
    short_help="Write a script to run by hand where no scan can reach.",
    epilog=examples(
        "e8scan kit --platform linux --out kits/     # kits/e8kit-linux.sh",
        "e8scan kit --platform windows --out kits/   # kits/e8kit-windows.ps1",
        "e8scan kit -i inventories/site.ini -l pil-hmi01.ot.example --out kits/",
    ),
)
@click.option(
    "--platform",
    type=click.Choice(["linux", "windows"]),
    default=None,
    help="Make the kit for any host of this platform (every built-in check's commands); "
    "with -i, only check that the chosen hosts are of it.",
)
@click.option(
    "-i",
    "--inventory",
    "inventories",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Ansible inventory: make one kit per host that -l selects, with that host's plan.",
)
@vault_options
@limit_option
@checks_option
@click.option(
    "--command-timeout",
    default=60,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds each command may run on the host.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="DIR",
    required=True,
    help="Folder for the kit script(s).",
)
@friendly
def kit_cmd(
    platform: str | None,
    inventories: tuple[Path, ...],
    limit: str | None,
    check_ids: tuple[str, ...],
    command_timeout: int,
    out: Path,
) -> None:
    """Write a field kit: a script to run by hand where no scan can reach (air-gapped hosts,
    hosts whose change board forbids remote access). With -i, one kit per host with that host's
    own plan (e8kit-HOST.sh or .ps1).

    The script holds exactly the commands `e8scan plan` lists (POSIX sh on Linux, PowerShell
    2.0+ on Windows), writes one output file with a SHA-256 per record, and changes nothing
    else on the host. Bring the file back and run `e8scan import FILE --out DIR`.
    """
    checks = choose_checks(check_ids)
    created = datetime.now(UTC)
    if inventories:
        hosts = inventory_of(inventories).select(limit)
        if not hosts:
            raise InputError("--limit", f"{limit!r} matches no host of the inventory")
        plans = [(kit_plan(h, checks), True) for h in hosts]
        for p, _ in plans:
            if platform is not None and p.platform.value != platform:
                raise InputError(
                    f"host {p.host.name}",
                    f"is a {p.platform.value} host; --platform {platform} was asked for",
                )
    elif platform is None:
        raise InputError("kit", "give --platform linux|windows, or -i INVENTORY [-l HOSTS]")
    elif limit is not None:
        raise InputError("--limit", "selects inventory hosts; give -i INVENTORY with it")
    else:
        plans = [(kit_plan(platform_host(Platform(platform)), checks), False)]
    out_dir = writable_dir(out)
    for p, for_host in plans:
        path = write_kit(p, out_dir, for_host, created, timeout=command_timeout)
        say(f"wrote {path} ({len(p.commands)} commands, {len(p.checks)} checks)")


@click.command(
    "import",
    short_help="Judge field-kit outputs as offline hosts.",
    epilog=examples(
        "e8scan import e8kit-pil-hmi01-20261207T031500Z.txt --out reports/offline",
        "e8scan import returned/*.txt --out reports/q4-offline --target-level 2 \\",
        "    --attestations examples/attestations.yml",
    ),
)
@click.argument("files", nargs=-1, required=True, type=INPUT_FILE)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="DIR",
    required=True,
    help="Folder for raw.json, results.json and the workbook.",
)
@click.option(
    "--target-level",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Exit 3 when an imported host is below this maturity level.",
)
@policy_option
@register_options
@history_option
@click.option("--no-history", is_flag=True, help="Do not record this import in the history.")
@click.option("-q", "--quiet", is_flag=True, help="No summary table.")
@friendly
def import_cmd(
    files: tuple[Path, ...],
    out: Path,
    target_level: int,
    policy_file: Path | None,
    exceptions_file: Path | None,
    attestations_file: Path | None,
    history_file: Path | None,
    no_history: bool,
    quiet: bool,
) -> None:
    """Import field-kit outputs as offline hosts, then judge and report them.

    Each FILE is checked record by record (format, nonce, SHA-256 seals, nothing missing or
    added) and refused, naming the file and the record, when anything fails. The hosts come out
    with transport `offline` and evidence graded fair at most; raw.json, results.json and the
    workbook are written as a scan writes them, so rescore, merge, diff and history work alike.
    """
    now = datetime.now(UTC)
    kits = [read_kit_output(f) for f in files]  # every file is checked before anything else
    hosts = [host_record(k, now) for k in kits]
    framework = load_framework_option(None, target_level)
    policy = load_policy(policy_file)
    register = load_register(exceptions_file, attestations_file)
    feeds = snapshot_in_use(policy.feed_max_age_days)
    if (stale := stale_warning(feeds, now)) is not None:
        say(f"e8scan: warning: {stale}", err=True)
    names = [h.name for h in hosts]
    if dupes := sorted({n for n in names if names.count(n) > 1}):
        raise InputError(
            str(files[names.index(dupes[0], names.index(dupes[0]) + 1)]),
            f"host {dupes[0]} is in more than one file; import one collection per host",
        )
    checks = _kit_checks(kits)
    raw = RawRecord(
        tool_version=__version__,
        model_version=framework.model_version,
        run=RunInfo(
            id=new_run_id(now),
            started=min(h.started for h in hosts),
            finished=max(h.finished for h in hosts),
            inventory=[SourceFile(path=str(k.path), sha256=k.sha256) for k in kits],
            target_level=target_level,
            checks=[CheckRef(id=c.id, version=c.version) for c in checks],
            command_line=shlex.join(["e8scan", *sys.argv[1:]]),
        ),
        hosts=hosts,
    )
    results = assess(raw, checks, policy, target_level, register, framework, feeds=feeds)
    out_dir = writable_dir(out)
    write_outputs(out_dir, raw, results)
    if history_file is not None and not no_history:
        from scanner.runs.history import History, run_lock

        with run_lock(history_file), History.open(history_file) as hist:
            hist.add(results)
    if not quiet:
        print_summary(results, out_dir)
    sys.exit(exit_code(results))


def _kit_checks(kits: list[KitOutput]) -> list[Check]:
    """The checks the kits were made with (by id), as this e8scan has them; a kit check this
    e8scan lacks, or has in another version, is named in a warning."""
    known = {c.id: c for c in load_checks()}
    wanted: dict[str, int] = {}
    for k in kits:
        for ref in k.manifest.checks:
            wanted.setdefault(ref.id, ref.version)
    for cid, version in sorted(wanted.items()):
        have = known.get(cid)
        if have is None:
            say(
                f"e8scan: warning: check {cid} of the kit is not in this e8scan; not judged",
                err=True,
            )
        elif have.version != version:
            say(
                f"e8scan: warning: check {cid} is version {have.version} here, {version} in the "
                "kit; judged with this e8scan's",
                err=True,
            )
    return [known[cid] for cid in sorted(wanted) if cid in known]
