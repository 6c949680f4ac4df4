"""The feed snapshot model (scanner/model/feeds.py) on the real KEV copy in ../shared/feeds."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from scanner.model.feeds import FeedError, FeedMeta, Snapshot, SnapshotMeta, files_sha256, parse_kev

# The shipped default snapshot: a copy of the public sources (scanner/feeds/shipped/SOURCES.md).
SHIPPED = Path(__file__).resolve().parents[2] / "scanner" / "feeds" / "shipped"
KEV = SHIPPED / "kev" / "known_exploited_vulnerabilities.json"


def test_the_real_kev_catalogue_parses() -> None:
    kev = parse_kev(KEV.read_bytes())
    assert (kev.catalog_version, kev.released, len(kev.entries)) == (
        "2025.08.25",
        date(2025, 8, 25),
        1404,
    )
    git = kev.entries["CVE-2025-48384"]
    assert (git.vendor, git.date_added) == ("Git", date(2025, 8, 25))
    assert any(e.ransomware for e in kev.entries.values())


HEAD = b'{"catalogVersion": "1", "dateReleased": "2025-01-01T00:00:00Z", "vulnerabilities": '


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"<html>not found</html>", "not JSON"),
        (b'{"title": "x"}', "no vulnerabilities list"),
        (
            HEAD + b'[{"cveID": "X-1", "dateAdded": "2025-01-01"}]}',
            "not a CVE id",
        ),
        (
            HEAD + b'[{"cveID": "CVE-1"}]}',
            "vulnerabilities[0]",
        ),
    ],
)
def test_a_malformed_catalogue_is_refused_naming_what(body: bytes, needle: str) -> None:
    with pytest.raises(FeedError, match=needle.replace("[", r"\[")):
        parse_kev(body)


def snapshot(tmp_path: Path, as_of: date) -> Snapshot:
    (tmp_path / "kev").mkdir()
    (tmp_path / "kev" / KEV.name).write_bytes(KEV.read_bytes())
    meta = SnapshotMeta(
        feeds={
            "kev": FeedMeta(
                name="kev",
                source="test",
                as_of=as_of,
                fetched_at=datetime(2025, 8, 26, tzinfo=UTC),
                records=1404,
                sha256=files_sha256(tmp_path, [f"kev/{KEV.name}"]),
            )  # fmt: skip
        }
    )
    (tmp_path / "snapshot.json").write_text(meta.model_dump_json())
    return Snapshot.load(tmp_path)


def test_a_fresh_feed_is_usable_and_a_stale_or_missing_one_says_why(tmp_path: Path) -> None:
    snap = snapshot(tmp_path, date(2025, 8, 25))
    assert snap.state("kev", datetime(2025, 9, 1, tzinfo=UTC)).usable
    stale = snap.state("kev", datetime(2025, 11, 27, tzinfo=UTC))
    assert not stale.usable and stale.reason.startswith("kev snapshot 94 days old")
    missing = snap.state("csaf-ot", datetime(2025, 9, 1, tzinfo=UTC))
    assert not missing.usable and "no CISA ICS advisories" in missing.reason
    assert snap.kev() is not None and len(snap.kev().entries) == 1404  # type: ignore[union-attr]
    assert (
        Snapshot.load(None).state("kev", datetime(2025, 9, 1, tzinfo=UTC)).reason.startswith("no ")
    )


def test_the_policy_sets_the_age_limit(tmp_path: Path) -> None:
    snap = snapshot(tmp_path, date(2025, 8, 25))
    strict = Snapshot.load(tmp_path, {"kev": 3})
    assert snap.state("kev", datetime(2025, 9, 1, tzinfo=UTC)).usable
    assert not strict.state("kev", datetime(2025, 9, 1, tzinfo=UTC)).usable


def test_a_damaged_snapshot_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "snapshot.json").write_text(
        json.dumps({"kind": "e8scan-feeds", "feeds": {"kev": {}}})
    )
    with pytest.raises(FeedError, match="snapshot.json"):
        Snapshot.load(tmp_path)
