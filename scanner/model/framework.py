"""The Essential Eight requirement table (November 2023) as validated data.

One row per (strategy, ISM control): the maturity levels that require it, its timeframe, whether a
host can show it (``yes`` / ``partly`` / ``no``: organisational) and the platforms it concerns.
Scoring iterates over this table, so a control without a check is still reported (not_assessed).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scanner.model.vocabulary import Platform, Strategy

TABLE = "e8mm-2023-11.csv"


Checkable = Literal["yes", "partly", "no"]


class Requirement(BaseModel):
    model_config = ConfigDict(frozen=True)

    strategy: Strategy
    local_id: str
    ism: str = Field(pattern=r"^ISM-\d{4}$")
    levels: frozenset[int]
    checkable: Checkable
    platforms: frozenset[Platform]
    timeframe: str
    requirement: str

    @property
    def host_showable(self) -> bool:
        return self.checkable != "no"

    def applies_to(self, platform: Platform | None) -> bool:
        return platform is None or platform in self.platforms


@cache
def requirements() -> tuple[Requirement, ...]:
    """Every row of the table, in ASD's strategy order."""
    text = files("scanner.model").joinpath("data", TABLE).read_text(encoding="utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        plats = (
            frozenset(Platform)
            if row["platforms"] == "any"
            else frozenset({Platform(row["platforms"])})
        )
        rows.append(
            Requirement(
                strategy=Strategy(row["strategy"]),
                local_id=row["local_id"],
                ism=row["ism"],
                levels=frozenset(n for n in (1, 2, 3) if row[f"ml{n}"] == "1"),
                checkable=row["checkable"],
                platforms=plats,
                timeframe=row["timeframe"],
                requirement=row["requirement"],
            )
        )
    return tuple(rows)


EXCLUSIONS = "not-host-checkable.csv"


@cache
def exclusions() -> dict[tuple[Strategy, str, Platform], str]:
    """Controls the table calls host-checkable (partly) that no host of a platform can show.

    Each row carries the reason; such a control is treated as organisational on that platform
    (``not_assessed`` unless attested; it does not block ``levels``). A test keeps every other
    host-checkable control covered by a check.
    """
    text = files("scanner.model").joinpath("data", EXCLUSIONS).read_text(encoding="utf-8")
    return {
        (Strategy(r["strategy"]), r["ism"], Platform(r["platform"])): r["reason"]
        for r in csv.DictReader(text.splitlines())
    }


@cache
def index() -> dict[tuple[Strategy, str], Requirement]:
    return {(r.strategy, r.ism): r for r in requirements()}
