"""CISA KEV in the OS patch judgement: the same raw output, different snapshots, different verdicts.

Fixtures in tests/checks/patch_os.linux_pending_updates/*kev* carry ``"feeds": "shipped"``; here
the same outputs are judged against an older KEV (tests/data/feeds/kev-2025-06-10, without
CVE-2023-0386), against none and against a stale one.
"""

from __future__ import annotations

from pathlib import Path

from scanner.checking.api import Context, Finding
from scanner.model.feeds import Snapshot
from tests.checks.feeds import snapshot, stale
from tests.checks.test_fixtures import CHECKS, _context, _load, _outputs

HERE = Path(__file__).parent / "patch_os.linux_pending_updates"
CHECK = CHECKS["patch_os.linux_pending_updates"]


def _judge(case: str, feeds: Snapshot | None = None) -> dict[str, Finding]:
    path = HERE / f"{case}.json"
    fixture = _load(path)
    ctx: Context = _context(fixture, path)
    if feeds is not None:
        ctx = ctx.model_copy(update={"feeds": feeds})
    return {f.ism: f for f in CHECK.judge(_outputs(fixture), ctx)}


def test_an_older_kev_without_the_cve_and_the_newer_one_with_it_change_the_verdict() -> None:
    case = "rocky9_kev_exploited_fix_past_48h_server"
    # collected 2025-09-10: the older catalogue (2025-06-10) is 92 days old, so allow it
    older = _judge(case, snapshot("kev-2025-06-10", {"kev": 120}))
    newer = _judge(case, snapshot("shipped", {"kev": 120}))
    assert older["ISM-1696"].outcome.value == "effective", older["ISM-1696"].evidence
    assert "none of the 1 non-critical advisories fixes a CVE on CISA KEV 2025.06.10" in (
        older["ISM-1696"].evidence
    )
    assert newer["ISM-1696"].outcome.value == "ineffective"
    assert "CVE-2023-0386 (on CISA KEV since 2025-06-17)" in newer["ISM-1696"].evidence
    assert "due 2025-09-03T00:00:00+00:00" in newer["ISM-1696"].evidence
    for ism in ("ISM-1695", "ISM-1902"):  # the base-window rows keep their own rule
        assert older[ism].outcome == newer[ism].outcome
        assert older[ism].outcome.value == "effective"


def test_ransomware_use_and_every_kev_cve_are_named() -> None:
    f = _judge("rhel9_kev_exploited_fixes_past_48h_internet_facing")["ISM-1877"]
    assert f.outcome.value == "ineffective"
    assert "CVE-2017-7494 (on CISA KEV since 2023-03-30; known ransomware campaign use)" in (
        f.evidence
    )
    assert "CVE-2024-53104 (on CISA KEV since 2025-02-05), CVE-2023-0386" in f.evidence
    kev = f.observed["kev"]
    assert kev["usable"] and kev["catalog_version"] == "2025.08.25"
    assert [(x["advisory"], x["known_ransomware_use"], x["due"]) for x in kev["exploited"]] == [
        ("RHSA-2025:90190", False, "2025-09-07T00:00:00+00:00"),
        ("RHSA-2025:90201", True, "2025-09-10T00:00:00+00:00"),
    ]


def test_a_missing_or_stale_kev_makes_the_48_hour_row_no_visibility_not_effective() -> None:
    case = "rhel9_kev_exploited_fix_within_48h_internet_facing"
    assert _judge(case)["ISM-1877"].outcome.value == "effective"
    for feeds in (Snapshot(None), stale(snapshot("shipped"))):
        got = _judge(case, feeds)
        assert got["ISM-1877"].outcome.value == "no_visibility"
        assert "CISA KEV" in got["ISM-1877"].evidence
        assert got["ISM-1694"].outcome.value == "effective"  # two weeks: does not need KEV


def test_a_missing_kev_keeps_an_ineffective_verdict_ineffective() -> None:
    for case, ism in (
        ("rhel9_critical_overdue_internet_facing", "ISM-1877"),
        ("rhel7_yum_important_45_days", "ISM-1902"),
    ):
        assert _judge(case, Snapshot(None))[ism].outcome.value == "ineffective"


def test_no_pending_advisory_needs_no_kev() -> None:
    got = _judge("rhel9_nothing_pending", Snapshot(None))
    assert got["ISM-1696"].outcome.value == "effective"


def test_apt_hosts_say_exploit_status_is_not_visible() -> None:
    got = _judge("debian12_nothing_pending", Snapshot(None))
    assert got["ISM-1696"].outcome.value == "effective"
    assert "exploit status not visible on apt hosts" in got["ISM-1696"].evidence


def test_application_48_hour_row_follows_the_kev_snapshot() -> None:
    path = (
        Path(__file__).parent
        / "patch_applications.linux_pending_app_updates"
        / "rhel9_workstation_firefox_kev_past_48h.json"
    )
    fixture = _load(path)
    check = CHECKS["patch_applications.linux_pending_app_updates"]

    def judge(feeds: Snapshot) -> dict[str, Finding]:
        ctx = _context(fixture, path).model_copy(update={"feeds": feeds})
        return {f.ism: f for f in check.judge(_outputs(fixture), ctx)}

    newer = judge(snapshot("shipped"))
    older = judge(snapshot("kev-2025-06-10", {"kev": 120}))  # no CVE-2024-9680 in it
    assert newer["ISM-1692"].outcome.value == "ineffective"
    assert "CVE-2024-9680 (on CISA KEV since 2024-10-15)" in newer["ISM-1692"].evidence
    assert older["ISM-1692"].outcome.value == "effective"
    for feeds in (Snapshot(None), stale(snapshot("shipped"))):
        blind = judge(feeds)
        assert blind["ISM-1692"].outcome.value == "no_visibility"
        assert blind["ISM-1691"].outcome.value == "effective"  # two weeks: its own rule
