"""PDF software on the host and Adobe's machine lockdown policy (fact ``windows.pdf_software``,
``pdf_software.ps1``).

Registry through .NET: the ``App Paths`` entries of Adobe Reader/Acrobat, Foxit and PDF-XChange
whose file exists, ``Uninstall`` display names of PDF products with their versions (both registry
views), and every value under ``SOFTWARE\\[WOW6432Node\\]Policies\\Adobe\\<product>\\<version>\\
FeatureLockDown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class PdfSoftware:
    apps: dict[str, str]  # executable → path (App Paths, file exists)
    products: dict[str, str]  # Uninstall DisplayName → DisplayVersion
    lockdown: dict[str, dict[str, Any]]  # policy key path → FeatureLockDown values


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse(data: Any) -> PdfSoftware:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return PdfSoftware(
        apps={str(k): str(v) for k, v in _dict(data.get("apps")).items()},
        products={str(k): str(v or "") for k, v in _dict(data.get("products")).items()},
        lockdown={str(k): _dict(v) for k, v in _dict(data.get("lockdown")).items()},
    )


PDF_SOFTWARE = ps_fact("windows.pdf_software", "checks.facts.windows", "pdf_software.ps1", parse)
