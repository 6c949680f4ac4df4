"""Every option of every e8scan command has help text, no command's --help shows developer
notes (reST roles, double backticks, private names), and every command's help ends with two or
three examples that parse (and run, where they need no host) — issue 16 "The CLI"."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import click
import pytest
from click.testing import CliRunner

from scanner.cli.main import main

INTERNAL = ("``", ":mod:", ":func:", ":class:", ":meth:", "_scan")


def commands(cmd: click.Command, path: str = "e8scan") -> Iterator[tuple[str, click.Command]]:
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from commands(sub, f"{path} {name}")


def test_the_tree_is_walked() -> None:
    names = {path for path, _ in commands(main)}
    assert {"e8scan scan", "e8scan plan", "e8scan checks list", "e8scan feeds update"} <= names


def test_every_option_has_help() -> None:
    missing = [
        f"{path} {'/'.join(p.opts)}"
        for path, cmd in commands(main)
        for p in cmd.params
        if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()
    ]
    assert missing == []


def test_no_command_help_shows_internal_notes() -> None:
    shown = []
    for path, cmd in commands(main):
        text = cmd.get_help(click.Context(cmd, info_name=path))
        shown += [f"{path}: {mark}" for mark in INTERNAL if mark in text]
    assert shown == []


def test_scan_help_keeps_what_users_need() -> None:
    text = main.commands["scan"].get_help(click.Context(main.commands["scan"], info_name="scan"))
    assert "exit 130 or 143" in text and "history is locked" in text


# --- examples: every command's help ends with two or three real command lines -----------------

ROOT = Path(__file__).resolve().parents[2]
STOP = {"|", ">", "<", "&&", ";", "||"}
# examples of these commands need no host, history or earlier run: the test runs them
RUNNABLE = {
    "e8scan checks list",
    "e8scan checks show",
    "e8scan plan",
    "e8scan inventory",
    "e8scan keys generate",
    "e8scan kit",
    "e8scan schema",
}


def examples_of(cmd: click.Command) -> list[str]:
    """The command lines of ``cmd``'s epilog (continuation lines joined)."""
    text = cmd.epilog or ""
    assert text.startswith("\b\nExamples:\n"), text
    lines: list[str] = []
    for raw in text.splitlines()[2:]:
        line = raw.strip()
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + line
        else:
            lines.append(line)
    return lines


def invocations(example: str) -> list[list[str]]:
    """Each ``e8scan …`` word list in one example (``a && b``: two), without redirections,
    pipes, comments or leading ``VAR=value`` settings."""
    words = shlex.split(example, comments=True)
    out: list[list[str]] = []
    current: list[str] = []
    skipping = False
    for w in [*words, "&&"]:
        if w in STOP:
            if current:
                out.append(current)
            current, skipping = [], w != "&&"  # after | or > comes another program or a file
            continue
        if skipping or (not current and "=" in w and not w.startswith("-")):
            continue
        current.append(w)
    assert out and all(c[0] == "e8scan" for c in out), example
    return [c[1:] for c in out]


def leaf(args: list[str]) -> tuple[str, click.Command, list[str]]:
    """The (sub)command ``args`` name and the words after its name."""
    path, cmd = "e8scan", main
    while isinstance(cmd, click.Group) and args and args[0] in cmd.commands:
        path, cmd, args = f"{path} {args[0]}", cmd.commands[args[0]], args[1:]
    return path, cmd, args


def parse(args: list[str]) -> str:
    """Parse ``args`` with click's own parser and types: an unknown or renamed option, a missing
    value, an extra argument, a bad choice or number, or a missing required option fails. Only
    whether a named file exists is not checked (the examples name the user's files)."""
    path, cmd, rest = leaf(args)
    with mock.patch.object(click.Path, "convert", lambda self, value, param, ctx: value):
        ctx = cmd.make_context(path, list(rest))
    assert not ctx.args, (path, ctx.args)
    return path


def test_every_command_help_ends_with_two_or_three_examples() -> None:
    for path, cmd in commands(main):
        lines = examples_of(cmd)
        assert 2 <= len(lines) <= 3, (path, lines)
        text = cmd.get_help(click.Context(cmd, info_name=path, terminal_width=80))
        tail = text.rstrip().splitlines()[-len(cmd.epilog.splitlines()) + 1 :]
        assert tail[0].strip() == "Examples:", (path, tail)
        assert all(len(t) <= 80 for t in tail), (path, tail)  # not re-wrapped: short lines


def test_every_example_parses() -> None:
    seen = set()
    for _, cmd in commands(main):
        for example in examples_of(cmd):
            for args in invocations(example):
                seen.add(parse(args))
    # every leaf command appears in some example (groups show their subcommands')
    leaves = {p for p, c in commands(main) if not isinstance(c, click.Group)}
    assert leaves <= seen, leaves - seen


def test_the_parse_check_catches_a_renamed_option() -> None:
    for broken in (
        ["plan", "-i", "x.ini", "--fromat", "json"],
        ["plan", "-i", "x.ini", "--format", "yaml"],
        ["diff", "a", "b", "c"],
        ["checks", "list", "--format"],
        ["rescore", "raw.json"],  # --out is required
    ):
        with pytest.raises((click.ClickException, AssertionError)):
            parse(broken)


def test_examples_that_need_no_host_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("inventories", "examples", "scanner"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    ran: list[list[str]] = []  # a group repeats its subcommands' examples: each runs once
    for _, cmd in commands(main):
        for example in examples_of(cmd):
            for args in invocations(example):
                if leaf(args)[0] not in RUNNABLE or any(a.startswith("/") for a in args):
                    continue
                if args in ran:
                    continue
                result = CliRunner().invoke(main, args)
                assert result.exit_code == 0, (example, result.output, result.exception)
                assert result.stdout.strip(), example
                ran.append(args)
    assert len(ran) >= 12, ran
    assert (tmp_path / "keys" / "e8scan-signing.pub").is_file()


def test_help_fits_80_columns_and_no_command_summary_is_cut() -> None:
    wide, cut = [], []
    for path, cmd in commands(main):
        text = cmd.get_help(click.Context(cmd, info_name=path, terminal_width=80))
        wide += [f"{path}: {line}" for line in text.splitlines() if len(line) > 80]
        if isinstance(cmd, click.Group):
            cut += [f"{path}: {ln}" for ln in text.splitlines()[1:] if ln.endswith("...")]
    assert wide == [] and cut == []
