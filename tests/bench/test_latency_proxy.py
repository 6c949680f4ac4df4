"""The bench's latency proxy (tests/bench/latency_proxy.py) gives at least the RTT it is set to,
charges the TCP handshake, and keeps the byte order. Lower bounds only: a busy machine may add."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from latency_proxy import EchoServer, LatencyLab, measure, recv_exactly

RTT = 0.05


@pytest.fixture(scope="module")
def lab() -> Iterator[LatencyLab]:
    with LatencyLab(RTT) as lab:
        yield lab


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


def test_round_trips_cost_at_least_the_rtt(lab: LatencyLab, echo: EchoServer) -> None:
    got = measure(lab, lab.add(echo.address), pings=2, connects=1)
    assert min(got.ping_pong) >= RTT
    assert min(got.connect_echo) >= 2 * RTT  # the handshake's round trip, then the echo's


def test_the_server_sees_the_connection_after_the_handshake(lab: LatencyLab) -> None:
    """Upstream is opened only at 1.5 RTT; a server-first banner reaches the client at 2 RTT."""
    upstream = socket.create_server(("127.0.0.1", 0))
    accepted: list[float] = []

    def serve() -> None:
        conn, _ = upstream.accept()
        accepted.append(time.perf_counter())
        with conn:
            conn.sendall(b"SSH-2.0-banner\r\n")
            conn.recv(1)  # until the client closes

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    address = lab.add(upstream.getsockname()[:2])
    t0 = time.perf_counter()
    with socket.create_connection(address, timeout=10) as s:
        assert recv_exactly(s, 16) == b"SSH-2.0-banner\r\n"
        banner_at = time.perf_counter()
    t.join(timeout=10)
    upstream.close()
    assert accepted[0] - t0 >= 1.5 * RTT
    assert banner_at - t0 >= 2 * RTT


def test_order_is_kept_and_every_chunk_is_delayed(lab: LatencyLab, echo: EchoServer) -> None:
    address = lab.add(echo.address)
    chunks = [f"{i:05d}:".encode() + bytes([i % 251]) * (i * 37 % 3000) for i in range(300)]
    sent = b"".join(chunks)
    with socket.create_connection(address, timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"w")
        recv_exactly(s, 1)  # the handshake is paid; from here each way costs RTT/2
        t0 = time.perf_counter()
        writer = threading.Thread(target=lambda: [s.sendall(c) for c in chunks], daemon=True)
        writer.start()
        first = recv_exactly(s, 1)
        first_at = time.perf_counter()
        rest = recv_exactly(s, len(sent) - 1)
        writer.join(timeout=10)
    assert first + rest == sent
    assert first_at - t0 >= RTT
