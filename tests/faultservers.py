"""Misbehaving peers on loopback for transport and fault tests: a TCP server that runs a
handler per connection, a free port nobody listens on, and a held sshd startup slot (with the
count of connections sshd dropped past MaxStartups, read from its own log)."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator

_DROP = re.compile(r"^drop connection #\d+ from \[([\d.]+)\]:\d+ on .* past MaxStartups$", re.M)


def free_port(address: str) -> int:
    """A port on ``address`` that nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def tcp_server(address: str, handle: Callable[[socket.socket, int], None]) -> Iterator[int]:
    """A loopback TCP server running ``handle(conn, n)`` in a thread for its n-th connection
    (0-based); yields the port. Connections are closed when the block ends."""
    srv = socket.socket()
    srv.bind((address, 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def loop() -> None:
        n = 0
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            held.append(conn)
            threading.Thread(target=handle, args=(conn, n), daemon=True).start()
            n += 1

    th = threading.Thread(target=loop, daemon=True)
    th.start()
    try:
        yield int(srv.getsockname()[1])
    finally:
        stop.set()
        th.join()
        srv.close()
        for c in held:
            with contextlib.suppress(OSError):
                c.close()


def hold_startup_slot(address: str, port: int, source: str) -> socket.socket:
    """An unauthenticated connection from ``source`` that has the banner and sends nothing: one
    sshd startup slot. Retried while sshd still counts an earlier connection (a readiness probe,
    a previous holder)."""
    deadline = time.monotonic() + 10
    while True:
        s = socket.socket()
        s.settimeout(5)
        s.bind((source, 0))
        s.connect((address, port))
        if s.recv(256).startswith(b"SSH-"):
            return s
        s.close()
        assert time.monotonic() < deadline, "sshd never had a free startup slot"
        time.sleep(0.05)


def maxstartups_drops(sshd_log: str, excluding: str) -> int:
    """Connections sshd dropped past MaxStartups, those from ``excluding`` (the holder) left out."""
    return sum(1 for m in _DROP.finditer(sshd_log) if m.group(1) != excluding)


def http_answer(
    body: bytes, status: str = "200 OK", content_type: str = "text/html"
) -> Callable[[socket.socket, int], None]:
    """A ``tcp_server`` handler that answers every HTTP request with ``status`` and ``body`` (a web
    server, a router's admin page, a proxy: anything but WinRM on a WinRM port)."""

    def handle(conn: socket.socket, _n: int) -> None:
        conn.settimeout(10)
        data = b""
        with contextlib.suppress(OSError):
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                need = int(length.group(1)) if length else 0
                while len(data) < need:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                data = data[need:]
                conn.sendall(
                    f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )

    return handle
