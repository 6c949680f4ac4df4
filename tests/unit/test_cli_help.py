"""Every option of every e8scan command has help text, and no command's --help shows
developer notes (reST roles, double backticks, private names) — issue 16 "The CLI"."""

from __future__ import annotations

from collections.abc import Iterator

import click

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
