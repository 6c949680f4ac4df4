"""Drift between two runs: regressions, fixes, reach changes, hosts coming and going, loading refs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scanner.assess.pipeline import assess
from scanner.assess.results import RegisterUse, Results
from scanner.checking.api import Check, Context, Finding
from scanner.model.errors import InputError
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach, Strategy
from scanner.record.raw import CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.runs.drift import compare, load_results_ref, render_table
from scanner.runs.history import History

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


# The ML1 patch_os set, so that a host with every one effective earns ML1 there.
ISMS = ("ISM-1501", "ISM-1407", "ISM-1701", "ISM-1702", "ISM-1877", "ISM-1694", "ISM-1695")


def judge(out: Any, ctx: Context) -> list[Finding]:
    """Outcomes as the host printed them: ``ISM-1501=ineffective ISM-1407=effective``."""
    printed = dict(pair.split("=") for pair in out["x"].text.split())
    return [
        Finding(ism=ism, outcome=Outcome(printed.get(ism, "effective")), evidence="fake")
        for ism in ISMS
    ]


CHECK = Check(
    id="patch_os.fake",
    title="Outcome taken from the host's variables",
    strategy=Strategy.PATCH_OS,
    ism=ISMS,
    platforms=frozenset({Platform.LINUX}),
    collect={"x": "true"},
    judge=judge,
    version=1,
)


def run(run_id: str, hosts: dict[str, tuple[Reach, str, str]], when: datetime = T0) -> Results:
    """hosts: name → (reach, ISM-1501 outcome, ISM-1407 outcome)."""
    recs = [
        HostRecord(
            name=name,
            address="127.0.0.9",
            port=22,
            connection="ssh",
            user="scan",
            become=False,
            platform=Platform.LINUX,
            groups=["g"],
            vars={},
            commands=[
                CommandRecord(
                    command="true",
                    as_run="true",
                    checks=["patch_os.fake"],
                    stdout=f"ISM-1501={a} ISM-1407={b}".encode(),
                    exit_code=0,
                )
            ],
            reach=reach,
            reach_detail="" if reach is Reach.OK else "connection refused",
            started=when,
            finished=when,
        )
        for name, (reach, a, b) in hosts.items()
    ]
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id=run_id, started=when, finished=when, inventory=[], checks=[]),
        hosts=recs,
    )
    return assess(raw, [CHECK], Policy())


OK = Reach.OK
EFF, INEF, NA = "effective", "ineffective", "not_applicable"


def test_unchanged_run_is_not_a_regression() -> None:
    a = run("r1", {"h1": (OK, EFF, EFF), "h2": (OK, INEF, EFF)})
    d = compare(a, run("r2", {"h1": (OK, EFF, EFF), "h2": (OK, INEF, EFF)}))
    assert not d.regressed
    assert not d.new_failures and not d.fixed and not d.level_changes
    assert [(c.host, c.ism) for c in d.still_failing] == [("h2", "ISM-1501")]
    assert d.old_run.id == "r1" and d.new_run.id == "r2"
    assert "no regression" in render_table(d)


def test_control_turning_ineffective_is_a_regression_with_its_level() -> None:
    a = run("r1", {"h1": (OK, EFF, EFF), "h2": (OK, NA, EFF)})
    b = run("r2", {"h1": (OK, INEF, EFF), "h2": (OK, "no_visibility", EFF)})
    d = compare(a, b)
    assert d.regressed
    keys = {(c.host, c.strategy, c.ism, c.old, c.new) for c in d.new_failures}
    assert keys == {
        ("h1", Strategy.PATCH_OS, "ISM-1501", Outcome.EFFECTIVE, Outcome.INEFFECTIVE),
        ("h2", Strategy.PATCH_OS, "ISM-1501", Outcome.NOT_APPLICABLE, Outcome.NO_VISIBILITY),
    }
    down = [c for c in d.level_changes if c.host == "h1"]
    assert len(down) == 1 and down[0].strategy is Strategy.PATCH_OS
    assert down[0].old is not None and down[0].new is not None and down[0].new < down[0].old
    text = render_table(d)
    assert "REGRESSION" in text
    assert "h1  patch_os  ISM-1501  effective -> ineffective" in text


def test_fix_is_not_a_regression() -> None:
    d = compare(run("r1", {"h1": (OK, INEF, EFF)}), run("r2", {"h1": (OK, EFF, EFF)}))
    assert not d.regressed
    assert [(c.ism, c.old, c.new) for c in d.fixed] == [
        ("ISM-1501", Outcome.INEFFECTIVE, Outcome.EFFECTIVE)
    ]
    assert d.level_changes and not any(c.down for c in d.level_changes)


def test_newly_unreachable_host_regresses_once_not_per_control() -> None:
    a = run("r1", {"h1": (OK, EFF, EFF), "h2": (Reach.TIMEOUT, EFF, EFF)})
    b = run("r2", {"h1": (Reach.UNREACHABLE, EFF, EFF), "h2": (OK, EFF, EFF)})
    d = compare(a, b)
    assert d.regressed
    assert [(r.host, r.new) for r in d.newly_unreachable] == [("h1", Reach.UNREACHABLE)]
    assert d.newly_unreachable[0].detail == "connection refused"
    assert [(r.host, r.old) for r in d.recovered] == [("h2", Reach.TIMEOUT)]
    assert not d.new_failures and not d.fixed
    assert "newly unreachable (1):" in render_table(d)


def test_hosts_added_and_removed_are_reported_not_regressions() -> None:
    d = compare(run("r1", {"old": (OK, EFF, EFF)}), run("r2", {"new": (OK, INEF, INEF)}))
    assert not d.regressed
    assert d.hosts_added == ["new"] and d.hosts_removed == ["old"]


def test_register_expired_and_expiring() -> None:
    b = run("r2", {"h1": (OK, EFF, EFF)})
    today = b.run.finished.date()

    def use(eid: str, expires: str) -> RegisterUse:
        return RegisterUse(id=eid, kind="exception", expires=expires, statuses={}, hosts=["h1"])

    b = b.model_copy(
        update={
            "register_use": [
                use("EX-old", str(today - timedelta(days=1))),
                use("EX-soon", str(today + timedelta(days=10))),
                use("EX-later", str(today + timedelta(days=90))),
                use("AT-none", "None"),
            ]
        }
    )
    d = compare(run("r1", {"h1": (OK, EFF, EFF)}), b, soon_days=30)
    assert [e.id for e in d.register_expired] == ["EX-old"]
    assert [(e.id, e.expires) for e in d.register_expiring] == [
        ("EX-soon", today + timedelta(days=10))
    ]
    assert not d.regressed
    assert "expiring soon (1)" in render_table(d)
    assert isinstance(d.register_expiring[0].expires, date)


def test_load_results_ref_from_file_folder_and_history(tmp_path: Path) -> None:
    a = run("r1", {"h1": (OK, EFF, EFF)})
    f = tmp_path / "scan" / "results.json"
    f.parent.mkdir()
    f.write_text(a.model_dump_json())
    assert load_results_ref(str(f), None).run.id == "r1"
    assert load_results_ref(str(f.parent), None).run.id == "r1"

    hist = tmp_path / "h.sqlite"
    with History.open(hist) as h:
        h.add(a)
        h.add(run("r2", {"h1": (OK, EFF, EFF)}, T0 + timedelta(days=1)))
    assert load_results_ref("last", hist).run.id == "r2"
    assert load_results_ref("previous", hist).run.id == "r1"
    assert load_results_ref("r1", hist).run.id == "r1"
    with pytest.raises(InputError, match="newest runs: r2, r1"):
        load_results_ref("nope", hist)
    with pytest.raises(InputError, match="no run history"):
        load_results_ref("last", None)
    with pytest.raises(InputError, match="file not found"):
        load_results_ref(str(tmp_path / "missing.json"), hist)


def test_load_results_ref_refuses_newer_and_invalid_files(tmp_path: Path) -> None:
    data = json.loads(run("r1", {"h1": (OK, EFF, EFF)}).model_dump_json())
    data["schema_version"] = 99
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(data))
    with pytest.raises(InputError, match="written by a newer e8scan"):
        load_results_ref(str(newer), None)
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "e8scan-results", "hosts": 3}')
    with pytest.raises(InputError, match="not a valid results file"):
        load_results_ref(str(bad), None)
    raw = tmp_path / "raw.json"
    raw.write_text('{"kind": "e8scan-raw"}')
    with pytest.raises(InputError, match="not an e8scan results.json"):
        load_results_ref(str(raw), None)
