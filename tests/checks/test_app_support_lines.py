"""Which installed high-risk applications the reference data can speak for (ISM-1704).

An office suite, browser, email client, PDF reader or security product from a vendor that no
end-of-life row, feed product or current-release line covers cannot be called supported: the
unsupported-apps checks make ISM-1704 no_visibility naming it. A distribution's own packages are
supported with the release (judged by patch_os.linux_os_support) and are not asked about.
"""

from __future__ import annotations

import pytest

from checks.facts.software import App
from checks.patch_applications._judging import (
    CLASSES,
    ISM_1704_CLASSES,
    LINES,
    _csv,
    unreferenced,
)


def _split(platform: str, names: list[str]) -> tuple[list[str], list[str]]:
    unknown, lines = unreferenced(platform, [App(n, "1.0") for n in names])
    return [a.name for a, _ in unknown], [a.name for a, _ in lines]


@pytest.mark.parametrize(
    ("platform", "name", "expect"),
    [
        ("windows", "Opera Stable 123.0.5669.47", "unknown"),
        ("windows", "Adobe Acrobat Reader 2020", "unknown"),  # classic track: a year in the name
        ("windows", "Foxit PDF Reader", "unknown"),
        ("windows", "CrowdStrike Windows Sensor", "unknown"),
        ("windows", "Microsoft Outlook 2021", "unknown"),  # no row for Outlook 2021
        ("windows", "Microsoft Edge", "line"),
        ("windows", "Microsoft 365 Apps for enterprise - en-us", "line"),
        ("windows", "Adobe Acrobat (64-bit)", "line"),
        ("windows", "Adobe Acrobat Reader DC", "line"),
        ("windows", "Google Chrome", "judged"),  # app_eol.csv has a minimum-major row
        ("windows", "Adobe Flash Player 32 NPAPI", "judged"),
        ("windows", "Microsoft Edge WebView2 Runtime", "not high-risk"),
        ("windows", "7-Zip 25.01 (x64)", "not high-risk"),
        ("linux", "microsoft-edge-stable", "unknown"),
        ("linux", "mdatp", "unknown"),
        ("linux", "evince", "distribution"),
        ("linux", "thunderbird", "distribution"),
        ("linux", "libreoffice-writer", "distribution"),
        ("linux", "google-chrome-stable", "judged"),
    ],
)
def test_what_the_reference_data_speaks_for(platform: str, name: str, expect: str) -> None:
    unknown, lines = _split(platform, [name])
    got = "unknown" if unknown else "line" if lines else "other"
    want = {"unknown": "unknown", "line": "line"}.get(expect, "other")
    assert got == want, (name, got)


def test_every_line_is_sourced_and_high_risk() -> None:
    assert LINES
    for line in LINES:
        assert line.klass in ISM_1704_CLASSES, line.product
        assert len(line.source) > 30 and "verify" not in line.source.lower(), line.product


def test_every_class_row_names_its_supplier() -> None:
    rows = _csv("app_classes.csv")
    assert len(rows) == len(CLASSES)
    for row in rows:
        assert row["supplier"] in {"vendor", "distribution"}, row
        if row["platform"] == "windows":
            assert row["supplier"] == "vendor", row  # Windows has no distribution


def test_a_classic_track_never_matches_the_continuous_line() -> None:
    acrobat = next(ln for ln in LINES if ln.product.startswith("Adobe Acrobat"))
    for year in ("2015", "2017", "2020", "2024"):
        assert not acrobat.match.search(f"Adobe Acrobat {year}")
        assert not acrobat.match.search(f"Adobe Acrobat Reader {year}")
