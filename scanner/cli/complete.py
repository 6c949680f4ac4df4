"""Shell completion of values (click ``shell_complete`` callbacks): check ids for ``--checks``,
host and group names for ``--limit`` and ``history --host``.

Completion runs on every Tab press, so it reads only local files and never fails loudly: any
error gives no candidates. Host names come from the inventories given with ``-i`` earlier on the
same command line, else from the hosts recorded in the run history. An executable inventory
(a dynamic inventory script, which may call a cloud API) is never run for completion, and no
host is ever contacted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import click
from click.core import ParameterSource
from click.shell_completion import CompletionItem

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]
_LIMIT_SPLIT = re.compile(r"^(.*[,:][!&]?|[!&])?(.*)$")
_MAX_FILES = 500  # files looked at in an inventory folder before giving up on it


def _quiet(fn: Completer) -> Completer:
    def wrapper(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            return fn(ctx, param, incomplete)
        except Exception:  # a completion never prints an error or a traceback
            return []

    return wrapper


def _matching(head: str, last: str, names: Iterable[str], taken: set[str]) -> list[CompletionItem]:
    return [
        CompletionItem(head + n)
        for n in sorted(set(names))
        if n.startswith(last) and n not in taken
    ]


@_quiet
def check_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Check ids and their strategy prefixes; in a comma-separated list, the last item."""
    from scanner.checking.loader import load_checks

    head, comma, last = incomplete.rpartition(",")
    ids = [c.id for c in load_checks()]
    names = [*ids, *(i.split(".", 1)[0] for i in ids)]
    return _matching(head + comma, last, names, set(head.split(",")))


@_quiet
def limit_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Host and group names for an Ansible pattern: the last term after ``,`` or ``:``
    (and a leading ``!`` or ``&``)."""
    match = _LIMIT_SPLIT.match(incomplete)
    head, last = (match.group(1) or "", match.group(2)) if match else ("", incomplete)
    names = _inventory_names(ctx, groups=True)
    if names is None:
        names = _history_hosts(ctx)
    taken = set(re.split(r"[,:][!&]?", head.lstrip("!&")))
    return _matching(head, last, names, taken)


@_quiet
def history_hosts(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Host names recorded in the run history ``--history`` names (or the default one)."""
    return _matching("", incomplete, _history_hosts(ctx), set())


def _inventory_names(ctx: click.Context, groups: bool) -> list[str] | None:
    """Hosts (and groups) of the ``-i`` sources on this command line; None when there is none."""
    sources = [Path(p) for p in ctx.params.get("inventories") or () if p is not None]
    if not sources:
        return None
    if any(_runs_a_program(p) for p in sources) or _vault_runs_or_asks(ctx):
        return []
    from scanner.cli.options import inventory_of

    with ctx.scope(cleanup=False):  # the vault options given on this command line
        inv = inventory_of(sources)
    names = [h.name for h in inv.select(None)]
    if groups:
        names += [g for h in inv.select(None) for g in h.groups]
    return names


def _vault_runs_or_asks(ctx: click.Context) -> bool:
    """Whether opening the vault would prompt on the terminal or run a password script (which
    may reach a secrets service): completion does neither."""
    from scanner.cli.options import _VAULT_META
    from scanner.inventory.vault import ENV_PASSWORD_FILE

    given = ctx.meta.get(_VAULT_META, {})
    if given.get("ask_vault_pass"):
        return True
    files = [str(f) for f in given.get("vault_password_files") or () if f is not None]
    for vid in given.get("vault_ids") or ():
        path = vid.partition("@")[2] if "@" in vid else vid
        if path == "prompt":
            return True
        files.append(path)
    if os.environ.get(ENV_PASSWORD_FILE):
        files.append(os.environ[ENV_PASSWORD_FILE])
    return any(os.path.isfile(f) and os.access(f, os.X_OK) for f in files)


def _runs_a_program(source: Path) -> bool:
    """Whether reading ``source`` would run a dynamic inventory script."""
    from scanner.inventory.script import is_inventory_script

    if not source.is_dir():
        return is_inventory_script(source)
    seen = 0
    for folder, _, files in os.walk(source):
        for name in files:
            seen += 1
            if seen > _MAX_FILES or is_inventory_script(Path(folder) / name):
                return True
    return False


def _history_hosts(ctx: click.Context) -> list[str]:
    from scanner.cli.support import DEFAULT_HISTORY
    from scanner.runs.history import History

    path = ctx.params.get("history_file")
    if path is None:
        if ctx.get_parameter_source("history_file") is ParameterSource.COMMANDLINE:
            return []  # --history names no file: not the default one instead
        path = DEFAULT_HISTORY
    if not Path(path).is_file():
        return []
    with History.open(Path(path), create=False) as hist:
        return hist.hosts()
