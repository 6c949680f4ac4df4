"""Judging helpers for the Windows restrict_admin checks, and the old generic JSON reader.

- :func:`allowlist` / :func:`allowlisted`: the inventory's ``e8_admin_allowlist`` and whether it
  names a member of a privileged group (the group snapshot itself is the fact
  ``windows.privileged_groups`` in ``checks/facts/windows/accounts.py``).
- :func:`with_administrators`: that snapshot, or why it cannot be judged.
- :func:`read_json`, :func:`arr`, :func:`first_error_line`: the pre-fact-layer PowerShell JSON
  reader, still used by modules not yet on the fact layer (``checks.facts.windows.powershell``
  replaces them; they go once nothing imports them). Pure functions only; no check lives here.
"""

from __future__ import annotations

from typing import Any

from checks._windows import as_list, ps_json, unreadable
from checks.facts.fact import Unknown
from checks.facts.windows.accounts import (
    ADMINISTRATORS,
    PRIVILEGED_GROUPS,
    SID_PATTERN,
    Accounts,
    Member,
)
from scanner.checking.api import Output


def first_error_line(text: str) -> str:
    """The first non-blank line of PowerShell error text, shortened."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:160]
    return ""


def read_json(out: Output | None) -> tuple[Any, str | None]:
    """A step's JSON, or the reason it cannot be judged (no_visibility).

    Any error record fails the read: partial data from a step that reported errors could show a
    control as met when the failed part would have shown otherwise.
    """
    why = unreadable(out)
    if why is not None or out is None:
        return None, why or "the command did not run"
    if not out.ok:
        detail = (
            first_error_line(out.err) or first_error_line(out.text) or f"exit code {out.exit_code}"
        )
        return None, f"the read failed: {detail}"
    try:
        data = ps_json(out)
    except ValueError:
        return None, f"the output is not JSON: {first_error_line(out.text)!r}"
    if data is None:
        return None, "the command printed nothing"
    return data, None


def arr(value: Any) -> list[Any]:
    """A JSON array from ConvertTo-Json, also in Windows PowerShell's ``{"value": [...], "Count": n}``
    form (an array wrapped in a PSObject)."""
    if isinstance(value, dict) and "value" in value and "Count" in value:
        value = value["value"]
    return as_list(value)


def allowlisted(member: Member, entries: list[str]) -> bool:
    """Whether an allowlist entry names this member.

    Entries, case-insensitive: an SID (``S-1-5-21-…``); ``DOMAIN\\name`` for a domain account or
    group (NetBIOS domain name, as Windows shows it); a bare ``name``, ``.\\name`` or
    ``HOST\\name`` for a local account. An orphaned SID never matches; an Entra ID principal
    (``S-1-12-1-…``) can only be named by its SID.
    """
    if member.orphaned:
        return False
    for entry in entries:
        e = entry.strip()
        if SID_PATTERN.match(e):
            if member.sid and member.sid.upper() == e.upper():
                return True
            continue
        if "\\" in e:
            dom, _, name = e.rpartition("\\")
            if name.lower() != member.name.lower():
                continue
            if member.local and dom.lower() in (".", member.computer.lower()):
                return True
            if not member.local and dom.lower() == member.domain.lower():
                return True
            continue
        if member.local and e.lower() == member.name.lower():
            return True
    return False


def with_administrators(out: Output | None) -> Accounts | str:
    """The privileged-group snapshot, or why it cannot be judged: it must show Administrators."""
    acc = PRIVILEGED_GROUPS.read(out)
    if isinstance(acc, Unknown):
        return acc.reason
    if not any(g.sid == ADMINISTRATORS for g in acc.groups):
        return "the Administrators group (S-1-5-32-544) was not found in the output"
    return acc
