"""Jump hosts (ProxyJump): one authenticated bastion connection shared by every host behind it.

A real bastion keeps sshd's default ``MaxStartups 10:30:100``, so authenticating once per target
through it would be throttled. :class:`JumpPool` opens each bastion's SSH connection once (with
the same host-key verification and the same key-file / ssh-agent / password rules as a direct
connection; see :class:`scanner.collect.transports.ssh.SSHTransport`) and hands out ``direct-tcpip``
channels to targets. :class:`~scanner.collect.transports.ssh.SSHTransport` runs its own SSH session over
such a channel and verifies the *target's* host key as usual.

The pool is thread-safe and lives for one sweep: close it (or use it as a context manager) to
end every bastion connection. A closed pool may be used again; it reconnects on demand.

Failures: a bastion that cannot be reached, authenticated or verified fails each host behind it
with the bastion's reach and ``via bastion X:`` in the detail; the failure is remembered for the
pool's life so the bastion is not hammered once per target. A refused ``direct-tcpip`` request
(the target is down) makes only that target unreachable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

import paramiko

from scanner.collect.transports.base import TransportError, host_id, one_line
from scanner.inventory.bastion import JumpHost, parse_jump
from scanner.inventory.connection import ConnectionSpec, bastion_spec
from scanner.model.vocabulary import Reach

__all__ = ["Bastion", "JumpHost", "JumpPool", "parse_jump"]


class Bastion(Protocol):
    """What the pool needs of a bastion connection (an SSH transport, see the ssh module)."""

    @property
    def host_key(self) -> str | None: ...

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def is_active(self) -> bool: ...

    def open_forward(self, target: tuple[str, int], timeout: float) -> paramiko.Channel: ...


BastionFactory = Callable[[ConnectionSpec], Bastion]


@dataclass
class _Entry:
    """One bastion's state in the pool; ``lock`` serialises its (single) connection attempt."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    transport: Bastion | None = None
    failure: tuple[Reach, str] | None = None
    closed: bool = False


class JumpPool:
    """Bastion connections keyed by (user, host, port), opened once and shared (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str, int], _Entry] = {}

    def __repr__(self) -> str:
        return f"JumpPool({len(self._entries)} bastions)"

    def __enter__(self) -> JumpPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- bastions ------------------------------------------------------------------------

    def bastion(self, jump: JumpHost, via: ConnectionSpec, connect: BastionFactory) -> Bastion:
        """The connected, authenticated bastion for ``jump`` (opened on first use).

        Login and credentials are the first target's (``via``), as
        :func:`scanner.inventory.connection.bastion_spec` (which ``plan`` shows) resolves them.
        Raises TransportError with ``via bastion X:`` in the detail; a failure is remembered and
        repeated, not retried.
        """
        spec = bastion_spec(jump, via)
        key = (spec.user or "", jump.host, jump.port)
        while True:
            with self._lock:
                entry = self._entries.setdefault(key, _Entry())
            with entry.lock:
                if entry.closed:  # close() ran meanwhile: take the fresh entry
                    continue
                if entry.failure is not None:
                    reach, detail = entry.failure
                    raise TransportError(reach, detail)
                current = entry.transport
                if current is not None and current.is_active():
                    return current
                if current is not None:  # the bastion dropped us: reconnect once per loss
                    current.close()
                    entry.transport = None
                transport = connect(spec)
                try:
                    transport.connect()
                except TransportError as exc:
                    transport.close()
                    entry.failure = (exc.reach, f"via bastion {jump}: {exc.detail}")
                    raise TransportError(*entry.failure) from None
                entry.transport = transport
                return transport

    def open_channel(
        self,
        jump: JumpHost,
        via: ConnectionSpec,
        connect: BastionFactory,
        target: tuple[str, int],
        timeout: float,
    ) -> paramiko.Channel:
        """A ``direct-tcpip`` channel through the bastion to ``target`` (address, port).

        A refused forward (target down, forwarding prohibited) is UNREACHABLE for this target
        only; a lost bastion connection is reopened once.
        """
        where = host_id(*target)
        for attempt in (1, 2):
            bastion = self.bastion(jump, via, connect)
            try:
                return bastion.open_forward(target, timeout)
            except paramiko.ChannelException as exc:
                raise TransportError(
                    Reach.UNREACHABLE,
                    f"via bastion {jump}: cannot connect to {where} "
                    f"({one_line(exc.text or str(exc))})",
                ) from None
            except (paramiko.SSHException, EOFError, OSError) as exc:
                if bastion.is_active():
                    reach = Reach.TIMEOUT if "timeout" in str(exc).lower() else Reach.ERROR
                    raise TransportError(
                        reach,
                        f"via bastion {jump}: opening a channel to {where} failed: {one_line(exc)}",
                    ) from None
                if attempt == 2:
                    raise TransportError(
                        Reach.UNREACHABLE,
                        f"via bastion {jump}: the bastion connection was lost ({one_line(exc)})",
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every bastion connection and forget remembered failures; never raises."""
        with self._lock:
            entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            with entry.lock:
                entry.closed = True
                transport, entry.transport = entry.transport, None
            if transport is not None:
                transport.close()
