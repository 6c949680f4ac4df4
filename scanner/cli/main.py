"""The e8scan command line (click). Thin: it parses options, calls the stages, prints and exits."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from scanner import __version__
from scanner.assess.pipeline import assess
from scanner.assess.register import load_register
from scanner.assess.target import EXIT_ERROR, exit_code
from scanner.checking.loader import load_checks
from scanner.cli import complete
from scanner.cli.feeds import feeds_group, snapshot_for
from scanner.cli.files import COMMANDS
from scanner.cli.formats import format_option
from scanner.cli.kit import import_cmd, kit_cmd
from scanner.cli.options import (
    checks_option,
    inventory_of,
    inventory_option,
    limit_option,
    register_options,
    selected_checks,
    timing_options,
)
from scanner.cli.preflight import require_hosts
from scanner.cli.scan import scan_cmd
from scanner.cli.support import (
    INPUT_FILE,
    copy_file,
    examples,
    framework_option,
    friendly,
    load_framework_option,
    print_summary,
    read_model_file,
    say,
    writable_dir,
    write_outputs,
)
from scanner.collect.budget import describe as describe_budget
from scanner.collect.budget import host_budget
from scanner.collect.plan import HostPlan, plan_each
from scanner.inventory.connection import ConnectionSpec
from scanner.inventory.load import InventoryHost
from scanner.model.errors import InputError
from scanner.model.policy import load_policy
from scanner.record.raw import RawRecord
from scanner.report.files import write_atomic


def _show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    say(f"e8scan: warning: {message}", err=True)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=examples(
        "e8scan plan -i inventories/site.ini -l dmz",
        "e8scan scan -i inventories/site.ini --out reports/today",
        "e8scan checks list --format md",
    ),
)
@click.version_option(__version__, prog_name="e8scan")
def main() -> None:
    """Agentless Essential Eight scanner: Ansible inventories in, ASD maturity levels out.

    \b
    Exit codes: 0 clean; 1 error (bad input, nothing trustworthy produced);
    2 usage error; 3 some assessed host below --target-level; 4 some in-scope
    host with no visibility; 5 regression against the baseline. Where several
    apply, the highest wins. A scan stopped by Ctrl-C exits 130 (SIGTERM: 143)
    after writing partial results marked incomplete.
    """
    warnings.showwarning = _show_warning


@main.command(
    "inventory",
    short_help="Show the inventory's hosts and groups as e8scan reads them.",
    epilog=examples(
        "e8scan inventory -i inventories/site.ini",
        "e8scan inventory -i inventories/site.ini -l 'pilbara_ot:!hmi'",
        "e8scan inventory -i inventories/site.ini --format json",
    ),
)
@inventory_option
@format_option(
    "text",
    "json",
    help="text: one host a line with its groups; json: what ansible-inventory --list prints.",
)
@click.option(
    "--list", "as_list", is_flag=True, help="Same as --format json (ansible-inventory's spelling)."
)
@limit_option
@friendly
def inventory_cmd(
    inventories: tuple[Path, ...], fmt: str, as_list: bool, limit: str | None
) -> None:
    """Show the hosts of the inventory, with their groups, as e8scan resolves it.

    --format json (or --list) prints every host and group with its variables, as
    ansible-inventory --list does (-l does not apply to it)."""
    inv = inventory_of(inventories)
    if as_list or fmt == "json":
        say(json.dumps(inv.to_ansible_list(), indent=4, sort_keys=True, default=str))
        return
    for h in inv.select(limit):
        say(f"{h.name}\t{','.join(h.groups)}")


@main.command(
    "plan",
    short_help="Show what a scan would run, per host; connects to nothing.",
    epilog=examples(
        "e8scan plan -i inventories/site.ini -l dmz",
        "e8scan plan -i inventories/site.ini -l dmz --checks patch_os --format json",
        "e8scan plan -i inventories/site.ini -l dmz --command-timeout 120 | less",
    ),
)
@inventory_option
@limit_option
@checks_option
@timing_options
@format_option("text", "json", help="text for people, json for scripts.")
@friendly
def plan_cmd(
    inventories: tuple[Path, ...],
    limit: str | None,
    check_ids: tuple[str, ...],
    fmt: str,
    connect_timeout: float,
    command_timeout: int,
    command_grace: float,
    host_timeout: float | None,
) -> None:
    """Print, per host, the transport, route, user, time budget and every exact command a scan
    would run (give it the scan's timing options to see that scan's budgets).

    Connects to nothing. A host whose inventory entry cannot be used (a malformed value, missing
    credentials) is named on stderr with the reason; every host is still listed, and the exit
    status is then 1.
    """
    hosts = inventory_of(inventories).select(limit)
    require_hosts(hosts, inventories)  # as scan does: a plan of no host is a mistake, not "clean"
    entries = plan_each(hosts, selected_checks(check_ids), secrets=False)
    errors = [e if isinstance(e, InputError) else e.problem for _, e in entries]
    timing = (command_timeout, connect_timeout, host_timeout, command_grace)
    if fmt == "json":
        say(json.dumps([_plan_json(h, e, timing) for h, e in entries], indent=2))
    else:
        for h, e in entries:
            _plan_text(h, e, timing)
    for err in errors:
        if err is not None:
            say(f"e8scan: error: {err}", err=True)
    if any(err is not None for err in errors):
        sys.exit(EXIT_ERROR)


def _plan_json(
    host: InventoryHost, e: HostPlan | InputError, timing: tuple[float, float, float | None, float]
) -> dict[str, Any]:
    if isinstance(e, InputError):
        return {"host": host.name, "error": str(e)}
    return {
        "host": e.host.name,
        "address": e.spec.address,
        "port": e.spec.port,
        "transport": e.spec.connection,
        "user": e.login,
        "route": e.route,
        "bastion": None
        if e.bastion is None
        else {"user": e.bastion[0], "host": e.bastion[1].host, "port": e.bastion[1].port},
        "become": e.spec.become,
        "target_priority": e.host.profile.e8_target_priority,
        "root_shell_steps": e.root_steps,
        "ssh_legacy": e.ssh_legacy,
        "platform": e.platform.value,
        "error": str(e.problem) if e.problem else None,
        "checks": [c.id for c in e.checks],
        "host_budget": host_budget(len(e.commands), *timing),
        "command_limit": timing[0] + timing[3] if e.spec.connection != "ldap" else None,
        "commands": [
            {"command": c.step.line, "as_run": c.step.as_run, "checks": c.checks}
            for c in e.commands
        ],
    }


def _plan_text(
    host: InventoryHost, e: HostPlan | InputError, timing: tuple[float, float, float | None, float]
) -> None:
    if isinstance(e, InputError):
        say(f"# {host.name}: NOT PLANNED: input error: {e}")
        say("")
        return
    p = e
    say(
        f"# {p.host.name}: {p.spec.connection} to {p.spec.address}:{p.spec.port} as {p.login},"
        f" {p.route} (platform {p.platform.value}, become {'yes' if p.spec.become else 'no'},"
        f" {len(p.checks)} checks, {len(p.commands)} commands)"
    )
    if p.problem is not None:
        say(f"  # NOT SCANNED: input error: {p.problem}")
    if p.spec.connection == "ldap":
        say(f"  # {directory_note(p.spec)}")
    if p.ssh_legacy_note:
        say(f"  # {p.ssh_legacy_note}")
    if p.priority_note and p.commands:
        say(f"  # {p.priority_note}")
    if p.root_note:
        say(f"  # {p.root_note}")
    say(f"  # {describe_budget(len(p.commands), *timing, batch=p.spec.connection != 'ldap')}")
    if not p.commands:
        say(f"  (no check applies to {p.platform.value} hosts in this version)")
    for c in p.commands:
        say(f"  {c.step.as_run}    # {', '.join(c.checks)}")
    say("")


def directory_note(spec: ConnectionSpec) -> str:
    """How a directory target is read, for the change board."""
    bind = "Kerberos (GSSAPI) bind" if spec.ldap_auth == "kerberos" else "simple bind inside TLS"
    ca = spec.ldap_ca_trust_path or "the system's CA store"
    base = (
        f"{{defaultNamingContext}} = {spec.ldap_base} (e8_ldap_base)"
        if spec.ldap_base
        else "{…NamingContext} bases are read from the DC's rootDSE"
    )
    return (
        f"LDAPS, certificate checked against {ca}; {bind}; read-only searches, paged, "
        f"referrals not followed; {base}"
    )


@main.group("checks", epilog=examples("e8scan checks list", "e8scan checks list --format json"))
def checks_group() -> None:
    """The check catalogue."""


@checks_group.command(
    "list",
    short_help="Every check: strategy, ISM controls, levels, platforms.",
    epilog=examples(
        "e8scan checks list",
        "e8scan checks list --format md > docs/checks.md",
        "e8scan checks list --framework scanner/model/frameworks/essential-eight.yml",
    ),
)
@format_option(
    "text",
    "md",
    "json",
    aliases={"table": "text"},
    help="text for the terminal, md for docs/checks.md, json for scripts.",
)
@framework_option
@friendly
def checks_list(fmt: str, framework_file: Path | None) -> None:
    """List every check with its strategy, ISM controls, levels (in --framework) and platforms."""
    from scanner.report.catalogue import catalogue_json, catalogue_md, catalogue_table

    checks = load_checks()
    framework = load_framework_option(framework_file)
    say(
        {"md": catalogue_md, "json": catalogue_json, "text": catalogue_table}[fmt](
            checks, framework
        ),
        nl=False,
    )


@checks_group.command(
    "show",
    short_help="One check in full: controls, what it reads, how it judges.",
    epilog=examples(
        "e8scan checks show mfa.linux_ssh_mfa",
        "e8scan checks show patch_os --format json",
        "e8scan checks show mfa.linux_ssh_mfa | less",
    ),
)
@click.argument(
    "check_ids", nargs=-1, required=True, metavar="ID...", shell_complete=complete.check_ids
)
@format_option("text", "json", help="text (Markdown, as in docs/checks.md) or json for scripts.")
@framework_option
@friendly
def checks_show(check_ids: tuple[str, ...], fmt: str, framework_file: Path | None) -> None:
    """Show each check ID names (an id, or a prefix such as patch_os for all of its checks):
    its ISM controls and requirements, what an effective verdict needs, how it judges, and the
    exact read-only commands it runs."""
    from scanner.report.catalogue import catalogue_json, catalogue_md

    checks = selected_checks(check_ids, "ID")
    framework = load_framework_option(framework_file)
    if fmt == "json":
        say(catalogue_json(checks, framework), nl=False)
        return
    for n, c in enumerate(checks):
        text = catalogue_md([c], framework)
        say(("\n" if n else "") + text[text.index(f"\n### {c.id}\n") + 1 :], nl=False)


@main.command(
    "rescore",
    short_help="Judge and score a raw.json again; no network.",
    epilog=examples(
        "e8scan rescore reports/today/raw.json --out reports/rescored",
        "e8scan rescore reports/today/raw.json --out reports/ml2 --target-level 2 \\",
        "    --policy examples/policy.yml --exceptions examples/exceptions.yml",
        "e8scan rescore reports/today/raw.json --out reports/f --feeds feeds.tar.gz",
    ),
)
@click.argument("raw_file", type=INPUT_FILE)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="DIR",
    required=True,
    help="Folder for results.json and the workbook.",
)
@click.option(
    "--policy",
    "policy_file",
    type=INPUT_FILE,
    default=None,
    help="Policy YAML overriding default thresholds (the scan's --policy is not reused).",
)
@register_options
@click.option(
    "--target-level",
    default=None,
    type=click.IntRange(min=1),
    help="Maturity level to judge against; default the raw record's own --target-level.",
)
@framework_option
@click.option(
    "--feeds",
    "feeds_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Judge against this feed snapshot (a folder or an exported bundle) instead of the "
    "installed one.",
)
@click.option("-q", "--quiet", is_flag=True, help="No summary table.")
@friendly
def rescore_cmd(
    raw_file: Path,
    out: Path,
    policy_file: Path | None,
    target_level: int | None,
    framework_file: Path | None,
    quiet: bool,
    exceptions_file: Path | None,
    attestations_file: Path | None,
    feeds_path: Path | None = None,
) -> None:
    """Judge and score a raw.json again with the current checks and policy (and --framework).
    Only the checks the scan ran judge (a `scan --checks` stays that selection). No network."""
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
    # the checks the scan ran (`scan --checks` chose some): a check that ran nothing on the host
    # would find its output missing and turn not-assessed controls into no_visibility
    ran = {c.id for c in raw.run.checks}
    checks = [c for c in load_checks() if not ran or c.id in ran]
    with snapshot_for(feeds_path, policy.feed_max_age_days) as feeds:
        try:
            results = assess(raw, checks, policy, target_level, register, framework, feeds=feeds)
        except InputError as exc:  # a bad e8_ variable stored in an older raw record
            raise InputError(f"{raw_file}: {exc.where}", exc.message) from None
    out_dir = writable_dir(out)
    write_atomic(out_dir / "raw.json", lambda fh: copy_file(raw_file, fh))
    write_outputs(out_dir, raw, results, write_raw=False)
    if not quiet:
        print_summary(results, out_dir)
    sys.exit(exit_code(results))


for _command in (scan_cmd, kit_cmd, import_cmd, feeds_group, *COMMANDS):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="e8scan")  # `python -m scanner.cli.main`: same name, same _E8SCAN_COMPLETE
