"""The transport contract: connect once, run commands, close.

A transport is opened once per host per sweep; every command of that host goes over the same
connection. Failures to reach the host raise :class:`TransportError` carrying the ``Reach``
outcome (unreachable, auth_failed, host_key_refused, timeout, error) and a one-line reason.
"""

from __future__ import annotations

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
    ) -> RunResult:
        """Run one command line, feeding it ``stdin``; keep at most ``max_output`` bytes of
        stdout and ``max_stderr`` (default ``max_output``) of stderr."""

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
