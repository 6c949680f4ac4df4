"""The WinRM transport: the real pywinrm client against the suite's own WS-Man server.

Every test talks genuine WS-Man/WinRS over real HTTP(S) on loopback (tests/wsman/); PowerShell
itself is replaced by fixture lookup in that server, since no Windows exists here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from wsman.faults import Fault
from wsman.fixtures import FixtureOutput, HostFixtures
from wsman.server import WSManServer

from scanner.collect import ps_batch
from scanner.collect.transports.base import TransportError
from scanner.collect.transports.winrm import WinRMOptions, WinRMTransport
from scanner.inventory.connection import ConnectionSpec
from scanner.inventory.connection import check_winrm_transport as check_transport
from scanner.model.errors import InputError
from scanner.model.vocabulary import Reach

USER, PW = "e8audit", "Correct-Horse-9"
FIX = HostFixtures(
    {
        "Get-Date": "2026-11-20\r\n",
        "Write-Output 'José Müller'": "José Müller\r\n",
        "Get-Big": FixtureOutput(stdout="x" * 50_000),
        "Get-Slow": FixtureOutput(stdout="late\r\n", delay=2.5),
        "Get-Broken": FixtureOutput(stderr="Access is denied.\r\n", rc=1),
    }
)
Factory = Callable[..., WSManServer]


def spec(
    server: WSManServer, transport: str = "ntlm", password: str = PW, **kw: Any
) -> ConnectionSpec:
    scheme, rest = server.url.split("://")
    host, port = rest.split("/")[0].rsplit(":", 1)
    fields: dict[str, Any] = {
        "name": "win1",
        "connection": "winrm",
        "address": host,
        "port": int(port),
        "user": USER,
        "password": SecretStr(password),
        "winrm_transport": transport,
        "winrm_scheme": scheme,
    }
    return ConnectionSpec(**(fields | kw))


def batch(
    t: WinRMTransport, commands: list[str], timeout: float = 30, step_timeout: int = 30
) -> list[Any]:
    script, nonce = ps_batch.build(commands, step_timeout)
    res = t.run(ps_batch.command_line(), timeout, 10**7, stdin=script.encode())
    return ps_batch.parse(res.stdout, nonce, len(commands), 10**6, res.timed_out)


@pytest.fixture
def wsman_server_factory() -> Iterator[Factory]:
    """Servers for one test, stopped when it ends (NTLM users are process-wide)."""
    servers: list[WSManServer] = []

    def start(*args: Any, **kwargs: Any) -> WSManServer:
        server = WSManServer(*args, **kwargs)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def opts(**kw: Any) -> WinRMOptions:
    return WinRMOptions(**({"operation_timeout": 1, "read_timeout": 5} | kw))


@pytest.mark.parametrize(
    ("scheme", "auth", "encrypted"),
    [
        ("http", "basic", False),
        ("http", "ntlm", True),
        ("https", "basic", False),
        ("https", "ntlm", False),
    ],
)
def test_batch_over_every_transport_on_one_shell_and_one_connection(
    wsman_server_factory: Factory, scheme: str, auth: str, encrypted: bool
) -> None:
    server = wsman_server_factory(
        "127.0.0.31",
        scheme=scheme,
        auth=(auth,),
        users={USER: PW},
        fixtures=FIX,
        allow_unencrypted=auth == "basic",
        require_cbt=scheme == "https" and auth == "ntlm",
    )
    t = WinRMTransport(
        spec(server, auth, winrm_ca_trust_path=server.cert_path if scheme == "https" else None),
        opts(),
    )
    t.connect()
    try:
        for _ in range(3):  # three batches: still one shell, one TCP/TLS connection
            r = batch(
                t, ["Get-Date", "Write-Output 'José Müller'", "Get-Broken", "Get-Nothing-Here"]
            )
            assert r[0].stdout == b"2026-11-20\r\n" and r[0].exit_code == 0
            assert r[1].stdout.decode() == "José Müller\r\n"  # UTF-8 end to end, no cp437 mojibake
            assert r[2].exit_code == 1 and b"Access is denied" in r[2].stderr
            assert r[3].exit_code == 1 and b"is not recognized" in r[3].stderr
    finally:
        t.close()
    assert server.shells_opened == 1
    assert server.connections == 1
    assert server.requests["Signal"] >= 3 and server.requests["Delete"] == 1
    assert server.codepages == [65001] or set(server.codepages) == {65001}
    assert (server.encrypted_requests > 0) is encrypted
    if scheme == "https":
        assert t.host_key is not None and t.host_key.startswith("SHA256:")
        import hashlib

        assert t.host_key == "SHA256:" + hashlib.sha256(server.cert_der).hexdigest().upper()
    else:
        assert t.host_key is None and any("not verified" in n for n in t.notes)


def test_long_batch_goes_over_stdin_not_the_command_line(wsman_server_factory: Factory) -> None:
    commands = [f"Get-Date # {i} " + "x" * 400 for i in range(40)]  # ~17 KB of PowerShell
    fix = HostFixtures({c: f"out{i}\r\n" for i, c in enumerate(commands)})
    server = wsman_server_factory("127.0.0.32", auth=("basic",), users={USER: PW}, fixtures=fix)
    t = WinRMTransport(spec(server, "basic"), opts())
    t.connect()
    r = batch(t, commands)
    t.close()
    assert [x.stdout for x in r] == [f"out{i}\r\n".encode() for i in range(40)]
    assert len(ps_batch.command_line()) < 1000
    assert server.requests["Send"] >= 1


def test_multi_round_output_is_reassembled(wsman_server_factory: Factory) -> None:
    server = wsman_server_factory(
        "127.0.0.33", auth=("basic",), users={USER: PW}, fixtures=FIX, receive_chunk=4096
    )
    t = WinRMTransport(spec(server, "basic"), opts())
    t.connect()
    r = batch(t, ["Get-Big"])
    t.close()
    assert r[0].stdout == b"x" * 50_000
    assert server.requests["Receive"] > 3


def test_slow_command_survives_timed_out_rounds(wsman_server_factory: Factory) -> None:
    server = wsman_server_factory("127.0.0.34", auth=("basic",), users={USER: PW}, fixtures=FIX)
    t = WinRMTransport(spec(server, "basic"), opts(operation_timeout=1))
    t.connect()
    r = batch(t, ["Get-Slow"])
    t.close()
    assert r[0].stdout == b"late\r\n"
    assert server.timeouts >= 1


def test_hung_host_is_bounded_by_our_deadline_then_signal_and_delete(
    wsman_server_factory: Factory,
) -> None:
    server = wsman_server_factory(
        "127.0.0.35", auth=("basic",), users={USER: PW}, fixtures=FIX, faults=("hang",)
    )
    t = WinRMTransport(spec(server, "basic"), opts(operation_timeout=1))
    t.connect()
    start = time.monotonic()
    res = t.run(ps_batch.command_line(), 3.0, 10**6, stdin=b"E8Step 0 'R2V0LURhdGU='\r\n")
    elapsed = time.monotonic() - start
    t.close()
    assert res.timed_out and res.exit_code is None
    assert elapsed < 3.0 + 1 + 5  # the deadline plus at most one Receive round and the read timeout
    assert server.requests["Signal"] >= 1 and server.requests["Delete"] == 1


@pytest.mark.parametrize(
    ("fault", "reach", "needle"),
    [
        ("garbage:Receive", Reach.ERROR, "not WS-Man"),
        ("no_exit_code", Reach.ERROR, "not WS-Man"),
        ("soap_fault:Command", Reach.ERROR, "fault"),
    ],
)
def test_broken_answers_become_host_outcomes(
    wsman_server_factory: Factory, fault: str, reach: Reach, needle: str
) -> None:
    server = wsman_server_factory(
        "127.0.0.36", auth=("basic",), users={USER: PW}, fixtures=FIX, faults=(fault,)
    )
    t = WinRMTransport(spec(server, "basic"), opts())
    t.connect()
    with pytest.raises(TransportError) as exc:
        batch(t, ["Get-Date"])
    t.close()
    assert exc.value.reach is reach
    assert needle in exc.value.detail


def test_a_dropped_connection_gets_exactly_one_rebuild_and_retry(
    wsman_server_factory: Factory,
) -> None:
    server = wsman_server_factory(
        "127.0.0.37",
        auth=("ntlm",),
        users={USER: PW},
        fixtures=FIX,
        faults=(Fault("drop", action="Command", times=1),),
    )
    t = WinRMTransport(spec(server, "ntlm"), opts())
    t.connect()
    r = batch(t, ["Get-Date"])
    t.close()
    assert r[0].stdout == b"2026-11-20\r\n"
    assert t.shells_opened == 2  # the original and the one rebuild
    always = wsman_server_factory(
        "127.0.0.38", auth=("basic",), users={USER: PW}, fixtures=FIX, faults=("drop:Command",)
    )
    t2 = WinRMTransport(spec(always, "basic"), opts())
    t2.connect()
    with pytest.raises(TransportError):
        batch(t2, ["Get-Date"])
    t2.close()
    assert always.requests["Create"] == 2  # no retry storm against a sick host


def test_wrong_password_is_auth_failed_and_never_printed(wsman_server_factory: Factory) -> None:
    server = wsman_server_factory("127.0.0.39", auth=("ntlm",), users={USER: PW}, fixtures=FIX)
    t = WinRMTransport(spec(server, "ntlm", password="Wrong-Canary-771"), opts())
    with pytest.raises(TransportError) as exc:
        t.connect()
    assert exc.value.reach is Reach.AUTH_FAILED
    assert "Wrong-Canary-771" not in exc.value.detail


def test_untrusted_certificate_is_reported_as_such(wsman_server_factory: Factory) -> None:
    server = wsman_server_factory(
        "127.0.0.40", scheme="https", auth=("basic",), users={USER: PW}, fixtures=FIX
    )
    t = WinRMTransport(
        spec(server, "basic", winrm_ca_trust_path="/etc/ssl/certs/ca-certificates.crt"), opts()
    )
    with pytest.raises(TransportError) as exc:
        t.connect()
    assert exc.value.reach is Reach.HOST_KEY_REFUSED
    assert "certificate" in exc.value.detail.lower()
    ignored = WinRMTransport(spec(server, "basic", winrm_cert_validation=False), opts())
    ignored.connect()
    assert batch(ignored, ["Get-Date"])[0].exit_code == 0
    ignored.close()
    assert any("validation disabled" in n for n in ignored.notes)


def test_no_listener_is_unreachable_with_a_clear_reason() -> None:
    s = ConnectionSpec(
        name="xp-hmi",
        connection="winrm",
        address="127.0.0.41",
        port=5985,
        user=USER,
        password=SecretStr(PW),
        winrm_scheme="http",
    )
    with pytest.raises(TransportError) as exc:
        WinRMTransport(s, opts()).connect()
    assert exc.value.reach is Reach.UNREACHABLE
    assert "no WinRM listener" in exc.value.detail


def test_transport_names_are_checked_at_plan_time(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_transport("ntlm", "h") == "ntlm"
    assert check_transport("basic,ntlm", "h") == "basic"
    with pytest.raises(InputError, match="unknown transport 'telepathy'"):
        check_transport("telepathy", "h")
    assert check_transport("kerberos", "h") == "kerberos"  # gssapi is installed here
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "gssapi" else real(name, *a)
    )
    with pytest.raises(InputError, match=r"gssapi package.*pip install 'e8scan\[kerberos\]'"):
        check_transport("kerberos", "h")


def test_a_hung_step_times_out_alone_and_the_batch_goes_on(wsman_server_factory: Factory) -> None:
    fix = HostFixtures(
        {"Get-Hung": FixtureOutput(stdout="never\r\n", delay=5), "Get-Date": "ok\r\n"}
    )
    server = wsman_server_factory("127.0.0.42", auth=("basic",), users={USER: PW}, fixtures=fix)
    t = WinRMTransport(spec(server, "basic"), opts())
    t.connect()
    r = batch(t, ["Get-Hung", "Get-Date"], step_timeout=1)
    t.close()
    assert r[0].timed_out and r[0].exit_code is None
    assert r[1].stdout == b"ok\r\n" and r[1].exit_code == 0


def test_a_host_answering_timed_out_at_once_is_not_polled_in_a_tight_loop(
    wsman_server_factory: Factory,
) -> None:
    server = wsman_server_factory(
        "127.0.0.43", auth=("basic",), users={USER: PW}, fixtures=FIX, faults=("timed_out_forever",)
    )
    t = WinRMTransport(spec(server, "basic"), opts(operation_timeout=2))
    t.connect()
    res = t.run(ps_batch.command_line(), 4.0, 10**6, stdin=b"E8Step 0 'R2V0LURhdGU='\r\n")
    t.close()
    assert res.timed_out
    assert server.requests["Receive"] <= 8  # about one poll a second, not hundreds
