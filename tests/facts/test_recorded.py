"""Each fact on its own, from recorded outputs: ``tests/facts/<fact name>/<case>.json``.

A case holds ``provenance`` (where the output's shape comes from: a corpus row, a host, a
document), ``stdout`` (and optionally ``stderr``, ``exit_code``, ``truncated``, ``timed_out``,
``command``) and ``expected``: the parsed value as JSON, or ``{"unknown": reason}``. ``command``,
when given, must equal the fact's command, so a recording cannot silently outlive a changed
command. This is pyinfra's habit: a fact is a command plus a parser, tested alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checks.facts.fact import Fact, Unknown
from scanner.checking.api import Output
from tests.facts.registry import all_facts, jsonable

HERE = Path(__file__).parent
CASES = sorted(p for p in HERE.glob("*/*.json"))


def output_of(fact: Fact[Any], case: dict[str, Any]) -> Output:
    return Output(
        command=fact.cmd.line,
        stdout=str(case.get("stdout", "")).encode(),
        stderr=str(case.get("stderr", "")).encode(),
        exit_code=case.get("exit_code", 0),
        truncated=bool(case.get("truncated", False)),
        timed_out=bool(case.get("timed_out", False)),
    )


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_recorded_case(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))
    facts = all_facts()
    assert path.parent.name in facts, f"{path.parent.name!r} names no fact in checks.facts"
    fact = facts[path.parent.name]
    assert str(case.get("provenance", "")).strip(), f"{path}: say where this output comes from"
    if "command" in case:
        assert case["command"] == fact.cmd.line, f"{path}: recorded for another command"
    assert jsonable(fact.read(output_of(fact, case))) == case["expected"]


@pytest.mark.parametrize("name", sorted(all_facts()))
def test_every_fact_has_a_recorded_value_and_a_recorded_unknown(name: str) -> None:
    expected = [
        json.loads(p.read_text(encoding="utf-8"))["expected"]
        for p in CASES
        if p.parent.name == name
    ]
    assert any(not (isinstance(e, dict) and set(e) == {"unknown"}) for e in expected), (
        f"{name}: no recorded case shows a value"
    )


FAILURES = {
    "not run": Output(command="", ran=False, exit_code=None),
    "timed out": Output(command="", stdout=b"partial", exit_code=None, timed_out=True),
    "permission denied": Output(
        command="", stderr=b"sh: 1: cannot open /etc/x: Permission denied\n", exit_code=1
    ),
    "sudo refused": Output(command="", stderr=b"sudo: a password is required\n", exit_code=1),
    "access denied (Windows)": Output(
        command="",
        stderr=b"Get-Item : Requested registry access is not allowed.\n",
        exit_code=1,
    ),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
@pytest.mark.parametrize("name", sorted(all_facts()))
def test_a_failed_read_is_never_a_value(name: str, failure: str) -> None:
    fact = all_facts()[name]
    assert isinstance(fact.read(FAILURES[failure]), Unknown)


def test_parsers_never_raise_on_junk() -> None:
    junk = [b"", b"\x00\xff garbage", b"{", b"[1, 2", b'{"a": null}', b"null", b"42", b"\n\n"]
    for fact in all_facts().values():
        for out in junk:
            fact.read(Output(command=fact.cmd.line, stdout=out, exit_code=0))
