"""A framework as validated data: its levels, its groups and one row per (group, ISM control).

A :class:`Framework` is read from a definition file (:mod:`scanner.model.framework_file`): ASD's
ISM OSCAL resolved-profile catalogs supply the control ids, their statement text and the levels
that require them; the project's own table supplies what OSCAL does not say (the group, i.e. the
Essential Eight strategy, whether a host can show the control — ``yes`` / ``partly`` / ``no``:
organisational — the platforms it concerns, its timeframe and a local id). Scoring iterates over
``Framework.controls``, so a control without a check is still reported (not_assessed).

The built-in Essential Eight (``frameworks/essential-eight.yml``) is :func:`builtin`;
:func:`requirements`, :func:`index` and :func:`exclusions` are its rows, for code that judges
Essential Eight checks (check metadata is validated against it).
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from scanner.model.vocabulary import Platform, Strategy

BUILTIN = Path(__file__).parent / "frameworks" / "essential-eight.yml"

Checkable = Literal["yes", "partly", "no"]


class Requirement(BaseModel):
    """One control of a framework, in one group (a control may sit in several groups)."""

    model_config = ConfigDict(frozen=True)

    strategy: Strategy
    local_id: str
    ism: str = Field(pattern=r"^ISM-\d{4}$")
    levels: frozenset[int]
    checkable: Checkable
    platforms: frozenset[Platform]
    timeframe: str
    requirement: str = Field(description="The control's statement from the OSCAL catalog.")

    @property
    def host_showable(self) -> bool:
        return self.checkable != "no"

    def applies_to(self, platform: Platform | None) -> bool:
        return platform is None or platform in self.platforms

    @field_serializer("levels", "platforms")
    def _sorted(self, v: frozenset[Any]) -> list[Any]:
        """Sets written sorted: a set's order follows string hashing, which differs between
        processes, and the same inputs must give byte-identical results."""
        return sorted(v)


SHORT_STATEMENT = 100


def short_statement(text: str, limit: int = SHORT_STATEMENT) -> str:
    """A control's statement in short, for a table column: ASD's OSCAL gives controls no short
    title (every title is "Control: ism-NNNN"), so the statement's first sentence, or when that
    is longer than ``limit`` characters its longest prefix ending at a word boundary, plus "…"."""
    text = " ".join(text.split())
    first = re.match(r".+?[.;:](?=\s|$)", text)
    if first:
        text = first.group(0)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:(—-") + "…"


class Exclusion(BaseModel):
    """A control the table calls host-checkable that no host of ``platform`` can show, and why."""

    model_config = ConfigDict(frozen=True)

    strategy: Strategy
    ism: str
    platform: Platform
    reason: str


class CatalogRef(BaseModel):
    """Provenance of one level's OSCAL catalog, as read."""

    model_config = ConfigDict(frozen=True)

    level: int
    file: str
    title: str
    version: str
    sha256: str


class Framework(BaseModel):
    """Controls, levels and grouping: everything scoring, results and writers need to know."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="The definition's id, e.g. 'essential-eight'.")
    title: str
    release: str = Field(description="The ISM OSCAL release the catalogs come from.")
    levels: tuple[int, ...] = Field(description="The levels, ascending (ML1 … MLn).")
    groups: tuple[Strategy, ...] = Field(description="The groups controls are scored in, in order.")
    catalogs: tuple[CatalogRef, ...]
    controls: tuple[Requirement, ...]
    not_host_checkable: tuple[Exclusion, ...] = ()

    @field_validator("levels")
    @classmethod
    def _numbered(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if v != tuple(range(1, len(v) + 1)):
            raise ValueError("expected levels numbered 1, 2, … without gaps")
        return v

    @property
    def model_version(self) -> str:
        """What results.json calls ``model_version``: the framework and its OSCAL release."""
        return f"{self.id}@ISM-OSCAL {self.release}"

    @property
    def top(self) -> int:
        return self.levels[-1]

    @cached_property
    def index(self) -> dict[tuple[Strategy, str], Requirement]:
        return {(r.strategy, r.ism): r for r in self.controls}

    @cached_property
    def exclusions(self) -> dict[tuple[Strategy, str, Platform], str]:
        return {(e.strategy, e.ism, e.platform): e.reason for e in self.not_host_checkable}

    def __hash__(self) -> int:
        # Cheap, and a function of the fields (equal frameworks hash equal): scoring caches
        # per-platform rows keyed by the framework.
        return hash((self.id, self.release, tuple(c.sha256 for c in self.catalogs)))


@cache
def builtin() -> Framework:
    """The Essential Eight as shipped (ISM OSCAL December 2025)."""
    from scanner.model.framework_file import load_framework

    return load_framework(BUILTIN)


def requirements() -> tuple[Requirement, ...]:
    """Every row of the built-in Essential Eight, in ASD's strategy order."""
    return builtin().controls


def index() -> dict[tuple[Strategy, str], Requirement]:
    return builtin().index


def exclusions() -> dict[tuple[Strategy, str, Platform], str]:
    """Controls the built-in table calls host-checkable (partly) that no host of a platform can
    show, each with the reason; such a control is treated as organisational on that platform
    (``not_assessed`` unless attested; it does not block ``levels``). A test keeps every other
    host-checkable control covered by a check."""
    return builtin().exclusions
