"""WinRM over Kerberos (``ansible_winrm_transport: kerberos``) against a real KDC.

The KDC is the session's Samba AD DC (``tests/sambadc.py``, realm ``CORP.E8SCAN.TEST``); the
Windows host is the suite's WS-Man server holding the keytab the DC exported for
``HTTP/win01.corp.e8scan.test`` (account ``svc-winrm``), which accepts the client's AP-REQ with
MIT's acceptor, answers with the AP-REP and records the client principal it authenticated. The
client is the real pywinrm with e8scan's gssapi authenticator, in real ``e8scan scan``
subprocesses (``KRB5_CONFIG`` set to the DC's krb5.conf in their environment, as a user would)
and, for the failure cases that need a doctored environment, in-process.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sambadc import REALM, WINRM_HOST, WINRM_SPN, SambaDC
from sshfleet import LOGIN_USER, HostSpec, SSHFleet
from wsman.fixtures import FixtureOutput, HostFixtures
from wsman.server import WSManServer

from scanner.collect import ps_batch
from scanner.collect.transports.base import TransportError
from scanner.collect.transports.ssh import SSHOptions
from scanner.collect.transports.winrm import WinRMOptions, WinRMTransport
from scanner.inventory.connection import ConnectionSpec
from scanner.model.vocabulary import Reach

pytestmark = pytest.mark.samba

ROOT = Path(__file__).resolve().parents[2]
# What the simulated host's PowerShell prints: one recorded case of the OS-support check.
CASE = json.loads(
    (
        ROOT / "tests/checks/patch_os.windows_os_support/win11_25h2_enterprise_2026_latest.json"
    ).read_text()
)
COMMANDS = [rec["command"] for rec in CASE["outputs"].values()]
FIXTURES = HostFixtures(
    {
        rec["command"]: FixtureOutput(stdout=rec.get("stdout", ""), rc=rec.get("exit_code") or 0)
        for rec in CASE["outputs"].values()
    }
)
WRONG = "e8krb-wrong-" + base64.b32encode(os.urandom(10)).decode().lower()
Factory = Callable[..., WSManServer]


@dataclass
class Domain:
    dc: SambaDC
    keytab: Path
    work: Path

    @property
    def scanner(self) -> str:
        return f"{self.dc.scanner_user}@{REALM}"


@pytest.fixture(scope="module")
def domain(samba_dc: SambaDC, tmp_path_factory: pytest.TempPathFactory) -> Domain:
    work = tmp_path_factory.mktemp("krb")
    return Domain(samba_dc, samba_dc.exportkeytab(WINRM_SPN, work / "win01.keytab"), work)


@pytest.fixture
def wsman(domain: Domain) -> Iterator[Factory]:
    """Kerberos WS-Man servers named win01.corp.e8scan.test (on 127.0.0.1), stopped after the test."""
    servers: list[WSManServer] = []

    def start(scheme: str = "http", **kw: Any) -> WSManServer:
        args: dict[str, Any] = {
            "scheme": scheme,
            "auth": ("kerberos",),
            "keytab": str(domain.keytab),
            "fixtures": FIXTURES,
            "allow_unencrypted": False,  # Windows' default: Kerberos over HTTP must be sealed
            "require_cbt": scheme == "https",
            "name": WINRM_HOST,
        }
        server = WSManServer("127.0.0.1", **(args | kw))
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()
    assert not [e for s in servers for e in s.errors]


# -- real scans ------------------------------------------------------------------------------


def _line(server: WSManServer, user: str | None, **extra: str) -> str:
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    fields = {
        "ansible_host": WINRM_HOST,
        "ansible_port": port,
        "ansible_winrm_scheme": server.scheme,
        "ansible_connection": "winrm",
        "ansible_winrm_transport": "kerberos",
        "e8_role": "workstation",
        "e8_internet_facing": "false",
    }
    if user:
        fields["ansible_user"] = user
    if server.scheme == "https":
        fields["ansible_winrm_ca_trust_path"] = server.cert_path
    return " ".join(f"{k}={v}" for k, v in (fields | extra).items())


@dataclass
class Scan:
    rc: int
    stdout: str
    stderr: str
    results: dict[str, Any]
    raw: str
    out: Path

    def host(self, name: str) -> dict[str, Any]:
        return next(h for h in self.results["hosts"] if h["name"] == name)

    def leaks(self, *secrets: str) -> list[str]:
        """Where any secret (plain, UTF-16-LE, base64) shows in stdout, stderr or any output file."""
        found = []
        blobs = [("stdout", self.stdout.encode()), ("stderr", self.stderr.encode())]
        blobs += [(str(p), p.read_bytes()) for p in self.out.rglob("*") if p.is_file()]
        for secret in secrets:
            forms = [secret.encode(), secret.encode("utf-16-le"), base64.b64encode(secret.encode())]
            found += [
                f"{where}: {secret[:6]}…" for where, data in blobs for f in forms if f in data
            ]
        return found


def scan(domain: Domain, name: str, hosts: list[str], env: dict[str, str]) -> Scan:
    """``e8scan scan`` in a subprocess with the DC's krb5.conf and a ticket cache of its own."""
    work = domain.work / name
    work.mkdir()
    inventory = work / "site.ini"
    inventory.write_text("[windows]\n" + "\n".join(hosts) + "\n")
    out = work / "out"
    base = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", "scan", "--no-history", "-q", "-f", "4",
         "-i", str(inventory), "--out", str(out), "--evidence", str(out / "evidence")],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env=base | {"KRB5_CONFIG": str(domain.dc.krb5_conf)} | env,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    results = json.loads((out / "results.json").read_text())
    return Scan(
        proc.returncode, proc.stdout, proc.stderr, results, (out / "raw.json").read_text(), out
    )


def test_password_and_no_ticket_cache_two_users_in_parallel(domain: Domain, wsman: Factory) -> None:
    """e8_password_env, no kinit: each host gets its own in-memory ticket, nothing on disk."""
    plain, tls = wsman("http"), wsman("https")
    nocache = domain.work / "nocache"
    nocache.mkdir()
    dc = domain.dc
    result = scan(
        domain,
        "password",
        [
            "win-http " + _line(plain, domain.scanner, e8_password_env="E8_KRB_SCANNER"),
            "win-https " + _line(tls, f"alice@{REALM.lower()}", e8_password_env="E8_KRB_ALICE"),
        ],
        {
            "E8_KRB_SCANNER": dc.scanner_password,
            "E8_KRB_ALICE": dc.user_password,
            "KRB5CCNAME": f"FILE:{nocache}/cc",  # must stay unused
        },
    )
    for name in ("win-http", "win-https"):
        host = result.host(name)
        assert host["reach"] == "ok", host["reach_detail"]
        assert any("mutual authentication" in n for n in host["notes"]), host["notes"]
    # The host authenticated exactly the principal the inventory named for it (the realm of
    # alice's UPN-style name upper-cased), one Kerberos login per host: no ticket was shared.
    assert plain.kerberos_principals == [domain.scanner]
    assert tls.kerberos_principals == [f"alice@{REALM}"]
    assert plain.encrypted_requests > 0  # HTTP: every WS-Man message sealed with the session key
    assert tls.kerberos_channel_bound == [True] and tls.encrypted_requests == 0
    assert plain.kerberos_delegated == tls.kerberos_delegated == [False]  # never unless asked
    assert any("tls channel bindings" in n.lower() for n in result.host("win-https")["notes"])
    # The host's commands ran and their output was collected.
    for server in (plain, tls):
        assert server.shells_opened == 1 and server.commands_run >= 1
    build = json.dumps(CASE["outputs"]["os"]["stdout"])[1:30]
    assert build in result.raw
    # Nothing written where a ticket cache could be, and no secret in any output.
    assert list(nocache.iterdir()) == []
    assert not (dc.workdir / "krb5cc_default").exists()
    assert result.leaks(dc.scanner_password, dc.user_password) == []


def test_existing_ticket_cache_without_a_password(domain: Domain, wsman: Factory) -> None:
    """kinit done by the user: the ticket cache is used, for ansible_user or its default principal."""
    named, default, manual = wsman("http"), wsman("https"), wsman("http")
    cache = domain.work / "kinit-cc"
    domain.dc.kinit(domain.scanner, domain.dc.scanner_password, cache)
    result = scan(
        domain,
        "ccache",
        [
            "win-named " + _line(named, domain.scanner),
            "win-default " + _line(default, None),
            # kinit_mode=manual: the cache wins over a (here wrong) password from the environment
            "win-manual "
            + _line(
                manual,
                domain.scanner,
                e8_password_env="E8_KRB_WRONG",
                ansible_winrm_kinit_mode="manual",
            ),
        ],
        {"KRB5CCNAME": f"FILE:{cache}", "E8_KRB_WRONG": WRONG},
    )
    for name in ("win-named", "win-default", "win-manual"):
        host = result.host(name)
        assert host["reach"] == "ok", host["reach_detail"]
        assert any("credential cache (kinit)" in n for n in host["notes"]), host["notes"]
    for server in (named, default, manual):
        assert server.kerberos_principals == [domain.scanner]
        assert server.commands_run >= 1
    assert result.leaks(WRONG) == []


def test_failures_are_one_line_reasons_naming_kerberos(domain: Domain, wsman: Factory) -> None:
    servers = {name: wsman("http") for name in ("wrong", "unknown", "disabled", "nospn", "nocache")}
    dc = domain.dc
    hosts = {
        "wrong": _line(servers["wrong"], domain.scanner, e8_password_env="E8_KRB_WRONG"),
        "unknown": _line(servers["unknown"], f"nobody@{REALM}", e8_password_env="E8_KRB_USER"),
        "disabled": _line(
            servers["disabled"], f"da-disabled-stale@{REALM}", e8_password_env="E8_KRB_USER"
        ),
        "nospn": _line(
            servers["nospn"],
            domain.scanner,
            e8_password_env="E8_KRB_SCANNER",
            ansible_winrm_kerberos_hostname_override="nospn.corp.e8scan.test",
        ),
        "nocache": _line(servers["nocache"], domain.scanner),  # no password, no kinit
    }
    empty = domain.work / "empty-cache-dir"
    empty.mkdir()
    result = scan(
        domain,
        "failures",
        [f"win-{name} {line}" for name, line in hosts.items()],
        {
            "E8_KRB_WRONG": WRONG,
            "E8_KRB_USER": dc.user_password,
            "E8_KRB_SCANNER": dc.scanner_password,
            "KRB5CCNAME": f"FILE:{empty}/cc",
        },
    )
    expected = {
        "wrong": (Reach.AUTH_FAILED, "refused the password for svc-e8scan@CORP.E8SCAN.TEST"),
        "unknown": (Reach.AUTH_FAILED, "no such user nobody@CORP.E8SCAN.TEST"),
        "disabled": (Reach.AUTH_FAILED, "disabled or locked out"),
        "nospn": (Reach.ERROR, "no service principal HTTP/nospn.corp.e8scan.test"),
        "nocache": (Reach.AUTH_FAILED, "run kinit, or give a password with e8_password_env"),
    }
    for name, (reach, words) in expected.items():
        host = result.host(f"win-{name}")
        detail = host["reach_detail"]
        assert (host["reach"], "\n" in detail) == (reach.value, False), detail
        assert detail.startswith("Kerberos") and words in detail, detail
        assert servers[name].kerberos_principals == []
        assert servers[name].shells_opened == 0
    assert list(empty.iterdir()) == []
    assert result.leaks(WRONG, dc.user_password, dc.scanner_password) == []


# -- in-process: doctored clocks, keys and KDCs ----------------------------------------------


def _spec(server: WSManServer, user: str | None, password: str | None, **kw: Any) -> ConnectionSpec:
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    fields: dict[str, Any] = {
        "name": "win01",
        "connection": "winrm",
        "address": WINRM_HOST,
        "port": port,
        "user": user,
        "password": SecretStr(password) if password is not None else None,
        "winrm_transport": "kerberos",
        "winrm_scheme": server.scheme,
        "winrm_ca_trust_path": server.cert_path if server.scheme == "https" else None,
    }
    return ConnectionSpec(**(fields | kw))


def _connect(spec: ConnectionSpec) -> WinRMTransport:
    t = WinRMTransport(spec, WinRMOptions(operation_timeout=1, read_timeout=5))
    t.connect()
    return t


def _refused(spec: ConnectionSpec) -> TransportError:
    with pytest.raises(TransportError) as caught:
        _connect(spec).close()
    return caught.value


@pytest.fixture
def krb_env(domain: Domain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """This process's Kerberos environment for one test: the DC's krb5.conf, an unused cache."""
    monkeypatch.setenv("KRB5_CONFIG", str(domain.dc.krb5_conf))
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path}/unused-cc")
    return tmp_path


def test_kerberos_through_a_bastion_is_sealed_and_mutual_end_to_end(
    domain: Domain,
    wsman: Factory,
    krb_env: Path,
    ssh_fleet_factory: Callable[..., SSHFleet],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The host is reached by a name only the bastion resolves (this process resolves no
    ``.invalid`` name); the ticket is for its service principal (the hostname override)."""
    hosts = Path("/etc/hosts").read_text()
    overlay = {"/etc/hosts": f"{hosts}127.0.0.1\twin01.site.invalid\n"}
    fleet = ssh_fleet_factory([HostSpec("krbbastion", overlay=overlay)], name="krbjump")
    monkeypatch.setenv("HOME", str(krb_env))  # known_hosts: the fleet's own file only
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    try:
        server = wsman("http")
        b = fleet.host("krbbastion")
        spec = _spec(
            server,
            domain.scanner,
            domain.dc.scanner_password,
            address="win01.site.invalid",
            winrm_kerberos_hostname_override=WINRM_HOST,
            key_file=str(fleet.client_key),
            proxy_jump=f"{LOGIN_USER}@{b.address}:{b.port}",
        )
        ssh = SSHOptions(known_hosts=(fleet.known_hosts,), connect_timeout=3.0)
        t = WinRMTransport(spec, WinRMOptions(operation_timeout=1, read_timeout=5), ssh=ssh)
        t.connect()
        try:
            script, nonce = ps_batch.build(COMMANDS[:1], 30)
            res = t.run(ps_batch.command_line(), 30, 10**7, stdin=script.encode())
            assert ps_batch.parse(res.stdout, nonce, 1, 10**6, False)[0].exit_code == 0
        finally:
            t.close()
    finally:
        fleet.stop()
    assert server.kerberos_principals == [domain.scanner]
    assert server.encrypted_requests >= 3  # sealed by Kerberos; the server refuses plaintext
    assert any(n.startswith(f"reached via bastion {LOGIN_USER}@[{b.address}]") for n in t.notes)
    assert any(f"holds the key of HTTP/{WINRM_HOST}" in n for n in t.notes), t.notes


def test_batch_runs_on_one_shell_over_sealed_http(
    domain: Domain, wsman: Factory, krb_env: Path
) -> None:
    server = wsman("http")
    t = _connect(_spec(server, domain.scanner, domain.dc.scanner_password))
    try:
        for _ in range(2):
            script, nonce = ps_batch.build(COMMANDS, 30)
            res = t.run(ps_batch.command_line(), 30, 10**7, stdin=script.encode())
            steps = ps_batch.parse(res.stdout, nonce, len(COMMANDS), 10**6, False)
            assert [s.exit_code for s in steps] == [0] * len(COMMANDS)
            assert steps[1].stdout.decode() == CASE["outputs"]["os"]["stdout"]
    finally:
        t.close()
    assert server.kerberos_principals == [domain.scanner]
    assert server.connections == 1 and server.shells_opened == 1
    # every request sealed but the 401 round and the empty POST that sets the encryption up
    assert server.encrypted_requests == server.http_requests - 2
    assert t.user == domain.scanner
    assert not (krb_env / "unused-cc").exists()


def test_kdc_unreachable(
    domain: Domain, wsman: Factory, krb_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = krb_env / "krb5.conf"
    conf.write_text(domain.dc.krb5_conf.read_text().replace("kdc = 127.0.0.1", "kdc = 127.0.0.1:9"))
    monkeypatch.setenv("KRB5_CONFIG", str(conf))
    server = wsman("http")
    err = _refused(_spec(server, domain.scanner, domain.dc.scanner_password))
    assert err.reach is Reach.UNREACHABLE
    assert str(err).startswith("Kerberos: cannot reach a KDC for CORP.E8SCAN.TEST"), str(err)
    assert "krb5.conf" in str(err) and server.http_requests == 0


def _skew_cache(path: Path, seconds: int) -> None:
    """Give a FILE ticket cache (format 4) a KDC time offset: its tickets' users run ``seconds`` fast."""
    data = path.read_bytes()
    assert data[:2] == b"\x05\x04", "not a version-4 ccache"
    header_length = struct.unpack(">H", data[2:4])[0]
    header = struct.pack(">HHii", 1, 8, seconds, 0)  # tag 1: DeltaTime (seconds, microseconds)
    path.write_bytes(data[:2] + struct.pack(">H", len(header)) + header + data[4 + header_length :])


def test_clock_skew_at_the_host(
    domain: Domain, wsman: Factory, krb_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ticket cache whose clock runs an hour fast: the host's acceptor refuses the AP-REQ."""
    cache = krb_env / "skewed-cc"
    domain.dc.kinit(domain.scanner, domain.dc.scanner_password, cache)
    env = dict(os.environ, KRB5CCNAME=f"FILE:{cache}")
    subprocess.run(["kvno", WINRM_SPN], env=env, check=True, capture_output=True)  # the ticket
    _skew_cache(cache, 3600)
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")
    server = wsman("https")
    err = _refused(_spec(server, domain.scanner, None))
    assert err.reach is Reach.ERROR
    assert "Kerberos: clock skew too great" in str(err) and "5 minutes" in str(err), str(err)
    assert server.kerberos_principals == [] and server.auth_failures == 1


def test_host_whose_key_differs_from_the_kdcs(
    domain: Domain, wsman: Factory, krb_env: Path
) -> None:
    """A stale keytab (another key under the same SPN and kvno): the host's KRB-ERROR is read."""
    listing = subprocess.run(
        ["klist", "-k", str(domain.keytab)], capture_output=True, text=True, check=True
    ).stdout
    kvno = next(line.split()[0] for line in listing.splitlines() if WINRM_SPN in line)
    stale = krb_env / "stale.keytab"
    script = "".join(
        f"addent -password -p {WINRM_SPN}@{REALM} -k {kvno} -e {enctype}\nNot-The-Key-7!\n"
        for enctype in ("rc4-hmac", "aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96")
    )
    subprocess.run(
        ["ktutil"], input=f"{script}wkt {stale}\nquit\n", text=True, check=True, capture_output=True
    )
    server = wsman("http", keytab=str(stale))
    err = _refused(_spec(server, domain.scanner, domain.dc.scanner_password))
    assert err.reach is Reach.ERROR
    assert f"the host cannot decrypt its ticket for {WINRM_SPN}" in str(err), str(err)


def test_a_host_that_does_not_prove_its_identity_is_not_trusted(
    domain: Domain, wsman: Factory, krb_env: Path
) -> None:
    server = wsman("http", kerberos_ap_rep=False)
    err = _refused(_spec(server, domain.scanner, domain.dc.scanner_password))
    assert err.reach is Reach.HOST_KEY_REFUSED
    assert "without proving it holds the key of HTTP/win01.corp.e8scan.test" in str(err)
    assert server.shells_opened == 0  # the setup POST was refused before any WS-Man request


def test_delegation_only_when_asked(
    domain: Domain, wsman: Factory, krb_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = krb_env / "krb5.conf"  # delegating needs a forwardable TGT
    conf.write_text(
        domain.dc.krb5_conf.read_text().replace(
            "[libdefaults]\n", "[libdefaults]\n forwardable = true\n"
        )
    )
    monkeypatch.setenv("KRB5_CONFIG", str(conf))
    off, on = wsman("http"), wsman("http")
    for server, delegate in ((off, False), (on, True)):
        spec = _spec(
            server, domain.scanner, domain.dc.scanner_password, winrm_kerberos_delegation=delegate
        )
        t = _connect(spec)
        t.close()
        assert server.kerberos_delegated == [delegate]
        assert any("delegation" in n for n in t.notes) is delegate


def test_a_listener_without_kerberos_says_so(domain: Domain, wsman: Factory, krb_env: Path) -> None:
    server = wsman("https", auth=("basic",), keytab=None, require_cbt=False)
    err = _refused(_spec(server, domain.scanner, domain.dc.scanner_password))
    assert err.reach is Reach.AUTH_FAILED
    assert "does not offer Negotiate or Kerberos" in str(err) and "Basic" in str(err), str(err)


def test_no_ticket_file_is_left_anywhere(domain: Domain, wsman: Factory, krb_env: Path) -> None:
    """The password path writes no cache: not KRB5CCNAME's, not krb5.conf's default, not /tmp's."""
    before = {p.name for p in Path("/tmp").glob("krb5cc*")}
    server = wsman("http")
    _connect(_spec(server, domain.scanner, domain.dc.scanner_password)).close()
    assert {p.name for p in Path("/tmp").glob("krb5cc*")} == before
    assert not (krb_env / "unused-cc").exists()
    assert not (domain.dc.workdir / "krb5cc_default").exists()
