"""Reading what Windows PowerShell snippets print: JSON, and the ways a read can fail.

Windows commands run as PowerShell snippets inside the host's batch (``scanner/collect/ps_batch.py``);
each ends in ``ConvertTo-Json`` so judges parse data, never formatted tables. Pure functions only.
"""

from __future__ import annotations

import json
from typing import Any

from scanner.checking.api import Output

_NOT_RECOGNIZED = "is not recognized as the name of a cmdlet"
_DENIED = (
    "access is denied",
    "access denied",
    "unauthorizedaccess",
    "permissiondenied",
    "requested registry access is not allowed",
)


def unreadable(out: Output | None) -> str | None:
    """Why ``out`` cannot be judged (not run, timed out, denied, too old a PowerShell), or None."""
    if out is None or not out.ran:
        return "the command did not run (host not reached for it)"
    if out.timed_out:
        return "the command timed out"
    err = out.err
    low = err.lower()
    if _NOT_RECOGNIZED in low:
        missing = err.split("'")[1] if err.count("'") >= 2 else "a cmdlet"
        if missing.lower() in ("convertto-json", "get-ciminstance", "get-localgroupmember"):
            return f"{missing} is not available (PowerShell 2.0 / Windows 7-era host)"
        return f"{missing} is not available on this host"
    if any(d in low for d in _DENIED):
        return "access denied: the scanning account needs local administrator rights for this read"
    return None


def ps_json(out: Output) -> Any:
    """The JSON a snippet printed; ``None`` for empty output. Raises ValueError when it is not JSON."""
    text = out.text.lstrip("\ufeff").strip()
    if not text:
        return None
    return json.loads(text)


def as_list(value: Any) -> list[Any]:
    """ConvertTo-Json prints one object bare and several as an array: always a list here."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
