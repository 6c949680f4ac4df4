"""PDF software on the host and Adobe's machine lockdown policy (fact ``windows.pdf_software``:
``pdf_software.ps1``, ``installed_apps.ps1`` shared with ``windows.browsers``, ``pdf_lockdown.ps1``).

Registry through .NET: the ``App Paths`` entries of Adobe Reader/Acrobat, Foxit and PDF-XChange
whose file exists, ``Uninstall`` display names of PDF products with their versions (both registry
views), and every value under ``SOFTWARE\\[WOW6432Node\\]Policies\\Adobe\\<product>\\<version>\\
FeatureLockDown``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.reading import as_dict, json_object
from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class PdfSoftware:
    apps: dict[str, str]  # executable → path (App Paths, file exists)
    products: dict[str, str]  # Uninstall DisplayName → DisplayVersion
    lockdown: dict[str, dict[str, Any]]  # policy key path → FeatureLockDown values


def parse(data: Any) -> PdfSoftware:
    data = json_object(data)
    return PdfSoftware(
        apps={str(k): str(v) for k, v in as_dict(data.get("apps")).items()},
        products={str(k): str(v or "") for k, v in as_dict(data.get("products")).items()},
        lockdown={str(k): as_dict(v) for k, v in as_dict(data.get("lockdown")).items()},
    )


PDF_SOFTWARE = ps_fact(
    "windows.pdf_software",
    "checks.facts.windows",
    ("pdf_software.ps1", "installed_apps.ps1", "pdf_lockdown.ps1"),
    parse,
)
