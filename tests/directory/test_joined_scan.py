"""End to end: one scan of the Samba DC and a Windows member; the member's domain admins are
judged through the directory read in the same run (issue 13, "Joined with the hosts").

The DC is the suite's real Samba AD DC (tests/sambadc.py) read over LDAPS by the real ldap3
client; the Windows host is the project's WS-Man test server (tests/wsman/) answering the real
pywinrm client with the privileged-groups snapshot of a domain member: its local Administrators
hold ``CORP\\Domain Admins`` and ``CORP\\Server-Admins`` (shaped as in
tests/directory/record_joined_fixtures.py, with the live domain's SIDs). The verdicts are stated
from POPULATION, never from what the scanner printed; ``e8scan rescore`` of the raw record must
give the same ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sambadc import BASE_DN, FQDN, POPULATION, SambaDC
from wsman.fixtures import FixtureOutput, HostFixtures

from checks.facts.windows.accounts import PRIVILEGED_GROUPS
from checks.facts.windows.local_accounts import LOCAL_ACCOUNTS
from tests.directory.record_joined_fixtures import _expiry_stdout, _groups_stdout, _member

pytestmark = pytest.mark.samba
REPO = Path(__file__).resolve().parents[2]
DC_PW_ENV, WIN_PW_ENV = "E8_TEST_DC_PW", "E8_TEST_WIN_PW"
WIN_USER, WIN_PW = "e8joined", "Joined-Member-Audit-13"
STALE = "restrict_admin.windows_stale_admins"
EXPIRY = "restrict_admin.windows_account_expiry"


def e8(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"} | env
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args],
        cwd=REPO, capture_output=True, text=True, env=full, check=False,
    )  # fmt: skip


def object_sid(dc: SambaDC, name: str) -> str:
    ldif = dc.ldbsearch(BASE_DN, f"(sAMAccountName={name})", "objectSid")
    line = next(x for x in ldif.splitlines() if x.startswith("objectSid: "))
    return line.split(": ", 1)[1].strip()


@pytest.fixture(scope="module")
def scanned(
    samba_dc: SambaDC, wsman_server_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("joined-scan")
    now = datetime.now(UTC)
    members = [_member(n, object_sid(samba_dc, n)) for n in ("Domain Admins", "Server-Admins")]
    fixtures = HostFixtures(
        {
            PRIVILEGED_GROUPS.cmd.line: FixtureOutput(stdout=_groups_stdout(members, now)),
            LOCAL_ACCOUNTS.cmd.line: FixtureOutput(stdout=_expiry_stdout(now)),
        }
    )
    server = wsman_server_factory(
        "127.0.0.213", auth=("basic",), users={WIN_USER: WIN_PW}, fixtures=fixtures
    )
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    inv = work / "site.ini"
    inv.write_text(
        "[directory]\n"
        f"{FQDN} ansible_connection=ldap ansible_user={samba_dc.scanner_upn} "
        f"e8_password_env={DC_PW_ENV} e8_ldap_ca_trust_path={samba_dc.ca_pem}\n"
        "[windows]\n"
        f"win01 ansible_host={server.address} ansible_port={port} ansible_connection=winrm "
        "ansible_winrm_scheme=http ansible_winrm_transport=basic e8_allow_basic_over_http=true "
        f"ansible_user={WIN_USER} e8_password_env={WIN_PW_ENV} e8_role=workstation\n"
    )
    env = {DC_PW_ENV: samba_dc.scanner_password, WIN_PW_ENV: WIN_PW}
    out = work / "out"
    proc = e8("scan", "-i", str(inv), "--out", str(out), "--no-history", env=env)
    assert (out / "results.json").is_file(), proc.stdout + proc.stderr
    again = e8("rescore", str(out / "raw.json"), "--out", str(work / "rescored"), "-q", env={})
    assert (work / "rescored" / "results.json").is_file(), again.stdout + again.stderr
    # The same record without its directory host: what a run that did not read the DC gives.
    raw = json.loads((out / "raw.json").read_text())
    alone = {**raw, "hosts": [h for h in raw["hosts"] if h["platform"] != "directory"]}
    (work / "alone.json").write_text(json.dumps(alone))
    e8("rescore", str(work / "alone.json"), "--out", str(work / "alone"), "-q", env={})
    return {
        "raw": raw,
        "results": json.loads((out / "results.json").read_text()),
        "rescored": json.loads((work / "rescored" / "results.json").read_text()),
        "alone": json.loads((work / "alone" / "results.json").read_text()),
    }


def finding(doc: dict[str, Any], host: str, check: str, ism: str) -> dict[str, Any]:
    h = next(h for h in doc["hosts"] if h["name"] == host)
    return next(c for c in h["controls"] if c["check"] == check and c["ism"] == ism)


def test_both_hosts_were_read(scanned: dict[str, Any]) -> None:
    hosts = {h["name"]: h for h in scanned["raw"]["hosts"]}
    assert hosts[FQDN]["reach"] == "ok", hosts[FQDN]["reach_detail"]
    assert hosts["win01"]["reach"] == "ok", hosts["win01"]["reach_detail"]
    assert hosts["win01"]["platform"] == "windows"


def test_the_members_stale_domain_admin_is_named(scanned: dict[str, Any]) -> None:
    f = finding(scanned["results"], "win01", STALE, "ISM-1648")
    stale = [u.name for u in POPULATION.users if "Domain Admins" in u.groups and u.enabled
             and (u.last_logon_days or 0) > 59]  # fmt: skip
    assert stale == ["da-stale"]
    assert f["outcome"] == "ineffective", f
    assert "CORP\\da-stale (via CORP\\Domain Admins → Administrators)" in f["evidence"]
    assert "da-disabled-stale" not in f["evidence"]  # disabled: holds no access
    assert f["observed"]["directories"] == [FQDN]
    nested = f["observed"]["domain_privileged"]["active"]
    assert any(x.startswith("CORP\\tier0-nested (via CORP\\Tier0-Operators") for x in nested)


def test_the_members_never_expiring_domain_admins_are_named(scanned: dict[str, Any]) -> None:
    f = finding(scanned["results"], "win01", EXPIRY, "ISM-1647")
    assert f["outcome"] == "ineffective", f
    assert (
        "CORP\\da-noexpiry (via CORP\\Domain Admins → Administrators): never expires"
        in (f["evidence"])
    )


def test_rescore_gives_the_same_verdicts(scanned: dict[str, Any]) -> None:
    for check, ism in ((STALE, "ISM-1648"), (EXPIRY, "ISM-1647")):
        first = finding(scanned["results"], "win01", check, ism)
        again = finding(scanned["rescored"], "win01", check, ism)
        assert (again["outcome"], again["evidence"]) == (first["outcome"], first["evidence"])


def test_without_the_directory_the_domain_admins_are_not_visible(scanned: dict[str, Any]) -> None:
    for check, ism in ((STALE, "ISM-1648"), (EXPIRY, "ISM-1647")):
        f = finding(scanned["alone"], "win01", check, ism)
        assert f["outcome"] == "no_visibility", f
        assert "domain CORP not read: no directory in this run" in f["evidence"]
