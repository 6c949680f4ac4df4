"""The framework definition file (``--framework FILE``) and its loader.

A definition is a small YAML mapping; paths are relative to the file::

    id: essential-eight                  # lower-case, digits and '-'; names the framework
    title: Essential Eight Maturity Model
    release: "2025.12.9"                 # the ISM OSCAL release: every catalog's metadata.version
    levels:                              # level number → OSCAL resolved-profile catalog
      1: ism-oscal/ISM_E8_ML1-baseline-resolved-profile_catalog.json
      2: ism-oscal/ISM_E8_ML2-baseline-resolved-profile_catalog.json
    groups: [patch_os, mfa]              # strategy ids, in report order
    controls: controls.csv               # the project's own per-control data (below)
    not_host_checkable: reasons.csv      # optional: strategy,ism,platform,reason

OSCAL supplies the control ids, their statements (the ``requirement`` text results and the
workbook show: the workbook needs no shorter form, so the table carries none) and level
membership (a control is required at level *n* when level *n*'s catalog holds it). The
``controls`` CSV supplies what OSCAL does not say, keyed by ISM id, one row per (group, control):
``strategy,local_id,ism,checkable,platforms[,timeframe][,note]`` with ``checkable`` one of
yes | partly | no and ``platforms`` one of any (the hosts: linux and windows) | linux | windows,
optionally joined with ``+directory`` when an Active Directory domain can show the control too
(``any+directory``).

Every control of the table must be in some catalog and every catalog control in the table;
anything else fails at load with one line naming the file (and line or field) and what was
expected.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from scanner.model.errors import InputError
from scanner.model.framework import (
    CatalogRef,
    Checkable,
    Exclusion,
    Framework,
    Requirement,
)
from scanner.model.input_files import read_utf8, read_yaml
from scanner.model.oscal import Catalog, read_catalog
from scanner.model.vocabulary import Platform, Strategy

CONTROL_COLUMNS = ("strategy", "local_id", "ism", "checkable", "platforms", "timeframe", "note")
REQUIRED_COLUMNS = CONTROL_COLUMNS[:5]
EXCLUSION_COLUMNS = ("strategy", "ism", "platform", "reason")

M = TypeVar("M", bound=BaseModel)


class Definition(BaseModel):
    """The definition file as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str = Field(min_length=1)
    release: str = Field(min_length=1)
    levels: dict[int, str] = Field(min_length=1)
    groups: list[Strategy] = Field(min_length=1)
    controls: str = Field(min_length=1)
    not_host_checkable: str | None = None

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: dict[int, str]) -> dict[int, str]:
        if sorted(v) != list(range(1, len(v) + 1)):
            raise ValueError("levels are numbered 1, 2, … without gaps")
        return dict(sorted(v.items()))

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: list[Strategy]) -> list[Strategy]:
        if len(set(v)) != len(v):
            raise ValueError("a group is listed twice")
        return v


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Strategy
    local_id: str = Field(min_length=1)
    ism: str = Field(pattern=r"^ISM-\d{4}$")
    checkable: Checkable
    platforms: str
    timeframe: str = ""
    note: str = ""

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, v: str) -> str:
        parts = v.split("+")
        hosts = {"any", Platform.LINUX.value, Platform.WINDOWS.value}
        tail = parts[1:]
        if (
            parts[0] not in hosts
            or any(t != Platform.DIRECTORY.value for t in tail)
            or len(tail) > 1
        ):
            raise ValueError("expected any, linux or windows, optionally followed by +directory")
        return v

    def platform_set(self) -> frozenset[Platform]:
        head, *tail = self.platforms.split("+")
        found = {Platform.LINUX, Platform.WINDOWS} if head == "any" else {Platform(head)}
        return frozenset(found | {Platform(t) for t in tail})


class _ExclusionRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: Strategy
    ism: str = Field(pattern=r"^ISM-\d{4}$")
    platform: Platform
    reason: str = Field(min_length=1)


def load_framework(path: Path) -> Framework:
    """Read and cross-check a definition, its catalogs and its tables (see the module docstring)."""
    d = _definition(path)
    base = path.parent
    catalogs: dict[int, Catalog] = {}
    for n, rel in d.levels.items():
        cat = read_catalog(base / rel)
        if cat.version != d.release:
            raise InputError(
                f"{path}: field levels.{n}",
                f"{rel} is OSCAL release {cat.version!r}, the definition says {d.release!r}",
            )
        catalogs[n] = cat
    table = base / d.controls
    rows = list(_table(table, _Row, CONTROL_COLUMNS, REQUIRED_COLUMNS))
    controls = _controls(path, table, d, rows, catalogs)
    exclusions: list[Exclusion] = []
    if d.not_host_checkable:
        known = {(r.strategy, r.ism) for r in controls}
        where = base / d.not_host_checkable
        for line, e in _table(where, _ExclusionRow, EXCLUSION_COLUMNS, EXCLUSION_COLUMNS):
            if (e.strategy, e.ism) not in known:
                raise InputError(
                    f"{where}:{line}", f"{e.strategy.value} {e.ism} is not in {table.name}"
                )
            exclusions.append(Exclusion(**e.model_dump()))
    return Framework(
        id=d.id,
        title=d.title,
        release=d.release,
        levels=tuple(d.levels),
        groups=tuple(d.groups),
        catalogs=tuple(
            CatalogRef(level=n, file=d.levels[n], title=c.title, version=c.version, sha256=c.sha256)
            for n, c in catalogs.items()
        ),
        controls=tuple(controls),
        not_host_checkable=tuple(exclusions),
    )


def _definition(path: Path) -> Definition:
    data = read_yaml(path, "framework definition")
    if not isinstance(data, dict):
        raise InputError(
            str(path), "expected a mapping (id, title, release, levels, groups, controls)"
        )
    try:
        return Definition.model_validate(data)
    except ValidationError as exc:
        raise _field_error(str(path), exc) from None


def _field_error(where: str, exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "(top)"
    return InputError(f"{where}: field {field}", err["msg"])


def _table(
    path: Path, model: type[M], columns: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, M]]:
    """(line number, validated row) for each row of a CSV table."""
    text = read_utf8(path, "table")
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    for col in header:
        if col not in columns:
            raise InputError(f"{path}:1", f"unknown column {col!r} (expected {', '.join(columns)})")
    for col in required:
        if col not in header:
            raise InputError(f"{path}:1", f"missing column {col!r}")
    for row in reader:
        if None in row:
            raise InputError(
                f"{path}:{reader.line_num}", "more fields than columns (quote a comma)"
            )
        try:
            yield reader.line_num, model(**row)
        except ValidationError as exc:
            raise _field_error(f"{path}:{reader.line_num}", exc) from None


def _controls(
    path: Path,
    table: Path,
    d: Definition,
    rows: list[tuple[int, _Row]],
    catalogs: dict[int, Catalog],
) -> list[Requirement]:
    statements: dict[str, str] = {}
    for cat in catalogs.values():  # lowest level first: its statement stands
        for ism, text in cat.statements.items():
            statements.setdefault(ism, text)
    seen: set[tuple[Strategy, str]] = set()
    out = []
    for line, r in rows:
        if r.strategy not in d.groups:
            raise InputError(
                f"{table}:{line}: field strategy",
                f"{r.strategy.value} is not one of the groups of {path.name}",
            )
        if (r.strategy, r.ism) in seen:
            raise InputError(f"{table}:{line}", f"{r.strategy.value} {r.ism} appears twice")
        seen.add((r.strategy, r.ism))
        if r.ism not in statements:
            raise InputError(
                f"{table}:{line}: field ism",
                f"{r.ism} is in no catalog of {path.name} (levels {', '.join(map(str, d.levels))})",
            )
        out.append(
            Requirement(
                strategy=r.strategy,
                local_id=r.local_id,
                ism=r.ism,
                levels=frozenset(n for n, c in catalogs.items() if r.ism in c.statements),
                checkable=r.checkable,
                platforms=r.platform_set(),
                timeframe=r.timeframe,
                requirement=statements[r.ism],
            )
        )
    tabled = {ism for _, ism in seen}
    for n, cat in catalogs.items():
        for ism in cat.statements:
            if ism not in tabled:
                raise InputError(
                    str(table),
                    f"{ism} (required at level {n} by {cat.path.name}) has no row: "
                    "give it a strategy and checkability",
                )
    empty = [g.value for g in d.groups if not any(s is g for s, _ in seen)]
    if empty:
        raise InputError(f"{path}: field groups", f"no control in {', '.join(empty)}")
    return out
