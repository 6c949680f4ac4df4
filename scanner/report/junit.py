"""JUnit XML: one test suite per host, one test case per host × ISM control, for CI dashboards.

Outcomes map onto JUnit's vocabulary: effective and alternate_control pass; ineffective and
not_implemented are ``<failure>``; no_visibility is ``<error>`` (the scanner could not tell);
not_applicable and not_assessed are ``<skipped>``. The document is built with ``xml.etree`` (host
text is never spliced into markup) and characters XML cannot carry are escaped as ``\\xNN``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO

from scanner.assess.results import ControlResult, HostResult, Level, Results
from scanner.model.vocabulary import Outcome
from scanner.report.files import write_atomic
from scanner.report.html import markup_text

FAILURE = frozenset({Outcome.INEFFECTIVE, Outcome.NOT_IMPLEMENTED})
ERROR = frozenset({Outcome.NO_VISIBILITY})
SKIPPED = frozenset({Outcome.NOT_APPLICABLE, Outcome.NOT_ASSESSED})
MESSAGE_MAX = 300


def _t(value: object, limit: int = 32_000) -> str:
    return markup_text(value, limit)


def _level(v: Level) -> str:
    return "not assessed" if v is None else f"ML{v}"


def _message(c: ControlResult) -> str:
    first = c.evidence.splitlines()[0] if c.evidence else ""
    return _t(f"{c.outcome.value}: {first}", MESSAGE_MAX)


def _details(c: ControlResult) -> str:
    lines = [
        c.evidence,
        "",
        f"requirement: {c.requirement}",
        f"levels: {', '.join(f'ML{n}' for n in c.levels)}",
        f"grade: {c.grade.value}",
        f"check: {c.check or '-'}" + (f" v{c.check_version}" if c.check_version else ""),
    ]
    if c.register_entry:
        lines.append(f"register: {c.register_entry}")
    return _t("\n".join(lines))


def testcase(host: HostResult, c: ControlResult) -> ET.Element:
    """The test case of one control on one host."""
    case = ET.Element(
        "testcase",
        classname=_t(f"{host.name}.{c.strategy.value}"),
        name=_t(f"{c.ism} {c.local_id}"),
        time="0",
    )
    if c.outcome in FAILURE:
        ET.SubElement(case, "failure", message=_message(c), type=c.outcome.value).text = _details(c)
    elif c.outcome in ERROR:
        ET.SubElement(case, "error", message=_message(c), type=c.outcome.value).text = _details(c)
    elif c.outcome in SKIPPED:
        ET.SubElement(case, "skipped", message=_message(c))
    return case


def _properties(host: HostResult) -> ET.Element:
    props = ET.Element("properties")
    values = {
        "address": host.address,
        "platform": host.platform.value,
        "connection": host.connection,
        "reach": host.reach.value,
        "reach_detail": host.reach_detail,
        "host_key": host.host_key or "",
        "level": _level(host.level),
        "claimable_level": _level(host.claimable_level),
    }
    values.update({f"level.{s.value}": _level(v) for s, v in host.levels.items()})
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=_t(value))
    return props


def testsuite(host: HostResult) -> ET.Element:
    """The test suite of one host, with JUnit's counts."""
    outcomes = [c.outcome for c in host.controls]
    suite = ET.Element(
        "testsuite",
        name=_t(host.name),
        tests=str(len(outcomes)),
        failures=str(sum(o in FAILURE for o in outcomes)),
        errors=str(sum(o in ERROR for o in outcomes)),
        skipped=str(sum(o in SKIPPED for o in outcomes)),
        time="0",
        timestamp=host.collected_at.isoformat(timespec="seconds"),
        hostname=_t(host.address),
    )
    suite.append(_properties(host))
    suite.extend(testcase(host, c) for c in host.controls)
    return suite


def build_junit(results: Results) -> ET.ElementTree[ET.Element]:
    """The whole run as a ``<testsuites>`` document."""
    root = ET.Element("testsuites", name=_t(f"e8scan {results.run.id}"))
    suites = [testsuite(h) for h in results.hosts]
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", f"{(results.run.finished - results.run.started).total_seconds():.3f}")
    root.extend(suites)
    return ET.ElementTree(root)


def write_junit(results: Results, path: Path) -> None:
    """Write the JUnit XML atomically."""
    tree = build_junit(results)
    ET.indent(tree)

    def fill(fh: IO[bytes]) -> None:
        tree.write(fh, encoding="utf-8", xml_declaration=True)

    write_atomic(path, fill)
