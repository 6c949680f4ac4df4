"""The feed machinery end to end, over real HTTP: ``e8scan feeds update`` from a loopback mirror
serving the shipped snapshot (tests/feedmirror.py), status, export/import, corrupt downloads
refused with the previous snapshot intact, and scans and rescores recording the snapshot they
used. Every test has its own E8SCAN_DATA_DIR (tests/conftest.py)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from feedmirror import SHIPPED, feed_mirror
from openpyxl import load_workbook

from scanner.feeds.store import data_dir, install, installed, new_staging, verify, write_meta
from scanner.model.feeds import FEEDS, KEV_FILE, SNAPSHOT_FILE, SnapshotMeta

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_META = SnapshotMeta.model_validate_json((SHIPPED / SNAPSHOT_FILE).read_bytes())


def e8(*args: str, timeout: float = 120, proxied: bool = False) -> subprocess.CompletedProcess[str]:
    # the mirror is on loopback: never through a proxy the environment may name
    env = dict(os.environ) | {"PYTHONPATH": str(ROOT)}
    if not proxied:
        env |= {"NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def refused(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("e8scan: error: feeds ")
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def snapshot_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _install_shipped() -> Path:
    """The shipped snapshot installed as if updated (fast: no download, no parse)."""
    stage = new_staging(data_dir())
    shutil.copytree(SHIPPED, stage, dirs_exist_ok=True)
    return install(stage, SHIPPED_META)


def test_the_data_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("E8SCAN_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d"
    monkeypatch.delenv("E8SCAN_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "e8scan" / "feeds"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".local" / "share" / "e8scan" / "feeds"


def test_the_shipped_snapshot_json_is_what_the_install_code_writes() -> None:
    again = verify(
        SHIPPED,
        {n: m.source for n, m in SHIPPED_META.feeds.items()},
        {n: m.fetched_at for n, m in SHIPPED_META.feeds.items()},
        require=True,
    )
    assert again == SHIPPED_META
    assert {n: (m.as_of.isoformat(), m.records) for n, m in again.feeds.items()} == {
        "kev": ("2025-08-25", 1404),
        "endoflife": ("2026-08-20", 12799),
        "csaf-ot": ("2024-10-24", 344),
    }


def test_update_from_a_mirror_then_status() -> None:
    before = e8("feeds", "status")
    assert before.returncode == 0, before.stderr
    assert "the shipped default" in before.stdout
    with feed_mirror() as mirror:
        run = e8("feeds", "update", "--mirror", mirror.url)
    assert run.returncode == 0, run.stderr
    folder = installed()
    assert folder is not None and folder.parent == data_dir()
    meta = SnapshotMeta.model_validate_json((folder / SNAPSHOT_FILE).read_bytes())
    assert {n: m.sha256 for n, m in meta.feeds.items()} == {
        n: m.sha256 for n, m in SHIPPED_META.feeds.items()
    }
    assert meta.feeds["kev"].source == mirror.url + "kev/"
    assert "known_exploited_vulnerabilities_schema.json" not in mirror.hits[0]
    assert len([h for h in mirror.hits if h.startswith("csaf-ot/2024/")]) == 344
    assert not list(data_dir().glob(".staging-*"))
    status = e8("feeds", "status")
    assert status.returncode == 0
    assert f"snapshot: {folder}" in status.stdout and "shipped default" not in status.stdout
    for m in meta.feeds.values():
        assert m.sha256 in status.stdout and m.source in status.stdout
    assert "as of       2025-08-25" in status.stdout and "records     1404" in status.stdout

    # a newer install replaces it; the one before stays (a running scan may read it), older go
    second = _install_shipped()
    assert installed() == second != folder and folder.exists()
    third = _install_shipped()
    assert installed() == third and second.exists() and not folder.exists()


@pytest.mark.parametrize(
    ("fault_path", "fault", "needle"),
    [
        (KEV_FILE, "truncate", "truncated"),
        (KEV_FILE, "oversize", "more than the cap of 33,554,432 bytes"),
        (KEV_FILE, "html", "not JSON"),
        (KEV_FILE, "schema", "no vulnerabilities list"),
        ("endoflife/releases/firefox.json", "html", "not JSON"),
        ("endoflife/releases/firefox.json", "schema", 'no "versions" object'),
        ("endoflife/products/windows.md", "html", "no YAML front matter"),
        ("endoflife/products/windows.md", "404", "HTTP 404"),
        ("csaf-ot/index.txt", "404", "HTTP 404"),
        ("csaf-ot/2024/icsa-24-004-01.json", "schema", "not a CSAF 2.0 advisory"),
        ("csaf-ot/2024/icsa-24-004-01.json", "truncate", "truncated"),
    ],
)
def test_a_corrupt_download_is_refused_and_the_previous_snapshot_kept(
    fault_path: str, fault: str, needle: str
) -> None:
    previous = _install_shipped()
    assert previous is not None
    files = snapshot_files(previous)
    with feed_mirror(faults={fault_path: fault}) as bad:
        line = refused(
            e8("feeds", "update", "--mirror", bad.url),
            f"{bad.url}{fault_path}: ",
            needle,
            "the previous snapshot stays installed",
        )
    assert len(line) < 400
    assert installed() == previous and snapshot_files(previous) == files
    assert not list(data_dir().glob(".staging-*"))


def test_an_unreachable_mirror_or_a_bad_url_is_one_line() -> None:
    refused(
        e8("feeds", "update", "--mirror", "http://127.0.0.1:9/feeds/"),
        "http://127.0.0.1:9/feeds/kev/known_exploited_vulnerabilities.json: unreachable",
        "shipped default snapshot stays in use",
    )
    refused(e8("feeds", "update", "--mirror", "ftp://mirror/"), "expected an http://")
    assert installed() is None and not list(data_dir().glob(".staging-*"))


def test_the_proxy_named_in_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with feed_mirror() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        run = e8("feeds", "update", "--mirror", "http://feeds.mirror.invalid/", proxied=True)
    assert run.returncode == 0, run.stderr
    assert proxy.proxied[0] == "http://feeds.mirror.invalid/" + KEV_FILE
    folder = installed()
    assert folder is not None
    meta = SnapshotMeta.model_validate_json((folder / SNAPSHOT_FILE).read_bytes())
    assert meta.feeds["kev"].source == "http://feeds.mirror.invalid/kev/"


def test_export_import_round_trip(tmp_path: Path) -> None:
    bundle = tmp_path / "feeds.tar.gz"
    out = e8("feeds", "export", str(bundle))  # nothing installed: the shipped snapshot
    assert out.returncode == 0, out.stderr
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
    assert SNAPSHOT_FILE in names and KEV_FILE in names and "SOURCES.md" not in names
    imported = e8("feeds", "import", str(bundle))
    assert imported.returncode == 0, imported.stderr
    folder = installed()
    assert folder is not None
    # the bundle's description is kept (source, fetch time) and matches the files
    assert SnapshotMeta.model_validate_json((folder / SNAPSHOT_FILE).read_bytes()) == SHIPPED_META
    again = tmp_path / "again.tar.gz"
    assert e8("feeds", "export", str(again)).returncode == 0
    with tarfile.open(again) as tar:
        assert sorted(tar.getnames()) == sorted(names)


def _bundle(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


KEV_BYTES = (SHIPPED / KEV_FILE).read_bytes()


@pytest.mark.parametrize(
    ("members", "needle"),
    [
        ([(_file("../evil.json"), b"{}")], "path traversal refused"),
        ([(_file("/etc/evil"), b"{}")], "path traversal refused"),
        ([(_link(KEV_FILE, "/etc/passwd", tarfile.SYMTYPE), None)], "link or special file"),
        ([(_link(KEV_FILE, "snapshot.json", tarfile.LNKTYPE), None)], "link or special file"),
        ([(_file(KEV_FILE), b"\0" * (FEEDS["kev"].max_bytes + 1))], "over the cap"),
        ([(_file(KEV_FILE), b"<html></html>")], "not JSON"),
        ([(_file("README.md"), b"hello")], "no feed in the snapshot layout"),
        (
            [
                (_file(SNAPSHOT_FILE), (SHIPPED / SNAPSHOT_FILE).read_bytes()),
                (_file(KEV_FILE), KEV_BYTES.replace(b"CVE-2025-48384", b"CVE-2025-48385")),
            ],
            "do not match the sha256",
        ),
    ],
)
def test_import_refuses_a_hostile_or_broken_bundle(
    tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], needle: str
) -> None:
    bundle = _bundle(tmp_path / "b.tar.gz", members)
    refused(e8("feeds", "import", str(bundle)), str(bundle), needle)
    assert installed() is None and not (tmp_path.parent / "evil.json").exists()
    assert not list(data_dir().glob(".staging-*"))
    not_gz = tmp_path / "n.tar.gz"
    not_gz.write_bytes(b"plain text")
    refused(e8("feeds", "import", str(not_gz)), "not a readable .tar.gz bundle")


def _newer_snapshot(dest: Path) -> Path:
    """A copy of the shipped snapshot whose KEV catalogue is one day newer (one entry fewer)."""
    shutil.copytree(SHIPPED, dest)
    doc = json.loads(KEV_BYTES)
    doc["dateReleased"] = "2025-08-26T12:00:00.000Z"
    doc["vulnerabilities"] = doc["vulnerabilities"][1:]
    (dest / KEV_FILE).write_text(json.dumps(doc), encoding="utf-8")
    fetched = {n: m.fetched_at for n, m in SHIPPED_META.feeds.items()}
    fetched["kev"] = fetched["kev"].replace(day=27)
    write_meta(dest, verify(dest, dict.fromkeys(FEEDS, "test copy"), fetched, require=True))
    return dest


def _inventory(tmp_path: Path) -> Path:
    inv = tmp_path / "local.yml"
    inv.write_text(
        "all:\n  hosts:\n"
        "    one:\n      ansible_connection: local\n"
        "    two:\n      ansible_connection: local\n",
        encoding="utf-8",
    )
    return inv


def test_scan_warns_once_records_the_snapshot_and_rescore_judges_against_another(
    tmp_path: Path,
) -> None:
    with feed_mirror() as mirror:
        assert e8("feeds", "update", "--mirror", mirror.url).returncode == 0
    scan = e8(
        "scan", "-i", str(_inventory(tmp_path)), "--out", str(tmp_path / "s"), "-q", "--no-history"
    )
    assert scan.returncode not in (1, 2), scan.stderr
    warnings = [ln for ln in scan.stderr.splitlines() if "feeds:" in ln]
    assert len(warnings) == 1, scan.stderr  # two hosts, one warning
    assert warnings[0].startswith("e8scan: warning: feeds: kev snapshot ")
    assert "days old" in warnings[0] and warnings[0].endswith("; run e8scan feeds update")
    results = json.loads((tmp_path / "s" / "results.json").read_text(encoding="utf-8"))
    used = {f["name"]: f for f in results["run"]["feeds"]}
    assert set(used) == set(FEEDS)
    assert used["kev"] == {
        "name": "kev",
        "as_of": "2025-08-25",
        "sha256": SHIPPED_META.feeds["kev"].sha256,
        "source": mirror.url + "kev/",
    }
    run_sheet = {
        r[0]: r[1]
        for r in load_workbook(tmp_path / "s" / "e8-report.xlsx")["Run"].iter_rows(values_only=True)
    }
    assert run_sheet["Feed kev"] == (
        f"as of 2025-08-25  {mirror.url}kev/  sha256:{SHIPPED_META.feeds['kev'].sha256}"
    )

    raw = tmp_path / "s" / "raw.json"
    newer = _newer_snapshot(tmp_path / "newer")

    def rescore(feeds: Path, out: str) -> dict[str, object]:
        proc = e8("rescore", str(raw), "--out", str(tmp_path / out), "--feeds", str(feeds), "-q")
        assert proc.returncode not in (1, 2), proc.stderr
        return json.loads((tmp_path / out / "results.json").read_text(encoding="utf-8"))

    old_1, old_2, new = rescore(SHIPPED, "a"), rescore(SHIPPED, "b"), rescore(newer, "c")
    assert (tmp_path / "a" / "results.json").read_bytes() == (
        tmp_path / "b" / "results.json"
    ).read_bytes()
    assert old_1 == old_2
    old_kev = next(f for f in old_1["run"]["feeds"] if f["name"] == "kev")  # type: ignore[index]
    new_kev = next(f for f in new["run"]["feeds"] if f["name"] == "kev")  # type: ignore[index]
    assert (old_kev["as_of"], new_kev["as_of"]) == ("2025-08-25", "2025-08-26")
    assert old_kev["sha256"] != new_kev["sha256"]

    # a bundle works as --feeds too, and a folder that is no snapshot is one line
    bundle = tmp_path / "newer.tar.gz"
    from scanner.feeds.bundle import export_bundle

    export_bundle(newer, bundle)
    assert rescore(bundle, "d")["run"]["feeds"] == new["run"]["feeds"]  # type: ignore[index]
    bad = e8("rescore", str(raw), "--out", str(tmp_path / "e"), "--feeds", str(tmp_path))
    assert bad.returncode == 1 and "--feeds" in bad.stderr and "no snapshot.json" in bad.stderr


def test_a_damaged_installed_snapshot_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    folder = _install_shipped()
    (folder / SNAPSHOT_FILE).write_text('{"kind": "e8scan-feeds", "feeds": 3}', encoding="utf-8")
    refused(e8("feeds", "status"), f"{folder / SNAPSHOT_FILE}: ")
    scan = e8(
        "scan", "-i", str(_inventory(tmp_path)), "--out", str(tmp_path / "s"), "-q", "--no-history"
    )
    assert scan.returncode == 1 and "Traceback" not in scan.stderr
    assert scan.stderr.strip().splitlines() == [
        line for line in scan.stderr.strip().splitlines() if line.startswith("e8scan: error: feeds")
    ]
    assert not (tmp_path / "s" / "results.json").exists()


def test_the_policy_sets_how_old_a_feed_may_be(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        "feed_max_age_days: {kev: 10000, endoflife: 10000, csaf-ot: 10000}\n", encoding="utf-8"
    )
    scan = e8(
        "scan",
        "-i",
        str(_inventory(tmp_path)),
        "--out",
        str(tmp_path / "s"),
        "--policy",
        str(policy),
        "-q",
        "--no-history",
    )
    assert scan.returncode not in (1, 2), scan.stderr
    assert "feeds:" not in scan.stderr  # the shipped snapshot, young enough for this policy
    results = json.loads((tmp_path / "s" / "results.json").read_text(encoding="utf-8"))
    assert [f["source"] for f in results["run"]["feeds"]] == [
        m.source for m in SHIPPED_META.feeds.values()
    ]


def test_merge_lists_every_snapshot_its_parts_were_judged_with(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from scanner.assess.pipeline import assess
    from scanner.model.feeds import Snapshot
    from scanner.model.policy import Policy
    from scanner.record.raw import RawRecord, RunInfo
    from scanner.runs.merge import merge_results

    at = datetime(2025, 8, 26, tzinfo=UTC)
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id="r", started=at, finished=at, inventory=[], checks=[], target_level=1),
        hosts=[],
    )
    old = assess(raw, [], Policy(), feeds=Snapshot.load(SHIPPED))
    new = assess(raw, [], Policy(), feeds=Snapshot.load(_newer_snapshot(tmp_path / "n")))
    merged = merge_results([("a", old), ("b", old), ("c", new)])
    kev = [(f.as_of.isoformat(), f.sha256) for f in merged.run.feeds if f.name == "kev"]
    assert kev == [
        ("2025-08-25", SHIPPED_META.feeds["kev"].sha256),
        ("2025-08-26", new.run.feeds[0].sha256),
    ]
    assert len(merged.run.feeds) == 4  # kev twice; endoflife and csaf-ot the same in both
