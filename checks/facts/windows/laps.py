"""The LAPS policy values of a Windows host and whether a LAPS client exists to apply them.

``laps_policy.ps1`` reads (registry through .NET, no secrets) a fixed list of LAPS policy values
under each policy root — ``csp`` ``HKLM\\SOFTWARE\\Microsoft\\Policies\\LAPS``, ``gpo``
``...\\CurrentVersion\\Policies\\LAPS``, ``local`` ``...\\CurrentVersion\\LAPS\\Config``,
``policies`` ``HKLM\\SOFTWARE\\Policies\\Microsoft\\LAPS`` and ``legacy``
``HKLM\\SOFTWARE\\Policies\\Microsoft Services\\AdmPwd`` — with the number of values under each;
whether Windows LAPS exists (``laps.dll`` or the ``LAPS`` module folder); whether the legacy
client is installed (``AdmPwd.dll`` or its Group Policy client-side extension); and
``Win32_OperatingSystem.ProductType``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class LapsPolicy:
    product_type: int | None
    roots: dict[str, dict[str, Any]]  # root name -> values read, only roots holding any value
    windows_laps: bool
    legacy_cse_file: bool
    legacy_cse_registered: bool


def _values(root: Any) -> dict[str, Any] | None:
    """A root's values, or None when the key is absent or holds no value at all."""
    if not isinstance(root, dict):
        return None
    raw = root.get("values")
    values: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    count = to_int(root.get("count")) or len(values)
    return values if count > 0 else None


def parse(data: Any) -> LapsPolicy | Unknown:
    data = json_object(data)
    raw = data.get("roots")
    roots = dict(raw) if isinstance(raw, dict) else {}
    held = {name: v for name, r in roots.items() if (v := _values(r)) is not None}
    return LapsPolicy(
        product_type=to_int(data.get("product_type")),
        roots=held,
        windows_laps=bool(data.get("windows_laps")),
        legacy_cse_file=bool(data.get("legacy_cse_file")),
        legacy_cse_registered=bool(data.get("legacy_cse_registered")),
    )


LAPS_POLICY = ps_fact("windows.laps_policy", "checks.facts.windows", "laps_policy.ps1", parse)
