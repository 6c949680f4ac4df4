"""The directory transport against a real Samba AD DC: every way a bind or a search can go wrong
gives one clear outcome, Kerberos works without kinit, and nothing but searches can run.

The real ldap3 client (and python-gssapi for Kerberos), never mocked; the DC of tests/sambadc.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr
from sambadc import BASE_DN, FQDN, REALM, SambaDC

from scanner.collect.transports.base import TransportError
from scanner.collect.transports.ldap import LdapTransport, sid_text
from scanner.inventory.connection import ConnectionSpec
from scanner.model.vocabulary import Reach

pytestmark = pytest.mark.samba
REPO = Path(__file__).resolve().parents[2]
GROUPS = (
    "ldapsearch -b '{defaultNamingContext}' -s sub '(objectClass=group)' objectSid sAMAccountName"
)


def spec(dc: SambaDC, **kw: object) -> ConnectionSpec:
    fields: dict[str, object] = {
        "name": FQDN,
        "connection": "ldap",
        "address": FQDN,
        "port": 636,
        "user": dc.scanner_upn,
        "password": SecretStr(dc.scanner_password),
        "ldap_ca_trust_path": str(dc.ca_pem),
    }
    fields.update(kw)
    return ConnectionSpec(**fields)  # type: ignore[arg-type]


def refused(s: ConnectionSpec) -> TransportError:
    t = LdapTransport(s, connect_timeout=5)
    try:
        with pytest.raises(TransportError) as info:
            t.connect()
    finally:
        t.close()
    return info.value


@pytest.fixture
def kerberos(samba_dc: SambaDC, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The DC's krb5.conf for this process, and an empty private ticket cache (never the user's)."""
    monkeypatch.setenv("KRB5_CONFIG", str(samba_dc.krb5_conf))
    cache = tmp_path / "ccache"
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")
    return cache


def test_a_simple_bind_over_ldaps_reads_the_domain(samba_dc: SambaDC) -> None:
    t = LdapTransport(spec(samba_dc))
    t.connect()
    try:
        r = t.run(GROUPS, timeout=30, max_output=1 << 24)
    finally:
        t.close()
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["base"] == BASE_DN
    sids = {e["attributes"]["objectSid"][0] for e in doc["entries"]}
    assert "S-1-5-32-544" in sids  # the built-in Administrators, its SID decoded
    assert t.host_key is not None and t.host_key.startswith("SHA256:")


def test_a_wrong_password_is_auth_failed_and_never_printed(samba_dc: SambaDC) -> None:
    wrong = "Wrong-" + samba_dc.scanner_password[::-1]
    err = refused(spec(samba_dc, password=SecretStr(wrong)))
    assert err.reach is Reach.AUTH_FAILED
    assert "invalidCredentials" in err.detail
    assert wrong not in err.detail and samba_dc.scanner_password not in err.detail


def test_an_untrusted_certificate_is_refused_before_the_bind(samba_dc: SambaDC) -> None:
    err = refused(
        spec(samba_dc, ldap_ca_trust_path=None)
    )  # the system store: Samba's CA is not in it
    assert err.reach is Reach.HOST_KEY_REFUSED
    assert "e8_ldap_ca_trust_path" in err.detail


def test_a_name_the_certificate_does_not_carry_is_refused(samba_dc: SambaDC) -> None:
    # By address: the DC's certificate names only CN=dc01.corp.e8scan.test.
    err = refused(spec(samba_dc, name="127.0.0.1", address="127.0.0.1"))
    assert err.reach is Reach.HOST_KEY_REFUSED, err.detail


def test_an_unreachable_dc_is_unreachable(samba_dc: SambaDC) -> None:
    err = refused(spec(samba_dc, port=9))  # nothing listens on the discard port
    assert err.reach is Reach.UNREACHABLE, err.detail


def test_a_base_outside_the_domain_is_a_clear_failure(samba_dc: SambaDC) -> None:
    # Samba answers noSuchObject here (a Windows DC answers a referral, result 10, to the
    # superior reference; tests/facts/directory.*/referral.json holds that shape).
    t = LdapTransport(spec(samba_dc, ldap_base="DC=other,DC=example"))
    t.connect()
    try:
        r = t.run(GROUPS, timeout=30, max_output=1 << 20)
    finally:
        t.close()
    assert r.exit_code == 32, (r.exit_code, r.stderr)
    assert r.stderr.startswith(b"LDAP 32 noSuchObject")
    assert json.loads(r.stdout)["entries"] == []


def test_continuation_references_are_recorded_and_not_followed(samba_dc: SambaDC) -> None:
    # From the domain root Samba refers to the Configuration partition (searchResRef).
    t = LdapTransport(spec(samba_dc))
    t.connect()
    try:
        r = t.run(GROUPS, timeout=30, max_output=1 << 24)
    finally:
        t.close()
    doc = json.loads(r.stdout)
    assert r.exit_code == 0 and doc["entries"]
    assert any("CN=Configuration" in ref for ref in doc["references"]), doc["references"]


def test_only_search_lines_run(samba_dc: SambaDC) -> None:
    t = LdapTransport(spec(samba_dc))
    t.connect()
    try:
        for line in (
            "ldapmodify -f change.ldif",
            "ldapsearch -b '{defaultNamingContext}' -s sub '(cn=x)' -E sync",
            "ldapsearch -b '{defaultNamingContext}' '(cn=x)'",
            "rm -rf /",
        ):
            r = t.run(line, timeout=10, max_output=1024)
            assert r.exit_code == 2 and r.stderr.startswith(b"refused:"), line
    finally:
        t.close()


def test_the_output_cap_marks_a_search_truncated(samba_dc: SambaDC) -> None:
    t = LdapTransport(spec(samba_dc))
    t.connect()
    try:
        r = t.run(GROUPS, timeout=30, max_output=2048)
    finally:
        t.close()
    assert r.truncated and r.exit_code == 0
    assert len(r.stdout) <= 2048 + 512  # the entries kept, and a closed JSON document
    json.loads(r.stdout)


def sealed(dc: SambaDC, **kw: object) -> ConnectionSpec:
    """Kerberos on plain LDAP: what Samba's default ("require strong auth = yes") takes."""
    fields: dict[str, object] = {
        "ldap_auth": "kerberos",
        "ldap_scheme": "ldap",
        "port": 389,
        "user": f"svc-e8scan@{REALM}",
    }
    fields.update(kw)
    return spec(dc, **fields)


def search_through(s: ConnectionSpec) -> tuple[bytes, LdapTransport]:
    t = LdapTransport(s)
    t.connect()
    try:
        r = t.run(GROUPS, timeout=30, max_output=1 << 24)
    finally:
        t.close()
    assert r.exit_code == 0, r.stderr
    assert b"S-1-5-32-544" in r.stdout
    return r.stdout, t


def test_kerberos_with_a_password_and_no_kinit(samba_dc: SambaDC, kerberos: Path) -> None:
    _, t = search_through(sealed(samba_dc))
    assert not kerberos.exists()  # the credential stayed in memory: no ticket cache written
    assert any("sealed" in n for n in t.notes)


def test_kerberos_from_an_existing_ticket_cache(samba_dc: SambaDC, kerberos: Path) -> None:
    samba_dc.kinit(f"svc-e8scan@{REALM}", samba_dc.scanner_password, kerberos)
    search_through(sealed(samba_dc, user=None, password=None))


def test_plain_ldap_under_kerberos_is_sealed_on_the_wire(samba_dc: SambaDC, kerberos: Path) -> None:
    """Every byte between client and DC passes a recording proxy: the directory's answers (group
    names, SIDs) never appear in clear, though the client reads them."""
    seen = bytearray()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    port = lsock.getsockname()[1]

    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                seen.extend(data)
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def serve() -> None:
        client, _ = lsock.accept()
        upstream = socket.create_connection(("127.0.0.1", 389))
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)

    threading.Thread(target=serve, daemon=True).start()
    try:
        # The proxy's address, the DC's name (the Kerberos service ldap/dc01.corp.e8scan.test).
        out, _ = search_through(sealed(samba_dc, address=FQDN, port=port))
    finally:
        lsock.close()
    assert b"Performance Log Users" in out
    assert len(seen) > 1000
    assert b"Performance Log Users" not in seen and b"Domain Admins" not in seen


def test_kerberos_inside_tls_names_the_fix_when_this_dc_refuses_it(
    samba_dc: SambaDC, kerberos: Path
) -> None:
    err = refused(spec(samba_dc, ldap_auth="kerberos", user=f"svc-e8scan@{REALM}"))
    assert err.reach is Reach.AUTH_FAILED
    assert "e8_ldap_scheme=ldap" in err.detail, err.detail


def test_kerberos_inside_ldaps_where_the_dc_allows_it_is_channel_bound(
    samba_dc: SambaDC, kerberos: Path
) -> None:
    """What a Windows DC takes: a Kerberos bind inside TLS with no security layer, bound to the
    DC's certificate (RFC 5929). Samba takes it with "allow_sasl_over_tls"."""
    with samba_dc.reconfigured({"ldap server require strong auth": "allow_sasl_over_tls"}):
        _, t = search_through(spec(samba_dc, ldap_auth="kerberos", user=f"svc-e8scan@{REALM}"))
    assert t.host_key is not None  # the certificate checked, and the ticket bound to it
    assert not any("sealed" in n for n in t.notes)  # TLS protects it; no SASL layer inside


def test_kerberos_with_a_wrong_password_is_auth_failed(samba_dc: SambaDC, kerberos: Path) -> None:
    wrong = "Nope-" + samba_dc.scanner_password
    err = refused(sealed(samba_dc, password=SecretStr(wrong)))
    assert err.reach is Reach.AUTH_FAILED, err.detail
    assert "Kerberos" in err.detail and wrong not in err.detail


def test_sid_text_reads_binary_sids() -> None:
    raw = bytes([1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0])
    assert sid_text(raw) == "S-1-5-32-544"
    with pytest.raises(ValueError, match="not a SID"):
        sid_text(b"\x01\x05short")


def test_the_cli_reports_each_failure_in_one_line(samba_dc: SambaDC, tmp_path: Path) -> None:
    inv = tmp_path / "site.ini"
    common = f"ansible_connection=ldap ansible_user={samba_dc.scanner_upn} e8_password_env=E8_T_PW"
    inv.write_text(
        "[directory]\n"
        f"{FQDN} {common} e8_ldap_ca_trust_path={samba_dc.ca_pem}\n"
        f"untrusted ansible_host={FQDN} {common}\n"
        f"nobody ansible_host=127.0.0.1 ansible_port=9 {common}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    env["E8_T_PW"] = "not-the-password"
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", "scan", "-i", str(inv), "--out",
         str(tmp_path / "out"), "--no-history", "--connect-timeout", "5"],
        cwd=REPO, capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr
    hosts = {h["name"]: h for h in json.loads((tmp_path / "out" / "raw.json").read_text())["hosts"]}
    assert hosts[FQDN]["reach"] == "auth_failed"
    assert hosts["untrusted"]["reach"] == "host_key_refused"
    assert hosts["nobody"]["reach"] == "unreachable"
    assert "not-the-password" not in proc.stdout + proc.stderr
