"""Click options shared by several commands (scan, plan, rescore, inventory)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from scanner.checking.api import Check
from scanner.checking.loader import load_checks
from scanner.cli.support import F
from scanner.collect.plan import select_checks
from scanner.inventory.load import Inventory, load_inventory

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


def inventory_of(paths: Sequence[Path]) -> Inventory:
    return load_inventory(list(paths))


def selected_checks(check_ids: Sequence[str]) -> list[Check]:
    wanted = [c.strip() for ids in check_ids for c in ids.split(",") if c.strip()]
    return select_checks(load_checks(), wanted)
