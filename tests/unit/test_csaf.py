"""The CSAF 2.0 parser (scanner.model.csaf) on CISA's real 2024 OT advisories (shipped copy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.model.csaf import compare, parse_advisory, parse_csaf_feed, parse_range, version_key

SHIPPED = Path(__file__).resolve().parents[2] / "scanner" / "feeds" / "shipped"
CSAF = SHIPPED / "csaf-ot" / "2024"


def _adv(name: str):  # type: ignore[no-untyped-def]
    return parse_advisory((CSAF / name).read_bytes(), name)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("v1.10.00.005.", (1, 10, 0, 5)),
        ("V14.3.0.6", (14, 3, 0, 6)),
        ("1.11M", (1, 11, 13)),
        ("13.00.00", (13, 0, 0)),
        ("V7.5_SP2_Update_15", None),
        ("2023_R2_P01", None),
        ("R510.2_HF14", None),
        ("", None),
    ],
)
def test_version_key(text: str, key: tuple[int, ...] | None) -> None:
    assert version_key(text) == key


def test_compare_pads_with_zeros() -> None:
    assert compare((12, 0), (12, 0, 0)) == 0
    assert compare((13, 0, 1), (14,)) == -1


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("vers:all/*", ["1.0", "99"], []),
        ("vers:generic/<2.1.0", ["2.0.9", "1"], ["2.1", "2.1.0.1"]),
        ("vers:intdot/>=1.03|<=4.02", ["1.03", "4.02", "2"], ["1.02", "4.03"]),
        ("<v6.4", ["6.3.9"], ["6.4", "6.40"]),
        ("<=v9.0", ["9.0", "8"], ["9.0.1"]),
        ("12.0|13.0|14.0", ["12.00.00", "13.0"], ["13.1", "15.0"]),
        ("v12.0", ["12.0.0"], ["12.1"]),
        ("All versions < V23.4", ["23.3"], ["23.4"]),
        (">=1.11M", ["1.11M", "1.622Y"], ["1.10", "1.11L"]),
    ],
)
def test_range_contains(text: str, inside: list[str], outside: list[str]) -> None:
    r = parse_range(text)
    assert r.parsed, text
    for v in inside:
        assert r.contains(version_key(v) or ()) is True, (text, v)
    for v in outside:
        assert r.contains(version_key(v) or ()) is False, (text, v)


@pytest.mark.parametrize(
    "text",
    [
        "<V7.5_SP2_Update_15",
        "<=2023_R2_P01",
        "<R520.1_TCU5",
        "All_versions_with_installed_WebRH",
        ">=1|<2|>=3|<4",
    ],
)
def test_unparseable_ranges_never_say_not_affected(text: str) -> None:
    r = parse_range(text)
    assert not r.parsed and r.text == text
    assert r.contains((0,)) is None and r.contains((999,)) is None


def test_fixed_version_from_the_upper_bound() -> None:
    assert parse_range("<14.0").fixed_version == "14.0"
    assert parse_range("<=v9.0").fixed_version == ""


def test_factorytalk_view_se_advisory() -> None:
    adv = _adv("icsa-24-137-14.json")
    assert adv.id == "ICSA-24-137-14" and str(adv.released) == "2024-05-16"
    (p,) = adv.products
    assert (p.vendor, p.product) == ("Rockwell Automation", "FactoryTalk View SE")
    assert p.vendor_fix and "CVE-2024-4609" in p.cves
    assert p.range.fixed_version == "14.0" and p.range.contains((13, 0)) is True


def test_siemens_wincc_advisory_keeps_text_ranges() -> None:
    adv = _adv("icsa-24-046-12.json")
    by_name = {p.product: p for p in adv.products}
    assert by_name["SIMATIC WinCC V7.4"].range.all_versions
    wincc75 = by_name["SIMATIC WinCC V7.5"]
    assert not wincc75.range.parsed and wincc75.range.text == "<V7.5_SP2_Update_15"
    assert wincc75.cves


def test_iconics_exact_and_range_products() -> None:
    adv = _adv("icsa-24-184-03.json")
    suite = [p for p in adv.products if p.product.startswith("ICONICS Suite")]
    assert {p.range.text for p in suite} == {"10.97.2", "<10.97.3"}
    assert all(p.vendor == "ICONICS, Mitsubishi Electric" for p in suite)


def test_whole_shipped_feed_parses() -> None:
    feed = parse_csaf_feed(SHIPPED)
    assert feed.files == 344 and len(feed.advisories) == 344 and not feed.errors
    assert feed.products > 2000
    # measured on the shipped 2024 data: 1979 of 2333 product ranges parse (85 %)
    assert feed.ranges_parsed / feed.products > 0.8


def test_snapshot_parses_the_feed_once() -> None:
    from datetime import UTC, date, datetime

    from scanner.model.feeds import FEEDS, FeedMeta, Snapshot, SnapshotMeta

    meta = SnapshotMeta(
        feeds={
            "csaf-ot": FeedMeta(
                name="csaf-ot",
                source=FEEDS["csaf-ot"].source,
                as_of=date(2024, 10, 24),
                fetched_at=datetime(2024, 10, 25, tzinfo=UTC),
                records=344,
                sha256="0" * 64,
            )
        }
    )
    snap = Snapshot(SHIPPED, meta)
    first = snap.advisories()
    assert first is not None and len(first.advisories) == 344
    assert snap.advisories() is first
    assert Snapshot(None).advisories() is None


@pytest.mark.parametrize(
    ("text", "written", "inside"),
    [
        # Rockwell registers 6.30.00 for what the advisory bounds as <v6.4: as integers 6.30 is
        # past 6.4, as decimals below it. The range cannot say, so it never says "not affected".
        ("vers:intdot/<6.4", "6.30.00", None),
        ("vers:intdot/<6.4", "6.40.00", False),
        ("vers:intdot/<6.4", "6.1", True),
        ("vers:intdot/<2.9", "2.10", None),  # semver 2.10 > 2.9; decimals 2.10 < 2.9
        ("vers:intdot/<1.10.00.006", "1.10.00.005", True),  # equal widths: both readings agree
        ("vers:intdot/<1.10.00.006", "1.10.00.006", False),
        ("vers:intdot/>=13.0|<13.0.2", "13.0.1", True),
        ("13.00", "13.00", True),  # an exact version
        ("vers:all/*", "6.30.00", True),
        ("vers:intdot/<6.4", "6.30.00-beta", None),  # not a version either reading can take
    ],
)
def test_range_says_nothing_where_integer_and_decimal_readings_disagree(
    text: str, written: str, inside: bool | None
) -> None:
    rng = parse_range(text, exact_version=not text.startswith("vers:"))
    key = version_key(written)
    got = rng.contains(key, written) if key is not None else None
    assert got is inside
