"""The ICS mapping table (checks/patch_applications/ics_products.csv) and the matcher of
``patch_applications.windows_ics_advisories`` on CISA's real 2024 advisories (shipped copy)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from checks.facts.software import App
from checks.patch_applications.windows_ics_advisories import ROWS, assess, identify
from scanner.model.csaf import CsafFeed, parse_csaf_feed
from tests.checks.feeds import SHIPPED

MONTH = timedelta(days=30)


@pytest.fixture(scope="module")
def feed() -> CsafFeed:
    return parse_csaf_feed(SHIPPED)


# DisplayName / Publisher pairs as the vendors' installers write them (as remembered: the table's
# rows are marked "verify"), and what the table must make of them.
IDENTIFIED = [
    ("FactoryTalk View Site Edition", "Rockwell Automation, Inc.", "FactoryTalk View (SE"),
    ("FactoryTalk View SE Client", "Rockwell Automation, Inc.", "FactoryTalk View (SE"),
    ("FactoryTalk View Machine Edition", "Rockwell Automation, Inc.", "FactoryTalk View ME"),
    ("FactoryTalk Services Platform", "Rockwell Automation, Inc.", "Platform"),
    ("FactoryTalk Historian SE", "Rockwell Automation, Inc.", "Historian SE"),
    ("RSLogix 500 English", "Rockwell Automation", "RSLogix 500"),
    ("Arena", "Rockwell Automation", "Arena Simulation"),
    ("ICONICS GENESIS64", "ICONICS, Inc.", "GENESIS64"),
    ("GX Works3", "MITSUBISHI ELECTRIC CORPORATION", "GX Works3"),
    ("SIMATIC WinCC V7.5", "Siemens AG", "SIMATIC WinCC V"),
    ("SIMATIC WinCC Runtime", "Siemens AG", "SIMATIC WinCC V"),
    ("Totally Integrated Automation Portal V17", "Siemens AG", "TIA Portal"),
    ("SIMATIC STEP 7 Professional V18", "Siemens AG", "STEP 7 V"),
    ("Wonderware InTouch", "Schneider Electric Software, LLC", "InTouch"),
    ("AVEVA InTouch HMI", "AVEVA Software, LLC", "InTouch"),
    ("PI Server", "OSIsoft, LLC", "PI Server"),
    ("DIAEnergie", "Delta Electronics, Inc.", "DIAEnergie"),
    ("WebAccess/SCADA", "Advantech Co., Ltd.", "WebAccess/SCADA"),
]

NOT_IDENTIFIED = [
    ("Arena", "Arena Group Ltd"),  # the Rockwell publisher gate
    ("SIMATIC WinCC Runtime Professional V18", "Siemens AG"),  # another CSAF product
    ("FactoryTalk Linx", "Rockwell Automation, Inc."),  # in no row: not identified
    ("Pi Server Monitor", "Acme"),
    ("Google Chrome", "Google LLC"),
]


@pytest.mark.parametrize(("name", "publisher", "products"), IDENTIFIED)
def test_the_table_identifies_real_displaynames(name: str, publisher: str, products: str) -> None:
    row = identify(App(name=name, version="1.0", publisher=publisher))
    assert row is not None, name
    assert products in row.products.pattern


@pytest.mark.parametrize(("name", "publisher"), NOT_IDENTIFIED)
def test_the_table_does_not_guess(name: str, publisher: str) -> None:
    assert identify(App(name=name, version="1.0", publisher=publisher)) is None


def test_every_row_names_products_of_the_advisories_it_cites(feed: CsafFeed) -> None:
    by_id = {a.id: a for a in feed.advisories}
    for row in ROWS:
        assert row.source.strip() and row.verify, row.match.pattern
        for adv_id in row.advisories.split():
            adv = by_id.get(adv_id)
            assert adv is not None, f"{row.match.pattern}: {adv_id} not in the shipped feed"
            assert any(
                row.vendor.search(p.vendor) and row.products.search(p.product) for p in adv.products
            ), f"{row.match.pattern}: {adv_id} names no product the row maps to"


def _row(name: str, publisher: str):  # type: ignore[no-untyped-def]
    row = identify(App(name=name, version="", publisher=publisher))
    assert row is not None
    return row


def test_late_pending_and_not_yet_published(feed: CsafFeed) -> None:
    app = App(name="FactoryTalk View Site Edition", version="13.00.00", publisher="Rockwell")
    row = _row(app.name, "Rockwell Automation")
    # ICSA-24-137-14 (<14.0, vendor fix) released 2024-05-16: four days later it is not yet due,
    # and ICSA-24-226-06 (2024-08-13) was not published yet
    state, text = assess(app, row, feed, MONTH, datetime(2024, 5, 20, tzinfo=UTC))
    assert state == "ok" and "ICSA-24-137-14" in text and "inside the window" in text
    assert "ICSA-24-226-06" not in text
    state, text = assess(app, row, feed, MONTH, datetime(2024, 7, 1, tzinfo=UTC))
    assert state == "late" and "ICSA-24-137-14" in text and "CVE-2024-4609" in text
    assert "2024-05-16" in text and "fixed: 14.0" in text


def test_the_product_names_major_version_gates_the_match(feed: CsafFeed) -> None:
    row = _row("SIMATIC WinCC V7.5", "Siemens AG")
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
    row = _row("GX Works3", "Mitsubishi Electric")
    state, text = assess(
        App(name="GX Works3", version="1.100E"),
        row,
        feed,
        MONTH,
        datetime(2024, 11, 15, tzinfo=UTC),
    )
    assert state == "ok" and "no vendor fix" in text


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
