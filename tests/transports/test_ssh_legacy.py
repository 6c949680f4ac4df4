"""Legacy SSH servers (SHA-1 only) against real OpenSSH sshds: reached only with ``e8_ssh_legacy``.

One fleet: ``legacy01`` offers exactly ``diffie-hellman-group14-sha1`` and an ``ssh-rsa`` host
key (its only key is RSA), as a RHEL/CentOS 6-era historian behind an upgraded sshd would;
``ios01`` offers ``diffie-hellman-group1-sha1``, ``ssh-rsa``, CBC ciphers and ``hmac-sha1``
only, as an IOS 12/15-era switch does; ``rsa01`` has modern key exchanges but only an
``ssh-rsa`` host key (OpenSSH before 7.2); ``modern01`` is a default sshd. The machine's
OpenSSH 9.2 still compiles these algorithms in but no longer offers them by default
(``ssh -Q kex`` lists them), so each host's ``sshd_config`` enables them explicitly.
``LogLevel DEBUG1`` makes each sshd log the key exchange it agreed (``kex: algorithm: …``):
the server's own word on which algorithms a connection used.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from openpyxl import load_workbook
from sshfleet import LOGIN_USER, HostSpec, SSHFleet

from scanner.cli.main import main
from scanner.collect.transports.base import TransportError
from scanner.collect.transports.jump import JumpPool
from scanner.collect.transports.ssh import SSHOptions, SSHTransport
from scanner.collect.transports.ssh_algorithms import LegacyRSAKey, LegacyTransport
from scanner.inventory.connection import ConnectionSpec
from scanner.model.vocabulary import Reach

pytestmark = pytest.mark.sshd

LEGACY = (
    "KexAlgorithms diffie-hellman-group14-sha1",
    "HostKeyAlgorithms ssh-rsa",
    "PubkeyAcceptedAlgorithms +ssh-rsa",
    "LogLevel DEBUG1",
)
IOS = (
    "KexAlgorithms diffie-hellman-group1-sha1",
    "HostKeyAlgorithms ssh-rsa",
    "Ciphers aes128-cbc,3des-cbc",
    "MACs hmac-sha1",
    "LogLevel DEBUG1",
)
RSA_ONLY = ("HostKeyAlgorithms ssh-rsa", "LogLevel DEBUG1")
SHA1_KEX = ("diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1")


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Callable[..., SSHFleet]) -> Iterator[SSHFleet]:
    f = ssh_fleet_factory(
        [
            HostSpec("legacy01", sshd_config=LEGACY, host_key_type="rsa"),
            HostSpec("ios01", sshd_config=IOS, host_key_type="rsa"),
            HostSpec("rsa01", sshd_config=RSA_ONLY, host_key_type="rsa"),
            HostSpec("modern01", sshd_config=("LogLevel DEBUG1",)),
        ],
        name="ssh-legacy",
    )
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh $HOME (so ~/.ssh/known_hosts is the test's own) and no ssh-agent."""
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def transport(
    fleet: SSHFleet,
    name: str,
    legacy: bool,
    known_hosts: Path | None = None,
    via: str | None = None,
    pool: JumpPool | None = None,
) -> SSHTransport:
    h = fleet.host(name)
    spec = ConnectionSpec(
        name=name,
        connection="ssh",
        address=h.address,
        port=h.port,
        user=LOGIN_USER,
        key_file=str(fleet.client_key),
        proxy_jump=via,
    )
    kh = known_hosts or fleet.known_hosts
    opts = SSHOptions(known_hosts=(kh,), connect_timeout=3.0)
    return SSHTransport(spec, opts, jump_pool=pool, legacy=legacy)


def refusal(fleet: SSHFleet, name: str, legacy: bool = False) -> TransportError:
    t = transport(fleet, name, legacy)
    try:
        with pytest.raises(TransportError) as info:
            t.connect()
    finally:
        t.close()
    return info.value


def agreed(fleet: SSHFleet, name: str) -> list[str]:
    """The key exchanges this host's sshd agreed, in order (from its DEBUG1 log)."""
    return re.findall(r"kex: algorithm: ([\w@.-]+)", fleet.sshd_log(name))


def server_agreed(fleet: SSHFleet, name: str) -> dict[str, str | None]:
    """The algorithms of this host's latest connection, in its sshd's own DEBUG1 log (``kex:
    client->server cipher: aes128-cbc MAC: hmac-sha1 …``; ``<implicit>``: an AEAD cipher)."""
    log = fleet.sshd_log(name)
    kex = re.findall(r"kex: algorithm: (\S+)", log)[-1]
    key = re.findall(r"kex: host key algorithm: (\S+)", log)[-1]
    c_out, m_out = re.findall(r"kex: client->server cipher: (\S+) MAC: (\S+)", log)[-1]
    c_in, m_in = re.findall(r"kex: server->client cipher: (\S+) MAC: (\S+)", log)[-1]
    return {
        "kex": kex,
        "host_key_algorithm": key,
        "cipher_c2s": c_out,
        "cipher_s2c": c_in,
        "mac_c2s": None if m_out == "<implicit>" else m_out,
        "mac_s2c": None if m_in == "<implicit>" else m_in,
    }


def fingerprint(fleet: SSHFleet, name: str) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(fleet.host(name).host_key)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[1]


def test_a_default_connection_refuses_a_sha1_only_server_naming_its_offer(
    fleet: SSHFleet,
) -> None:
    err = refusal(fleet, "legacy01")
    assert err.reach is Reach.UNREACHABLE
    assert "key exchange diffie-hellman-group14-sha1; host key ssh-rsa" in err.detail
    assert "set e8_ssh_legacy: true" in err.detail
    assert "kex-strict" not in err.detail  # a protocol flag, not an algorithm
    assert agreed(fleet, "legacy01") == []  # the server's view: no key exchange agreed


def test_the_opt_in_reaches_it_with_exactly_sha1_and_keeps_the_host_key_check(
    fleet: SSHFleet, tmp_path: Path
) -> None:
    t = transport(fleet, "legacy01", legacy=True)
    try:
        t.connect()
        out = t.run("echo reached", timeout=10, max_output=1000)
    finally:
        t.close()
    assert out.stdout == b"reached\n"
    assert t.negotiated == ("diffie-hellman-group14-sha1", "ssh-rsa")
    assert agreed(fleet, "legacy01")[-1] == "diffie-hellman-group14-sha1"
    assert t.host_key == fingerprint(fleet, "legacy01")
    assert any(
        "e8_ssh_legacy" in n and "negotiated key exchange diffie-hellman-group14-sha1" in n
        for n in t.notes
    ), t.notes
    # Strict known_hosts checking is not relaxed: an unknown RSA key is still refused.
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    t = transport(fleet, "legacy01", legacy=True, known_hosts=empty)
    try:
        with pytest.raises(TransportError) as info:
            t.connect()
    finally:
        t.close()
    assert info.value.reach is Reach.HOST_KEY_REFUSED


def test_group1_and_an_rsa_only_host_key_are_named_and_reached_the_same_way(
    fleet: SSHFleet,
) -> None:
    ios = refusal(fleet, "ios01")
    assert ios.reach is Reach.UNREACHABLE
    assert "key exchange diffie-hellman-group1-sha1; host key ssh-rsa" in ios.detail
    assert "e8_ssh_legacy" in ios.detail
    # Modern key exchange, SHA-1-only host key: only ssh-rsa is named as the SHA-1 part.
    rsa = refusal(fleet, "rsa01")
    assert rsa.reach is Reach.UNREACHABLE
    assert "no acceptable host key" in rsa.detail
    assert "; ssh-rsa uses SHA-1" in rsa.detail, rsa.detail
    for name, kex in (("ios01", "diffie-hellman-group1-sha1"), ("rsa01", None)):
        t = transport(fleet, name, legacy=True)
        try:
            t.connect()
        finally:
            t.close()
        assert t.negotiated is not None and t.negotiated[1] == "ssh-rsa"
        if kex:
            assert t.negotiated[0] == kex
        else:  # a modern kex is still preferred when the server has one
            assert t.negotiated[0] not in SHA1_KEX


def test_a_modern_host_is_unaffected_with_or_without_the_opt_in(fleet: SSHFleet) -> None:
    for legacy in (False, True):
        t = transport(fleet, "modern01", legacy=legacy)
        try:
            t.connect()
        finally:
            t.close()
        assert t.negotiated is not None
        assert t.negotiated[0] not in SHA1_KEX and t.negotiated[1] != "ssh-rsa"
        legacy_notes = [n for n in t.notes if "e8_ssh_legacy" in n]
        if legacy:
            assert len(legacy_notes) == 1 and "e8_ssh_legacy can be removed" in legacy_notes[0]
        else:
            assert legacy_notes == []
    assert not set(agreed(fleet, "modern01")) & set(SHA1_KEX)


def test_the_opt_in_reaches_a_host_behind_a_bastion_but_never_weakens_the_bastion(
    fleet: SSHFleet,
) -> None:
    modern, legacy = fleet.host("modern01"), fleet.host("legacy01")
    with JumpPool() as pool:
        t = transport(
            fleet, "legacy01", legacy=True, via=f"{modern.address}:{modern.port}", pool=pool
        )
        try:
            t.connect()
        finally:
            t.close()
    assert t.negotiated == ("diffie-hellman-group14-sha1", "ssh-rsa")  # inside the channel
    # The record holds the host's own session's algorithms, not the (modern) bastion's.
    assert t.algorithms is not None
    assert t.algorithms.model_dump() == server_agreed(fleet, "legacy01")
    assert any("via bastion" in n for n in t.notes), t.notes
    # A bastion that itself speaks only SHA-1 is refused, even to an opted-in host: the
    # bastion connection is shared by every host behind it, so it is never legacy.
    with JumpPool() as pool:
        t = transport(fleet, "ios01", legacy=True, via=f"{legacy.address}:{legacy.port}", pool=pool)
        try:
            with pytest.raises(TransportError) as info:
                t.connect()
        finally:
            t.close()
    assert info.value.reach is Reach.UNREACHABLE
    assert info.value.detail.startswith(f"via bastion [{legacy.address}]:{legacy.port}: ")
    assert "key exchange diffie-hellman-group14-sha1" in info.value.detail
    assert "never allowed for a bastion" in info.value.detail
    assert "set e8_ssh_legacy" not in info.value.detail  # it would not help there


def test_scan_reaches_the_opted_in_host_only_and_says_so(fleet: SSHFleet, tmp_path: Path) -> None:
    """One inventory: legacy01 opted in, ios01 not, modern01 a default host beside them."""
    inv = fleet.inventory_ini(tmp_path / "inv.ini")
    text = inv.read_text().replace(
        f"ansible_host={fleet.host('legacy01').address} ",
        f"ansible_host={fleet.host('legacy01').address} e8_ssh_legacy=true ",
    )
    inv.write_text(text)
    plan = CliRunner().invoke(main, ["plan", "-i", str(inv), "-l", "legacy01,ios01"])
    assert plan.exit_code == 0, plan.output
    legacy_plan, ios_plan = plan.output.split("# ios01:")
    assert "e8_ssh_legacy: also allows diffie-hellman-group14-sha1" in legacy_plan
    assert "e8_ssh_legacy" not in ios_plan
    out = tmp_path / "out"
    before = {n: len(agreed(fleet, n)) for n in ("legacy01", "modern01")}
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--no-history",
            "-i",
            str(inv),
            "-l",
            "legacy01,ios01,modern01",
            "--checks",
            "patch_os.linux_os_support",
            "--known-hosts",
            str(fleet.known_hosts),
            "--out",
            str(out),
            "--connect-timeout",
            "5",
        ],
    )
    assert result.exit_code == 4, result.output  # ios01 has no visibility
    hosts = {h["name"]: h for h in json.loads((out / "results.json").read_text())["hosts"]}
    assert hosts["legacy01"]["reach"] == "ok"
    assert any(
        c["outcome"] not in ("no_visibility", "not_assessed") for c in hosts["legacy01"]["controls"]
    )
    assert any("e8_ssh_legacy" in n for n in hosts["legacy01"]["notes"]), hosts["legacy01"]
    assert hosts["ios01"]["reach"] == "unreachable"
    assert "diffie-hellman-group1-sha1" in hosts["ios01"]["reach_detail"]
    assert "ssh-rsa" in hosts["ios01"]["reach_detail"]
    assert "e8_ssh_legacy" in hosts["ios01"]["reach_detail"]
    assert hosts["modern01"]["reach"] == "ok"
    assert not any("e8_ssh_legacy" in n for n in hosts["modern01"]["notes"])
    # The servers' own logs: SHA-1 for the opted-in host, a modern kex for the other.
    assert agreed(fleet, "legacy01")[before["legacy01"] :] == ["diffie-hellman-group14-sha1"]
    modern = agreed(fleet, "modern01")[before["modern01"] :]
    assert len(modern) == 1 and modern[0] not in SHA1_KEX


class _OldServer(LegacyTransport):
    """paramiko in server mode, set up as a pre-2016 OpenSSH (5.3, RHEL/CentOS 6) answers: only
    group14-sha1 and ``ssh-rsa``, ``ssh-rsa`` the only login-key signature it accepts, and no
    ``server-sig-algs`` (``server_sig_algs=False``). OpenSSH 9.2 always sends that list, so it
    cannot play this part."""

    _preferred_kex = ("diffie-hellman-group14-sha1",)
    _preferred_keys = ("ssh-rsa",)
    _preferred_pubkeys = ("ssh-rsa",)


class _AcceptKey(paramiko.ServerInterface):
    def __init__(self, allowed: paramiko.PKey) -> None:
        self.allowed = allowed
        self.accepted: list[str] = []

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username == LOGIN_USER and key.asbytes() == self.allowed.asbytes():
            self.accepted.append(username)
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED


def test_an_rsa_login_key_signs_ssh_rsa_for_a_server_that_lists_no_signature_algorithms(
    tmp_path: Path,
) -> None:
    host_key = LegacyRSAKey(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    login = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "id_rsa"
    key_file.write_bytes(
        login.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    iface = _AcceptKey(paramiko.RSAKey(key=login))
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    servers: list[paramiko.Transport] = []

    def serve(count: int) -> None:
        for _ in range(count):
            conn, _addr = listener.accept()
            server = _OldServer(conn, server_sig_algs=False)
            server.add_server_key(host_key)
            servers.append(server)
            with contextlib.suppress(paramiko.SSHException):  # the refused client's attempt
                server.start_server(server=iface)

    thread = threading.Thread(target=serve, args=(2,), daemon=True)
    thread.start()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} ssh-rsa {host_key.get_base64()}\n")
    spec = ConnectionSpec(
        name="old", connection="ssh", address="127.0.0.1", port=port, user=LOGIN_USER,
        key_file=str(key_file),
    )  # fmt: skip
    opts = SSHOptions(known_hosts=(known,), connect_timeout=3.0)
    try:
        t = SSHTransport(spec, opts, legacy=True)
        try:
            t.connect()
            assert t.is_active()
        finally:
            t.close()
        assert t.negotiated == ("diffie-hellman-group14-sha1", "ssh-rsa")
        # Without the opt-in the same server is refused before any credential is sent.
        with pytest.raises(TransportError) as info:
            SSHTransport(spec, opts).connect()
        assert info.value.reach is Reach.UNREACHABLE
        assert "e8_ssh_legacy" in info.value.detail
    finally:
        listener.close()
        for server in servers:
            server.close()
        thread.join(timeout=5)
    # The server accepted the login once: it verifies only ssh-rsa (SHA-1) signatures.
    assert iface.accepted == [LOGIN_USER]


def test_every_connection_records_what_the_server_agreed(fleet: SSHFleet) -> None:
    """kex, host-key signature, ciphers and MACs, each as the server's own log has them."""
    seen = {}
    for name in ("legacy01", "ios01", "rsa01", "modern01"):
        t = transport(fleet, name, legacy=True)
        try:
            assert t.algorithms is None  # nothing before connect()
            t.connect()
        finally:
            t.close()
        assert t.algorithms is not None
        seen[name] = t.algorithms.model_dump()
        assert seen[name] == server_agreed(fleet, name), name
    # The four hosts really differ where the record says they do.
    assert seen["ios01"]["cipher_c2s"] == "aes128-cbc" and seen["ios01"]["mac_c2s"] == "hmac-sha1"
    assert seen["rsa01"]["host_key_algorithm"] == "ssh-rsa"
    assert seen["rsa01"]["kex"] not in SHA1_KEX
    assert seen["modern01"]["host_key_algorithm"] != "ssh-rsa"


def test_weak_ssh_caps_every_finding_at_fair_and_rescore_says_the_same(
    fleet: SSHFleet, tmp_path: Path
) -> None:
    """legacy01, ios01 and rsa01 opted in (each rests on SHA-1 somewhere), modern01 not."""
    inv = fleet.inventory_ini(tmp_path / "inv.ini")
    text = inv.read_text()
    for name in ("legacy01", "ios01", "rsa01"):
        address = fleet.host(name).address
        text = text.replace(f"ansible_host={address} ", f"ansible_host={address} e8_ssh_legacy=1 ")
    inv.write_text(text)
    out, again = tmp_path / "out", tmp_path / "again"
    scan = CliRunner().invoke(
        main,
        [
            "scan", "--no-history", "-i", str(inv), "-l", "legacy01,ios01,rsa01,modern01",
            "--checks", "patch_os.linux_os_support", "--known-hosts", str(fleet.known_hosts),
            "--out", str(out), "--connect-timeout", "5", "-q",
        ],
    )  # fmt: skip
    assert scan.exit_code in (0, 3), scan.output
    raw = {h["name"]: h for h in json.loads((out / "raw.json").read_text())["hosts"]}
    assert raw["ios01"]["ssh_algorithms"] == server_agreed(fleet, "ios01")
    assert raw["modern01"]["ssh_algorithms"] == server_agreed(fleet, "modern01")
    rescore = CliRunner().invoke(
        main, ["rescore", str(out / "raw.json"), "--out", str(again), "-q"]
    )
    assert rescore.exit_code in (0, 3), rescore.output
    identity = "host identity verified by an SHA-1 signature (ssh-rsa)"
    expected = {
        "legacy01": f"{identity}; SSH channel rests on key exchange diffie-hellman-group14-sha1 "
        "(SHA-1); evidence grade capped at fair",
        "ios01": f"{identity}; SSH channel rests on key exchange diffie-hellman-group1-sha1 "
        "(SHA-1, 1024-bit group), cipher aes128-cbc (CBC), MAC hmac-sha1 (SHA-1); evidence "
        "grade capped at fair",
        "rsa01": f"{identity}; evidence grade capped at fair",
    }
    for results in (out / "results.json", again / "results.json"):
        hosts = {h["name"]: h for h in json.loads(results.read_text())["hosts"]}
        for name, note in expected.items():
            h = hosts[name]
            assert h["reach"] == "ok", h["reach_detail"]
            assert h["grade_cap"] == "fair" and note in h["notes"], (results, h["notes"])
            grades = {c["grade"] for c in h["controls"] if c["check"]}
            assert grades == {"fair"}, (name, grades)  # the check's own grade is good
        modern = hosts["modern01"]
        assert modern["grade_cap"] is None
        assert not any("evidence grade capped" in n for n in modern["notes"])
        assert {c["grade"] for c in modern["controls"] if c["check"]} == {"good"}
    # The workbook's Coverage sheet carries the note in the host's "Connection notes".
    rows = list(load_workbook(out / "e8-report.xlsx")["Coverage"].iter_rows(values_only=True))
    column = next(r for r in rows if "Connection notes" in r).index("Connection notes")
    notes = {r[0]: r[column] or "" for r in rows if r and r[0] in expected.keys() | {"modern01"}}
    assert expected["rsa01"] in notes["rsa01"] and expected["ios01"] in notes["ios01"]
    assert "evidence grade capped" not in notes["modern01"]
