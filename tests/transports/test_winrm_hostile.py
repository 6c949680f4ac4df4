"""WinRM peers that are not what the inventory says: the real pywinrm client against loopback.

A port that answers HTTP 200 with anything but WS-Man (a web server, a router's admin page) is
classified as ``error: not a WinRM listener``, never pywinrm's internal ``AttributeError … 'wrap'``;
a Windows host whose commands write megabytes of error records has them cut on the host
(``E8Cap``, emulated by the suite's WS-Man server) and the cut recorded.
"""

from __future__ import annotations

import pytest
from faultservers import http_answer, tcp_server
from pydantic import SecretStr
from wsman.fixtures import FixtureOutput, HostFixtures
from wsman.server import WSManServer

from scanner.collect import ps_batch
from scanner.collect.transports.base import TransportError
from scanner.collect.transports.winrm import WinRMOptions, WinRMTransport
from scanner.inventory.connection import ConnectionSpec
from scanner.model.vocabulary import Reach

USER, PW = "e8audit", "Correct-Horse-9"


def spec(address: str, port: int, transport: str, scheme: str = "http") -> ConnectionSpec:
    return ConnectionSpec(
        name="win1",
        connection="winrm",
        address=address,
        port=port,
        user=USER,
        password=SecretStr(PW),
        winrm_transport=transport,
        winrm_scheme=scheme,
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>Router admin</body></html>", "text/html"),
        (b"\x00\xff garbage \x1b[2J", "application/octet-stream"),
        (b"<?xml version='1.0'?><a/>", "application/soap+xml"),
    ],
)
def test_an_http_200_peer_is_not_a_winrm_listener(body: bytes, content_type: str) -> None:
    with tcp_server("127.0.0.51", http_answer(body, content_type=content_type)) as port:
        t = WinRMTransport(
            spec("127.0.0.51", port, "ntlm"), WinRMOptions(operation_timeout=1, read_timeout=5)
        )
        with pytest.raises(TransportError) as exc:
            t.connect()
        t.close()
    assert exc.value.reach is Reach.ERROR
    assert exc.value.detail.startswith("not a WinRM listener"), exc.value.detail
    assert "'wrap'" not in exc.value.detail and "NoneType" not in exc.value.detail


def test_megabytes_of_error_records_are_cut_on_the_host_and_flagged(
    wsman_server_factory: object,
) -> None:
    fixtures = HostFixtures(
        {
            "Get-Loud": FixtureOutput(stdout="ok\r\n", stderr="E" * 3_000_000, rc=1),
            "Get-Date": "2026-11-20\r\n",
        }
    )
    server: WSManServer = wsman_server_factory(  # type: ignore[operator]
        "127.0.0.52", auth=("ntlm",), users={USER: PW}, fixtures=fixtures
    )
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    t = WinRMTransport(spec("127.0.0.52", port, "ntlm"), WinRMOptions(1, 5))
    cap = 1 << 20
    t.connect()
    try:
        script, nonce = ps_batch.build(["Get-Loud", "Get-Date"], 30, cap)
        res = t.run(ps_batch.command_line(), 60, 10**8, stdin=script.encode())
    finally:
        t.close()
        server.stop()  # its NTLM user leaves the process-wide user file (tests/wsman assert on it)
    # What crossed the wire is the cap (base64: 4/3), not the 3 MB the step wrote.
    assert len(res.stdout) < 2 * cap, len(res.stdout)
    loud, date = ps_batch.parse(res.stdout, nonce, 2, cap, res.timed_out)
    assert loud.stderr == b"E" * cap and loud.stderr_truncated and loud.exit_code == 1
    assert loud.stdout == b"ok\r\n" and not loud.truncated
    assert date.stdout == b"2026-11-20\r\n" and not date.stderr_truncated
