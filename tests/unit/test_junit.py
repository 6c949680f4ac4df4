"""JUnit XML: one test case per host × control, outcome mapping, counts, and hostile host text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from scanner.assess.results import Results
from scanner.checking.loader import load_checks
from scanner.cli.main import main
from scanner.model.vocabulary import Outcome, Reach
from scanner.report.junit import write_junit
from tests.unit.builders import linux_host, patch_os_check, scored

HOSTILE = "<hmi&01>\"'</testsuite><x>"
EVIDENCE = "]]></failure><injected/> & <b>\x07bell\x00"


EVIL_CHECK = patch_os_check("patch_os.evil", "Evidence that looks like XML", EVIDENCE)


def results() -> Results:
    return scored(
        [
            linux_host(HOSTILE, Reach.OK),
            linux_host("hist02", Reach.UNREACHABLE, "connection refused <tcp>"),
        ],
        [*load_checks(), EVIL_CHECK],
    )


def parse(path: Path) -> ET.Element:
    return ET.parse(path).getroot()  # raises on anything that is not well-formed XML


def test_one_case_per_host_and_control_with_matching_counts(tmp_path: Path) -> None:
    res = results()
    path = tmp_path / "junit.xml"
    write_junit(res, path)
    assert [p.name for p in tmp_path.iterdir()] == ["junit.xml"]
    root = parse(path)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [h.name for h in res.hosts]
    totals: Counter[str] = Counter()
    for suite, host in zip(suites, res.hosts, strict=True):
        cases = suite.findall("testcase")
        assert len(cases) == len(host.controls) == int(suite.get("tests", ""))
        got = {
            k: sum(c.find(k) is not None for c in cases) for k in ("failure", "error", "skipped")
        }
        want = {
            "failure": host.counts[Outcome.INEFFECTIVE] + host.counts[Outcome.NOT_IMPLEMENTED],
            "error": host.counts[Outcome.NO_VISIBILITY],
            "skipped": host.counts[Outcome.NOT_APPLICABLE] + host.counts[Outcome.NOT_ASSESSED],
        }
        assert got == want
        assert int(suite.get("failures", "")) == want["failure"]
        assert int(suite.get("errors", "")) == want["error"]
        assert int(suite.get("skipped", "")) == want["skipped"]
        for case, control in zip(cases, host.controls, strict=True):
            assert case.get("classname") == f"{host.name}.{control.strategy.value}"
            assert case.get("name") == f"{control.ism} {control.local_id}"
        totals.update(tests=len(cases), failures=got["failure"], errors=got["error"])
        totals.update(skipped=got["skipped"])
    for key in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(key, "")) == totals[key]
    assert totals["failures"] > 0 and totals["errors"] > 0 and totals["skipped"] > 0


def test_failures_carry_evidence_and_hostile_text_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit(results(), path)
    raw = path.read_bytes()
    assert b"<injected" not in raw and b"</testsuite><x>" not in raw and b"\x00" not in raw
    root = parse(path)
    assert root.find(".//injected") is None and root.find(".//x") is None
    suite = root.findall("testsuite")[0]
    assert suite.get("name") == HOSTILE
    case = next(c for c in suite.iter("testcase") if c.get("name", "").startswith("ISM-1501 "))
    assert case.get("classname") == f"{HOSTILE}.patch_os"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "ineffective"
    clean = "]]></failure><injected/> & <b>\\x07bell\\x00"
    assert (failure.get("message") or "").startswith(f"ineffective: {clean}")
    assert (failure.text or "").startswith(clean) and "check: patch_os.evil v1" in (
        failure.text or ""
    )

    dead = root.findall("testsuite")[1]
    props = {p.get("name"): p.get("value") for p in dead.iter("property")}
    assert props["reach"] == "unreachable" and props["reach_detail"] == "connection refused <tcp>"
    assert props["level"] == "not assessed"
    errors = [c.find("error") for c in dead.iter("testcase") if c.find("error") is not None]
    assert errors and all(e is not None and e.get("type") == "no_visibility" for e in errors)
    assert all("connection refused <tcp>" in (e.text or "") for e in errors if e is not None)
    assert not any(c.find("failure") is not None for c in dead.iter("testcase"))


def test_report_command_writes_junit_and_html_from_results_json(tmp_path: Path) -> None:
    res = results()
    src = tmp_path / "results.json"
    src.write_text(res.model_dump_json())
    out = CliRunner().invoke(
        main,
        [
            "report",
            str(src),
            "--junit",
            str(tmp_path / "j.xml"),
            "--html",
            str(tmp_path / "r.html"),
        ],
    )
    assert out.exit_code == 0, out.output
    root = parse(tmp_path / "j.xml")
    assert int(root.get("tests", "")) == sum(len(h.controls) for h in res.hosts)
    assert "&lt;hmi&amp;01&gt;" in (tmp_path / "r.html").read_text(encoding="utf-8")
