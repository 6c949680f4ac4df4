"""`make bench`: rescore + workbook for a large synthetic fleet, against a floor in the same run.

What a user runs is timed: ``e8scan rescore raw.json --out DIR`` (read the raw record, judge,
score, write results.json and the workbook). The floor, in its own process too, is the part no
report can avoid: reading the same raw record, judging, scoring and writing results.json. Each
measurement is its own process so its peak RSS is its own. Numbers are printed with the issue's
targets beside them, never asserted (speed is measured, not tested).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scanner.assess.pipeline import assess
from scanner.checking.loader import load_checks
from scanner.inventory.profile import HostProfile
from scanner.model.policy import Policy
from scanner.model.vocabulary import Platform, Reach
from scanner.record.jsonstream import read_model
from scanner.record.raw import CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.report.files import write_json_atomic

E8SCAN = Path(sys.executable).with_name("e8scan")
TARGET_SECONDS, TARGET_MB = 60, 1024

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def synthetic_raw(hosts: int) -> RawRecord:
    """A fleet of Linux hosts whose every command answered with a short line (judges say no_visibility
    or ineffective: the point is the volume of findings, one per host × control)."""
    checks = [c for c in load_checks() if Platform.LINUX in c.platforms]
    commands = sorted(
        {(cmd.render(HostProfile()), c.id) for c in checks for cmd in c.collect.values()}
    )
    recs = []
    for i in range(hosts):
        reach = Reach.UNREACHABLE if i % 50 == 49 else Reach.OK
        recs.append(
            HostRecord(
                name=f"host{i:05d}.site{i % 20}.example",
                address=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                port=22,
                connection="ssh",
                user="e8",
                become=True,
                platform=Platform.LINUX,
                groups=[f"site{i % 20}", "linux"],
                vars={"e8_role": "server"},
                reach=reach,
                reach_detail="" if reach is Reach.OK else "connection refused",
                started=T0,
                finished=T0,
                commands=[]
                if reach is not Reach.OK
                else [
                    CommandRecord(
                        command=line, as_run=line, checks=[cid], stdout=b"x\n", exit_code=0
                    )
                    for line, cid in commands
                ],
            )
        )
    return RawRecord(
        tool_version="bench",
        run=RunInfo(id="bench", started=T0, finished=T0, inventory=[], checks=[]),
        hosts=recs,
    )


def floor(raw_path: Path, out: Path) -> None:
    """Read the raw record, judge, score, write results.json: no report."""
    raw = read_model(raw_path, RawRecord, "hosts")
    results = assess(raw, load_checks(), Policy())
    write_json_atomic(out / "results.json", results, "hosts")


def run(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak RSS (MB) and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3, 4):  # below target / no visibility are results, not failures
        raise SystemExit(f"{cmd[0]} exited {code}: {err.strip()[-2000:]}")
    return took, usage.ru_utime + usage.ru_stime, round(usage.ru_maxrss / 1024), out


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--floor", type=Path, metavar="RAW", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.floor:
        floor(args.floor, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        raw_path = Path(tmp) / "raw.json"
        write_json_atomic(raw_path, synthetic_raw(args.hosts), "hosts")
        for name in ("floor", "e8scan"):
            (Path(tmp) / name).mkdir()
        floor_s, floor_cpu, floor_mb, _ = run(
            [sys.executable, __file__, "--floor", str(raw_path), "--out", f"{tmp}/floor"]
        )
        e8_s, e8_cpu, e8_mb, _ = run(
            [str(E8SCAN), "rescore", str(raw_path), "--out", f"{tmp}/e8scan", "-q"]
        )
        results = json.loads((Path(tmp) / "e8scan" / "results.json").read_text())
        rows = sum(len(h["controls"]) for h in results["hosts"])
        book = (Path(tmp) / "e8scan" / "e8-report.xlsx").stat().st_size / 2**20
    print(f"machine: {machine()}")
    print(f"{args.hosts} hosts x {rows // max(args.hosts, 1)} controls = {rows} findings")
    print(f"{'':44}{'seconds':>9}{'CPU s':>8}{'peak RSS MB':>13}")
    print(
        f"{'floor: read raw + judge + score + JSON':44}{floor_s:>9.1f}{floor_cpu:>8.1f}{floor_mb:>13}"
    )
    label = f"e8scan rescore (+ workbook, {book:.0f} MB)"
    print(f"{label:44}{e8_s:>9.1f}{e8_cpu:>8.1f}{e8_mb:>13}")
    print(f"ratio e8scan/floor: time {e8_s / floor_s:.2f}x, memory {e8_mb / floor_mb:.2f}x")
    print(
        f"targets at 10,000 hosts: <= {TARGET_SECONDS} s: {e8_s:.1f} s "
        f"({'met' if e8_s <= TARGET_SECONDS else 'NOT met'}); <= {TARGET_MB} MB: {e8_mb} MB "
        f"({'met' if e8_mb <= TARGET_MB else 'NOT met'})"
        + ("" if args.hosts == 10_000 else f"  [this run: {args.hosts} hosts]")
    )


if __name__ == "__main__":
    main()
