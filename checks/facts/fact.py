"""The fact type: one read-only command and the pure parser of what it prints.

``Fact.read(output)`` gives the parsed value or an :class:`Unknown` with the reason the value
cannot be known (the command did not run, timed out, was refused, printed something else). It
never raises and never decides a verdict: a check turns an ``Unknown`` into no_visibility with
its reason, and judges values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from checks.facts.reading import NOT_RUN
from scanner.checking.api import Cmd, Output
from scanner.model.vocabulary import Platform

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Unknown:
    """Why a fact has no value; a check reports it as no_visibility with this reason."""

    reason: str


@dataclass(frozen=True)
class Fact(Generic[T]):
    """A named read-only command and its parser (``parse`` may return :class:`Unknown`)."""

    name: str
    platform: Platform
    cmd: Cmd
    parse: Callable[[Output], T | Unknown]

    def read(self, out: Output | None) -> T | Unknown:
        """The value ``out`` shows, or why there is none; a parser's exception becomes Unknown."""
        if out is None or not out.ran:
            return Unknown(NOT_RUN)
        try:
            return self.parse(out)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            return Unknown(f"unexpected output shape ({type(exc).__name__}: {exc})")
