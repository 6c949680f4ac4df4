"""`make bench`: rescore + workbook for a large synthetic fleet, against a baseline in the same run.

Each measurement runs in its own process so its peak RSS is its own. The baseline is the floor
under the workbook: rescoring the same raw record and writing results.json only. The ratio is
what the workbook adds. Numbers are printed, never asserted (speed is measured, not tested).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scanner.loader import load_checks
from scanner.model import Platform, Reach
from scanner.policy import Policy
from scanner.record import CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.report.files import write_text_atomic
from scanner.report.xlsx import write_xlsx
from scanner.sweep import assess

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def synthetic_raw(hosts: int) -> RawRecord:
    """A fleet of Linux hosts whose every command answered with a short line (judges say no_visibility
    or ineffective: the point is the volume of findings, one per host × control)."""
    checks = [c for c in load_checks() if Platform.LINUX in c.platforms]
    commands = sorted({(cmd.render({}), c.id) for c in checks for cmd in c.collect.values()})
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


def measure(mode: str, raw_path: Path, out: Path) -> None:
    raw = RawRecord.model_validate_json(raw_path.read_bytes())
    start = time.perf_counter()
    results = assess(raw, load_checks(), Policy())
    write_text_atomic(out / "results.json", results.model_dump_json())
    if mode == "workbook":
        write_xlsx(results, out / "e8-report.xlsx", raw)
    took = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = sum(len(h.controls) for h in results.hosts)
    print(
        json.dumps(
            {
                "mode": mode,
                "seconds": round(took, 2),
                "peak_rss_mb": round(rss_mb),
                "findings": rows,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--measure", choices=["baseline", "workbook"])
    ap.add_argument("--raw", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if args.measure:
        measure(args.measure, args.raw, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        raw_path = Path(tmp) / "raw.json"
        raw_path.write_text(synthetic_raw(args.hosts).model_dump_json())
        got = {}
        for mode in ("baseline", "workbook"):
            out = Path(tmp) / mode
            out.mkdir()
            line = (
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--measure",
                        mode,
                        "--raw",
                        str(raw_path),
                        "--out",
                        str(out),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            got[mode] = json.loads(line)
        b, w = got["baseline"], got["workbook"]
        print(
            f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
            f"{__import__('os').cpu_count()} cores"
        )
        print(f"{args.hosts} hosts, {w['findings']} host x control rows")
        print(f"{'':28}{'seconds':>10}{'peak RSS MB':>14}")
        print(f"{'baseline (rescore + JSON)':28}{b['seconds']:>10}{b['peak_rss_mb']:>14}")
        print(f"{'e8scan (+ workbook)':28}{w['seconds']:>10}{w['peak_rss_mb']:>14}")
        print(
            f"ratio workbook/baseline: time {w['seconds'] / b['seconds']:.2f}x, "
            f"memory {w['peak_rss_mb'] / b['peak_rss_mb']:.2f}x"
        )


if __name__ == "__main__":
    main()
