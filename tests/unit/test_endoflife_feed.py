"""endoflife.date parsing (scanner/model/endoflife.py) on the shipped copies of the real files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from scanner.model.endoflife import parse_cycles, parse_releases
from scanner.model.feeds import FeedError, Snapshot
from tests.checks.feeds import SHIPPED, snapshot_for

EOL = SHIPPED / "endoflife"


def test_firefox_versions_and_their_release_dates() -> None:
    rel = parse_releases((EOL / "releases/firefox.json").read_bytes(), "firefox.json")
    assert rel["154.0"] == date(2026, 8, 18)
    assert rel["140.14.0"] == date(2026, 8, 18)  # ESR 140 point release
    assert len(rel) > 600


def test_chrome_has_no_versions_only_cycles() -> None:
    assert parse_releases((EOL / "releases/chrome.json").read_bytes(), "chrome.json") == {}
    cycles = parse_cycles((EOL / "products/chrome.md").read_bytes(), "chrome.md")
    c151 = next(c for c in cycles if c.cycle == "151")
    assert (c151.released, c151.eol) == (date(2026, 7, 28), date(2026, 8, 25))


def test_firefox_cycles_with_lts_and_open_ended_eol() -> None:
    cycles = parse_cycles((EOL / "products/firefox.md").read_bytes(), "firefox.md")
    first = cycles[0]
    assert (first.cycle, first.released, first.eol, first.latest) == (
        "154",
        date(2026, 8, 18),
        False,
        "154.0",
    )
    assert first.ended(date(2030, 1, 1)) is False
    c152 = next(c for c in cycles if c.cycle == "152")
    assert c152.ended(date(2026, 7, 21)) and not c152.ended(date(2026, 7, 20))


@pytest.mark.parametrize("path", sorted((EOL / "products").glob("*.md")), ids=lambda p: p.stem)
def test_every_shipped_product_page_parses(path: Path) -> None:
    cycles = parse_cycles(path.read_bytes(), path.name)
    assert cycles and all(c.cycle for c in cycles)


@pytest.mark.parametrize("path", sorted((EOL / "releases").glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_release_file_parses(path: Path) -> None:
    parse_releases(path.read_bytes(), path.name)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"no front matter", "no front matter"),
        (b"---\ntitle: x\n---\n", "releases: missing"),
        (b"---\nreleases: [{eol: false}]\n---\n", r"releases\[0\].releaseCycle"),
        (b"---\nreleases: [{releaseCycle: '1', eol: soon}]\n---\n", r"releases\[0\].eol"),
        (b"---\nreleases: [\n---\n", "not YAML"),
    ],
)
def test_a_malformed_product_page_names_file_and_field(body: bytes, needle: str) -> None:
    with pytest.raises(FeedError, match=f"x.md: .*{needle}"):
        parse_cycles(body, "x.md")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"<html>", "not JSON"),
        (b'{"releases": {}}', "no versions object"),
        (b'{"versions": {"1.0": {"name": "1.0", "date": "soon"}}}', r"versions\['1.0'\].date"),
    ],
)
def test_a_malformed_release_file_names_file_and_field(body: bytes, needle: str) -> None:
    with pytest.raises(FeedError, match=f"x.json: .*{needle}"):
        parse_releases(body, "x.json")


def test_the_snapshot_parses_once_and_says_when_a_product_is_missing() -> None:
    snap = snapshot_for((("endoflife", "shipped"),))
    assert snap.meta is not None and snap.meta.feeds["endoflife"].as_of == date(
        2026, 8, 20
    )  # newest date in the data
    assert snap.state("endoflife", datetime(2026, 9, 15, tzinfo=UTC)).usable
    assert not snap.state("endoflife", datetime(2026, 12, 1, tzinfo=UTC)).usable
    assert snap.releases("firefox") is snap.releases("firefox")
    assert snap.releases("no-such-product") is None and snap.cycles("no-such-product") is None
    assert Snapshot(None).releases("firefox") is None
