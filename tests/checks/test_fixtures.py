"""Every check judged against recorded outputs: ``tests/checks/<check_id>/<case>.json``.

A fixture holds what the commands of one check printed on one host (shaped after the real
outputs in shared/corpus, cited in ``provenance``), the host's inventory vars (judged as its
typed profile), policy overrides, the collection time and the expected outcome per ISM control.
The meta-tests keep fixtures honest: a changed command line forces the fixture to be re-recorded,
and every check needs at least one effective and one ineffective case.

A fixture of a check that declares ``uses_directory`` may carry what a directory host of the same
run returned: ``"directory": {"name": "dc01.corp.example", "outputs": {"domain": {"command":
"ldapsearch …", "stdout": …}, …}}`` (keys are free labels; each ``command`` must be a search some
directory check declares). It reaches the judge as ``ctx.directories[name][command]``.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.checking.api import Check, Context, Finding, Output
from scanner.checking.loader import load_checks
from scanner.inventory.profile import HostProfile, for_judging, parse_profile
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Role
from tests.checks.feeds_for_fixture import fixture_feeds

HERE = Path(__file__).parent
FIXTURES = sorted(HERE.glob("*/*.json"))
CHECKS = {c.id: c for c in load_checks()}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _check_for(path: Path) -> Check:
    check_id = path.parent.name
    assert check_id in CHECKS, f"{path}: no check with id {check_id!r}"
    return CHECKS[check_id]


def _output(rec: dict[str, Any]) -> Output:
    raw = rec.get("stdout_b64")
    stdout = base64.b64decode(raw) if raw is not None else rec.get("stdout", "").encode()
    return Output(
        command=rec["command"],
        stdout=stdout,
        stderr=rec.get("stderr", "").encode("utf-8"),
        exit_code=rec.get("exit_code"),
        truncated=rec.get("truncated", False),
        timed_out=rec.get("timed_out", False),
        ran=rec.get("ran", True),
    )


def _outputs(fixture: dict[str, Any]) -> dict[str, Output]:
    return {name: _output(rec) for name, rec in fixture["outputs"].items()}


def _directory_outputs(fixture: dict[str, Any]) -> dict[str, Output]:
    """The fixture's directory outputs by their labels (empty without a ``directory`` block)."""
    block = fixture.get("directory") or {}
    return {key: _output(rec) for key, rec in block.get("outputs", {}).items()}


def _directories(fixture: dict[str, Any], outs: dict[str, Output] | None = None) -> Any:
    """``ctx.directories`` as the engine builds it: directory host → outputs by command line;
    ``outs`` replaces the fixture's own directory outputs (by label), e.g. broken ones."""
    block = fixture.get("directory")
    if not block:
        return {}
    outs = _directory_outputs(fixture) if outs is None else outs
    return {block["name"]: {o.command: o for o in outs.values()}}


def _profile(fixture: dict[str, Any], path: Path) -> HostProfile:
    """The fixture's inventory ``vars`` as the typed profile (a bad value fails the fixture)."""
    return parse_profile(fixture.get("vars", {}), lambda name: f"{path}: vars.{name}")


def _context(fixture: dict[str, Any], path: Path) -> Context:
    policy = Policy(**fixture.get("policy", {}))
    profile = _profile(fixture, path)
    return Context(
        host=path.stem,
        platform=Platform(fixture["platform"]),
        profile=for_judging(profile, policy, profile.e8_role or Role.SERVER),
        policy=policy,
        collected_at=datetime.fromisoformat(fixture["collected_at"]),
        become=fixture.get("become", True),
        directories=_directories(fixture),
        feeds=fixture_feeds(fixture),
    )


def _judge(path: Path) -> tuple[Check, dict[str, Any], list[Finding]]:
    fixture = _load(path)
    check = _check_for(path)
    return check, fixture, check.judge(_outputs(fixture), _context(fixture, path))


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.stem}" for p in paths]


@pytest.mark.parametrize("path", FIXTURES, ids=_ids(FIXTURES))
def test_fixture_outcomes(path: Path) -> None:
    _, fixture, findings = _judge(path)
    got = {f.ism: f.outcome.value for f in findings}
    assert got == fixture["expect"], "\n".join(f"{f.ism}: {f.evidence}" for f in findings)


@pytest.mark.parametrize("path", FIXTURES, ids=_ids(FIXTURES))
def test_fixture_matches_declaration(path: Path) -> None:
    fixture = _load(path)
    check = _check_for(path)
    assert fixture.get("provenance", "").strip(), f"{path}: provenance is required"
    assert set(fixture["outputs"]) == set(check.collect), f"{path}: output names differ"
    for name, cmd in check.collect.items():
        ps = fixture.get("platform") == "windows"
        assert fixture["outputs"][name]["command"] == cmd.render(_profile(fixture, path), ps), (
            f"{path}: command {name!r} changed since the fixture was recorded; re-record it"
        )
    assert set(fixture["expect"]) == set(check.ism), f"{path}: expect must name every ISM id"
    if "directory" in fixture:
        assert check.uses_directory, f"{path}: a directory block for a check that does not use it"
        block = fixture["directory"]
        assert set(block) == {"name", "outputs"} and block["outputs"], f"{path}: directory block"
        for key, rec in block["outputs"].items():
            assert rec["command"] in DIRECTORY_SEARCHES, (
                f"{path}: directory output {key!r} is no search a directory check declares "
                "(re-record it)"
            )


DIRECTORY_SEARCHES = {
    cmd.line
    for c in CHECKS.values()
    if Platform.DIRECTORY in c.platforms
    for cmd in c.collect.values()
}


@pytest.mark.parametrize("path", FIXTURES, ids=_ids(FIXTURES))
def test_judge_contract(path: Path) -> None:
    check, fixture, findings = _judge(path)
    assert [f.ism for f in findings] == list(check.ism), "one Finding per ISM id, in order"
    for f in findings:
        assert f.evidence.strip(), f"{f.ism}: empty evidence"
        json.dumps(f.observed)  # JSON-serialisable
    again = check.judge(_outputs(fixture), _context(fixture, path))
    assert [f.model_dump() for f in again] == [f.model_dump() for f in findings], (
        "not deterministic"
    )


def test_every_check_has_effective_and_ineffective_fixtures() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for path in FIXTURES:
        seen[path.parent.name].update(_load(path)["expect"].values())
    missing = [
        f"{cid}: needs {o}"
        for cid in CHECKS
        for o in (Outcome.EFFECTIVE.value, Outcome.INEFFECTIVE.value)
        if o not in seen[cid]
    ]
    assert not missing, missing


def test_fixture_folders_name_checks() -> None:
    folders = {p.name for p in HERE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders <= set(CHECKS), folders - set(CHECKS)
