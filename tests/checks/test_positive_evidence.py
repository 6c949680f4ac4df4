"""Effective needs positive evidence: the rule, tested over every check and every recorded host.

A judge may say effective only when the collected output shows the control working. For every
fixture of every check, each declared command is broken the ways real hosts break it — empty
output, the program or cmdlet not found, output cut at the size limit, the read refused — and:

- with every command broken at once, no control is effective;
- with one command broken, no control becomes effective that was not effective before (a broken
  read of a *problem* must never turn into a pass), and a control that was effective stays so
  only when the broken command is not one it rests on (``Check.rests_on``: the commands an
  effective verdict needs evidence from; ``"a|b"`` = either of two alternatives, so breaking
  both must make it not effective).

Fixtures of checks that read the run's directories (``uses_directory``; a ``directory`` block)
have those searches broken too: each alone, all at once, or no directory at all. None may turn a
verdict effective; and a control that is effective only with the directory (not without it)
rests on every one of its searches, so breaking any one must leave it not effective.

Feeds are judged the same way: each fixture is judged again with its feed snapshot missing and
with it stale (too old for the collection); nothing may become effective because a feed is
missing or stale, with its own outputs or with every command broken.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scanner.checking.api import Check, Context, Output
from scanner.model.feeds import Snapshot
from scanner.model.vocabulary import Outcome
from tests.checks.feeds import snapshot, stale
from tests.checks.test_fixtures import (
    CHECKS,
    FIXTURES,
    _context,
    _directories,
    _directory_outputs,
    _ids,
    _load,
    _outputs,
)

MODES = ("empty", "not found", "truncated", "denied")


def broken(out: Output, mode: str, windows: bool) -> Output:
    """``out`` as a host that failed this way would have returned it."""
    clean = {"truncated": False, "timed_out": False, "ran": True}
    if mode == "empty":
        return replace(out, stdout=b"", stderr=b"", exit_code=0, **clean)
    if mode == "not found":
        err = (
            b"Get-Thing : The term 'Get-Thing' is not recognized as the name of a cmdlet, "
            b"function, script file, or operable program.\r\n"
            if windows
            else b"sh: 1: thing: not found\n"
        )
        return replace(out, stdout=b"", stderr=err, exit_code=1 if windows else 127, **clean)
    if mode == "truncated":
        return replace(out, stdout=out.stdout[: len(out.stdout) // 2], truncated=True)
    err = b"Access is denied.\r\n" if windows else b"cat: /etc/thing: Permission denied\n"
    return replace(out, stdout=b"", stderr=err, exit_code=1, **clean)


def effective(check: Check, outs: dict[str, Output], ctx: Context) -> set[str]:
    return {f.ism for f in check.judge(outs, ctx) if f.outcome is Outcome.EFFECTIVE}


def _case(path: Path) -> tuple[Check, dict[str, Output], Context, bool]:
    fixture = _load(path)
    check = CHECKS[path.parent.name]
    return check, _outputs(fixture), _context(fixture, path), fixture["platform"] == "windows"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", FIXTURES, ids=_ids(FIXTURES))
def test_nothing_is_effective_when_every_command_failed(path: Path, mode: str) -> None:
    check, outs, ctx, windows = _case(path)
    all_broken = {k: broken(o, mode, windows) for k, o in outs.items()}
    assert effective(check, all_broken, ctx) == set()
    fixture = _load(path)
    if "directory" in fixture:
        dirs = {k: broken(o, mode, False) for k, o in _directory_outputs(fixture).items()}
        no_dir = ctx.model_copy(update={"directories": _directories(fixture, dirs)})
        assert effective(check, all_broken, no_dir) == set()


EFFECTIVE_FIXTURES = [
    p
    for p in FIXTURES
    if "effective" in _load(p)["expect"].values() or len(_load(p)["outputs"]) > 1
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", EFFECTIVE_FIXTURES, ids=_ids(EFFECTIVE_FIXTURES))
def test_a_broken_command_never_makes_or_keeps_a_pass_it_rests_on(path: Path, mode: str) -> None:
    check, outs, ctx, windows = _case(path)
    before = effective(check, outs, ctx)
    problems = []
    for key in outs:
        after = effective(check, {**outs, key: broken(outs[key], mode, windows)}, ctx)
        problems += [f"{ism} became effective with {key!r} {mode}" for ism in after - before]
        for ism in after & before:
            if any(group == (key,) for group in check.evidence_for(ism)):
                problems.append(f"{ism} stayed effective with {key!r} {mode} (it rests on it)")
    for ism in before:
        for group in check.evidence_for(ism):
            if len(group) > 1:
                all_gone = {**outs, **{k: broken(outs[k], mode, windows) for k in group}}
                if ism in effective(check, all_gone, ctx):
                    problems.append(f"{ism} stayed effective with all of {group} {mode}")
    assert not problems, problems


DIRECTORY_FIXTURES = [p for p in FIXTURES if "directory" in _load(p)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", DIRECTORY_FIXTURES, ids=_ids(DIRECTORY_FIXTURES))
def test_a_broken_directory_never_makes_or_keeps_a_pass(path: Path, mode: str) -> None:
    check, outs, ctx, _ = _case(path)
    fixture = _load(path)
    dirs = _directory_outputs(fixture)

    def joined(d: dict[str, Output] | None) -> set[str]:
        directories = {} if d is None else _directories(fixture, d)
        return effective(check, outs, ctx.model_copy(update={"directories": directories}))

    before = joined(dirs)
    without = joined(None)
    rests = before - without  # effective only with the directory: it rests on every search
    problems = [f"{ism} became effective without the directory" for ism in without - before]
    cases = {f"{k!r} {mode}": {**dirs, k: broken(o, mode, False)} for k, o in dirs.items()}
    cases[f"every search {mode}"] = {k: broken(o, mode, False) for k, o in dirs.items()}
    for what, d in cases.items():
        after = joined(d)
        problems += [f"{ism} became effective with {what}" for ism in after - before]
        problems += [f"{ism} stayed effective with {what}" for ism in after & rests]
    assert not problems, problems


FEED_STATES = ("missing", "stale")


def _without_feeds(ctx: Context, state: str) -> Context:
    """``ctx`` with its feed snapshot missing, or stale (the shipped one when it had none)."""
    if state == "missing":
        return ctx.model_copy(update={"feeds": Snapshot(None)})
    base = ctx.feeds if ctx.feeds.meta is not None else snapshot("shipped")
    return ctx.model_copy(update={"feeds": stale(base)})


@pytest.mark.parametrize("state", FEED_STATES)
@pytest.mark.parametrize("path", FIXTURES, ids=_ids(FIXTURES))
def test_a_missing_or_stale_feed_never_makes_a_pass(path: Path, state: str) -> None:
    check, outs, ctx, windows = _case(path)
    blind = _without_feeds(ctx, state)
    before = effective(check, outs, ctx)
    after = effective(check, outs, blind)
    assert after <= before, f"{sorted(after - before)} became effective with the feeds {state}"
    for mode in MODES:
        all_broken = {k: broken(o, mode, windows) for k, o in outs.items()}
        assert effective(check, all_broken, blind) == set(), f"every command {mode}"
