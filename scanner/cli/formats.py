"""``--format``: the one spelling of machine-readable output on every command that has it
(``text`` for people, ``json`` for scripts, ``md`` where a command writes Markdown), with the old
spellings (``diff --json``, ``checks list --format table``) kept as deprecated aliases that say so
on stderr, so cron jobs written for them keep working."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from scanner.cli.support import say

F = TypeVar("F", bound=Callable[..., Any])


def deprecated(old: str, new: str) -> None:
    """The one stderr line an old spelling prints (stdout stays the machine output)."""
    say(f"e8scan: warning: {old} is deprecated; use {new}", err=True)


class FormatChoice(click.Choice[str]):
    """``click.Choice`` of the formats a command writes; ``aliases`` maps an old name to its
    format, accepted with a deprecation note but never offered (help, errors, completion)."""

    def __init__(self, choices: Sequence[str], aliases: dict[str, str] | None = None) -> None:
        super().__init__(choices)
        self.aliases = aliases or {}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value in self.aliases:
            new = self.aliases[value]
            if ctx is None or not ctx.resilient_parsing:
                deprecated(f"--format {value}", f"--format {new}")
            return new
        return super().convert(value, param, ctx)


def format_option(
    *formats: str,
    help: str,
    aliases: dict[str, str] | None = None,
    legacy_json: bool = False,
) -> Callable[[F], F]:
    """``--format`` with ``formats`` (the first is the default; it arrives as ``fmt``).
    ``legacy_json`` adds the hidden ``--json`` flag of earlier releases: same as
    ``--format json``, with a deprecation note on stderr."""

    def deco(fn: F) -> F:
        if legacy_json:
            inner = fn

            @wraps(inner)
            def wrapper(*args: Any, old_json: bool = False, **kwargs: Any) -> Any:
                if old_json:
                    ctx = click.get_current_context()
                    if (
                        ctx.get_parameter_source("fmt") is ParameterSource.COMMANDLINE
                        and kwargs["fmt"] != "json"
                    ):
                        raise click.UsageError(f"--json contradicts --format {kwargs['fmt']}")
                    deprecated("--json", "--format json")
                    kwargs["fmt"] = "json"
                return inner(*args, **kwargs)

            fn = click.option(
                "--json",
                "old_json",
                is_flag=True,
                hidden=True,
                help="Deprecated spelling of --format json.",
            )(wrapper)  # type: ignore[assignment]
        return click.option(
            "--format",
            "fmt",
            type=FormatChoice(formats, aliases),
            default=formats[0],
            show_default=True,
            help=help,
        )(fn)

    return deco
