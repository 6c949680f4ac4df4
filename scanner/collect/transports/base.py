"""The transport contract: connect once, run commands, close.

A transport is opened once per host per sweep; every command of that host goes over the same
connection. Failures to reach the host raise :class:`TransportError` carrying the ``Reach``
outcome (unreachable, auth_failed, host_key_refused, timeout, error) and a one-line reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from scanner.model.vocabulary import Reach


@dataclass(frozen=True)
class RunResult:
    """What one command gave back. ``exit_code`` is None when the command never finished."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None
    duration: float
    timed_out: bool = False
    truncated: bool = False


class TransportError(Exception):
    """The host could not be reached or the session broke; ``reach`` classifies why."""

    def __init__(self, reach: Reach, detail: str) -> None:
        super().__init__(detail)
        self.reach = reach
        self.detail = detail


class Progress:
    """The client's own watchdog over one framed batch: no step may run longer than ``limit``.

    The batch framing (``posix_batch``, ``ps_batch``) prints a marker carrying the batch's
    nonce on stdout when each step begins and when it ends, so the time between two markers is
    one step's run time. A transport feeds every stdout byte it receives (before any cap) to
    :meth:`feed` and ends the batch — SSH: closes the channel; WinRM: Signal terminate, then
    Delete the shell — once :meth:`deadline` has passed with no new marker. That deadline holds
    even when the on-host timeout does not: a hung WMI provider, a process in uninterruptible
    sleep, a ``timeout`` that is missing or broken on the host. Host output cannot fake
    progress: the nonce is random and is never in the script's own output.
    """

    def __init__(self, nonce: str, limit: float) -> None:
        self._mark = nonce.encode()
        self._tail = b""
        self.limit = limit
        self.markers = 0
        self.last = time.monotonic()
        self.stalled = False
        """Set by the transport when it ended the batch for want of progress."""

    def start(self) -> None:
        """The batch starts now (the first step's clock starts here)."""
        self.last = time.monotonic()

    def feed(self, data: bytes) -> None:
        """Stdout bytes as they arrive, in order; a new marker is progress."""
        if not data:
            return
        buf = self._tail + data
        found = buf.count(self._mark)  # the tail is shorter than a marker: never counted twice
        if found:
            self.markers += found
            self.last = time.monotonic()
        self._tail = buf[-(len(self._mark) - 1) :] if len(self._mark) > 1 else b""

    @property
    def deadline(self) -> float:
        """``time.monotonic()`` value past which the batch counts as hung."""
        return self.last + self.limit


class Transport(Protocol):
    """One connection to one host."""

    name: str  # "local", "ssh", "winrm"

    @property
    def host_key(self) -> str | None:
        """Fingerprint of the verified host key (``SHA256:...``) or certificate; None for local."""

    @property
    def user(self) -> str:
        """The account the commands run as (before any ``sudo -n``)."""

    def connect(self) -> None:
        """Open the connection; raise TransportError when the host cannot be used."""

    def run(
        self,
        command: str,
        timeout: float,
        max_output: int,
        stdin: bytes | None = None,
        max_stderr: int | None = None,
        progress: Progress | None = None,
    ) -> RunResult:
        """Run one command line, feeding it ``stdin``; keep at most ``max_output`` bytes of
        stdout and ``max_stderr`` (default ``max_output``) of stderr. With ``progress``, end the
        command (``timed_out``, ``progress.stalled`` set) once its deadline passes unrenewed."""

    def close(self) -> None:
        """Release the connection. Never raises."""


DETAIL_MAX = 400  # characters of a one-line failure detail


def one_line(exc: BaseException | str) -> str:
    """A short single-line text for an exception (its class name when it has no message)."""
    text = exc if isinstance(exc, str) else (str(exc) or type(exc).__name__)
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_MAX else text[: DETAIL_MAX - 1] + "…"


def host_id(address: str, port: int) -> str:
    """The name known_hosts uses for a host: ``addr`` on port 22, else ``[addr]:port``."""
    return address if port == 22 else f"[{address}]:{port}"
