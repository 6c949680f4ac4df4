"""Joining Windows hosts to the run's directories (issue 13): the engine hands the directory hosts'
outputs only to checks that declare ``uses_directory``, and the Windows admin judges pick the
directory of each member's domain. Fixture-level verdicts live in tests/checks/<check>/samba_*.json;
these cover what a single-directory fixture cannot."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checks.restrict_admin import windows_stale_admins
from scanner.assess.judging import directory_outputs, judge_host
from scanner.assess.pipeline import assess
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach, Strategy
from scanner.record.raw import CommandRecord, HostRecord, RawRecord, RunInfo
from tests.checks.test_fixtures import _context, _directories, _load, _outputs

CASES = Path(__file__).resolve().parents[1] / "checks" / "restrict_admin.windows_stale_admins"
T0 = datetime(2026, 12, 7, 15, 35, tzinfo=UTC)


def _host(name: str, platform: Platform, commands: list[CommandRecord]) -> HostRecord:
    return HostRecord(
        name=name, address="192.0.2.10", port=636 if platform is Platform.DIRECTORY else 5986,
        connection="ldap" if platform is Platform.DIRECTORY else "winrm", user="e8audit",
        become=False, platform=platform, groups=[], vars={}, reach=Reach.OK, started=T0,
        finished=T0, commands=commands,
    )  # fmt: skip


def _cmd(line: str, stdout: str = "") -> CommandRecord:
    return CommandRecord(command=line, as_run=line, checks=[], stdout=stdout.encode(), exit_code=0)


SEEN: list[Mapping[str, Any]] = []


def _spy(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    SEEN.append(ctx.directories)
    return [Finding(ism="ISM-1648", outcome=Outcome.NO_VISIBILITY, evidence="spy")]


def _check(uses_directory: bool) -> Check:
    return Check(
        id=f"restrict_admin.spy_{str(uses_directory).lower()}",
        title="A spy that records what it was given",
        strategy=Strategy.RESTRICT_ADMIN,
        ism=("ISM-1648",),
        platforms=frozenset({Platform.WINDOWS}),
        collect={"x": "hostname"},
        judge=_spy,
        version=1,
        uses_directory=uses_directory,
    )


def test_only_checks_that_declare_it_see_the_directories() -> None:
    dc = _host("dc01", Platform.DIRECTORY, [_cmd("ldapsearch -b x -s base (a=b) c", "{}")])
    win = _host("win01", Platform.WINDOWS, [_cmd("hostname", "WIN01")])
    dirs = directory_outputs([dc, win])
    assert list(dirs) == ["dc01"]
    assert dirs["dc01"]["ldapsearch -b x -s base (a=b) c"].text == "{}"
    SEEN.clear()
    judge_host(win, [_check(False), _check(True)], Policy(), dirs)
    assert SEEN[0] == {} and SEEN[1] is dirs
    SEEN.clear()
    run = RunInfo(id="r1", started=T0, finished=T0, inventory=[], checks=[])
    assess(RawRecord(tool_version="t", run=run, hosts=[dc, win]), [_check(True)], Policy())
    assert [list(d) for d in SEEN] == [["dc01"]]


def test_a_directory_check_cannot_use_directories() -> None:
    with pytest.raises(ValidationError, match="uses_directory"):
        Check(
            id="restrict_admin.bad", title="Not for directories", strategy=Strategy.RESTRICT_ADMIN,
            ism=("ISM-1648",), platforms=frozenset({Platform.DIRECTORY}),
            collect={"x": "ldapsearch -b x -s base (a=b) c"}, judge=_spy, version=1,
            uses_directory=True,
        )  # fmt: skip


def _judge(case: str, directories: Any = None, groups: Any = None) -> Finding:
    path = CASES / f"{case}.json"
    fixture = _load(path)
    outs = _outputs(fixture)
    if groups is not None:
        doc = json.loads(outs["groups"].text)
        groups(doc)
        outs["groups"] = Output(command=outs["groups"].command, stdout=json.dumps(doc).encode(),
                                exit_code=0)  # fmt: skip
    ctx = _context(fixture, path)
    if directories is not None:
        ctx = ctx.model_copy(update={"directories": directories})
    return windows_stale_admins.judge(outs, ctx)[0]


def test_the_directory_of_the_members_domain_is_chosen_among_several() -> None:
    fixture = _load(CASES / "samba_domain_admins_stale.json")
    corp = _directories(fixture)["dc01.corp.e8scan.test"]
    other = {
        line: Output(command=line, stdout=o.stdout.replace(b"S-1-5-21-906374827", b"S-1-5-21-1"),
                     exit_code=0)
        for line, o in corp.items()
    }  # fmt: skip
    f = _judge("samba_domain_admins_stale", {"a-dc.other.example": other, "z-dc": corp})
    assert f.outcome is Outcome.INEFFECTIVE, f.evidence
    assert f.observed["directories"] == ["z-dc"]


def test_a_domain_user_named_directly_is_judged() -> None:
    def direct(doc: dict[str, Any]) -> None:
        admins = doc["groups"][0]["members"]
        stale = {"path": "WinNT://CORP/da-stale", "class": "User",
                 "sid": "S-1-5-21-906374827-89259503-3754927517-1103"}  # fmt: skip
        admins[:] = [m for m in admins if m["class"] == "User"] + [stale]

    f = _judge("samba_domain_admins_current", groups=direct)
    assert f.outcome is Outcome.EFFECTIVE, f.evidence  # the edited directory: all fresh
    f = _judge(
        "samba_domain_admins_stale",
        groups=direct,
    )
    assert f.outcome is Outcome.INEFFECTIVE, f.evidence
    assert f.observed["domain_privileged"]["inactive"][0].startswith("CORP\\da-stale: last logon")


def test_an_unreadable_directory_is_named_when_its_domain_is_unknown() -> None:
    fixture = _load(CASES / "samba_domain_admins_stale.json")
    corp = _directories(fixture)["dc01.corp.e8scan.test"]
    broken = {line: Output(command=line, ran=False) for line in corp}
    f = _judge("samba_domain_admins_stale", {"dc01": broken})
    assert f.outcome is Outcome.NO_VISIBILITY
    assert "domain CORP not read: directory dc01 not read: domain search:" in f.evidence
