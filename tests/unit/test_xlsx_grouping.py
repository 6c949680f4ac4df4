"""Workbook: the requirement in short on Findings, and organisational rows given once per control
on the Controls sheet — with every host × control still findable and every count unchanged."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from scanner.assess.pipeline import assess
from scanner.assess.register import load_register
from scanner.assess.results import Results
from scanner.checking.api import Check, Finding
from scanner.model.framework import requirements, short_statement
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach, Strategy
from scanner.record.raw import CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.report.xlsx.workbook import write_workbook

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)

Pair = tuple[str, str, str]  # host, strategy, ISM id


def _supported(out, ctx):  # type: ignore[no-untyped-def]
    return [Finding(ism="ISM-1501", outcome=Outcome.EFFECTIVE, evidence="OS supported")]


def _not_run(out, ctx):  # type: ignore[no-untyped-def]
    return [Finding(ism="ISM-1877", outcome=Outcome.NOT_ASSESSED, evidence="no update agent")]


# The run's --checks subset: two checks, so most host-showable controls have no check at all.
CHECKS = [
    Check(
        id=f"patch_os.{name}",
        title=name,
        strategy=Strategy.PATCH_OS,
        ism=(ism,),
        platforms=frozenset({Platform.LINUX, Platform.WINDOWS}),
        collect={"x": "true"},
        judge=judge,
        version=1,
    )
    for name, ism, judge in (
        ("t_supported", "ISM-1501", _supported),
        ("t_agent", "ISM-1877", _not_run),
    )
]

ATTESTATIONS = """attestations:
  - id: AT-SCAN
    hosts: [perth]
    controls: [ISM-1807, ISM-1699]
    owner: SecOps
    date: 2026-10-01
    evidence: ticket SEC-1
  - id: AT-OLD
    hosts: [lin01]
    controls: [ISM-0123]
    owner: CISO
    date: 2024-01-01
    valid_days: 30
    evidence: IRP v1
  - id: AT-NO-MFA
    hosts: [win01]
    controls: [ISM-1679]
    outcome: not_implemented
    owner: IT
    date: 2026-11-01
    evidence: MFA project plan
"""


def _host(name: str, platform: Platform, groups: list[str], reach: Reach = Reach.OK) -> HostRecord:
    ok = reach is Reach.OK
    return HostRecord(
        name=name,
        address="192.0.2.1",
        port=22 if platform is Platform.LINUX else 5986,
        connection="ssh" if platform is Platform.LINUX else "winrm",
        user="scan",
        become=False,
        platform=platform,
        groups=groups,
        vars={"e8_role": "server"},
        reach=reach,
        reach_detail="" if ok else "connection refused",
        host_key="SHA256:abc" if ok else None,
        started=T0,
        finished=T0,
        commands=[
            CommandRecord(
                command="true",
                as_run="true",
                checks=[c.id for c in CHECKS],
                stdout=b"",
                stderr=b"",
                exit_code=0,
                started=T0.timestamp(),
                finished=T0.timestamp(),
            )
        ]
        if ok
        else [],
    )


def fleet_results(tmp_path: Path) -> Results:
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id="r", started=T0, finished=T0, inventory=[], target_level=2, checks=[]),
        hosts=[
            _host("lin01", Platform.LINUX, ["pilbara"]),
            _host("lin02", Platform.LINUX, ["perth"]),
            _host("win01", Platform.WINDOWS, ["perth"]),
            _host("win02", Platform.WINDOWS, ["pilbara"]),
            _host("gone01", Platform.LINUX, ["pilbara"], Reach.UNREACHABLE),
        ],
    )
    (tmp_path / "at.yml").write_text(ATTESTATIONS)
    register = load_register(None, str(tmp_path / "at.yml"))
    return assess(raw, CHECKS, Policy(), register=register)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Workbook]:
    tmp = tmp_path_factory.mktemp("g")
    results = fleet_results(tmp)
    with (tmp / "r.xlsx").open("wb") as fh:
        write_workbook(results, fh, max_rows=60)  # Findings runs over several sheets
    return results, load_workbook(tmp / "r.xlsx")


def rows(wb: Workbook, prefix: str) -> list[tuple[Any, ...]]:
    """A table's rows under its header, continuation sheets included; each sheet's table ends
    at the empty row before its colour key."""
    names = [s for s in wb.sheetnames if s == prefix or s.startswith(f"{prefix} (")]
    header = next(wb[names[0]].iter_rows(values_only=True))
    out: list[tuple[Any, ...]] = [header]
    for n in names:
        sheet = list(wb[n].iter_rows(values_only=True))
        assert sheet[0] == header
        end = next((i for i, r in enumerate(sheet) if all(v is None for v in r)), len(sheet))
        out += sheet[1:end]
    return out


def _findings(wb: Workbook) -> dict[Pair, dict[str, Any]]:
    table = rows(wb, "Findings")
    found = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    pairs = {(f["Host"], f["Strategy"], f["ISM"]): f for f in found}
    assert len(pairs) == len(found)  # no pair twice
    return pairs


def _grouped_hosts(note: str | None) -> int:
    """The hosts a Controls note stands for: the sum of its '— N host(s)' counts."""
    return sum(int(n) for n in re.findall(r" — (\d+) hosts?$", note or "", re.MULTILINE))


def test_every_host_and_control_is_findable_once(built: tuple[Results, Workbook]) -> None:
    results, wb = built
    findings = _findings(wb)
    controls = rows(wb, "Controls")
    note_col = controls[0].index("Not shown from a host (these hosts are not on Findings)")
    notes = {(r[0], r[1]): r[note_col] for r in controls[1:]}
    coverage = {r[0] for r in rows(wb, "Coverage")[1:]}
    left: Counter[tuple[str, str]] = Counter()
    kinds: Counter[str] = Counter()
    for h in results.hosts:
        assert h.name in coverage
        for c in h.controls:
            pair = (h.name, c.strategy.value, c.ism)
            if c.outcome is Outcome.NOT_APPLICABLE:
                assert pair not in findings  # counted on Controls (asserted below)
                continue
            row = findings.get(pair)
            if row is None:
                # Not on Findings: only an unattested control no host can show, as its host said.
                assert c.outcome is Outcome.NOT_ASSESSED and c.checkable == "no", pair
                assert c.register_entry is None and c.check is None, pair
                left[(c.strategy.value, c.ism)] += 1
                kinds["grouped"] += 1
                continue
            assert row["Outcome"] == c.outcome.value and row["Evidence"] == c.evidence
            assert row["Register entry"] == c.register_entry
            assert row["Requirement (short)"] == short_statement(c.requirement)
            if c.register_entry:
                kinds["register"] += 1
            elif c.outcome is Outcome.NOT_ASSESSED:
                kinds["checkable, not assessed" if c.checkable != "no" else "other"] += 1
    # Every row left off Findings is counted, once, in its control's note; no note claims more.
    assert {k: _grouped_hosts(v) for k, v in notes.items() if v} == dict(left)
    assert len(findings) + sum(left.values()) == sum(
        c.outcome is not Outcome.NOT_APPLICABLE for h in results.hosts for c in h.controls
    )
    # The fixture has each kind: grouped rows, attested ones (applied, expired, not implemented)
    # and host-showable controls no check of this --checks subset decided.
    assert kinds["grouped"] > 0 and kinds["register"] >= 3 + 2  # AT-SCAN: 2 hosts
    assert kinds["checkable, not assessed"] > 0 and "other" not in kinds


def test_attested_rows_stay_on_findings_per_host(built: tuple[Results, Workbook]) -> None:
    _, wb = built
    findings = _findings(wb)
    # Applied in both strategies ISM-1807 stands in, on the perth hosts only.
    for host in ("lin02", "win01"):
        for strategy in ("patch_applications", "patch_os"):
            row = findings[(host, strategy, "ISM-1807")]
            assert row["Outcome"] == "effective" and row["Register entry"] == "AT-SCAN:applied"
    assert ("lin01", "patch_os", "ISM-1807") not in findings
    # An attested platform exclusion (ISM-1699: not visible from Linux or Windows).
    assert findings[("lin02", "patch_applications", "ISM-1699")]["Outcome"] == "effective"
    expired = findings[("lin01", "application_control", "ISM-0123")]
    assert expired["Outcome"] == "not_assessed" and expired["Register entry"] == "AT-OLD:expired"
    assert ("lin02", "application_control", "ISM-0123") not in findings
    no_mfa = findings[("win01", "mfa", "ISM-1679")]
    assert no_mfa["Outcome"] == "not_implemented" and "AT-NO-MFA" in no_mfa["Register entry"]
    # What the --checks subset did not decide, on a host-showable control, is per host.
    agent = findings[("lin01", "patch_os", "ISM-1877")]
    assert agent["Outcome"] == "not_assessed" and agent["Check"] == "patch_os.t_agent"
    idle = findings[("lin01", "patch_os", "ISM-1694")]
    assert idle["Outcome"] == "not_assessed" and idle["Evidence"].startswith("no check covers")
    # An unreachable host keeps its no_visibility rows.
    assert findings[("gone01", "patch_os", "ISM-1501")]["Outcome"] == "no_visibility"


def test_controls_notes_say_the_reason_once_with_the_host_count(
    built: tuple[Results, Workbook],
) -> None:
    _, wb = built
    controls = rows(wb, "Controls")
    note = {(r[0], r[1]): r[-1] for r in controls[1:]}
    # Unattested on 3 of 5 hosts (lin02 and win01 are attested) — unreachable gone01 included.
    assert note[("patch_os", "ISM-1807")] == (
        "organisational: not shown from a host; attest it with --attestations — 3 hosts"
    )
    # Not visible from either platform, for the same reason: one line naming both.
    assert re.fullmatch(
        r"not shown from a linux or windows host: How often an external vulnerability scanner "
        r"[^\n]+; attest it with --attestations — 3 hosts",
        note[("patch_applications", "ISM-1699")],
    )
    assert note[("patch_os", "ISM-1501")] is None  # host-checkable: nothing grouped
    assert note[("application_control", "ISM-0123")].endswith(" — 4 hosts")  # lin01: expired


def test_counts_and_levels_come_from_results_not_findings(built: tuple[Results, Workbook]) -> None:
    results, wb = built
    # Controls: every host × control counted by outcome, grouped rows included.
    controls = rows(wb, "Controls")
    header = controls[0]
    got: Counter[tuple[str, str, str]] = Counter()
    for r in controls[1:]:
        for o in Outcome:
            got[(r[0], r[1], o.value)] += r[header.index(o.value)]
    want = Counter(
        (c.strategy.value, c.ism, c.outcome.value) for h in results.hosts for c in h.controls
    )
    assert +got == want
    # Summary: the fleet distribution per strategy; Heatmap: each host's level per strategy.
    summary = list(wb["Summary"].iter_rows(values_only=True))
    keys = ("0", "1", "2", "3", "not_applicable", "not_assessed", "no_visibility")
    for f in results.fleet:
        line = next(r for r in summary if r[0] == f.strategy.short_label)
        assert line[4:11] == tuple(f.distribution.get(k, 0) for k in keys)
    heat = list(wb["Heatmap"].iter_rows(values_only=True))
    for h in results.hosts:
        line = next(r for r in heat if r[0] == h.name)
        for s, level in h.levels.items():
            shown = line[heat[0].index(s.short_label)]
            if s in h.not_applicable:
                assert shown == "not applicable"
            else:
                assert shown == ("not assessed" if level is None else f"ML{level}")
        assert line[heat[0].index("Claimable")] == (
            "not assessed" if h.claimable_level is None else f"ML{h.claimable_level}"
        )
    # The per-strategy sheets still show each grouped row on its host.
    sheet = rows(wb, "Patch OS")  # the host rows, not the keys below them
    col = next(i for i, h in enumerate(sheet[0]) if str(h).startswith("ISM-1807 "))
    assert {r[0]: r[col] for r in sheet[1:] if r[0]} == {
        "lin01": "not_assessed",
        "lin02": "effective",
        "win01": "effective",
        "win02": "not_assessed",
        "gone01": "not_assessed",
    }


def test_findings_continue_over_sheets_without_gaps(built: tuple[Results, Workbook]) -> None:
    _, wb = built
    parts = [s for s in wb.sheetnames if s.startswith("Findings")]
    sizes = [wb[s].max_row for s in parts]
    assert len(parts) >= 3 and all(n == 60 for n in sizes[:-1]) and 1 < sizes[-1] <= 60


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("Application control is implemented on workstations.", None),
        ("One sentence here. And a second one.", "One sentence here."),
        ("Version 1.2 is used. Then more.", "Version 1.2 is used."),
        ("  spaced\n  out  text. ", "spaced out text."),
        ("word " * 30, "word " * 19 + "word…"),
        ("x" * 120, "x" * 99 + "…"),
        (
            "Alpha beta, gamma delta epsilon zeta, " + "y" * 70,
            "Alpha beta, gamma delta epsilon zeta…",
        ),
    ],
)
def test_short_statement(text: str, short: str | None) -> None:
    got = short_statement(text)
    assert got == (short or text) and len(got) <= 100


def test_short_statements_of_the_built_in_framework_are_prefixes() -> None:
    for r in requirements():
        s = short_statement(r.requirement)
        assert len(s) <= 100 and s
        head = s.removesuffix("…")
        assert r.requirement.startswith(head)
        if s.endswith("…"):  # cut at a word boundary
            assert r.requirement[len(head)] in " ,;:("
