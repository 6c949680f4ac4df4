"""A TCP proxy that makes a loopback host look as far away as a WAN or satellite link.

One :class:`LatencyLab` runs an asyncio loop in a daemon thread and holds any number of
listeners (:meth:`LatencyLab.add`), one per emulated host, each forwarding to one upstream
address. Every connection gets the round-trip time :attr:`LatencyLab.rtt` had when it was
accepted, and behaves like a TCP connection over a link of that RTT:

* **The handshake.** A real ``connect()`` returns after SYN → SYN-ACK (one RTT) and the server's
  ``accept()`` returns when the client's ACK arrives (1.5 RTT). Loopback completes both at once,
  so the proxy charges them: bytes the client sends before ``t0 + RTT`` count as sent at
  ``t0 + RTT`` (the earliest a real client could have sent them), and the upstream connection is
  opened only at ``t0 + 1.5 RTT`` — so the server's first bytes (an SSH banner) reach the client
  at ``t0 + 2 RTT``, as over the real link. Connect + one echo costs 2 RTT.
* **Each direction is delayed by RTT/2**: a chunk read at ``t`` is written at
  ``max(t + RTT/2, the previous chunk's time)``. One queue and one writer per direction, so the
  byte order is kept; no bandwidth limit, no loss. Half-closes (EOF) travel with the same delay.

:func:`measure` checks what the proxy gives against an echo server: a ping-pong on an open
connection (1 RTT expected) and a connect + echo (2 RTT expected). The bench prints both.

With :attr:`LatencyLab.trace` set, each connection's reads are logged (:class:`ConnLog`): when
each chunk arrived from which side. :meth:`ConnLog.flights` turns that into the client's turns —
each time the client speaks again after hearing from the server it has waited (at least) a
round trip — which is where a slow link's time goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

_CHUNK = 65536


@dataclass
class ConnLog:
    """One proxied connection: its upstream, when it was accepted, and every chunk read."""

    upstream: tuple[str, int]
    rtt: float
    accepted: float  # loop time
    events: list[tuple[float, str, int]] = field(default_factory=list)  # (s after accept, c|s, B)

    def flights(self) -> list[tuple[float, int, int]]:
        """(start s after accept, client bytes, server bytes answering) per client turn."""
        out: list[tuple[float, int, int]] = []
        heard = True
        for t, side, n in self.events:
            if side == "c":
                if heard or not out:
                    out.append((t, 0, 0))
                    heard = False
                start, c, srv = out[-1]
                out[-1] = (start, c + n, srv)
            elif out:
                start, c, srv = out[-1]
                out[-1] = (start, c, srv + n)
                heard = heard or n > 0
        return out

    def describe(self) -> str:
        end = self.events[-1][0] if self.events else 0.0
        turns = self.flights()
        lines = [
            f"connection to {self.upstream[0]}:{self.upstream[1]} at RTT {self.rtt * 1000:.0f} ms: "
            f"{len(turns)} client turns, {end:.2f} s from accept to the last byte"
        ]
        for i, (t, c, srv) in enumerate(turns, 1):
            lines.append(
                f"  {i:3d}. +{t * 1000:7.0f} ms  client {c:7d} B  server after it {srv:8d} B"
            )
        return "\n".join(lines)


class LatencyLab:
    """Latency-emulating listeners sharing one event-loop thread; use :meth:`close` to stop."""

    def __init__(self, rtt: float = 0.0) -> None:
        self.rtt = rtt
        """Round-trip time in seconds; read when a connection is accepted."""
        self.trace = False
        """Log each new connection's chunks in :attr:`log` (see :class:`ConnLog`)."""
        self.log: list[ConnLog] = []
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._conns: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rtt")
        self._thread.start()

    def _run(self) -> None:
        # The emulated link must not queue behind the machine's load: the thread that stands
        # for it gets a higher priority where allowed (root; Linux nice is per thread).
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10)
        self._loop.run_forever()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def add(self, upstream: tuple[str, int], listen: str = "127.0.0.1") -> tuple[str, int]:
        """A new listener on ``listen`` (a free port) forwarding to ``upstream``; its address."""

        async def start() -> tuple[str, int]:
            server = await asyncio.start_server(
                lambda r, w: self._accepted(r, w, upstream), listen, 0, backlog=1024
            )
            self._servers.append(server)
            sockname = server.sockets[0].getsockname()
            return str(sockname[0]), int(sockname[1])

        result: tuple[str, int] = self._call(start())
        return result

    def close(self) -> None:
        """Stop listening, drop every connection, end the thread."""

        async def stop() -> None:
            for server in self._servers:
                server.close()
            for task in list(self._conns):
                task.cancel()
            await asyncio.gather(*self._conns, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._call(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> LatencyLab:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- one connection -------------------------------------------------------------------

    def _accepted(
        self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter, up: tuple[str, int]
    ) -> None:
        task = self._loop.create_task(self._relay(creader, cwriter, up, self.rtt))
        self._conns.add(task)
        task.add_done_callback(self._conns.discard)

    async def _relay(
        self,
        creader: asyncio.StreamReader,
        cwriter: asyncio.StreamWriter,
        up: tuple[str, int],
        rtt: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        half = rtt / 2
        log = ConnLog(up, rtt, t0)
        if self.trace:
            self.log.append(log)
        note = log.events.append if self.trace else None
        _nodelay(cwriter)
        to_server: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        upstream: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        upstream = loop.create_future()

        async def open_upstream() -> None:
            await _sleep_until(loop, t0 + 1.5 * rtt)  # the server's accept() over the real link
            try:
                reader, writer = await asyncio.open_connection(*up)
            except OSError as exc:
                upstream.set_exception(exc)
                return
            _nodelay(writer)
            upstream.set_result((reader, writer))

        async def client_to_queue() -> None:
            earliest = t0 + rtt  # a real client's connect() returns only now
            last = 0.0
            while True:
                try:
                    data = await creader.read(_CHUNK)
                except OSError:
                    data = b""
                if note is not None:
                    note((loop.time() - t0, "c", len(data)))
                last = max(max(loop.time(), earliest) + half, last)
                await to_server.put((last, data))
                if not data:
                    return

        async def queue_to_server() -> None:
            _reader, writer = await upstream
            await _drain_queue(loop, to_server, writer)

        async def server_to_client() -> None:
            reader, _writer = await upstream
            down: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
            last = 0.0

            async def read() -> None:
                nonlocal last
                while True:
                    try:
                        data = await reader.read(_CHUNK)
                    except OSError:
                        data = b""
                    if note is not None:
                        note((loop.time() - t0, "s", len(data)))
                    last = max(loop.time() + half, last)
                    await down.put((last, data))
                    if not data:
                        return

            await asyncio.gather(read(), _drain_queue(loop, down, cwriter))

        tasks = [
            loop.create_task(c)
            for c in (open_upstream(), client_to_queue(), queue_to_server(), server_to_client())
        ]
        try:
            await asyncio.gather(*tasks)
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            cwriter.close()
            if upstream.done() and not upstream.cancelled() and upstream.exception() is None:
                upstream.result()[1].close()


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def _sleep_until(loop: asyncio.AbstractEventLoop, when: float) -> None:
    while (now := loop.time()) < when:  # never early, whatever the timer's rounding
        await asyncio.sleep(when - now)


async def _drain_queue(
    loop: asyncio.AbstractEventLoop,
    queue: asyncio.Queue[tuple[float, bytes]],
    writer: asyncio.StreamWriter,
) -> None:
    """Write each queued chunk at its delivery time, in order; b"" is the peer's EOF."""
    while True:
        when, data = await queue.get()
        await _sleep_until(loop, when)
        if not data:
            if writer.can_write_eof():
                with contextlib.suppress(OSError):
                    writer.write_eof()
            return
        writer.write(data)
        await writer.drain()


# --------------------------------------------------------------------------- verification


class EchoServer:
    """A threaded TCP echo server on loopback (for :func:`measure` and the proxy's test)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._sock = socket.create_server((host, 0), backlog=64)
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, daemon=True, name="echo")
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            while data := conn.recv(_CHUNK):
                conn.sendall(data)

    def close(self) -> None:
        self._sock.close()


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += data
    return bytes(buf)


@dataclass
class Measured:
    rtt: float  # what the lab was set to
    ping_pong: list[float]  # seconds per 1-byte round trip on an open connection
    connect_echo: list[float]  # seconds for connect() + one echo, fresh connection each

    def line(self) -> str:
        pp = statistics.median(self.ping_pong) * 1000
        ce = statistics.median(self.connect_echo) * 1000
        want = self.rtt * 1000
        return (
            f"RTT {want:.0f} ms: ping-pong {pp:.1f} ms (want {want:.0f}), connect+echo "
            f"{ce:.1f} ms (want {2 * want:.0f}), medians of {len(self.ping_pong)} and "
            f"{len(self.connect_echo)}"
        )


def measure(
    lab: LatencyLab, address: tuple[str, int], pings: int = 5, connects: int = 3
) -> Measured:
    """Round trips through one of ``lab``'s listeners whose upstream is an echo server."""
    ping_pong, connect_echo = [], []
    with socket.create_connection(address, timeout=30) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"w")  # the first exchange also pays the handshake: not a ping-pong
        recv_exactly(s, 1)
        for i in range(pings):
            t = time.perf_counter()
            s.sendall(bytes([i % 256]))
            recv_exactly(s, 1)
            ping_pong.append(time.perf_counter() - t)
    for _ in range(connects):
        t = time.perf_counter()
        with socket.create_connection(address, timeout=30) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(b"x")
            recv_exactly(s, 1)
        connect_echo.append(time.perf_counter() - t)
    return Measured(lab.rtt, ping_pong, connect_echo)
