"""Directory coverage (scanner/assess/coverage.py): the directory's computer objects joined with
the hosts of the run, on the computers search recorded from the suite's Samba DC.

The recording (tests/data/directory/samba_computers.json, written by
``python -m tests.directory.record_fixtures RAW.json``) holds tests/sambadc.py's POPULATION:
WIN01, WIN02, HMI01, SRV2008, SRV2022 and LNX01 enabled and logged on within 30 days, GONE01
200 days ago, OLDXP disabled and never logged on, and the DC (DC01, no lastLogonTimestamp).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from scanner.assess.coverage import (
    computer_keys,
    directory_coverage,
    host_keys,
    is_ip,
    merged_coverage,
)
from scanner.assess.pipeline import assess
from scanner.assess.results import DirectoryCoverage, Results
from scanner.checking.directory_searches import COMPUTERS_SEARCH
from scanner.checking.loader import load_checks
from scanner.checking.role_probe import COVERAGE_ID, ENGINE_PROBES, PROBE_ID
from scanner.cli.support import directory_line
from scanner.collect.plan import plan_host, select_checks
from scanner.inventory.load import load_inventory
from scanner.model.ldap_search import parse
from scanner.model.policy import Policy
from scanner.model.vocabulary import Platform, Reach
from scanner.record.raw import CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.report.html import render_html
from scanner.report.xlsx.workbook import write_workbook

RECORDING = Path(__file__).resolve().parents[1] / "data" / "directory" / "samba_computers.json"
DC = "dc01.corp.e8scan.test"
ACTIVE_UNLISTED = ["HMI01", "LNX01", "SRV2008", "SRV2022", "WIN01", "WIN02"]


def recording() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(RECORDING.read_text())
    return doc


READ_AT = datetime.fromisoformat(recording()["collected_at"])


def search(
    stdout: str | None = None,
    edit: Callable[[list[dict[str, Any]]], None] | None = None,
    **fields: Any,
) -> CommandRecord:
    """The recorded computers search, its stdout replaced or its entries edited."""
    rec = recording()
    text = rec["stdout"] if stdout is None else stdout
    if edit is not None:
        doc = json.loads(text)
        edit(doc["entries"])
        text = json.dumps(doc)
    base: dict[str, Any] = {"stdout": text.encode(), "exit_code": rec["exit_code"]}
    return CommandRecord(
        command=rec["command"], as_run=rec["command"], checks=[COVERAGE_ID], **(base | fields)
    )


def entry(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in entries if e["attributes"]["sAMAccountName"] == [f"{name}$"])


def host(
    name: str,
    platform: Platform = Platform.WINDOWS,
    address: str | None = None,
    reach: Reach = Reach.OK,
    commands: Sequence[CommandRecord] = (),
    detail: str = "",
) -> HostRecord:
    return HostRecord(
        name=name,
        address=address or name,
        port={Platform.DIRECTORY: 636, Platform.LINUX: 22}.get(platform, 5986),
        connection={Platform.DIRECTORY: "ldap", Platform.LINUX: "ssh"}.get(platform, "winrm"),
        user="svc-e8scan",
        become=False,
        platform=platform,
        groups=[],
        vars={},
        reach=reach,
        reach_detail=detail,
        started=READ_AT,
        finished=READ_AT,
        commands=list(commands),
    )


def directory(out: CommandRecord | None = None, name: str = DC, **kw: Any) -> HostRecord:
    return host(name, Platform.DIRECTORY, commands=[search() if out is None else out], **kw)


def raw(
    *hosts: HostRecord, limit: str | None = None, not_collected: Sequence[str] = ()
) -> RawRecord:
    return RawRecord(
        tool_version="t",
        run=RunInfo(
            id="r1",
            started=READ_AT,
            finished=READ_AT,
            inventory=[],
            limit=limit,
            checks=[],
            incomplete=bool(not_collected),
            not_collected=list(not_collected),
        ),
        hosts=list(hosts),
    )


def only(*hosts: HostRecord, **kw: Any) -> DirectoryCoverage:
    (cov,) = directory_coverage(raw(*hosts, **kw))
    return cov


def unlisted(cov: DirectoryCoverage) -> list[str]:
    return [n.name for n in cov.not_scanned]


# --- the recording ----------------------------------------------------------------------------


def test_active_computers_not_in_the_inventory_are_listed_with_what_places_them() -> None:
    cov = only(directory())
    assert cov.read and cov.reason == ""
    assert cov.computers == 9 and cov.active == 6
    assert unlisted(cov) == ACTIVE_UNLISTED
    hmi = next(n for n in cov.not_scanned if n.name == "HMI01")
    assert hmi.dns_name == "hmi01.corp.e8scan.test"
    assert (hmi.operating_system, hmi.os_version) == ("Windows 7 Professional", "6.1 (7601)")
    assert hmi.dn == "CN=HMI01,CN=Computers,DC=corp,DC=e8scan,DC=test"
    assert timedelta(days=9) < READ_AT - hmi.last_logon < timedelta(days=11)  # populated 10 days
    assert cov.collected_at == READ_AT and cov.active_days == 90
    assert any("14 days' lag" in n for n in cov.notes)
    assert cov.not_in_directory == [] and cov.unmatched_ip_hosts == 0


def test_stale_disabled_and_listed_computers_are_left_out() -> None:
    names = unlisted(only(directory()))
    assert "GONE01" not in names  # enabled, last logon 200 days before the read
    assert "OLDXP" not in names  # disabled (userAccountControl 4098), never logged on
    assert "DC01" not in names  # the directory target itself is in the inventory


def test_the_90_day_edge_and_a_disabled_recent_computer() -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        for name, days in (("WIN02", 89), ("SRV2022", 91)):
            stamp = READ_AT - timedelta(days=days)
            ticks = int((stamp - datetime(1601, 1, 1, tzinfo=stamp.tzinfo)).total_seconds())
            entry(entries, name)["attributes"]["lastLogonTimestamp"] = [str(ticks * 10_000_000)]
        entry(entries, "HMI01")["attributes"]["userAccountControl"] = ["4098"]  # disabled

    cov = only(directory(search(edit=edit)))
    assert unlisted(cov) == ["LNX01", "SRV2008", "WIN01", "WIN02"]


def test_short_names_fqdns_and_ansible_host_match_case_insensitively() -> None:
    cov = only(
        directory(),
        host("WIN01"),  # short name, upper case
        host("hmi01.corp.e8scan.test"),  # the dNSHostName
        host("srv2008.plant.example"),  # another DNS zone: matched by the first label
        host("line3-historian", address="SRV2022.corp.e8scan.test"),  # ansible_host
        host("lnx01", Platform.LINUX),
    )
    assert unlisted(cov) == ["WIN02"]
    assert cov.not_in_directory == []


def test_ip_only_hosts_are_counted_never_matched() -> None:
    cov = only(
        directory(),
        host("10.20.0.5"),  # no name at all
        host("kiosk", address="10.20.0.6"),  # a name the directory does not know
        host("WIN02", address="10.20.0.7"),  # matched by its name; the IP is not used
        host("fe80::1", Platform.LINUX, address="[fe80::1%eth0]"),
    )
    assert cov.unmatched_ip_hosts == 2
    assert cov.ip_only_hosts == ["10.20.0.5", "fe80::1"]
    assert "WIN02" not in unlisted(cov) and "HMI01" in unlisted(cov)
    assert [h.host for h in cov.not_in_directory] == ["kiosk"]  # the IP-only one is not flagged
    assert any("2 host(s) of the run are known only by IP address" in n for n in cov.notes)


def test_windows_hosts_the_directory_lacks_are_flagged_linux_ones_are_not() -> None:
    cov = only(
        directory(),
        host("hmi-workgroup-07.plant.example"),
        host("OLDXP"),  # in the directory, disabled: it is in the directory
        host("GONE01"),  # stale: likewise
        host("historian", Platform.LINUX),
    )
    assert [(h.host, h.platform) for h in cov.not_in_directory] == [
        ("hmi-workgroup-07.plant.example", Platform.WINDOWS)
    ]


def test_hosts_not_reached_or_not_collected_still_count_as_listed() -> None:
    cov = only(
        directory(),
        host("win01.corp.e8scan.test", reach=Reach.UNREACHABLE, detail="connection refused"),
        not_collected=["HMI01"],
    )
    assert unlisted(cov) == ["LNX01", "SRV2008", "SRV2022", "WIN02"]


def test_a_limited_run_says_the_rest_of_the_inventory_shows_as_not_scanned() -> None:
    cov = only(directory(), limit="directory")
    assert any("limited to 'directory'" in n for n in cov.notes)


def test_names_and_addresses() -> None:
    assert is_ip("10.0.0.1") and is_ip("[2001:db8::1]") and is_ip("fe80::1%eth0")
    assert not is_ip("hmi01") and not is_ip("10.0.0.1.example")
    assert host_keys("HMI01.corp.example.", "10.0.0.9") == {"hmi01.corp.example", "hmi01"}
    assert host_keys("10.0.0.9", "10.0.0.9") == frozenset()
    assert computer_keys("HMI01", "hmi01.corp.example") == {"hmi01.corp.example", "hmi01"}


# --- what cannot be read is said, never an empty list -------------------------------------------

UNREADABLE = [
    ("truncated", search(truncated=True), "answer was cut short"),
    ("timed out", search(timed_out=True), "timed out"),
    ("not run", search(ran=False, stdout="", exit_code=None), "was not run"),
    (
        "size limit",
        search(stdout="", exit_code=4, stderr=b"LDAP 4 sizeLimitExceeded\n"),
        "failed (LDAP result 4: LDAP 4 sizeLimitExceeded)",
    ),
    ("not json", search(stdout="Search done."), "not the expected JSON"),
    ("no list", search(stdout='{"entries": null}'), "has no entry list"),
    ("empty", search(stdout='{"entries": [], "references": []}'), "returned no objects"),
    ("no dn", search(stdout='{"entries": [{"attributes": {}}]}'), "entry 1 of the computers"),
    (
        "bad values",
        search(stdout='{"entries": [{"dn": "CN=X", "attributes": {"dNSHostName": "x"}}]}'),
        "attribute dNSHostName is not a list",
    ),
]


@pytest.mark.parametrize(
    ("out", "reason"), [(o, r) for _, o, r in UNREADABLE], ids=[i for i, _, _ in UNREADABLE]
)
def test_a_search_that_cannot_be_trusted_makes_the_directory_unreadable(
    out: CommandRecord, reason: str
) -> None:
    cov = only(directory(out), host("hmi-workgroup-07"))
    assert not cov.read
    assert reason in cov.reason
    assert cov.not_scanned == [] and cov.not_in_directory == []  # nothing claimed either way
    assert "could not be read" in directory_line(cov)


def test_a_directory_not_reached_or_without_the_search_says_why() -> None:
    dc = host(DC, Platform.DIRECTORY, reach=Reach.UNREACHABLE, detail="connection refused")
    cov = only(dc)
    assert not cov.read
    assert cov.reason == "the directory was not read (unreachable: connection refused)"
    old = host(DC, Platform.DIRECTORY)  # reached, but the record has no computers search
    assert "not in the raw record" in only(old).reason


def test_objects_whose_state_cannot_be_read_are_named_not_guessed() -> None:
    def edit(entries: list[dict[str, Any]]) -> None:
        del entry(entries, "HMI01")["attributes"]["userAccountControl"]
        entry(entries, "WIN02")["attributes"]["lastLogonTimestamp"] = ["soon"]

    cov = only(directory(search(edit=edit)))
    assert cov.undetermined == ["HMI01", "WIN02"]
    assert unlisted(cov) == ["LNX01", "SRV2008", "SRV2022", "WIN01"]


def test_a_second_directory_unread_leaves_the_first_ones_findings() -> None:
    second = directory(search(truncated=True), name="dc02.ot.e8scan.test")
    cov = directory_coverage(raw(directory(), second, host("hmi-workgroup-07")))
    assert [c.read for c in cov] == [True, False]
    assert [h.host for h in cov[0].not_in_directory] == ["hmi-workgroup-07"]
    assert any(n.startswith("Not read: dc02.ot.e8scan.test;") for n in cov[0].notes)
    assert cov[1].not_scanned == [] and cov[1].not_in_directory == []


def test_no_directory_target_no_coverage() -> None:
    assert directory_coverage(raw(host("win01"))) == []


# --- results, rescore, merge ------------------------------------------------------------------


def scored(*hosts: HostRecord) -> Results:
    return assess(raw(*hosts), [], Policy())


def test_results_carry_the_section_and_a_rescore_gives_the_same() -> None:
    record = raw(directory(), host("win01"), host("hmi-workgroup-07"))
    first = assess(record, [], Policy())
    again = assess(RawRecord.model_validate_json(record.model_dump_json()), [], Policy())
    assert first.coverage == again.coverage
    doc = json.loads(first.model_dump_json())
    (section,) = doc["coverage"]
    assert section["directory"] == DC and section["read"] is True
    assert [n["name"] for n in section["not_scanned"]] == [
        "HMI01", "LNX01", "SRV2008", "SRV2022", "WIN02"
    ]  # fmt: skip
    assert section["not_in_directory"] == [
        {"host": "hmi-workgroup-07", "address": "hmi-workgroup-07", "platform": "windows"}
    ]
    assert section["unmatched_ip_hosts"] == 0
    assert Results.model_validate_json(first.model_dump_json()).coverage == first.coverage


def test_a_merge_drops_computers_another_collector_scanned() -> None:
    site_a = scored(directory())
    site_b = scored(host("hmi01.corp.e8scan.test"))
    (cov,) = merged_coverage(site_a.coverage, [*site_a.hosts, *site_b.hosts])
    assert unlisted(cov) == ["LNX01", "SRV2008", "SRV2022", "WIN01", "WIN02"]
    assert any(n.startswith("Merged run") for n in cov.notes)


# --- the plan -----------------------------------------------------------------------------------


def test_every_directory_plan_runs_the_computers_search_once(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text(
        f"{DC} ansible_connection=ldap ansible_user=svc@corp e8_password_env=E8_NO_SUCH_VAR\n"
    )
    dc = load_inventory([inv]).hosts[DC]
    checks = load_checks()
    every = plan_host(dc, checks, secrets=False)
    runs = [c for c in every.commands if c.step.line == COMPUTERS_SEARCH.line]
    assert len(runs) == 1 and COVERAGE_ID in runs[0].checks
    assert "restrict_admin.directory_laps" in runs[0].checks
    linux_only = plan_host(dc, select_checks(checks, ["patch_os.linux_os_support"]), secrets=False)
    assert [(c.step.line, c.checks) for c in linux_only.commands][-1] == (
        COMPUTERS_SEARCH.line,
        [COVERAGE_ID],
    )
    assert [c.checks for c in linux_only.commands] == [[PROBE_ID], [COVERAGE_ID]]


def test_no_directory_search_asks_for_a_password_attribute() -> None:
    secret = {"unicodepwd", "ms-mcs-admpwd", "mslaps-password", "mslaps-encryptedpassword"}
    secret |= {"mslaps-encrypteddsrmpassword", "mslaps-encrypteddsrmpasswordhistory"}
    secret |= {"mslaps-encryptedpasswordhistory", "supplementalcredentials", "dbcspwd"}
    lines = [cmd.line for _, cmd in ENGINE_PROBES[Platform.DIRECTORY]]
    lines += [
        cmd.line
        for c in load_checks()
        if Platform.DIRECTORY in c.platforms
        for cmd in c.collect.values()
    ]
    for line in lines:
        asked = {a.lower() for a in parse(line).attributes}
        assert not asked & secret, line


# --- what the operator sees --------------------------------------------------------------------


def test_the_terminal_line_names_the_count_and_escapes_host_text() -> None:
    cov = only(directory())
    assert directory_line(cov) == (
        f"directory {DC}: 6 active computers not in the inventory (see Not scanned)"
    )
    odd = only(directory(name="dc\x1b]0;pwned\x07.corp"), host("kiosk"))
    line = directory_line(odd)
    assert "\x1b" not in line and "\\x1b]0;pwned\\x07" in line
    assert line.endswith(
        "active computers not in the inventory, 1 Windows host(s) of the inventory not in the "
        "directory (see Not scanned)"
    )


def workbook(results: Results) -> openpyxl.Workbook:
    buf = io.BytesIO()
    write_workbook(results, buf)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


def test_the_workbook_lists_them_on_a_not_scanned_sheet_and_counts_them_on_the_summary() -> None:
    results = scored(directory(), host("win01"), host("hmi-workgroup-07"), host("10.9.9.9"))
    book = workbook(results)
    sheet = book["Not scanned"]
    assert book.sheetnames.index("Not scanned") == book.sheetnames.index("Coverage") + 1
    rows = list(sheet.iter_rows(values_only=True))
    rows = rows[: rows.index((None,) * len(rows[0]))]  # the table, not the colour key below it
    assert rows[0][:4] == ("Directory", "Finding", "Name", "DNS name or address")
    found = {(r[1], r[2]) for r in rows[1:]}
    assert found == {
        *(("not in the inventory", n) for n in ["HMI01", "LNX01", "SRV2008", "SRV2022", "WIN02"]),
        ("not in the directory", "hmi-workgroup-07"),
        ("IP only: not matched", "10.9.9.9"),
    }
    hmi = next(r for r in rows if r[2] == "HMI01")
    assert hmi[8] == "CN=HMI01,CN=Computers,DC=corp,DC=e8scan,DC=test" and hmi[7] == 10
    assert sheet.freeze_panes == "D2" and sheet.auto_filter.ref == f"A1:J{len(rows)}"
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape"
    summary = [r for r in book["Summary"].iter_rows(values_only=True) if r[0] == DC]
    assert summary == [(DC, 9, 6, 5, 1, 1, *([None] * (len(summary[0]) - 6)))]


def test_the_workbook_has_no_such_sheet_without_a_directory_and_says_when_unread() -> None:
    assert "Not scanned" not in workbook(scored(host("win01"))).sheetnames
    book = workbook(scored(directory(search(truncated=True))))
    rows = list(book["Not scanned"].iter_rows(values_only=True))
    assert rows[1][:2] == (DC, "could not be read") and "cut short" in rows[1][9]


def test_the_html_report_has_a_short_section() -> None:
    page = render_html(scored(directory(), host("hmi-workgroup-07")))
    assert 'id="directory-coverage"' in page
    assert "6 active computers not in the inventory" in page
    assert "CN=HMI01,CN=Computers,DC=corp,DC=e8scan,DC=test" in page
    assert "hmi-workgroup-07" in page
    assert 'id="directory-coverage"' not in render_html(scored(host("win01")))
