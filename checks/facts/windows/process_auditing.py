"""Process creation auditing (event 4688) and command-line inclusion (fact
``windows.process_auditing``, ``process_auditing.ps1``).

``auditpol /get /subcategory:{0CCE922B-…} /r`` — the *Process Creation* subcategory by its
locale-independent GUID, as CSV (shape: corpus ``windows/auditpol_get_category_all_r.csv.txt``;
needs administrator rights) — with its exit code, and ``HKLM\\SOFTWARE\\Microsoft\\Windows\\
CurrentVersion\\Policies\\System\\Audit`` ``ProcessCreationIncludeCmdLine_Enabled``. Unknown when
auditpol printed no row for the GUID (refused: "A required privilege is not held by the client").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import first_line, json_object, to_int
from checks.facts.windows.powershell import ps_fact

GUID = "{0CCE922B-69AE-11D9-BED3-505054503030}"


@dataclass(frozen=True)
class ProcessAuditing:
    """``inclusion``: the row's ``Inclusion Setting`` as printed (localised on non-English hosts);
    ``setting_value``: its ``Setting Value`` column ("" when the CSV has none); ``cmdline``:
    ``ProcessCreationIncludeCmdLine_Enabled`` as stored, None when not set (Windows' default: off).
    """

    inclusion: str
    setting_value: str
    cmdline: int | str | None
    auditpol_rc: int | None


def parse_auditpol(text: str) -> dict[str, str] | None:
    """The CSV row for the Process Creation GUID, or None."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lower().startswith("machine name,")), None)
    if start is None:
        return None
    for row in csv.DictReader(io.StringIO("\n".join(lines[start:]))):
        if str(row.get("Subcategory GUID", "")).strip().upper() == GUID:
            return {str(k): str(v or "") for k, v in row.items() if k is not None}
    return None


def parse(data: Any) -> ProcessAuditing | Unknown:
    data = json_object(data)
    text = str(data.get("auditpol") or "")
    rc = to_int(data.get("auditpol_rc"))
    row = parse_auditpol(text)
    if row is None:
        detail = first_line(text) or f"exit code {data.get('auditpol_rc')}"
        return Unknown(f"auditpol gave no Process Creation row ({detail})")
    raw = data.get("cmdline")
    cmdline = (
        raw if raw is None or (isinstance(raw, int) and not isinstance(raw, bool)) else str(raw)
    )
    return ProcessAuditing(
        inclusion=row.get("Inclusion Setting", "").strip(),
        setting_value=row.get("Setting Value", "").strip(),
        cmdline=cmdline,
        auditpol_rc=rc,
    )


PROCESS_AUDITING = ps_fact(
    "windows.process_auditing", "checks.facts.windows", "process_auditing.ps1", parse
)
