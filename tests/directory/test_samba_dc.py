"""The session's Samba AD DC (``tests/sambadc.py``) is what the directory tests rely on.

LDAPS with CA validation as the ordinary scanner account, transitive group membership, the
population's attributes (the LAPS schema extension included), Kerberos and keytabs.
"""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import ldap3
import pytest
from ldap3.core.exceptions import LDAPSocketOpenError
from sambadc import (
    BASE_DN,
    FQDN,
    POPULATION,
    REALM,
    WINRM_SPN,
    SambaDC,
    SambaDCError,
    from_filetime,
    require_free_ports,
)

from scanner.checking.api import Output

pytestmark = pytest.mark.samba

IN_CHAIN = "1.2.840.113556.1.4.1941"
DOMAIN_ADMINS = f"CN=Domain Admins,CN=Users,{BASE_DN}"
ADMINISTRATORS = f"CN=Administrators,CN=Builtin,{BASE_DN}"
ACCOUNTDISABLE = 0x2


def _connect(dc: SambaDC, ca_file: str) -> ldap3.Connection:
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)
    server = ldap3.Server(FQDN, port=636, use_ssl=True, tls=tls, get_info=ldap3.NONE)
    return ldap3.Connection(
        server, user=dc.scanner_upn, password=dc.scanner_password, auto_referrals=False,
        raise_exceptions=False, receive_timeout=10,
    )  # fmt: skip


@pytest.fixture(scope="module")
def ldap(samba_dc: SambaDC) -> Iterator[ldap3.Connection]:
    """An LDAPS connection bound as the ordinary scanner account, the DC's CA validated."""
    conn = _connect(samba_dc, str(samba_dc.ca_pem))
    assert conn.bind(), conn.result
    yield conn
    conn.unbind()


def _search(
    conn: ldap3.Connection, base: str, flt: str, attrs: list[str]
) -> dict[str, dict[str, str | None]]:
    """sAMAccountName (without a trailing $) → {attribute: its one value or None}; referrals
    dropped (multi-valued attributes joined with "|")."""
    assert conn.search(base, flt, attributes=attrs), conn.result
    found = {}
    for entry in conn.response:
        if entry["type"] == "searchResEntry":
            a = {k: "|".join(map(str, v)) or None for k, v in entry["attributes"].items()}
            found[str(a["sAMAccountName"]).removesuffix("$")] = a
    return found


def _when(value: str | None) -> datetime | None:
    return None if value is None else from_filetime(int(value))


def test_ldaps_bind_validates_the_dc_certificate(samba_dc: SambaDC, ldap: ldap3.Connection) -> None:
    assert ldap.bound and ldap.server.ssl
    me = _search(ldap, BASE_DN, f"(userPrincipalName={samba_dc.scanner_upn})", ["sAMAccountName"])
    assert set(me) == {samba_dc.scanner_user}
    # Validation is real: a bundle without the DC's CA refuses the same server.
    conn = _connect(
        samba_dc, ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    )
    with pytest.raises(LDAPSocketOpenError):
        conn.bind()


def test_in_chain_membership_resolves_nesting(ldap: ldap3.Connection) -> None:
    das = _search(ldap, BASE_DN, f"(memberOf:{IN_CHAIN}:={DOMAIN_ADMINS})", ["sAMAccountName"])
    assert set(das) == POPULATION.members_in_chain("Domain Admins") | {"Administrator"}
    admins = _search(ldap, BASE_DN, f"(memberOf:{IN_CHAIN}:={ADMINISTRATORS})", ["sAMAccountName"])
    assert "tier0-nested" in admins and "Tier0-Operators" in admins
    assert "alice" not in admins and "app-admins" not in admins
    privileged = set()
    for group in ("Domain Admins", "Administrators", "Backup Operators"):
        container = "Users" if group == "Domain Admins" else "Builtin"
        flt = f"(&(objectClass=user)(memberOf:{IN_CHAIN}:=CN={group},CN={container},{BASE_DN}))"
        privileged |= set(_search(ldap, BASE_DN, flt, ["sAMAccountName"]))
    assert privileged == POPULATION.privileged_users()


def test_users_carry_their_attributes(samba_dc: SambaDC, ldap: ldap3.Connection) -> None:
    attrs = ["sAMAccountName", "lastLogonTimestamp", "accountExpires", "userAccountControl",
             "mail", "proxyAddresses", "adminCount"]  # fmt: skip
    users = _search(ldap, f"CN=Users,{BASE_DN}", "(objectCategory=person)", attrs)
    now = samba_dc.populated_at
    assert now is not None
    for u in POPULATION.users:
        got = users[u.name]
        assert (int(got["userAccountControl"] or 0) & ACCOUNTDISABLE == 0) is u.enabled, u.name
        if u.name == POPULATION.scanner_user:
            continue  # its own logons move lastLogonTimestamp
        logon = None if u.last_logon_days is None else now - timedelta(days=u.last_logon_days)
        expires = None if u.expires_days is None else now + timedelta(days=u.expires_days)
        assert _when(got["lastLogonTimestamp"]) == logon, u.name
        assert _when(got["accountExpires"]) == expires, u.name
        assert got["mail"] == u.mail, u.name
        assert got["proxyAddresses"] == ("|".join(u.proxy_addresses) or None), u.name
        assert got["adminCount"] == (None if u.admin_count is None else str(u.admin_count))


def test_computers_and_laps_expiry_readable_by_the_scanner(
    samba_dc: SambaDC, ldap: ldap3.Connection
) -> None:
    attrs = ["sAMAccountName", "operatingSystem", "operatingSystemVersion", "dNSHostName",
             "userAccountControl", "lastLogonTimestamp", "ms-Mcs-AdmPwdExpirationTime",
             "msLAPS-PasswordExpirationTime", "ms-Mcs-AdmPwd", "msLAPS-Password"]  # fmt: skip
    computers = _search(ldap, f"CN=Computers,{BASE_DN}", "(objectClass=computer)", attrs)
    assert set(computers) == {c.name for c in POPULATION.computers}
    now = samba_dc.populated_at
    assert now is not None
    for c in POPULATION.computers:
        got = computers[c.name]
        assert got["operatingSystem"] == c.operating_system
        assert got["operatingSystemVersion"] == c.os_version
        assert got["dNSHostName"] == c.dns_host_name
        assert (int(got["userAccountControl"] or 0) & ACCOUNTDISABLE == 0) is c.enabled, c.name
        logon = None if c.last_logon_days is None else now - timedelta(days=c.last_logon_days)
        assert _when(got["lastLogonTimestamp"]) == logon, c.name
        laps = None if c.laps_expires_days is None else now + timedelta(days=c.laps_expires_days)
        assert _when(got["msLAPS-PasswordExpirationTime"]) == (
            laps if c.laps == "windows" else None
        )
        assert _when(got["ms-Mcs-AdmPwdExpirationTime"]) == (laps if c.laps == "legacy" else None)
        # Confidential (searchFlags 904): never shown to an ordinary user.
        assert got["ms-Mcs-AdmPwd"] is None and got["msLAPS-Password"] is None
    # ... though WIN02 holds one (the system sees it).
    seen = samba_dc.ldbsearch(
        f"CN=WIN02,CN=Computers,{BASE_DN}", "(objectClass=*)", "ms-Mcs-AdmPwd"
    )
    assert f"ms-Mcs-AdmPwd: {POPULATION.laps_secret}" in seen


def test_kerberos_kinit_and_service_keytab(samba_dc: SambaDC, tmp_path: Path) -> None:
    ccache = tmp_path / "ccache"
    samba_dc.kinit(f"{samba_dc.scanner_user}@{REALM}", samba_dc.scanner_password, ccache)
    env = dict(os.environ, KRB5_CONFIG=str(samba_dc.krb5_conf), KRB5CCNAME=f"FILE:{ccache}")
    tickets = subprocess.run(["klist"], env=env, capture_output=True, text=True, check=True)
    assert f"krbtgt/{REALM}@{REALM}" in tickets.stdout
    keytab = samba_dc.exportkeytab(WINRM_SPN, tmp_path / "http.keytab")
    listed = subprocess.run(
        ["klist", "-k", str(keytab)], capture_output=True, text=True, check=True
    )
    assert f"{WINRM_SPN}@{REALM}" in listed.stdout


def test_a_second_dc_is_refused_while_one_runs(samba_dc: SambaDC) -> None:
    with pytest.raises(SambaDCError, match=r"LDAP 389 .*LDAPS 636 .*only one test DC"):
        require_free_ports()


def test_the_scanners_resolution_agrees_with_the_dcs_in_chain_rule(
    samba_dc: SambaDC, ldap: ldap3.Connection
) -> None:
    """What checks/facts/directory/privileged.py resolves offline from ``member`` and
    ``primaryGroupID`` is what the DC itself answers with LDAP_MATCHING_RULE_IN_CHAIN, for each
    privileged group — plus the primary-group members the rule cannot see."""
    from pydantic import SecretStr

    from checks.facts.directory.objects import ACCOUNTS, COMPUTERS, DOMAIN, GROUPS
    from checks.facts.directory.privileged import resolve
    from scanner.collect.transports.ldap import LdapTransport
    from scanner.inventory.connection import ConnectionSpec

    t = LdapTransport(
        ConnectionSpec(
            name=FQDN,
            connection="ldap",
            address=FQDN,
            port=636,
            user=samba_dc.scanner_upn,
            password=SecretStr(samba_dc.scanner_password),
            ldap_ca_trust_path=str(samba_dc.ca_pem),
        )  # fmt: skip
    )
    t.connect()
    try:
        outs = {}
        for f in (DOMAIN, GROUPS, ACCOUNTS, COMPUTERS):
            r = t.run(f.cmd.line, timeout=30, max_output=1 << 24)
            outs[f.name] = f.read(
                Output(command=f.cmd.line, stdout=r.stdout, exit_code=r.exit_code)
            )
    finally:
        t.close()
    dom = outs["directory.domain"]
    priv = resolve(dom.sid, outs["directory.groups"], outs["directory.accounts"],  # type: ignore[union-attr]
                   outs["directory.computers"])  # type: ignore[arg-type]  # fmt: skip
    mine = {a.name.rstrip("$") for a in priv.accounts}
    theirs: set[str] = set()
    for group in (
        "Domain Admins",
        "Enterprise Admins",
        "Schema Admins",
        "Group Policy Creator Owners",
    ):
        theirs |= set(_search(ldap, BASE_DN, f"(memberOf:{IN_CHAIN}:=CN={group},CN=Users,{BASE_DN})",
                              ["sAMAccountName"]))  # fmt: skip
    for group in ("Administrators", "Account Operators", "Server Operators", "Print Operators",
                  "Backup Operators"):  # fmt: skip
        theirs |= set(_search(ldap, BASE_DN, f"(memberOf:{IN_CHAIN}:=CN={group},CN=Builtin,{BASE_DN})",
                              ["sAMAccountName"]))  # fmt: skip
    principals = {
        e.name.rstrip("$"): e for e in [*outs["directory.accounts"], *outs["directory.computers"]]
    }  # type: ignore[misc]
    by_primary = {
        n for n, e in principals.items() if e.integer("primaryGroupID") in (512, 518, 519, 520)
    }
    assert theirs, "the in-chain rule found nobody"
    assert mine == (theirs & set(principals)) | by_primary
    assert {"tier0-nested", "bk-stale", "da-stale"} <= mine and "alice" not in mine
