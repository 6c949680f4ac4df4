"""`make bench`'s report fleet (tests/bench/bench_report.py) is built from the shipped checks, so a
change of the check API can break it unseen (it did: `Command.render` came to take a host
profile). Build a small fleet and run the bench's floor on it, as `make bench` does at scale."""

from __future__ import annotations

from pathlib import Path

from bench_report import floor, synthetic_raw

from scanner.assess.results import Results
from scanner.record.jsonstream import read_model
from scanner.report.files import write_json_atomic


def test_the_synthetic_fleet_is_judged_one_finding_per_host_and_control(tmp_path: Path) -> None:
    raw = synthetic_raw(3)
    assert [h.name for h in raw.hosts] == [f"host{i:05d}.site{i}.example" for i in range(3)]
    assert all(h.commands for h in raw.hosts)  # every host answered every command
    write_json_atomic(tmp_path / "raw.json", raw, "hosts")
    floor(tmp_path / "raw.json", tmp_path)
    results = read_model(tmp_path / "results.json", Results, "hosts")
    assert [h.name for h in results.hosts] == [h.name for h in raw.hosts]
    assert all(h.controls for h in results.hosts)
