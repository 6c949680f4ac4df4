"""Federated sweeps: per-site results merged into one fleet result."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.assess.pipeline import assess
from scanner.assess.results import Results
from scanner.cli.main import main
from scanner.model.errors import InputError
from scanner.model.policy import Policy
from scanner.model.vocabulary import Platform, Reach
from scanner.record.raw import HostRecord, RawRecord, RunInfo
from scanner.runs.merge import merge_results

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def site(run: str, hosts: list[tuple[str, Reach]], at: datetime, target: int = 1) -> Results:
    recs = [
        HostRecord(
            name=n,
            address="192.0.2.1",
            port=22,
            connection="ssh",
            user="e8",
            become=False,
            platform=Platform.LINUX,
            groups=[run],
            vars={},
            reach=reach,
            reach_detail="" if reach is Reach.OK else "connection refused",
            started=at,
            finished=at,
        )
        for n, reach in hosts
    ]
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id=run, started=at, finished=at, inventory=[], checks=[], target_level=target),
        hosts=recs,
    )
    return assess(raw, [], Policy())


def test_merge_joins_sites_and_keeps_the_newest_copy_of_a_host() -> None:
    a = site("pilbara", [("hmi1", Reach.OK), ("shared", Reach.UNREACHABLE)], T0)
    b = site("perth", [("ws1", Reach.OK), ("shared", Reach.OK)], T0 + timedelta(hours=2))
    with pytest.warns(UserWarning, match="shared is in a.json and b.json; keeping the newer"):
        m = merge_results([("a.json", a), ("b.json", b)])
    assert [h.name for h in m.hosts] == ["hmi1", "shared", "ws1"]
    assert next(h for h in m.hosts if h.name == "shared").reach is Reach.OK
    assert m.run.started == T0 and m.run.finished == T0 + timedelta(hours=2)
    assert m.run.merged_from == ["a.json: run pilbara", "b.json: run perth"]
    assert sum(f.distribution["no_visibility"] for f in m.fleet) == 0


def test_mixed_versions_are_refused_unless_allowed() -> None:
    a = site("a", [("h1", Reach.OK)], T0)
    b = site("b", [("h2", Reach.OK)], T0).model_copy(update={"tool_version": "9.9.9"})
    with pytest.raises(InputError, match="tool version '9.9.9'"):
        merge_results([("a", a), ("b", b)])
    assert len(merge_results([("a", a), ("b", b)], allow_mixed=True).hosts) == 2
    c = site("c", [("h3", Reach.OK)], T0, target=2)
    with pytest.raises(InputError, match="target level ML2"):
        merge_results([("a", a), ("c", c)])


def test_merge_command_writes_the_fleet_result(tmp_path: Path) -> None:
    for name, hosts in (("s1", [("h1", Reach.OK)]), ("s2", [("h2", Reach.UNREACHABLE)])):
        d = tmp_path / name
        d.mkdir()
        (d / "results.json").write_text(site(name, hosts, T0).model_dump_json())
    out = tmp_path / "fleet"
    r = CliRunner().invoke(
        main,
        ["merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--out", str(out), "--no-history"],
    )
    assert r.exit_code == 4, r.output  # h2 had no visibility
    merged = json.loads((out / "results.json").read_text())
    assert {h["name"] for h in merged["hosts"]} == {"h1", "h2"}
    assert (out / "e8-report.xlsx").is_file()
    bad = CliRunner().invoke(
        main, ["merge", str(tmp_path / "s1"), "--out", str(out), "--no-history"]
    )
    assert bad.exit_code == 1 and "at least two" in bad.output
