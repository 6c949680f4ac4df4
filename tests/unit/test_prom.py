"""Prometheus textfile output: exposition grammar, escaping, null levels, atomic write."""

from __future__ import annotations

import math
import re
from pathlib import Path

from scanner.assess.results import Results
from scanner.model.vocabulary import Outcome, Reach, Strategy
from scanner.report.prom import escape_label, render_prom, write_prom
from tests.unit.builders import T0, linux_host, patch_os_check, scored

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{{LABEL}(?:,{LABEL})*\}})? (\S+)$")
HELP = re.compile(rf"^# HELP ({NAME}) .+$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (gauge|counter|untyped)$")


CHECK = patch_os_check("patch_os.fake", "Always ineffective", "old")


def results() -> Results:
    return scored(
        [
            linux_host('we"ird\\host\nname', Reach.OK, groups=["g"], hvars={}),
            linux_host("gone01", Reach.UNREACHABLE, groups=["g"], hvars={}),
        ],
        [CHECK],
    )


def parse(text: str) -> dict[str, list[tuple[str, float]]]:
    """Check every line against the exposition grammar; return samples per metric."""
    assert text.endswith("\n")
    samples: dict[str, list[tuple[str, float]]] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if m := HELP.match(line):
            continue
        if m := TYPE.match(line):
            typed.add(m.group(1))
            continue
        m = SAMPLE.match(line)
        assert m, f"not exposition format: {line!r}"
        assert m.group(1) in typed, f"sample before its TYPE line: {line!r}"
        value = float(m.group(3))
        assert not math.isnan(value)
        samples.setdefault(m.group(1), []).append((m.group(2) or "", value))
    return samples


def test_metrics_parse_and_carry_the_run() -> None:
    r = results()
    samples = parse(render_prom(r, 12.5))
    assert set(samples) == {
        "e8scan_level",
        "e8scan_host_level",
        "e8scan_host_up",
        "e8scan_controls",
        "e8scan_hosts",
        "e8scan_fleet_level",
        "e8scan_target_level",
        "e8scan_run_duration_seconds",
        "e8scan_run_timestamp_seconds",
    }
    weird = 'host="we\\"ird\\\\host\\nname"'
    # Null levels have no sample: only patch_os was assessed, on the reachable host only.
    assert samples["e8scan_level"] == [(f'{{{weird},strategy="patch_os"}}', 0.0)]
    assert samples["e8scan_host_level"] == [(f"{{{weird}}}", 0.0)]
    assert dict(samples["e8scan_host_up"]) == {f"{{{weird}}}": 1.0, '{host="gone01"}': 0.0}
    hosts = dict(samples["e8scan_hosts"])
    assert hosts['{reach="ok"}'] == 1 and hosts['{reach="unreachable"}'] == 1
    assert len(hosts) == len(Reach) and sum(hosts.values()) == 2
    controls = dict(samples["e8scan_controls"])
    assert controls[f'{{{weird},outcome="ineffective"}}'] == 1
    assert len(controls) == 2 * len(Outcome)
    gone = {k: v for k, v in controls.items() if "gone01" in k}
    assert sum(gone.values()) == sum(r.hosts[1].counts.values()) > 0
    assert samples["e8scan_fleet_level"] == [('{strategy="patch_os"}', 0.0)]
    assert samples["e8scan_target_level"] == [("", 2.0)]
    assert samples["e8scan_run_duration_seconds"] == [("", 12.5)]
    assert samples["e8scan_run_timestamp_seconds"] == [("", T0.timestamp())]


def test_fleet_level_present_when_assessed() -> None:
    r = results()
    patched = [
        f.model_copy(update={"level": 1}) if f.strategy is Strategy.MFA else f for f in r.fleet
    ]
    samples = parse(render_prom(r.model_copy(update={"fleet": patched}), 1.0))
    assert ('{strategy="mfa"}', 1.0) in samples["e8scan_fleet_level"]


def test_escape_label() -> None:
    assert escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_written_atomically_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "textfile" / "e8scan.prom"
    write_prom(results(), path, 3.0)
    parse(path.read_text())
    assert [p.name for p in path.parent.iterdir()] == ["e8scan.prom"]  # no temp file left
    assert path.stat().st_mode & 0o777 == 0o644
    path.write_text("old")
    write_prom(results(), path, 4.0)
    assert "e8scan_run_duration_seconds 4" in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["e8scan.prom"]
