"""End to end: `e8scan scan` of a real Samba AD domain controller (tests/sambadc.py).

The real CLI in a subprocess, the real ldap3 client, LDAPS with the DC's own CA; the verdicts
are stated from the fixture's POPULATION, never from what the scanner printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sambadc import FQDN, POPULATION, SambaDC

pytestmark = pytest.mark.samba
REPO = Path(__file__).resolve().parents[2]
PW_ENV = "E8_TEST_DC_PW"


def e8(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=full,
        check=False,
    )


def inventory(path: Path, dc: SambaDC, **extra: str) -> Path:
    settings = {
        "ansible_connection": "ldap",
        "ansible_user": dc.scanner_upn,
        "e8_password_env": PW_ENV,
        "e8_ldap_ca_trust_path": str(dc.ca_pem),
        **extra,
    }
    line = " ".join(f"{k}={v}" for k, v in settings.items())
    path.write_text(f"[directory]\n{FQDN} {line}\n")
    return path


@pytest.fixture(scope="module")
def scanned(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("directory-scan")
    inv = inventory(work / "site.ini", samba_dc)
    out = work / "out"
    proc = e8(
        "scan", "-i", str(inv), "--out", str(out), "--no-history",
        env={PW_ENV: samba_dc.scanner_password},
    )  # fmt: skip
    assert (out / "results.json").is_file(), proc.stdout + proc.stderr
    return {
        "proc": proc,
        "work": work,
        "out": out,
        "raw": json.loads((out / "raw.json").read_text()),
        "results": json.loads((out / "results.json").read_text()),
    }


def findings(doc: dict[str, Any], check: str) -> dict[str, dict[str, Any]]:
    host = doc["hosts"][0]
    return {f["ism"]: f for f in host["controls"] if f["check"] == check}


def test_the_directory_is_read_over_ldaps_with_its_certificate(scanned: dict[str, Any]) -> None:
    host = scanned["raw"]["hosts"][0]
    assert host["reach"] == "ok", host["reach_detail"]
    assert host["platform"] == "directory"
    assert host["host_key"].startswith("SHA256:")
    for c in host["commands"]:
        assert c["command"].startswith("ldapsearch "), c["command"]
        assert c["exit_code"] == 0, (c["command"], c["stderr"])
        assert not c["truncated"]


def test_stale_domain_admins_are_named(scanned: dict[str, Any]) -> None:
    f = findings(scanned["results"], "restrict_admin.directory_privileged_accounts")["ISM-1648"]
    assert f["outcome"] == "ineffective", f
    stale = [u.name for u in POPULATION.users if u.privileged and u.enabled
             and (u.last_logon_days or 0) > 59]  # fmt: skip
    assert stale == ["da-stale", "bk-stale"]
    for name in stale:
        assert name in f["evidence"]
    assert "da-disabled-stale" not in f["evidence"]  # disabled: holds no access
    assert "alice" not in json.dumps(f)  # adminCount=1 but in no privileged group
    assert "lag" in f["evidence"]


def test_expiry_beyond_twelve_months_is_named(scanned: dict[str, Any]) -> None:
    f = findings(scanned["results"], "restrict_admin.directory_privileged_accounts")["ISM-1647"]
    assert f["outcome"] == "ineffective", f
    assert "da-noexpiry: never expires" in f["evidence"]
    assert "da-farexpiry: expires" in f["evidence"]
    assert "da-fresh" not in f["evidence"]


def test_a_privileged_mailbox_is_named_and_nesting_is_followed(scanned: dict[str, Any]) -> None:
    f = findings(scanned["results"], "restrict_admin.directory_privileged_accounts")["ISM-1175"]
    assert f["outcome"] == "ineffective", f
    assert "da-mail" in f["evidence"] and "alice" not in f["evidence"]
    standing = findings(scanned["results"], "restrict_admin.directory_privileged_accounts")[
        "ISM-1649"
    ]
    assert (
        "tier0-nested (via Tier0-Operators → Server-Admins → Administrators)"
        in standing["evidence"]
    )


def test_no_password_in_any_output(scanned: dict[str, Any], samba_dc: SambaDC) -> None:
    secret = samba_dc.scanner_password
    printed = scanned["proc"].stdout + scanned["proc"].stderr
    assert secret not in printed
    for p in scanned["out"].rglob("*"):
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p
    assert POPULATION.laps_secret.encode() not in (scanned["out"] / "raw.json").read_bytes()


# --- coverage: the directory's computers joined with the inventory ---------------------------

# Windows hosts on a closed port: unreachable at once. WIN01 is listed (and not reached: it still
# counts as listed); hmi-workgroup-07 is no computer of the domain; 127.0.0.1 has no name.
UNREACHABLE_WINRM = (
    "ansible_connection=winrm ansible_host={address} ansible_port=9 ansible_user=e8 "
    f"e8_password_env={PW_ENV} ansible_winrm_transport=ntlm ansible_winrm_scheme=https "
    "ansible_winrm_server_cert_validation=ignore"
)
LISTED = "win01.corp.e8scan.test"
WORKGROUP = "hmi-workgroup-07"


@pytest.fixture(scope="module")
def covered(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("directory-coverage")
    inv = inventory(work / "site.ini", samba_dc)
    lines = [f"{name} {UNREACHABLE_WINRM.format(address=addr)}"
             for name, addr in ((LISTED, "127.0.0.1"), (WORKGROUP, "127.0.0.1"),
                                ("127.0.0.1", "127.0.0.1"))]  # fmt: skip
    inv.write_text(inv.read_text() + "[windows]\n" + "\n".join(lines) + "\n")
    out = work / "out"
    proc = e8(
        "scan", "-i", str(inv), "--out", str(out), "--no-history", "--html", str(work / "r.html"),
        "--checks", "patch_os.windows_os_support",  # no directory check: coverage runs anyway
        env={PW_ENV: samba_dc.scanner_password},
    )  # fmt: skip
    assert (out / "results.json").is_file(), proc.stdout + proc.stderr
    return {
        "proc": proc,
        "out": out,
        "html": (work / "r.html").read_text(),
        "results": json.loads((out / "results.json").read_text()),
    }


def test_active_computers_not_in_the_inventory_are_listed(covered: dict[str, Any]) -> None:
    reach = {h["name"]: h["reach"] for h in covered["results"]["hosts"]}
    assert reach[FQDN] == "ok" and reach[LISTED] == "unreachable", reach
    (cov,) = covered["results"]["coverage"]
    assert cov["directory"] == FQDN and cov["read"] is True, cov
    expected = sorted(c.name for c in POPULATION.computers
                      if c.enabled and (c.last_logon_days or 999) <= 90 and c.name != "WIN01")  # fmt: skip
    assert expected == ["HMI01", "LNX01", "SRV2008", "SRV2022", "WIN02"]
    assert [n["name"] for n in cov["not_scanned"]] == expected
    for n in cov["not_scanned"]:
        c = POPULATION.computer(n["name"])
        assert (n["dns_name"], n["dn"]) == (c.dns_host_name, c.dn)
        assert (n["operating_system"], n["os_version"]) == (c.operating_system, c.os_version)
    assert [h["host"] for h in cov["not_in_directory"]] == [WORKGROUP]
    assert cov["unmatched_ip_hosts"] == 1 and cov["ip_only_hosts"] == ["127.0.0.1"]
    printed = covered["proc"].stdout
    assert (
        f"directory {FQDN}: 5 active computers not in the inventory, 1 Windows host(s) of the "
        "inventory not in the directory (see Not scanned)" in printed
    ), printed
    assert "HMI01" in covered["html"] and WORKGROUP in covered["html"]


def test_the_not_scanned_sheet_shows_them(covered: dict[str, Any]) -> None:
    import openpyxl

    book = openpyxl.load_workbook(covered["out"] / "e8-report.xlsx")
    rows = list(book["Not scanned"].iter_rows(values_only=True))
    rows = rows[: rows.index((None,) * len(rows[0]))]  # the table, not the colour key below it
    by_finding: dict[str, set[str]] = {}
    for r in rows[1:]:
        assert r[0] == FQDN
        by_finding.setdefault(r[1], set()).add(r[2])
    assert by_finding == {
        "not in the inventory": {"HMI01", "LNX01", "SRV2008", "SRV2022", "WIN02"},
        "not in the directory": {WORKGROUP},
        "IP only: not matched": {"127.0.0.1"},
    }
    for gone in ("WIN01", "GONE01", "OLDXP", "DC01"):  # listed, stale, disabled, the target
        assert all(r[2] != gone for r in rows)
    hmi = next(r for r in rows if r[2] == "HMI01")
    assert hmi[8] == POPULATION.computer("HMI01").dn
    summary = [r for r in book["Summary"].iter_rows(values_only=True) if r[0] == FQDN]
    assert summary and summary[0][1:6] == (len(POPULATION.computers) + 1, 6, 5, 1, 1)


def test_a_rescore_of_the_raw_record_gives_the_same_coverage(
    covered: dict[str, Any], tmp_path: Path
) -> None:
    proc = e8("rescore", str(covered["out"] / "raw.json"), "--out", str(tmp_path), "-q")
    again = json.loads((tmp_path / "results.json").read_text())
    assert again["coverage"] == covered["results"]["coverage"], proc.stderr


def test_unsupported_operating_systems_are_named_from_the_directory(
    scanned: dict[str, Any],
) -> None:
    """HMI01 (Windows 7) and SRV2008 (Server 2008 R2) are in no inventory, and long out of
    support (ESU ended 2023 and 2024): the directory names them."""
    f = findings(scanned["results"], "patch_os.directory_os_support")["ISM-1501"]
    assert f["outcome"] == "ineffective", f
    assert POPULATION.computer("HMI01").operating_system == "Windows 7 Professional"
    assert POPULATION.computer("SRV2008").operating_system.startswith("Windows Server 2008 R2")
    past = f["evidence"].split(". ", 1)[0]
    assert "HMI01 (Windows 7 Professional" in past and "SRV2008 (Windows Server 2008 R2" in past
    for name in ("SRV2022", "LNX01", "GONE01", "OLDXP"):
        assert name not in past, name
    assert "absent from the inventory" in f["observed"]["scope"]
    judged = {j["name"]: j["status"] for j in f["observed"]["judged"]}
    assert judged["HMI01"] == judged["SRV2008"] == "ended"
    assert "GONE01" not in judged and "OLDXP" not in judged
