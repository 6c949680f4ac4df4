"""Fault injection for the WS-Man test server: each way a real host (or the path to it) misbehaves.

=====================  ================================================================  ==========
kind                   what the client gets                                              default on
=====================  ================================================================  ==========
``garbage``            HTTP 200 whose body is not XML → ``xml.etree.ElementTree.ParseError``  any action
``no_exit_code``       the ``Done`` round without ``rsp:ExitCode`` → bare ``StopIteration``   Receive
``drop``               the TCP connection closed with no reply → ``requests`` ConnectionError any action
``hang``               the command never produces output nor ends: every Receive blocks for   Command
                       ``w:OperationTimeout`` then answers ``w:TimedOut`` (forever)
``timed_out_forever``  every Receive answers ``w:TimedOut`` at once, without waiting           Receive
``soap_fault``         HTTP 500 with a generic WSManFault (``w:AccessDenied``, code 5)        any action
=====================  ================================================================  ==========

A wrong password needs no fault: give the client another password than the server's ``users``.

``Fault(kind, action=None, skip=0, times=None)``: ``action`` is a short action name (``Create``,
``Command``, ``Send``, ``Receive``, ``Signal``, ``Delete``) so that, e.g., garbage only on Receive
lets a client get past ``open_shell`` first; ``skip`` lets that many matching requests through
first; ``times`` fires that many times, then the fault is spent (None: forever). A string
``"kind"`` or ``"kind:Action"`` is shorthand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

KINDS = ("garbage", "no_exit_code", "drop", "hang", "timed_out_forever", "soap_fault")
HTTP_KINDS = frozenset({"garbage", "drop", "soap_fault"})
ACTIONS = ("Create", "Command", "Send", "Receive", "Signal", "Delete")
ONLY_ON = {"no_exit_code": "Receive", "hang": "Command", "timed_out_forever": "Receive"}
GARBAGE = b"The WinRM service answered this instead of XML: \x00\x01 <not-xml"


@dataclass
class Fault:
    kind: str
    action: str | None = None
    skip: int = 0
    times: int | None = None
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; expected one of {', '.join(KINDS)}")
        only = ONLY_ON.get(self.kind)
        if self.action is None:
            self.action = only
        if self.action is not None and self.action not in ACTIONS:
            raise ValueError(
                f"fault {self.kind}: unknown action {self.action!r}; expected one of {ACTIONS}"
            )
        if only is not None and self.action != only:
            raise ValueError(f"fault {self.kind} only applies to {only}, not {self.action}")

    @classmethod
    def parse(cls, spec: Fault | str) -> Fault:
        if isinstance(spec, Fault):
            return spec
        kind, _, action = spec.partition(":")
        return cls(kind.strip(), action.strip() or None)


class FaultPlan:
    """The faults of one server; thread-safe, changeable while the server runs."""

    def __init__(self, faults: Iterable[Fault | str] = ()) -> None:
        self._lock = threading.Lock()
        self._faults = [Fault.parse(f) for f in faults]

    def set(self, faults: Iterable[Fault | str]) -> None:
        parsed = [Fault.parse(f) for f in faults]
        with self._lock:
            self._faults = parsed

    def add(self, fault: Fault | str) -> Fault:
        parsed = Fault.parse(fault)
        with self._lock:
            self._faults.append(parsed)
        return parsed

    def __iter__(self) -> Iterator[Fault]:
        with self._lock:
            return iter(list(self._faults))

    def take(self, kinds: Iterable[str], action: str) -> Fault | None:
        """The first live fault of one of ``kinds`` for ``action`` (and count it as fired)."""
        wanted = set(kinds)
        with self._lock:
            for fault in self._faults:
                if fault.kind not in wanted or fault.action not in (None, action):
                    continue
                fault.seen += 1
                if fault.seen > fault.skip and (fault.times is None or fault.fired < fault.times):
                    fault.fired += 1
                    return fault
        return None
