"""Exception register and attestations: validation at load, and what they do to outcomes and levels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.assess.judging import Judged
from scanner.assess.register import load_register
from scanner.assess.scoring import score_host
from scanner.checking.api import Check, Finding
from scanner.model.errors import InputError
from scanner.model.framework import requirements
from scanner.model.vocabulary import Grade, Outcome, Platform, Reach, Strategy
from scanner.record.raw import HostRecord

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def host(
    name: str = "pil-hmi01", groups: tuple[str, ...] = ("pilbara_hmi",), reach: Reach = Reach.OK
) -> HostRecord:
    return HostRecord(
        name=name,
        address="192.0.2.9",
        port=5986,
        connection="winrm",
        user="e8",
        become=False,
        platform=Platform.WINDOWS,
        groups=list(groups),
        vars={},
        reach=reach,
        started=T0,
        finished=T0,
    )


def judged(strategy: Strategy, outcomes: dict[str, Outcome]) -> list[Judged]:
    c = Check(
        id=f"{strategy.value}.fake",
        title="A fake check for register tests",
        strategy=strategy,
        ism=tuple(outcomes),
        platforms=frozenset({Platform.WINDOWS}),
        collect={"x": "Get-Date"},
        judge=lambda o, c: [],
        version=1,
    )
    return [Judged(c, Finding(ism=i, outcome=o, evidence="live")) for i, o in outcomes.items()]


def write(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.write_text(text)
    return str(p)


def ctl(result, strategy: Strategy, ism: str):  # type: ignore[no-untyped-def]
    return next(c for c in result.controls if c.strategy is strategy and c.ism == ism)


def test_examples_load() -> None:
    reg = load_register(
        str(ROOT / "examples/exceptions.yml"), str(ROOT / "examples/attestations.yml")
    )
    assert [e.id for e in reg.exceptions] == ["EX-2026-014", "EX-2026-020"]
    assert reg.attached == {"AT-VULN-SCAN"}
    assert len(reg.sources) == 3  # both files and the attached evidence file, hashed


def test_exception_with_compensating_control_makes_ineffective_an_alternate_control() -> None:
    reg = load_register(str(ROOT / "examples/exceptions.yml"), None)
    r = score_host(host(), judged(Strategy.PATCH_OS, {"ISM-1501": Outcome.INEFFECTIVE}), reg)
    c = ctl(r, Strategy.PATCH_OS, "ISM-1501")
    assert c.outcome is Outcome.ALTERNATE_CONTROL
    assert "EX-2026-014" in c.evidence and "live read: live" in c.evidence
    assert c.grade is Grade.FAIR  # an evidence reference is given
    assert c.register_entry == "EX-2026-014:applied"
    # Another host outside the group keeps its live verdict.
    other = score_host(
        host("perth-ws01", ("perth",)),
        judged(Strategy.PATCH_OS, {"ISM-1501": Outcome.INEFFECTIVE}),
        reg,
    )
    assert ctl(other, Strategy.PATCH_OS, "ISM-1501").outcome is Outcome.INEFFECTIVE


def test_risk_acceptance_is_not_implemented_and_the_strategy_ml0() -> None:
    reg = load_register(str(ROOT / "examples/exceptions.yml"), None)
    every = {
        r.ism: Outcome.EFFECTIVE
        for r in requirements()
        if r.strategy is Strategy.MFA and r.checkable != "no"
    }
    r = score_host(host("hist01", ("historians",)), judged(Strategy.MFA, every), reg)
    assert ctl(r, Strategy.MFA, "ISM-1173").outcome is Outcome.NOT_IMPLEMENTED
    assert r.levels[Strategy.MFA] == 0 and r.claimable[Strategy.MFA] == 0


def test_expired_exception_changes_nothing_and_is_reported(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "ex.yml",
        """exceptions:
  - id: EX-OLD
    hosts: all
    controls: [ISM-1501]
    justification: j
    compensating_control: c
    approver: a
    approved: 2025-01-01
    expires: 2025-12-31
    risk_before: high
    risk_after: low
""",
    )
    r = score_host(
        host(), judged(Strategy.PATCH_OS, {"ISM-1501": Outcome.INEFFECTIVE}), load_register(f, None)
    )
    c = ctl(r, Strategy.PATCH_OS, "ISM-1501")
    assert c.outcome is Outcome.INEFFECTIVE
    assert "expired on 2025-12-31" in c.evidence and c.register_entry == "EX-OLD:expired"


def test_incomplete_exception_is_not_applied(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "ex.yml",
        """exceptions:
  - id: EX-NOAPPROVER
    controls: [ISM-1501]
    compensating_control: c
    approved: 2026-01-01
    expires: 2026-12-31
""",
    )
    r = score_host(
        host(), judged(Strategy.PATCH_OS, {"ISM-1501": Outcome.INEFFECTIVE}), load_register(f, None)
    )
    c = ctl(r, Strategy.PATCH_OS, "ISM-1501")
    assert (
        c.outcome is Outcome.INEFFECTIVE and "incomplete" in c.evidence and "approver" in c.evidence
    )


def test_exceptions_do_not_turn_no_visibility_into_a_pass() -> None:
    reg = load_register(str(ROOT / "examples/exceptions.yml"), None)
    r = score_host(host(), judged(Strategy.PATCH_OS, {"ISM-1501": Outcome.NO_VISIBILITY}), reg)
    assert ctl(r, Strategy.PATCH_OS, "ISM-1501").outcome is Outcome.NO_VISIBILITY


def test_attestation_fills_organisational_controls_with_poor_or_fair_grade() -> None:
    reg = load_register(None, str(ROOT / "examples/attestations.yml"))
    r = score_host(host(), [], reg)
    scan = ctl(r, Strategy.PATCH_OS, "ISM-1807")
    assert scan.outcome is Outcome.EFFECTIVE and scan.grade is Grade.FAIR  # evidence file attached
    ir = ctl(r, Strategy.MFA, "ISM-0123")
    assert ir.outcome is Outcome.EFFECTIVE and ir.grade is Grade.POOR
    assert "CISO" in ir.evidence


def test_attestation_never_overrides_a_live_read() -> None:
    reg = load_register(None, str(ROOT / "examples/attestations.yml"))
    js = judged(Strategy.PATCH_APPLICATIONS, {"ISM-1698": Outcome.INEFFECTIVE})
    r = score_host(host(), js, reg)
    assert ctl(r, Strategy.PATCH_APPLICATIONS, "ISM-1698").outcome is Outcome.INEFFECTIVE


def test_expired_attestation_falls_back_to_not_assessed(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "at.yml",
        """attestations:
  - id: AT-1
    controls: [ISM-1807]
    owner: o
    date: 2025-01-01
    valid_days: 30
    evidence: doc
""",
    )
    r = score_host(host(), [], load_register(None, f))
    c = ctl(r, Strategy.PATCH_OS, "ISM-1807")
    assert c.outcome is Outcome.NOT_ASSESSED and "expired" in c.evidence


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "exceptions:\n  - id: X\n    controls: [ISM-9999]\n    approved: 2026-01-01\n    expires: 2026-02-01\n",
            "ex.yml:3",
        ),
        (
            "exceptions:\n  - id: X\n    controls: [ISM-1501]\n    approved: 2026-01-01\n    expires: 2027-06-01\n",
            "more than one year",
        ),
        ("exceptions:\n  - id: X\n    controls: [ISM-1501]\n    approved: 2026-01-01\n", "expires"),
        (
            "exceptions:\n  - id: X\n    controls: [ISM-1501]\n    approved: someday\n    expires: 2026-02-01\n",
            "ex.yml:4",
        ),
        (
            "exceptions:\n  - id: X\n    controls: [ISM-1501]\n    aproved: 2026-01-01\n    expires: 2026-02-01\n",
            "aproved",
        ),
        ("exceptions: [1, 2]\n", "mapping"),
        ("exceptions:\n  - id: X\n    controls: [ISM-1501\n", "ex.yml"),
    ],
)
def test_bad_exception_files_name_file_and_line(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(InputError) as exc:
        load_register(write(tmp_path, "ex.yml", text), None)
    assert needle in str(exc.value)
    assert "ex.yml" in str(exc.value)


def test_missing_evidence_file_is_an_error(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "at.yml",
        "attestations:\n  - id: A\n    controls: [ISM-1807]\n    owner: o\n"
        "    date: 2026-01-01\n    evidence: doc\n    evidence_file: nope.pdf\n",
    )
    with pytest.raises(InputError, match="nope.pdf"):
        load_register(None, f)


def test_register_use_is_reported_in_results_and_workbook(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from scanner.assess.pipeline import assess
    from scanner.model.policy import Policy
    from scanner.record.raw import RawRecord, RunInfo
    from scanner.report.xlsx.workbook import write_xlsx

    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id="r", started=T0, finished=T0, inventory=[], checks=[]),
        hosts=[host(), host("hist01", ("historians",))],
    )
    reg = load_register(
        str(ROOT / "examples/exceptions.yml"), str(ROOT / "examples/attestations.yml")
    )
    results = assess(raw, [], Policy(), register=reg)
    uses = {u.id: u for u in results.register_use}
    # ISM-1807 and ISM-1808 stand in two strategies, ISM-1698 in one: 5 rows per host, 2 hosts.
    assert uses["AT-VULN-SCAN"].statuses == {"applied": 10}
    assert uses["EX-2026-020"].statuses["risk acceptance"] > 0 and uses["EX-2026-020"].hosts == [
        "hist01"
    ]
    assert uses["EX-2026-014"].statuses == {"unused": 0}  # nothing ineffective to excuse
    assert len(results.run.register_files) == 3
    write_xlsx(results, tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    rows = []
    for s in ("Exceptions", "Attestations"):
        sheet = list(wb[s].iter_rows(values_only=True)) + [(None,) * 6]
        rows += sheet[1 : sheet.index((None,) * 6)]  # the table, not the colour key below it
    assert {r[0] for r in rows} == set(uses)
