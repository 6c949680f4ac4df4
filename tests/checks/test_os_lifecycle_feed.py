"""The OS lifecycle checks take release and support dates from the endoflife.date feed.

- the tables are consistent with the shipped snapshot: every ``eol_cycle`` names a cycle of it
  with a release date and a dated end (except Windows 11 26H2, announced and not in it), and every
  date difference from the project's earlier source is stated in a row note;
- the same raw record judged against an older and a newer snapshot gives the verdict each
  supports;
- a missing snapshot is no_visibility; a stale one never makes a host supported or current, but
  still makes it unsupported when the end had passed by the snapshot's own date.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from checks._windows_patch import LIFECYCLE
from checks.patch_os import (
    _windows_currency,
    directory_os_support,
    linux_os_support,
    windows_os_support,
    windows_updates,
)
from checks.patch_os._eol_feed import end_date
from checks.patch_os.linux_os_support import RELEASES
from scanner.checking.api import Context, Finding, Output
from scanner.inventory.profile import for_judging, parse_profile
from scanner.model.endoflife import Cycle
from scanner.model.feeds import Snapshot
from scanner.model.policy import Policy
from scanner.model.vocabulary import Platform, Role
from tests.checks.feeds import snapshot, snapshot_for, stale

HERE = Path(__file__).parent
SHIPPED = snapshot("shipped")
BEFORE_25H2 = snapshot("endoflife-2025-09-01")  # windows.md without 25H2 and 26H1

Judge = Callable[[Mapping[str, Output], Context], list[Finding]]


def _cycles(ref: str) -> dict[str, Cycle]:
    product = ref.partition(":")[0]
    return {c.cycle: c for c in SHIPPED.cycles(product) or []}


# --- the tables against the shipped snapshot ----------------------------------------------------


def test_every_windows_row_names_a_shipped_cycle_with_dates() -> None:
    missing = []
    for r in LIFECYCLE:
        assert r.eol_cycle, f"{r.release} {r.family}: no eol_cycle (no row keeps its own dates)"
        c = _cycles(r.eol_cycle).get(r.eol_cycle.partition(":")[2])
        if c is None:
            missing.append(r.eol_cycle)
            # only an announced release the snapshot does not hold yet, and never with dates
            assert r.announced is not None and r.released is None, r
            continue
        assert c.released is not None and end_date(c.eol) is not None, r.eol_cycle
    assert sorted(set(missing)) == ["windows:11-26h2-e", "windows:11-26h2-w"]


def test_every_linux_row_names_a_shipped_cycle_with_dates() -> None:
    for r in RELEASES:
        c = _cycles(r.eol_cycle).get(r.eol_cycle.partition(":")[2])
        assert c is not None, r.eol_cycle
        assert c.released is not None, r.eol_cycle
        end = c.eoes if r.distro == "debian" else c.eol
        if end is False:  # no end announced yet: the row says so, and the host is not judged
            assert "eol: false" in r.note, r.eol_cycle
            continue
        assert end_date(end) is not None, r.eol_cycle
        if r.extended_kind != "none":
            assert end_date(c.eoes) is not None, f"{r.eol_cycle}: {r.extended_kind} not dated"


_GIVES = re.compile(r"distro-info-data \S+ gives (.*)$")


def test_linux_notes_state_every_difference_from_distro_info_data() -> None:
    """The rows were typed from distro-info-data 0.58+deb12u6 (Ubuntu, Debian) before the feed;
    where the feed differs the note says what distro-info-data gave, and a note never claims a
    difference that is not there (when the feed catches up, the note must go)."""
    text = files("checks.patch_os").joinpath("linux_eol.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        m = _GIVES.search(row["note"])
        if m is None:
            continue
        c = _cycles(row["eol_cycle"])[row["eol_cycle"].partition(":")[2]]
        feed = {
            "release": c.released,
            "end": end_date(c.eoes if row["distro"] == "debian" else c.eol),
            f"{row['extended_kind'].upper()} end": end_date(c.eoes),
        }
        for part in m[1].split(", "):
            what, _, day = part.rpartition(" ")
            assert feed[what] != date.fromisoformat(day), f"{row['eol_cycle']}: {part}"


def test_windows_dates_agree_with_the_sources_the_table_had() -> None:
    """The rows were typed from DataForGeeks' copies of Microsoft's lifecycle pages; the feed
    agrees except where a row note says why (Server 2008 / 2008 R2: the feed dates the service
    pack and ends ESU with year 3)."""
    explained = {r.eol_cycle for r in LIFECYCLE if "the feed's cycle is the service pack" in r.note}
    assert explained == {"windows-server:2008-sp2", "windows-server:2008-r2-sp1"}
    sp2 = _cycles("windows-server:2008-sp2")["2008-sp2"]
    assert (sp2.released, sp2.eol, sp2.eoes) == (
        date(2009, 4, 29),
        date(2020, 1, 14),
        date(2023, 1, 10),
    )
    # LTSB 2015 and IoT LTSC 2021, "verify" rows before: as the e8 reference section 2.1 has them
    lts = _cycles("windows:10-1507-e-lts")
    assert lts["10-1507-e-lts"].eol == date(2025, 10, 14)
    assert lts["10-21h2-iot-lts"].eol == date(2032, 1, 13)


# --- judging ---------------------------------------------------------------------------------


def _outputs(fixture: dict[str, Any]) -> dict[str, Output]:
    return {
        k: Output(
            command=v["command"],
            stdout=v.get("stdout", "").encode(),
            stderr=v.get("stderr", "").encode(),
            exit_code=v.get("exit_code"),
        )
        for k, v in fixture["outputs"].items()
    }


def _judge(
    check: str, case: str, feeds: Snapshot, at: datetime, **registry: object
) -> dict[str, tuple[str, str]]:
    """Fixture ``case`` of ``check`` judged at ``at`` against ``feeds`` (``registry``: fields of
    the Windows CurrentVersion JSON to change, e.g. ``CurrentBuild``)."""
    fixture = json.loads((HERE / f"patch_os.{check}" / f"{case}.json").read_text())
    version = registry.pop("os_release", None)
    if version is not None:  # a Linux fixture's VERSION_ID
        rec = fixture["outputs"]["os_release"]
        rec["stdout"] = re.sub(r'VERSION_ID="?[^"\n]*"?', f'VERSION_ID="{version}"', rec["stdout"])
    if registry:
        rec = fixture["outputs"]["current_version"]
        rec["stdout"] = json.dumps({**json.loads(rec["stdout"]), **registry})
    module = {
        "windows_os_support": windows_os_support,
        "linux_os_support": linux_os_support,
        "directory_os_support": directory_os_support,
        "windows_updates": windows_updates,
    }[check]
    policy = Policy()
    profile = parse_profile(fixture.get("vars", {}), lambda n: n)
    ctx = Context(
        host=case,
        platform=Platform(fixture["platform"]),
        profile=for_judging(profile, policy, profile.e8_role or Role.SERVER),
        policy=policy,
        collected_at=at,
        feeds=feeds,
    )
    judge: Judge = module.CHECK.judge
    return {f.ism: (f.outcome.value, f.evidence) for f in judge(_outputs(fixture), ctx)}


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=3, tzinfo=UTC)


W23H2 = "win11_23h2_education_previous_release"


def test_the_newer_snapshot_knows_25h2_so_23h2_is_two_behind() -> None:
    at = _at("2025-11-20")
    new = _judge("windows_os_support", W23H2, SHIPPED, at)
    assert new["ISM-1407"][0] == "ineffective"
    assert "newer: Windows 11 25H2, Windows 11 24H2" in new["ISM-1407"][1]
    assert "endoflife.date windows 11-23h2-e, snapshot 2026-08-20" in new["ISM-1407"][1]
    old = _judge("windows_os_support", W23H2, BEFORE_25H2, at)
    assert old["ISM-1407"][0] == "no_visibility"
    assert (
        "Windows 11 25H2: endoflife.date snapshot 2025-09-01 has no cycle '11-25h2-"
        in (old["ISM-1407"][1])
    )
    assert (
        "would make it two behind; update the feed snapshot (e8scan feeds update)"
        in (old["ISM-1407"][1])
    )
    for got in (new, old):  # support: 23H2 Enterprise/Education runs to 2026-11-10 in both
        assert got["ISM-1501"][0] == "effective"
        assert "supported until 2026-11-10" in got["ISM-1501"][1]


def test_a_25h2_host_is_judged_only_once_the_snapshot_holds_25h2() -> None:
    at = _at("2025-10-15")
    regs = {"CurrentBuild": "26200", "DisplayVersion": "25H2"}
    new = _judge("windows_os_support", W23H2, SHIPPED, at, **regs)
    assert new == {
        "ISM-1501": ("effective", new["ISM-1501"][1]),
        "ISM-1407": ("effective", new["ISM-1407"][1]),
    }
    assert (
        "(endoflife.date windows 11-25h2-e, snapshot 2026-08-20: released 2025-09-30, "
        in (new["ISM-1501"][1])
    )
    old = _judge("windows_os_support", W23H2, BEFORE_25H2, at, **regs)
    assert {k: v[0] for k, v in old.items()} == {
        "ISM-1501": "no_visibility",
        "ISM-1407": "no_visibility",
    }
    assert "has no cycle '11-25h2-e'" in old["ISM-1501"][1]


def test_26h2_without_dates_is_never_judged_and_keeps_24h2_from_passing() -> None:
    at = _at("2026-11-20")
    fresh = snapshot_for((("endoflife", "2026-11-15"),))
    host = _judge("windows_os_support", W23H2, fresh, at, CurrentBuild="26300")
    assert {k: v[0] for k, v in host.items()} == {
        "ISM-1501": "no_visibility",
        "ISM-1407": "no_visibility",
    }
    assert "has no cycle '11-26h2-e' for windows" in host["ISM-1501"][1]
    older = _judge("windows_os_support", W23H2, fresh, at, CurrentBuild="26100")
    assert older["ISM-1407"][0] == "no_visibility"
    assert "Windows 11 26H2 was announced" in older["ISM-1407"][1]


def test_no_snapshot_is_no_visibility_with_the_reason() -> None:
    for check, case in (
        ("windows_os_support", W23H2),
        ("windows_os_support", "ws2012r2_support_ended"),
        ("linux_os_support", "debian10_end_of_life"),
        ("linux_os_support", "rhel9_supported"),
    ):
        got = _judge(check, case, Snapshot(None), _at("2025-06-01"))
        for outcome, evidence in got.values():
            assert outcome == "no_visibility", (case, evidence)
            assert "no endoflife.date release cycles and versions snapshot installed" in evidence


def test_a_stale_snapshot_never_says_supported_or_current() -> None:
    at = _at("2026-12-07")
    for check, case in (
        ("windows_os_support", "win11_25h2_enterprise_2026_latest"),
        ("linux_os_support", "rhel9_supported"),
        ("linux_os_support", "debian12_supported"),
    ):
        fresh = _judge(check, case, snapshot_for((("endoflife", "2026-11-30"),)), at)
        assert {v[0] for v in fresh.values()} == {"effective"}, fresh
        old = _judge(check, case, SHIPPED, at)
        for outcome, evidence in old.values():
            assert outcome == "no_visibility", evidence
            assert evidence.startswith("not judged: endoflife snapshot 109 days old"), evidence


def test_a_stale_snapshot_still_shows_an_end_past_on_its_own_date() -> None:
    """An end already behind the snapshot's date is final (ineffective stands); an end that
    fell between the snapshot and the collection may have been extended (no_visibility)."""
    at = _at("2026-12-07")
    ended = _judge("linux_os_support", "debian10_end_of_life", SHIPPED, at)
    assert ended["ISM-1501"][0] == "ineffective"  # Debian 10 LTS ended 2024-06-30
    assert "endoflife.date debian 10, snapshot 2026-08-20" in ended["ISM-1501"][1]
    assert ended["ISM-1407"][0] == "ineffective"  # 11, 12 and 13 were out by 2026-08-20
    # Server 2012 R2: support ended 2023-10-10, ESU runs to 2026-10-13 and is not installed
    win = _judge("windows_os_support", "ws2012r2_support_ended", stale(SHIPPED), _at("2026-09-30"))
    assert win["ISM-1501"][0] == "ineffective", win
    # after the ESU end (2026-10-13, later than the snapshot) "ESU ended" may have moved
    win = _judge("windows_os_support", "ws2012r2_support_ended", SHIPPED, at)
    assert win["ISM-1501"][0] == "no_visibility", win
    # Windows 11 24H2 Home/Pro ended 2026-10-13, after the shipped snapshot's 2026-08-20
    pro = "win11_24h2_pro_2026_home_pro_support_ended"
    fresh = _judge("windows_os_support", pro, snapshot_for((("endoflife", "2026-11-30"),)), at)
    assert fresh["ISM-1501"][0] == "ineffective"
    after = _judge("windows_os_support", pro, SHIPPED, at)
    assert after["ISM-1501"][0] == "no_visibility"
    assert (
        "it would say: Windows 11 24H2 (Professional, build 26100.8875): vendor support "
        in (after["ISM-1501"][1])
    )


def test_the_directory_check_dates_computers_from_the_same_snapshot() -> None:
    at = _at("2026-12-07")
    fresh = snapshot_for((("endoflife", "2026-11-30"),))
    outcome, evidence = _judge("directory_os_support", "samba_all_supported", fresh, at)["ISM-1501"]
    assert outcome == "effective", evidence
    assert "Windows 11 25H2 Home/Pro, supported until 2027-10-12" in evidence
    outcome, evidence = _judge("directory_os_support", "samba_all_supported", SHIPPED, at)[
        "ISM-1501"
    ]
    assert outcome == "no_visibility", evidence
    assert "endoflife snapshot 109 days old" in evidence
    # Windows 7 and Server 2008 R2 ended long before the snapshot: stated even from a stale one
    outcome, evidence = _judge("directory_os_support", "samba_population", SHIPPED, at)["ISM-1501"]
    assert outcome == "ineffective", evidence
    assert "Windows 7, support ended 2020-01-14" in evidence


def test_windows_updates_takes_the_end_of_updates_from_the_snapshot() -> None:
    """Whether a release after the UBR table is due depends on the build's end of updates
    (Windows 10 22H2: ESU to 2028-10-10, from the feed); unknown without a snapshot."""
    case, at = "win10_22h2_at_table_end_august_missing", _at("2026-09-20")
    got = _judge("windows_updates", case, SHIPPED, at)
    assert got["ISM-1696"][0] == "ineffective", got
    got = _judge("windows_updates", case, Snapshot(None), at)
    assert got["ISM-1696"][0] == "no_visibility", got
    assert "its end of updates is not known: no endoflife.date release cycles" in got["ISM-1696"][1]


def test_a_release_the_snapshot_lists_but_the_table_does_not_map_is_never_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A snapshot newer than the table (here: the table without its 25H2 rows) lists a release
    no row maps to a build: it may be out, so a 23H2 host is not called the previous release."""
    at = _at("2025-11-20")
    full = _judge("windows_os_support", W23H2, SHIPPED, at)
    assert full["ISM-1407"][0] == "ineffective"  # 24H2 and 25H2 are out
    table = tuple(r for r in _windows_currency.LIFECYCLE if r.build != 26200)
    monkeypatch.setattr(_windows_currency, "LIFECYCLE", table)
    got = _judge("windows_os_support", W23H2, SHIPPED, at)
    assert got["ISM-1407"][0] == "no_visibility", got
    assert (
        "endoflife.date windows 11-25h2: released 2025-09-30 per the snapshot, but "
        "windows_lifecycle.csv maps no build to it yet"
    ) in got["ISM-1407"][1]


def test_a_linux_line_the_snapshot_lists_but_the_table_does_not_map_is_never_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Debian 11 on 2026-06-01: 12 and 13 are out, two behind. Without the table's Debian 13
    row the snapshot still lists 13, so the host is not called the previous release."""
    at = _at("2026-06-01")
    full = _judge("linux_os_support", "debian10_end_of_life", SHIPPED, at, os_release="11")
    assert full["ISM-1407"][0] == "ineffective", full
    table = tuple(r for r in linux_os_support.RELEASES if r.eol_cycle != "debian:13")
    monkeypatch.setattr(linux_os_support, "RELEASES", table)
    got = _judge("linux_os_support", "debian10_end_of_life", SHIPPED, at, os_release="11")
    assert got["ISM-1407"][0] == "no_visibility", got
    assert (
        "endoflife.date debian 13 was released 2025-08-09, but linux_eol.csv does not map"
        in (got["ISM-1407"][1])
    )
