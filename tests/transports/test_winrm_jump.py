"""WinRM through a real OpenSSH bastion: HTTP(S) inside ``direct-tcpip`` channels of one bastion login.

The Windows hosts (the suite's WS-Man server) are named ``hmi01.site.invalid``: a name only the
bastion can resolve (its own /etc/hosts in the fleet overlay). In this process every ``.invalid``
name fails to resolve (tests/conftest.py), so a scan that went anywhere but through the bastion
could not reach them at all; the direct attempt is shown failing. Over HTTP, NTLM message
encryption still seals every request end to end; over HTTPS the certificate is validated against
the Windows host's own name (a second name for the same address is refused), and NTLM's channel
binding, which the server demands, is computed from that TLS session.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sshfleet import LOGIN_USER, HostSpec, SSHFleet
from wsman.fixtures import HostFixtures
from wsman.server import DEFAULT_USERS, WSManServer

from scanner.collect import ps_batch
from scanner.collect.plan import make_plan
from scanner.collect.runner import RunOptions, collect_host
from scanner.collect.transports.base import TransportError
from scanner.collect.transports.jump import JumpPool
from scanner.collect.transports.ssh import SSHOptions
from scanner.collect.transports.winrm import WinRMOptions, WinRMTransport
from scanner.inventory.connection import ConnectionSpec
from scanner.inventory.load import load_inventory
from scanner.model.vocabulary import Reach
from tests.faultservers import free_port

pytestmark = pytest.mark.sshd

HMI_ADDRESS = "127.0.0.201"  # where the WS-Man servers listen; only the bastion knows the names
HMI = "hmi01.site.invalid"
ALIAS = "hmi99.site.invalid"  # the same address under a name the certificate does not carry
USER, PW = next(iter(DEFAULT_USERS.items()))
FIX = HostFixtures({"Get-Date": "2026-12-07\r\n"})


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Callable[..., SSHFleet]) -> Iterator[SSHFleet]:
    hosts = Path("/etc/hosts").read_text()
    overlay = {"/etc/hosts": f"{hosts}{HMI_ADDRESS}\t{HMI}\n{HMI_ADDRESS}\t{ALIAS}\n"}
    f = ssh_fleet_factory([HostSpec("winbastion", overlay=overlay)], name="winjump")
    yield f
    f.stop()


@pytest.fixture(scope="module")
def servers(wsman_server_factory: Callable[..., Any]) -> Iterator[dict[str, WSManServer]]:
    common: dict[str, Any] = {"auth": ("ntlm",), "fixtures": FIX, "name": HMI}
    http = wsman_server_factory(HMI_ADDRESS, scheme="http", allow_unencrypted=False, **common)
    https = wsman_server_factory(HMI_ADDRESS, scheme="https", require_cbt=True, **common)
    yield {"http": http, "https": https}
    http.stop()
    https.stop()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def spec(
    fleet: SSHFleet, server: WSManServer, address: str = HMI, jump: bool = True
) -> ConnectionSpec:
    b = fleet.host("winbastion")
    return ConnectionSpec(
        name="hmi01",
        connection="winrm",
        address=address,
        port=server.port,
        user=USER,
        password=SecretStr(PW),
        key_file=str(fleet.client_key),
        proxy_jump=f"{LOGIN_USER}@{b.address}:{b.port}" if jump else None,
        winrm_scheme=server.scheme,
        winrm_ca_trust_path=server.cert_path if server.scheme == "https" else None,
    )


def run_date(t: WinRMTransport) -> bytes:
    script, nonce = ps_batch.build(["Get-Date"], 30)
    res = t.run(ps_batch.command_line(), 30, 10**6, stdin=script.encode())
    return ps_batch.parse(res.stdout, nonce, 1, 10**6, res.timed_out)[0].stdout


def bastion_logins(fleet: SSHFleet) -> int:
    log = fleet.host("winbastion").log_file.read_text(errors="replace")
    return len(re.findall(rf"Accepted publickey for {LOGIN_USER} ", log))


def test_winrm_over_http_and_https_goes_through_one_bastion_login(
    fleet: SSHFleet, servers: dict[str, WSManServer]
) -> None:
    ssh = SSHOptions(known_hosts=(fleet.known_hosts,), connect_timeout=3.0)
    before = bastion_logins(fleet)
    with JumpPool() as pool:
        for scheme in ("http", "https"):
            server = servers[scheme]
            t = WinRMTransport(spec(fleet, server), WinRMOptions(), jump_pool=pool, ssh=ssh)
            t.connect()
            try:
                assert run_date(t) == b"2026-12-07\r\n"
            finally:
                t.close()
            b = fleet.host("winbastion")
            assert t.notes[-1].startswith(
                f"reached via bastion {LOGIN_USER}@[{b.address}]:{b.port} (bastion host key SHA256:"
            )
            assert server.shells_opened == 1 and server.commands_run >= 1
        assert bastion_logins(fleet) == before + 1  # one bastion login for both hosts
    # HTTP: NTLM sealed every request end to end; HTTPS: the host's own certificate was seen
    # (and NTLM's channel binding to it, which this server requires, was accepted).
    assert servers["http"].encrypted_requests >= 5  # shell, command, output, signal, delete
    assert servers["https"].auth_failures == 0
    assert t.host_key == "SHA256:" + hashlib.sha256(servers["https"].cert_der).hexdigest().upper()


def test_the_certificate_is_checked_against_the_windows_hosts_own_name_through_the_tunnel(
    fleet: SSHFleet, servers: dict[str, WSManServer]
) -> None:
    ssh = SSHOptions(known_hosts=(fleet.known_hosts,), connect_timeout=3.0)
    t = WinRMTransport(spec(fleet, servers["https"], ALIAS), WinRMOptions(), ssh=ssh)
    with pytest.raises(TransportError) as caught:
        t.connect()
    t.close()
    assert caught.value.reach is Reach.HOST_KEY_REFUSED
    assert "TLS certificate not trusted" in caught.value.detail
    assert f"'{ALIAS}'" in caught.value.detail  # the name it was asked to reach


def test_without_the_bastion_the_host_cannot_be_reached_at_all(
    fleet: SSHFleet, servers: dict[str, WSManServer]
) -> None:
    t = WinRMTransport(spec(fleet, servers["http"], jump=False), WinRMOptions())
    with pytest.raises(TransportError) as caught:
        t.connect()
    t.close()
    assert caught.value.reach is Reach.UNREACHABLE
    assert f"cannot reach http://{HMI}:" in caught.value.detail


def test_a_scan_of_an_inventory_host_goes_the_route_plan_shows(
    fleet: SSHFleet, servers: dict[str, WSManServer], tmp_path: Path
) -> None:
    """Inventory → plan → runner, as ``e8scan scan`` does: the route and login ``plan`` prints
    are the ones the scan used (the bastion login is the jump's user, not the Windows one)."""
    b, server = fleet.host("winbastion"), servers["https"]
    inv = tmp_path / "ot.yml"
    inv.write_text(
        json.dumps(
            {
                "ot": {
                    "hosts": {"hmi01": {"ansible_host": HMI, "ansible_port": server.port}},
                    "vars": {
                        "ansible_connection": "winrm",
                        "ansible_user": USER,
                        "e8_password_env": "E8_TEST_HMI_PW",
                        "ansible_ssh_common_args": f"-J {LOGIN_USER}@{b.address}:{b.port}",
                        "ansible_ssh_private_key_file": str(fleet.client_key),
                        "ansible_winrm_ca_trust_path": server.cert_path,
                    },
                }
            }
        )
    )
    (plan,) = make_plan(load_inventory([inv]).select(None), [], {"E8_TEST_HMI_PW": PW})
    assert plan.problem is None
    assert plan.route == f"via bastion {LOGIN_USER}@{b.address}:{b.port}"
    opts = RunOptions(ssh=SSHOptions(known_hosts=(fleet.known_hosts,), connect_timeout=3.0))
    try:
        record = collect_host(plan, opts)
    finally:
        opts.jump_pool.close()
    assert record.reach is Reach.OK, record.reach_detail
    assert record.user == plan.login == USER
    assert record.host_key == "SHA256:" + hashlib.sha256(server.cert_der).hexdigest().upper()
    assert any(
        n.startswith(f"reached via bastion {LOGIN_USER}@[{b.address}]") for n in record.notes
    )


def test_a_host_the_bastion_cannot_reach_is_unreachable_via_that_bastion(
    fleet: SSHFleet, servers: dict[str, WSManServer]
) -> None:
    ssh = SSHOptions(known_hosts=(fleet.known_hosts,), connect_timeout=3.0)
    closed = ConnectionSpec(
        **(spec(fleet, servers["http"]).model_dump() | {"port": free_port(HMI_ADDRESS)})
    )
    t = WinRMTransport(closed, WinRMOptions(), ssh=ssh)
    with pytest.raises(TransportError) as caught:
        t.connect()
    t.close()
    b = fleet.host("winbastion")
    assert caught.value.reach is Reach.UNREACHABLE
    assert caught.value.detail.startswith(
        f"via bastion {LOGIN_USER}@[{b.address}]:{b.port}: cannot connect to [{HMI}]:"
    )
