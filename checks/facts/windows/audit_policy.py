"""The effective advanced audit policy, ``auditpol /get /category:* /r`` (CSV; needs local
administrator rights): subcategory GUID (upper case, locale-independent) → inclusion setting as
printed (``Success and Failure``, ``Success``, ``Failure``, ``No Auditing``; localised on
non-English hosts)."""

from __future__ import annotations

import csv
import io
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import first_line, json_object
from checks.facts.windows.powershell import ps_fact


def parse_csv(text: str) -> dict[str, str]:
    """``auditpol /r`` CSV rows: subcategory GUID (upper case) → inclusion setting."""
    result: dict[str, str] = {}
    for row in csv.reader(io.StringIO(text.replace("\r", ""))):
        if len(row) < 5 or not row[3].startswith("{"):
            continue
        result[row[3].strip().upper()] = row[4].strip()
    return result


def parse(data: Any) -> dict[str, str] | Unknown:
    """The snippet's ``{rc, csv}``; Unknown when auditpol printed no subcategory (refused)."""
    data = json_object(data)
    text = str(data.get("csv") or "")
    policy = parse_csv(text)
    if not policy:
        return Unknown(
            f"auditpol returned {data.get('rc')} ({first_line(text) or 'no output'}); "
            "it needs local administrator rights"
        )
    return policy


AUDIT_POLICY = ps_fact("windows.audit_policy", "checks.facts.windows", "audit_policy.ps1", parse)
