"""The application patch judgement takes release dates from the endoflife.date feed: the same
raw record judged against two snapshots gives the verdict each snapshot supports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from checks.patch_applications.windows_app_updates import CHECK
from scanner.checking.api import Context, Output
from scanner.inventory.profile import for_judging, parse_profile
from scanner.model.feeds import Snapshot
from scanner.model.policy import Policy
from scanner.model.vocabulary import Platform, Role
from tests.checks.feeds import snapshot_for

SHIPPED = snapshot_for((("endoflife", "shipped"),))
WEEK_EARLIER = snapshot_for((("endoflife", "endoflife-2026-08-11"),))  # no 154.0 yet


def _judge(feeds: Snapshot, at: datetime) -> dict[str, tuple[str, str]]:
    apps = [
        {
            "DisplayName": "Mozilla Firefox (x64 en-US)",
            "DisplayVersion": "153.0.4",  # released 2026-08-11; 154.0 followed on 2026-08-18
            "Publisher": "Mozilla",
            "InstallDate": "20260812",
            "Hive": "HKEY_LOCAL_MACHINE",
        }
    ]
    outputs = {
        "uninstall": Output(
            command=CHECK.collect["uninstall"].line,
            stdout=json.dumps(apps).encode(),
            stderr=b"",
            exit_code=0,
        ),
        "c2r": Output(command=CHECK.collect["c2r"].line, stdout=b"", stderr=b"", exit_code=0),
    }
    policy = Policy()
    profile = for_judging(parse_profile({}, lambda n: n), policy, Role.WORKSTATION)
    ctx = Context(
        host="pc1",
        platform=Platform.WINDOWS,
        profile=profile,
        policy=policy,
        collected_at=at,
        feeds=feeds,
    )
    return {f.ism: (f.outcome.value, f.evidence) for f in CHECK.judge(outputs, ctx)}


AT = datetime(2026, 8, 21, 12, tzinfo=UTC)


def test_the_newer_snapshot_knows_the_missed_release() -> None:
    got = _judge(SHIPPED, AT)
    assert got["ISM-1692"][0] == "ineffective"
    assert (
        "endoflife.date firefox 154.0 released 2026-08-18, snapshot 2026-08-20"
        in (got["ISM-1692"][1])
    )
    assert got["ISM-1691"][0] == "effective"  # 154.0 is still inside the two weeks
    assert "newer 154.0 still inside the window" in got["ISM-1691"][1]


def test_the_older_snapshot_cannot_speak_for_the_last_48_hours() -> None:
    got = _judge(WEEK_EARLIER, AT)
    assert got["ISM-1692"][0] == "no_visibility"
    assert "endoflife.date firefox, snapshot 2026-08-11) ends 2026-08-11" in got["ISM-1692"][1]
    assert got["ISM-1691"][0] == "effective"


def test_without_a_usable_feed_firefox_is_not_judged() -> None:
    none = _judge(Snapshot(None), AT)
    assert none["ISM-1691"][0] == "no_visibility"
    assert "no endoflife.date release cycles and versions snapshot installed" in none["ISM-1691"][1]
    stale = _judge(SHIPPED, datetime(2026, 12, 1, tzinfo=UTC))
    assert stale["ISM-1691"][0] == "no_visibility"
    assert "endoflife snapshot 103 days old" in stale["ISM-1691"][1]


def test_the_test_copy_is_the_shipped_file_minus_the_newest_week() -> None:
    here = Path(__file__).resolve().parents[1] / "data" / "feeds" / "endoflife-2026-08-11"
    older = json.loads((here / "endoflife/releases/firefox.json").read_text())["versions"]
    assert "154.0" not in older and "153.0.4" in older


def test_office_end_of_support_needs_the_feed() -> None:
    """The same Office 2016 inventory: ineffective from the feed; without one, no_visibility
    with the feed's reason (app_eol.csv no longer has Office rows), never effective."""
    from checks.patch_applications.windows_unsupported_apps import CHECK as UNSUPPORTED
    from tests.checks.test_fixtures import _context, _load, _outputs

    path = (
        Path(__file__).parent
        / "patch_applications.windows_unsupported_apps"
        / "office2016_after_end_of_support.json"
    )
    fixture = _load(path)
    with_feed = {f.ism: f for f in UNSUPPORTED.judge(_outputs(fixture), _context(fixture, path))}
    assert with_feed["ISM-1704"].outcome.value == "ineffective"
    assert "endoflife.date office 2016 eol 2025-10-14, snapshot 2026-08-20" in (
        with_feed["ISM-1704"].evidence
    )
    bare = {k: v for k, v in fixture.items() if k != "feeds"}
    without = {f.ism: f for f in UNSUPPORTED.judge(_outputs(bare), _context(bare, path))}
    assert without["ISM-1704"].outcome.value == "no_visibility"
    assert "no endoflife.date release cycles and versions snapshot installed" in (
        without["ISM-1704"].evidence
    )
