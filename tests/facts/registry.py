"""Every fact the built-in checks are made of, found by walking ``checks.facts``."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import pkgutil
from datetime import date, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel

import checks.facts
from checks.facts.fact import Fact, Unknown


@cache
def all_facts() -> dict[str, Fact[Any]]:
    found: dict[str, Fact[Any]] = {}
    for info in pkgutil.walk_packages(checks.facts.__path__, "checks.facts."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, Fact):
                other = found.setdefault(value.name, value)
                assert other is value, f"two facts are named {value.name!r}"
    return found


def jsonable(value: Any) -> Any:
    """A fact's value as JSON data, to compare with a recorded case's ``expected``."""
    if isinstance(value, Unknown):
        return {"unknown": value.reason}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
