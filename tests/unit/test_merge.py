"""Federated sweeps: per-site results merged into one fleet result."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
from scanner.runs.history import History
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


# -- input folders come from other machines: links are never followed (issue 12 #10) --------------

REPO = Path(__file__).resolve().parents[2]
CANARY = "canary-4f1c9e-shadow-line"


def _e8(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


def _collector(folder: Path, run: str, host: str) -> Path:
    """A collector's scan folder: results.json and a (minimal) evidence bundle."""
    (folder / "evidence" / "hosts" / host).mkdir(parents=True)
    (folder / "results.json").write_text(site(run, [(host, Reach.OK)], T0).model_dump_json())
    (folder / "evidence" / "manifest.json").write_text('{"kind": "e8scan-evidence"}\n')
    (folder / "evidence" / "hosts" / host / "host.json").write_text(
        json.dumps({"name": host}) + "\n"
    )
    return folder


def _plant(evidence: Path, kind: str, outside: Path) -> Path:
    """A symbolic link of ``kind`` in the bundle; returns the link's path."""
    if kind == "file outside":
        link = evidence / "hosts" / "h2" / "shadow"
        link.symlink_to(outside / "shadow")
    elif kind == "folder outside":
        link = evidence / "etc"
        link.symlink_to("/etc")
    elif kind == "loop":
        link = evidence / "hosts" / "loop"
        link.symlink_to("loop")
    elif kind == "relative escape":
        link = evidence / "hosts" / "h2" / "up"
        link.symlink_to("../../../../outside/shadow")
        assert link.resolve() == outside / "shadow"
    else:
        link = evidence  # the bundle folder itself
        shutil.rmtree(evidence)
        link.symlink_to(outside, target_is_directory=True)
    return link


@pytest.mark.parametrize(
    "kind", ["file outside", "folder outside", "loop", "relative escape", "bundle is a link"]
)
def test_merge_refuses_a_link_in_an_input_evidence_folder_by_name(
    tmp_path: Path, kind: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shadow").write_text(f"root:{CANARY}:19000:0:99999:7:::\n")
    (outside / "manifest.json").write_text('{"kind": "e8scan-evidence"}\n')
    s1 = _collector(tmp_path / "s1", "s1", "h1")
    s2 = _collector(tmp_path / "s2", "s2", "h2")
    link = _plant(s2 / "evidence", kind, outside)
    out = tmp_path / "fleet"

    res = _e8("merge", str(s1), str(s2), "--out", str(out), "--no-history")

    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(f"e8scan: error: {link}: symbolic link (to ")
    # Refused before anything was written: no fleet result, no copied bundle, no canary anywhere.
    assert not (out / "results.json").exists()
    assert not (out / "evidence").exists()
    copied = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()]
    assert all(
        CANARY not in p.read_text(errors="replace") for p in copied if outside not in p.parents
    )


def test_merge_refuses_a_fifo_in_an_input_evidence_folder(tmp_path: Path) -> None:
    s1 = _collector(tmp_path / "s1", "s1", "h1")
    s2 = _collector(tmp_path / "s2", "s2", "h2")
    os.mkfifo(s2 / "evidence" / "hosts" / "pipe")
    res = _e8("merge", str(s1), str(s2), "--out", str(tmp_path / "fleet"), "--no-history")
    assert res.returncode == 1
    assert res.stderr.strip() == (
        f"e8scan: error: {s2 / 'evidence' / 'hosts' / 'pipe'}: not a regular file or folder in "
        "an input evidence folder: refused"
    )


def test_merge_refuses_results_linked_out_of_the_input_folder(tmp_path: Path) -> None:
    s1 = _collector(tmp_path / "s1", "s1", "h1")
    s2 = _collector(tmp_path / "s2", "s2", "h2")
    elsewhere = tmp_path / "elsewhere.json"
    (s2 / "results.json").rename(elsewhere)
    (s2 / "results.json").symlink_to(elsewhere)
    res = _e8("merge", str(s1), str(s2), "--out", str(tmp_path / "fleet"), "--no-history")
    assert res.returncode == 1
    assert res.stderr.startswith(f"e8scan: error: {s2 / 'results.json'}: symbolic link (to ")
    # A link that stays inside the folder is fine.
    (s2 / "results.json").unlink()
    (s2 / "results-2026.json").write_text(elsewhere.read_text())
    (s2 / "results.json").symlink_to("results-2026.json")
    res = _e8("merge", str(s1), str(s2), "--out", str(tmp_path / "fleet"), "--no-history")
    assert res.returncode == 0, res.stderr


def test_merge_copies_clean_bundles_and_replaces_an_earlier_copy(tmp_path: Path) -> None:
    s1 = _collector(tmp_path / "s1", "s1", "h1")
    s2 = _collector(tmp_path / "s2", "s2", "h2")
    out = tmp_path / "fleet"
    for _ in range(2):
        res = _e8("merge", str(s1), str(s2), "--out", str(out), "--no-history")
        assert res.returncode == 0, res.stderr
    copy = out / "evidence" / "2-s2"
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*")) == [
        "hosts",
        "hosts/h2",
        "hosts/h2/host.json",
        "manifest.json",
    ]
    assert sorted(p.name for p in (out / "evidence").iterdir()) == ["1-s1", "2-s2"]


def test_merge_writes_the_history_under_its_lock(tmp_path: Path) -> None:
    """Issue 12 #9: merge wrote the history without the lock a running scan holds."""
    s1 = _collector(tmp_path / "s1", "s1", "h1")
    s2 = _collector(tmp_path / "s2", "s2", "h2")
    hist = tmp_path / "history.sqlite"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from scanner.runs.history import run_lock\n"
            "with run_lock(Path(sys.argv[1])):\n print('held', flush=True); sys.stdin.read()",
            str(hist),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        res = _e8(
            "merge", str(s1), str(s2), "--out", str(tmp_path / "fleet"), "--history", str(hist)
        )
        assert res.returncode == 1
        assert f"another e8scan run (pid {holder.pid}" in res.stderr
        assert not (tmp_path / "fleet" / "results.json").exists()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    res = _e8("merge", str(s1), str(s2), "--out", str(tmp_path / "fleet"), "--history", str(hist))
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "history.sqlite.lock").exists()
    with History.open(hist, create=False) as h:
        assert len(h.runs()) == 1


def test_an_interrupted_collectors_missing_hosts_keep_the_merge_incomplete() -> None:
    a = site("a", [("h1", Reach.OK)], T0)
    a.run.incomplete, a.run.incomplete_reason = True, "interrupted by SIGINT"
    a.run.not_collected = ["h2", "h3"]
    b = site("b", [("h2", Reach.OK)], T0)  # another collector has h2
    m = merge_results([("a", a), ("b", b)])
    assert m.run.incomplete and m.run.not_collected == ["h3"]
    assert m.run.incomplete_reason == "a: interrupted by SIGINT"
    c = site("c", [("h3", Reach.OK)], T0)
    whole = merge_results([("a", a), ("b", b), ("c", c)])
    assert not whole.run.incomplete and whole.run.not_collected == []


def test_merge_copies_bagit_and_pre_bagit_bundles_that_still_verify(tmp_path: Path) -> None:
    """A collector's BagIt bundle (payload under data/) and an archived pre-BagIt one are copied
    whole: each copy verifies, and the BagIt one is still a valid bag."""
    import bagit

    from scanner.runs.evidence import verify_bundle, write_bundle

    s1, s2 = tmp_path / "s1", tmp_path / "s2"
    results = site("s1", [("h1", Reach.OK)], T0)
    s1.mkdir()
    (s1 / "results.json").write_text(results.model_dump_json())
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id="s1", started=T0, finished=T0, inventory=[], checks=[]),
        hosts=[],
    )
    write_bundle(s1 / "evidence", raw, results, [])
    s2.mkdir()
    (s2 / "results.json").write_text(site("s2", [("hmi01", Reach.OK)], T0).model_dump_json())
    shutil.copytree(REPO / "tests" / "data" / "evidence-v1" / "bundle", s2 / "evidence")
    out = tmp_path / "fleet"
    res = _e8("merge", str(s1), str(s2), "--out", str(out), "--no-history")
    assert res.returncode == 0, res.stderr
    assert (out / "evidence" / "1-s1" / "data" / "results.json").is_file()
    assert verify_bundle(out / "evidence" / "1-s1") == []
    bagit.Bag(str(out / "evidence" / "1-s1")).validate(fast=False)
    assert verify_bundle(out / "evidence" / "2-s2") == []
