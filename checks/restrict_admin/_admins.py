"""Judging helpers for the Windows restrict_admin checks. Pure functions only; no check lives here.

- :func:`allowlisted`: whether an ``e8_admin_allowlist`` entry (from ``ctx.profile``) names a
  member of a privileged group (the group snapshot itself is the fact
  ``windows.privileged_groups`` in ``checks/facts/windows/accounts.py``).
- :func:`with_administrators`: that snapshot, or why it cannot be judged.
- :func:`unseen`: the members whose own accounts the host cannot show (domain accounts and
  groups, Entra ID principals, unresolved SIDs, nested local groups), for controls judged on the
  accounts themselves (inactivity, expiry): they leave those controls without visibility, never
  effective — except domain members (:data:`DOMAIN_UNSEEN`) whose directory the run read, which
  ``_joined.py`` expands and ``_domain_accounts.py`` judges.
"""

from __future__ import annotations

from checks.facts.fact import Unknown
from checks.facts.windows.accounts import (
    ADMINISTRATORS,
    PRIVILEGED_GROUPS,
    SID_PATTERN,
    Accounts,
    Member,
)
from scanner.checking.api import Output


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


DOMAIN_UNSEEN = "domain accounts: not visible from the host"


def unseen(member: Member) -> str | None:
    """Why this member's account cannot be judged from the host, or None for a local user."""
    if member.orphaned:
        return "unresolved SID: its account is not visible from the host"
    if member.entra:
        return "Entra ID principal: not visible from the host"
    if not member.local:
        return DOMAIN_UNSEEN
    if member.is_group:
        return "nested local group: its members are not listed"
    return None


def unseen_text(members: dict[str, str]) -> str:
    """``reason: name, name; reason: name`` for the members :func:`unseen` names."""
    by_reason: dict[str, list[str]] = {}
    for name, why in sorted(members.items()):
        by_reason.setdefault(why, []).append(name)
    return "; ".join(f"{why} ({', '.join(names[:8])})" for why, names in by_reason.items())


def with_administrators(out: Output | None) -> Accounts | str:
    """The privileged-group snapshot, or why it cannot be judged: it must show Administrators."""
    acc = PRIVILEGED_GROUPS.read(out)
    if isinstance(acc, Unknown):
        return acc.reason
    if not any(g.sid == ADMINISTRATORS for g in acc.groups):
        return "the Administrators group (S-1-5-32-544) was not found in the output"
    return acc
