"""The ICS mapping table (checks/patch_applications/ics_products.csv) and the matcher of
``patch_applications.windows_ics_advisories`` on CISA's real 2024 advisories (shipped copy).

The table is tested on real DisplayName strings: ``tests/data/ics_displaynames.csv`` holds
Uninstall DisplayNames from public sources (a recorded Tenable.ot inventory in pyTenable's tests,
Greenbone's detection rules), each with its provenance and the row it must hit (or none)."""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from checks.facts.software import App
from checks.patch_applications.windows_ics_advisories import (
    ICS_PRODUCTS,
    ICS_VENDORS,
    ROWS,
    Row,
    assess,
    identify,
)
from scanner.model.csaf import CsafFeed, parse_csaf_feed
from tests.checks.feeds import SHIPPED

MONTH = timedelta(days=30)


@pytest.fixture(scope="module")
def feed() -> CsafFeed:
    return parse_csaf_feed(SHIPPED)


REAL = Path(__file__).parent.parent / "data" / "ics_displaynames.csv"
EXAMPLES = list(csv.DictReader(REAL.read_text(encoding="utf-8").splitlines()))


def _hits(name: str, publisher: str) -> list[str]:
    """Every table row that identifies this entry (identify() takes the first)."""
    return [
        r.id
        for r in ROWS
        if r.match.search(name) and (not publisher or r.publisher.search(publisher))
    ]


@pytest.mark.parametrize("ex", EXAMPLES, ids=[e["displayname"].strip() for e in EXAMPLES])
def test_real_displaynames_match_their_row_and_no_other(ex: dict[str, str]) -> None:
    name, publisher = ex["displayname"], ex["publisher"]
    assert ex["provenance"].strip()
    hits = _hits(name, publisher)
    if ex["expect"] == "not-identified":
        # no row, and still caught as industrial software: no_visibility, never a pass
        assert hits == []
        assert (
            ICS_VENDORS.search(name) or ICS_PRODUCTS.search(name) or ICS_VENDORS.search(publisher)
        )
    else:
        assert hits == [ex["expect"]]
        # as the inventory fact delivers it (DisplayName stripped)
        row = identify(App(name=name.strip(), version=ex["version"], publisher=publisher))
        assert row is not None and row.id == ex["expect"]


def test_every_row_has_a_real_displayname_example() -> None:
    covered = {e["expect"] for e in EXAMPLES}
    assert {r.id for r in ROWS} <= covered


NOT_IDENTIFIED = [
    ("Arena", "Arena Group Ltd"),  # not an advisory product name, not an ICS vendor
    ("SIMATIC STEP 7 Safety Advanced V18", "Siemens AG"),  # another advisory product
    ("TIA Portal Cloud Connector V2.0", "Siemens AG"),  # likewise
    ("Google Chrome", "Google LLC"),
]


@pytest.mark.parametrize(("name", "publisher"), NOT_IDENTIFIED)
def test_the_table_does_not_guess(name: str, publisher: str) -> None:
    assert identify(App(name=name, version="1.0", publisher=publisher)) is None


def test_every_row_is_sourced_and_names_products_of_the_advisories_it_cites(
    feed: CsafFeed,
) -> None:
    by_id = {a.id: a for a in feed.advisories}
    for row in ROWS:
        source = row.source.lower()
        assert source.strip() and not row.verify, row.id
        assert "from memory" not in source and "@" in source, f"{row.id}: repository@commit"
        for adv_id in row.advisories.split():
            adv = by_id.get(adv_id)
            assert adv is not None, f"{row.id}: {adv_id} not in the shipped feed"
            assert any(
                row.vendor.search(p.vendor) and row.products.search(p.product) for p in adv.products
            ), f"{row.id}: {adv_id} names no product the row maps to"


def _row(name: str, publisher: str):  # type: ignore[no-untyped-def]
    row = identify(App(name=name, version="", publisher=publisher))
    assert row is not None
    return row


def _probe(vendor: str, products: str) -> Row:
    """A mapping built here, not a table row: the range logic of assess() on real advisories,
    for products whose DisplayName has no sourced row (so the table cannot identify them)."""
    return Row(
        id="test-probe",
        match=re.compile("^$"),
        publisher=re.compile(""),
        vendor=re.compile(vendor, re.I),
        products=re.compile(products, re.I),
        advisories="",
        source="test",
        verify=False,
    )


def test_late_pending_and_not_yet_published(feed: CsafFeed) -> None:
    app = App(name="FactoryTalk View Site Edition", version="13.00.00", publisher="Rockwell")
    row = _probe("^Rockwell Automation$", "^FactoryTalk View (SE|Site Edition)$")
    # ICSA-24-137-14 (<14.0, vendor fix) released 2024-05-16: four days later it is not yet due,
    # and ICSA-24-226-06 (2024-08-13) was not published yet
    state, text = assess(app, row, feed, MONTH, datetime(2024, 5, 20, tzinfo=UTC))
    assert state == "ok" and "ICSA-24-137-14" in text and "inside the window" in text
    assert "ICSA-24-226-06" not in text
    state, text = assess(app, row, feed, MONTH, datetime(2024, 7, 1, tzinfo=UTC))
    assert state == "late" and "ICSA-24-137-14" in text and "CVE-2024-4609" in text
    assert "2024-05-16" in text and "fixed: 14.0" in text


def test_the_product_names_major_version_gates_the_match(feed: CsafFeed) -> None:
    row = _probe("^Siemens$", r"^SIMATIC WinCC V\d+(\.\d+)?$")
    now = datetime(2024, 11, 15, tzinfo=UTC)
    # 7.5.x meets the SP/Update ranges of WinCC V7.5, which cannot be compared
    state, text = assess(App(name="SIMATIC WinCC V7.5", version="7.5.2.13"), row, feed, MONTH, now)
    assert state == "unknown" and "<V7.5_SP2_Update_15" in text
    # WinCC V17 7.x: "<V17.7" of ICSA-24-193-13 parses and has a vendor fix
    state, text = assess(App(name="SIMATIC WinCC V17", version="17.0.0.5"), row, feed, MONTH, now)
    assert state == "late" and "ICSA-24-193-13" in text
    state, _ = assess(App(name="SIMATIC WinCC V17", version="17.7"), row, feed, MONTH, now)
    assert state == "ok"


def test_no_vendor_fix_is_not_a_missed_patch(feed: CsafFeed) -> None:
    # the recorded STEP 7 V5.5 (05.05.0400) is in ICSA-24-137-13 "SIMATIC STEP 7 V5: all
    # versions", which has no vendor fix (mitigations only)
    name = "SIMATIC  STEP 7 V5.5 + SP4"
    row = _row(name, "")
    now = datetime(2024, 11, 15, tzinfo=UTC)
    state, text = assess(App(name=name, version="05.05.0400"), row, feed, MONTH, now)
    assert state == "ok" and "ICSA-24-137-13" in text and "no vendor fix" in text


def test_a_tia_portal_update_range_cannot_be_compared(feed: CsafFeed) -> None:
    # "<V17_Update_8" (ICSA-24-256-03, vendor fix) is an Update level, not a DisplayVersion; the
    # name is the recorded V13 package's shape with V17 (constructed)
    name = "Totally Integrated Automation Portal V17 -  TIA Portal Single SetupPackage  V17.0"
    row = _row(name, "")
    now = datetime(2024, 11, 15, tzinfo=UTC)
    state, text = assess(App(name=name, version="17.00.0000"), row, feed, MONTH, now)
    assert state == "unknown" and "<V17_Update_8" in text


def test_an_unreadable_feed_is_no_visibility(tmp_path: Path) -> None:
    from checks.patch_applications.windows_ics_advisories import CHECK
    from scanner.checking.api import Context, Output
    from scanner.model.feeds import FEEDS, FeedMeta, Snapshot, SnapshotMeta
    from scanner.model.policy import Policy
    from scanner.model.vocabulary import Outcome, Platform

    meta = SnapshotMeta(
        feeds={
            "csaf-ot": FeedMeta(
                name="csaf-ot",
                source=FEEDS["csaf-ot"].source,
                as_of=date(2024, 11, 1),
                fetched_at=datetime(2024, 11, 1, tzinfo=UTC),
                records=0,
                sha256="0" * 64,
            )
        }
    )
    entries = '[{"DisplayName":"FactoryTalk View Site Edition","DisplayVersion":"13.00.00",'
    entries += (
        '"Publisher":"Rockwell Automation, Inc.","InstallDate":null,"Hive":"HKEY_LOCAL_MACHINE"}]'
    )
    out = Output(command=CHECK.collect["uninstall"].line, stdout=entries.encode(), exit_code=0)
    ctx = Context(
        host="h",
        platform=Platform.WINDOWS,
        policy=Policy(),
        collected_at=datetime(2024, 11, 15, tzinfo=UTC),
        feeds=Snapshot(tmp_path, meta),  # no csaf-ot/index.txt there
    )
    (finding,) = CHECK.judge({"uninstall": out}, ctx)
    assert finding.outcome is Outcome.NO_VISIBILITY and "index.txt" in finding.evidence
