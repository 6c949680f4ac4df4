"""Ctrl-C and SIGTERM during a scan: the first stops it gracefully, the second exits at once.

First signal: the sweep starts no more hosts, hosts in flight get a few seconds (``--stop-grace``)
to finish and are journaled as they do, and the scan writes its partial outputs marked incomplete
before exiting 128 + the signal number (130 for SIGINT, 143 for SIGTERM). Second signal: exit at
once with the same code; finished hosts are already in the journal (each line is fsynced) and the
history lock is released, so ``--resume`` continues either way.

The handler only sets flags and writes to file descriptor 2 — nothing that takes a lock the
interrupted main thread could be holding.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from scanner.collect.runner import Stop

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, f"e8scan: {text}\n".encode())


class Interrupts:
    """Install the scan's SIGINT/SIGTERM handlers for a ``with`` block (main thread only)."""

    def __init__(self, stop: Stop, grace: float, on_exit_now: Callable[[], None]) -> None:
        self.stop = stop
        self.grace = grace
        self._on_exit_now = on_exit_now
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    @property
    def exit_code(self) -> int | None:
        """128 + the first signal's number once one arrived (130 SIGINT, 143 SIGTERM)."""
        return 128 + self.received[0] if self.received else None

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals are only delivered to the main thread's handlers
        for sig in _SIGNALS:
            before = signal.getsignal(sig)
            if before is signal.SIG_IGN:  # started with it ignored (nohup, `cmd &`): keep that
                continue
            self._previous[sig] = before
            signal.signal(sig, self._handle)
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        for sig, before in self._previous.items():
            signal.signal(sig, before)
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)  # first, so a signal arriving inside this one exits now
        name = signal.Signals(signum).name
        if len(self.received) > 1:
            _say(
                f"{name} again: exiting now; hosts in flight are not recorded "
                "(--resume continues from the journal)"
            )
            self._on_exit_now()
            os._exit(128 + self.received[0])
        _say(
            f"{name}: stopping: no more hosts are started, hosts in flight have "
            f"{self.grace:g} s to finish, then partial results are written; "
            f"{'Ctrl-C' if signum == signal.SIGINT else name} again exits now"
        )
        self.stop.request(f"interrupted by {name}")
