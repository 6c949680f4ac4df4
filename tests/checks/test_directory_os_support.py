"""How ``patch_os.directory_os_support`` maps a computer object's ``operatingSystem`` and
``operatingSystemVersion`` onto the lifecycle tables (``judge_computer``), on 2026-12-07."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checks.facts.directory.search import Entry
from checks.patch_os.directory_os_support import judge_computer
from scanner.model.policy import Policy
from tests.checks.feeds import snapshot_for

ON = datetime(2026, 12, 7, tzinfo=UTC)
# The shipped endoflife.date data, stated as of a week before (the shipped one is too old by then)
FEEDS = snapshot_for((("endoflife", "2026-11-30"),))


def computer(os_name: str | None, version: str | None) -> Entry:
    attrs: dict[str, list[object]] = {"samaccountname": ["PC$"]}
    if os_name is not None:
        attrs["operatingsystem"] = [os_name]
    if version is not None:
        attrs["operatingsystemversion"] = [version]
    return Entry(dn="CN=PC,CN=Computers,DC=example", attrs=attrs)


@pytest.mark.parametrize(
    ("os_name", "version", "status", "release"),
    [
        # client/server by "Server" in the name; build from the brackets
        ("Windows 7 Professional", "6.1 (7601)", "ended", "Windows 7"),
        ("Windows Server 2008 R2 Enterprise", "6.1 (7601)", "ended", "Windows Server 2008 R2"),
        ("Windows Server 2022 Datacenter", "10.0 (20348)", "supported", "Windows Server 2022"),
        ("Windows Server 2019 Standard", "10.0 (17763)", "supported", "Windows Server 2019"),
        # edition family from the words of the name
        ("Windows 11 Pro", "10.0 (26100)", "ended", "Windows 11 24H2 Home/Pro"),
        ("Windows 11 Enterprise", "10.0 (26100)", "supported", "Windows 11 24H2 Enterprise/Education"),
        ("Windows 11 Education", "10.0 (26100)", "supported", "Windows 11 24H2 Enterprise/Education"),
        ("Windows 11 Pro Education", "10.0 (26100)", "ended", "Windows 11 24H2 Home/Pro"),
        ("Windows 10 Enterprise LTSC", "10.0 (17763)", "supported", "Windows 10 Enterprise LTSC 2019"),
        ("Windows 10 Enterprise 2016 LTSB", "10.0 (14393)", "ended", "Windows 10 Enterprise LTSB 2016"),
        ("Windows 10 IoT Enterprise LTSC", "10.0 (19044)", "supported", "Windows 10 IoT Enterprise LTSC 2021"),
        ("Windows 10 Enterprise LTSC", "10.0 (19044)", "supported", "Windows 10 Enterprise LTSC 2021"),
        # past end of support, ESU still running: ESU enrolment is not in the directory
        ("Windows 10 Enterprise", "10.0 (19045)", "extension running", "Windows 10 22H2 Enterprise/Education"),
        ("Windows Server 2012 R2 Standard", "6.3 (9600)", "ended", "Windows Server 2012 R2"),
        # Linux: only an os-release NAME with its VERSION_ID
        ("Ubuntu", "22.04", "supported", "Ubuntu 22.04"),
        ("Ubuntu", "18.04", "extension running", "Ubuntu 18.04"),
        ("Debian GNU/Linux", "10", "ended", "Debian GNU/Linux 10"),
        ("Red Hat Enterprise Linux", "9.4", "supported", "Red Hat Enterprise Linux 9"),
    ],
)  # fmt: skip
def test_mapped(os_name: str, version: str, status: str, release: str) -> None:
    got = judge_computer(computer(os_name, version), ON, Policy(), FEEDS)
    assert (got.status, got.support and got.support.release) == (status, release), got


@pytest.mark.parametrize(
    ("os_name", "version", "why"),
    [
        ("Windows 11 Enterprise", "10.0 (26220)", "client build 26220 is not in windows_lifecycle.csv"),
        ("Windows XP Professional", "5.1 (2600)", "client build 2600 is not in windows_lifecycle.csv"),
        ("Windows 10 Enterprise", "10.0", "operatingSystemVersion carries no build number"),
        ("Windows Embedded Standard", "6.1 (7601)", "Windows Embedded editions"),
        ("Azure Stack HCI", "10.0 (20348)", "matches no lifecycle table"),
        ("Windows Server 2022 Azure Stack HCI", "10.0 (20348)", "server build 20348 is not in"),
        ("Samba", "4.17.12-Debian", "matches no lifecycle table"),
        ("Ubuntu 22.04.3 LTS", "22.04", "matches no lifecycle table"),
        ("Ubuntu", "22.04.3 LTS", "Ubuntu 22.04.3 LTS is not in linux_eol.csv"),
        (None, None, "the computer object has no operatingSystem"),
        # "IoT Enterprise" may be 21H2 (ended 2024) or IoT Enterprise LTSC 2021 (to 2032)
        ("Windows 10 IoT Enterprise", "10.0 (19044)", "the name does not settle the edition"),
    ],
)  # fmt: skip
def test_not_determinable(os_name: str | None, version: str | None, why: str) -> None:
    got = judge_computer(computer(os_name, version), ON, Policy(), FEEDS)
    assert got.status == "unknown" and why in got.why, got


def test_an_unsettled_edition_is_judged_when_every_edition_agrees() -> None:
    # Build 22000 (Windows 11 21H2): Home/Pro and Enterprise both ended long ago.
    got = judge_computer(computer("Windows 11", "10.0 (22000)"), ON, Policy(), FEEDS)
    assert got.status == "ended" and "all 2 agree" in got.why, got
    # "IoT Enterprise" at 24H2: Enterprise (to 2027) and IoT LTSC 2024 (to 2034) both run.
    got = judge_computer(computer("Windows 11 IoT Enterprise", "10.0 (26100)"), ON, Policy(), FEEDS)
    assert got.status == "supported" and "all 2 agree" in got.why, got
    # Windows 7 has one row for every edition.
    got = judge_computer(computer("Windows 7 Ultimate", "6.1 (7601)"), ON, Policy(), FEEDS)
    assert got.status == "ended" and got.why == "", got


def test_a_policy_override_replaces_the_end_of_support() -> None:
    policy = Policy(
        eol_overrides={"windows:19045": "2028-10-10", "linux:ubuntu 18.04": "2028-04-26"}
    )
    for os_name, version in (("Windows 10 Enterprise", "10.0 (19045)"), ("Ubuntu", "18.04")):
        got = judge_computer(computer(os_name, version), ON, policy, FEEDS)
        assert got.status == "supported", got
        assert got.support is not None and got.support.source.startswith("policy eol_overrides")
