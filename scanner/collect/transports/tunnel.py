"""HTTP(S) through a bastion: WinRM's requests/urllib3 connections over a ``direct-tcpip`` channel.

pywinrm talks HTTP with requests, and requests with urllib3, which opens its sockets in
``HTTPConnection._new_conn``. :class:`TunnelAdapter` is a requests transport adapter whose
urllib3 connections take their socket from an *opener* (a ``direct-tcpip`` channel of the shared
bastion connection, :class:`~scanner.collect.transports.jump.JumpPool`) instead of connecting
to the host. Everything above the socket is unchanged: urllib3 still wraps it in TLS with the
**target's** name as server name and hostname check (the bastion never sees the plaintext),
NTLM/Kerberos message encryption and channel binding still read the TLS certificate off that
socket, and the host's address is resolved by the bastion, never here.

The channel is bridged to a real socket (a :func:`socket.socketpair` and two daemon threads
copying bytes each way) because Python's ``ssl`` module can only wrap a real socket, and
urllib3 waits on its socket with ``select``. Closing either end closes the other.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

import paramiko
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["ChannelOpener", "TunnelAdapter", "bridge"]

ChannelOpener = Callable[[], paramiko.Channel]
"""Opens a new channel to the target (raises TransportError when it cannot)."""

_CHUNK = 65536


def bridge(channel: paramiko.Channel) -> socket.socket:
    """A connected socket whose peer is ``channel``: bytes written to it go down the channel,
    bytes from the channel can be read from it; EOF and close travel both ways."""
    ours, theirs = socket.socketpair()

    def down() -> None:  # socket → channel
        try:
            while data := theirs.recv(_CHUNK):
                channel.sendall(data)
        except (OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            # paramiko raises EOFError when closing a channel of a connection already gone
            with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                channel.close()
            with contextlib.suppress(OSError):
                theirs.shutdown(socket.SHUT_RDWR)
            theirs.close()

    def up() -> None:  # channel → socket
        try:
            while data := channel.recv(_CHUNK):
                theirs.sendall(data)
        except (OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            with contextlib.suppress(OSError):
                theirs.shutdown(socket.SHUT_WR)

    for name, target in (("down", down), ("up", up)):
        threading.Thread(target=target, name=f"e8scan-tunnel-{name}", daemon=True).start()
    return ours


def _tunnelled_socket(opener: ChannelOpener, timeout: Any) -> socket.socket:
    sock = bridge(opener())
    if isinstance(timeout, int | float):
        sock.settimeout(timeout)
    return sock


class TunnelAdapter(HTTPAdapter):
    """A requests adapter whose every connection is a fresh channel from ``opener``."""

    def __init__(self, opener: ChannelOpener) -> None:
        self._opener = opener
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        opener = self._opener

        class Http(HTTPConnection):
            def _new_conn(self) -> socket.socket:
                return _tunnelled_socket(opener, self.timeout)

        class Https(HTTPSConnection):
            def _new_conn(self) -> socket.socket:
                return _tunnelled_socket(opener, self.timeout)

        class HttpPool(HTTPConnectionPool):
            ConnectionCls = Http

        class HttpsPool(HTTPSConnectionPool):
            ConnectionCls = Https

        self.poolmanager.pool_classes_by_scheme = {"http": HttpPool, "https": HttpsPool}
