"""Click options shared by several commands (scan, plan, rescore, inventory)."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from scanner.checking.api import Check
from scanner.checking.loader import load_checks
from scanner.cli import complete
from scanner.cli.support import INPUT_FILE, F
from scanner.collect.budget import BATCH_CAP, COMMAND_GRACE
from scanner.collect.plan import select_checks
from scanner.inventory.load import Inventory, load_inventory
from scanner.inventory.vault import vault_keys

_VAULT_META = "e8scan.vault"


def _remember_vault(ctx: click.Context, param: click.Parameter, value: object) -> None:
    ctx.meta.setdefault(_VAULT_META, {})[param.name] = value


def vault_options(fn: F) -> F:
    """--vault-password-file, --vault-id and --ask-vault-pass, as ansible-inventory takes them;
    every command that reads an inventory has them (:func:`inventory_of` reads what they were
    given)."""
    fn = click.option(
        "--ask-vault-pass",
        "ask_vault_pass",
        is_flag=True,
        expose_value=False,
        callback=_remember_vault,
        help="Ask for the vault password on the terminal (stdin must be a terminal).",
    )(fn)
    fn = click.option(
        "--vault-id",
        "vault_ids",
        multiple=True,
        expose_value=False,
        callback=_remember_vault,
        metavar="[LABEL@]FILE|prompt",
        help="Vault password file (an executable one is run and prints it; a *-client script "
        "gets --vault-id LABEL), or 'prompt' to ask on the terminal, optionally labelled (a 1.2 "
        "vault with that id tries it first); repeatable.",
    )(fn)
    fn = click.option(
        "--vault-password-file",
        "vault_password_files",
        multiple=True,
        expose_value=False,
        callback=_remember_vault,
        type=INPUT_FILE,
        help="File holding the Ansible Vault password for !vault values and vault-encrypted "
        "inventory and vars files (executable: run, its output is the password); repeatable. "
        "Default: $ANSIBLE_VAULT_PASSWORD_FILE.",
    )(fn)
    return fn


def _ask_terminal(text: str) -> str:
    """Ask for a vault password with the input hidden; a usage error when stdin is no terminal
    (a cron job or a pipe would otherwise wait, or read the password from the data)."""
    if not sys.stdin.isatty():
        raise click.UsageError(
            "--ask-vault-pass / --vault-id LABEL@prompt ask on a terminal, and stdin is not "
            "one; give --vault-password-file FILE or --vault-id LABEL@FILE"
        )
    answer: str = click.prompt(text, hide_input=True, err=True)
    return answer


def inventory_option(fn: F) -> F:
    """-i/--inventory (required) with the vault options (listed after it in --help)."""
    fn = vault_options(fn)
    return click.option(
        "-i",
        "--inventory",
        "inventories",
        multiple=True,
        required=True,
        type=click.Path(path_type=Path),
        metavar="SOURCE",
        help="Ansible inventory (INI, YAML, a folder or an executable script), or a "
        "comma-separated host list ('h1,h2,'); repeat to merge several.",
    )(fn)


limit_option = click.option(
    "-l",
    "--limit",
    default=None,
    metavar="PATTERN",
    shell_complete=complete.limit_names,
    help="Ansible host pattern: names, groups, globs, ~regex, a:b, a:&b, a:!b.",
)


policy_option = click.option(
    "--policy",
    "policy_file",
    type=INPUT_FILE,
    default=None,
    help="Policy YAML overriding default thresholds.",
)


def register_options(fn: F) -> F:
    """--exceptions and --attestations, shared by scan and rescore."""
    fn = click.option(
        "--attestations",
        "attestations_file",
        type=INPUT_FILE,
        default=None,
        help="YAML attestations for organisational controls (README 'Exceptions and attestations').",
    )(fn)
    fn = click.option(
        "--exceptions",
        "exceptions_file",
        type=INPUT_FILE,
        default=None,
        help="YAML exception register: approved exceptions with compensating controls and expiry.",
    )(fn)
    return fn


def timing_options(fn: F) -> F:
    """--connect-timeout, --command-timeout, --command-grace and --host-timeout, shared by scan
    and plan (which prints each host's budget from them)."""
    fn = click.option(
        "--host-timeout",
        default=None,
        type=click.FloatRange(1, 86400),
        help="Seconds per host, connect included, for every host. Default: derived from each "
        f"host's plan, min(commands × --command-timeout, {BATCH_CAP:g}) + --command-grace + "
        "3 × --connect-timeout (e8scan plan prints it).",
    )(fn)
    fn = click.option(
        "--command-grace",
        default=COMMAND_GRACE,
        show_default=True,
        type=click.FloatRange(0, 3600),
        help="Seconds a command may run past --command-timeout before e8scan itself ends the "
        "host (timeout; what finished is kept), for steps the host's own timeout cannot stop.",
    )(fn)
    fn = click.option(
        "--command-timeout",
        default=60,
        show_default=True,
        type=click.IntRange(1, 3600),
        help="Seconds per command, enforced on the host (and by e8scan, plus --command-grace).",
    )(fn)
    fn = click.option(
        "--connect-timeout",
        default=10.0,
        show_default=True,
        type=click.FloatRange(0.5, 300),
        help="Seconds to wait for each host's TCP connection and login handshake.",
    )(fn)
    return fn


checks_option = click.option(
    "--checks",
    "check_ids",
    multiple=True,
    metavar="IDS",
    shell_complete=complete.check_ids,
    help="Only these check ids or id prefixes (e.g. patch_os); repeat or comma-separate.",
)


def inventory_of(paths: Sequence[Path]) -> Inventory:
    """The inventory of ``-i`` sources, opening vaults with the current command's vault
    options (or ``ANSIBLE_VAULT_PASSWORD_FILE``)."""
    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(_VAULT_META, {}) if ctx else {}  # meta is shared by every context
    keys = vault_keys(
        given.get("vault_password_files", ()),
        given.get("vault_ids", ()),
        ask=bool(given.get("ask_vault_pass")),
        prompt=_ask_terminal,
    )
    return load_inventory(list(paths), keys)


def selected_checks(check_ids: Sequence[str], param: str = "--checks") -> list[Check]:
    """The checks ``--checks`` (or ``param``) names; an id or prefix that matches none is a usage
    error (exit 2) that suggests the closest ids and prefixes."""
    wanted = [c.strip() for ids in check_ids for c in ids.split(",") if c.strip()]
    checks = load_checks()
    ids = {c.id for c in checks}
    for w in wanted:
        prefix = w.rstrip(".") + "."
        if not any(i == w or i.startswith(prefix) for i in ids):
            raise click.BadParameter(unknown_check(w, ids), param_hint=f"'{param}'")
    return select_checks(checks, wanted)


def unknown_check(wanted: str, ids: set[str]) -> str:
    """One line for an id that matches no check: the closest ids or prefixes (difflib)."""
    parts = [i.split(".") for i in ids]
    names = ids | {".".join(p[:n]) for p in parts for n in range(1, len(p))}
    close = difflib.get_close_matches(wanted, sorted(names), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "'e8scan checks list' shows them all."
    return f"no check matches {wanted!r}; {hint}"
