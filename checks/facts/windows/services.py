"""The services of a Windows host: ``Get-Service`` (``Name``, ``DisplayName``, ``Status``,
``StartType``). ``ConvertTo-Json`` writes the ``ServiceControllerStatus`` and
``ServiceStartMode`` enums as numbers; they are named here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.powershell import as_list, ps_fact

_STATUS = {1: "Stopped", 2: "StartPending", 3: "StopPending", 4: "Running", 7: "Paused"}
_START = {0: "Boot", 1: "System", 2: "Automatic", 3: "Manual", 4: "Disabled"}


@dataclass(frozen=True)
class Service:
    name: str
    display_name: str
    status: str  # Running, Stopped, … (the number itself when it is not a known state)
    start_type: str  # Automatic, Manual, Disabled, …


def _named(value: Any, names: dict[int, str]) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return names.get(value, str(value))
    return str(value)


def parse(data: Any) -> tuple[Service, ...] | Unknown:
    return tuple(
        Service(
            name=str(s.get("Name") or ""),
            display_name=str(s.get("DisplayName") or ""),
            status=_named(s.get("Status"), _STATUS),
            start_type=_named(s.get("StartType"), _START),
        )
        for s in as_list(data)
        if isinstance(s, dict)
    )


SERVICES = ps_fact("windows.services", "checks.facts.windows", "services.ps1", parse)
