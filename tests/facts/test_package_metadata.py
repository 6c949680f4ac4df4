"""``linux.package_metadata_time``: which list the pending-update view is as fresh as.

The recorded cases (tests/facts/linux.package_metadata_time/) pin the parsed value; these pin the
two times judges take from it (``newest`` and ``freshness()``), the false pass of a security suite
apt failed to fetch behind a fresh main suite included.
"""

from __future__ import annotations

from datetime import UTC, datetime

from checks.facts.fact import Unknown
from checks.facts.linux.package_metadata import PackageMetadata, parse

L = "/var/lib/apt/lists/"
STAMP = "/var/lib/apt/periodic/update-success-stamp"


def _read(text: str) -> PackageMetadata:
    read = parse(text)
    assert isinstance(read, PackageMetadata), read
    return read


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def test_stale_security_suite_behind_fresh_main_suite() -> None:
    read = _read(
        f"100 {L}a_debian_dists_bookworm_InRelease\n"
        f"200 {L}a_debian-security_dists_bookworm-security_InRelease\n"
        f"300 {L}b_security_dists_other-security_InRelease\n"
        f"900 {L}a_debian_dists_bookworm-updates_InRelease\n"
        f"950 {STAMP}\n"
    )
    assert read.newest == _at(950)  # the stamp counts for "no list published after"
    fresh = read.freshness()
    assert not isinstance(fresh, str)
    assert (fresh.time, fresh.name) == (
        _at(200),
        "a_debian-security_dists_bookworm-security_InRelease",
    )
    assert "stalest security list" in PackageMetadata.describe(fresh)


def test_no_security_suite_gives_no_freshness() -> None:
    fresh = _read(f"900 {L}a_debian_dists_bookworm_InRelease\n").freshness()
    assert isinstance(fresh, str) and "no security suite" in fresh


def test_stamp_alone_gives_no_freshness() -> None:
    read = _read(f"950 {STAMP}\n")
    assert read.newest == _at(950)
    assert isinstance(read.freshness(), str)


def test_dnf_is_judged_on_the_newest_repomd() -> None:
    fresh = _read(
        "100.5 /var/cache/dnf/removed-repo-1/repodata/repomd.xml\n"
        "900.25 /var/cache/dnf/baseos-2/repodata/repomd.xml\n"
    ).freshness()
    assert not isinstance(fresh, str)
    assert fresh.path == "/var/cache/dnf/baseos-2/repodata/repomd.xml"


def test_cut_empty_and_junk_listings_are_unknown() -> None:
    many = "".join(f"{i} {L}s{i}-security_InRelease\n" for i in range(201))
    for text in (many, "", "\n", "nonsense\n", "12 relative/path\n", "x /var/lib/apt/lists/y\n"):
        assert isinstance(parse(text), Unknown), text
    assert isinstance(parse(many[: many.index("200 ")]), PackageMetadata)  # 200 lines: whole
