"""Judging helpers for the Linux checks that need to know who sudo lets run commands as root.

Privileged users are whoever sudoers grants root to — users, ``%groups`` (directory groups
included), ``#uid``, ``+netgroups``, ``User_Alias`` members and ``ALL`` — not only the members of
sudo/wheel/admin. :func:`root_holders` resolves what the host can resolve (accounts by name or
UID, the sudo/wheel/admin groups through ``getent`` and primary GIDs) and names the rest;
:func:`read_holders` reads the three facts it needs (``linux.sudoers``, ``linux.passwd``,
``linux.admin_groups``) from a check's outputs. Shared by ``restrict_admin`` (who is a
privileged account, sudo policy, privileged-account lifecycle) and ``backups`` (who besides
the backup admins can become root and reach the backups). Pure functions only; no check lives
here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from checks.facts.fact import Unknown
from checks.facts.linux.accounts import ADMIN_GROUPS, PASSWD, Account, Group, members
from checks.facts.linux.sudoers import SUDOERS, Sudoers
from scanner.checking.api import Output

# Principals that stand for (nearly) everyone who can log on: a root grant to them makes every
# everyday session a privileged one, whatever the allowlist says.
BROAD_GROUPS = {"users", "domain users", "everyone", "authenticated users", "domain computers"}


@dataclass
class Holders:
    """``accounts``: account → the rules that give it root; ``broad``: grants to everyone;
    ``unexpanded``: principals whose members the host does not show → rules."""

    accounts: dict[str, list[str]] = field(default_factory=dict)
    broad: list[str] = field(default_factory=list)
    unexpanded: dict[str, list[str]] = field(default_factory=dict)


def _bare(principal: str) -> str:
    """``%CONTOSO\\domain users`` / ``%:domain users@contoso.com`` → ``domain users``."""
    name = principal.lstrip("%:").lower()
    name = name.rsplit("\\", 1)[-1]
    return name.split("@", 1)[0]


def broad(principal: str) -> bool:
    return principal == "ALL" or (principal.startswith("%") and _bare(principal) in BROAD_GROUPS)


def root_holders(
    sudoers: Sudoers, accounts: Sequence[Account], groups: Mapping[str, Group]
) -> Holders:
    held = Holders()
    by_uid = {str(a.uid): a.name for a in accounts}
    by_gid = {str(g.gid): g for g in groups.values()}
    for grant in sudoers.grants:
        for p in grant.principals:
            if p == "root" or p == "#0":
                continue
            if broad(p):
                held.broad.append(f"{p} ({grant.where})")
                continue
            group: Group | None = None
            if p.startswith("%#"):
                group = by_gid.get(p[2:])
            elif p.startswith("%") and not p.startswith("%:"):
                group = groups.get(p[1:])
            if group is not None:
                for m in members(group, accounts):
                    held.accounts.setdefault(m, []).append(grant.where)
                continue
            if p.startswith("#") and p[1:] in by_uid:
                held.accounts.setdefault(by_uid[p[1:]], []).append(grant.where)
                continue
            if p.startswith(("%", "+", "#")):
                held.unexpanded.setdefault(p, []).append(grant.where)
                continue
            held.accounts.setdefault(p, []).append(grant.where)
    held.accounts.pop("root", None)
    return held


def registered(principal: str, allow: Sequence[str]) -> bool:
    """An unexpanded group or netgroup counts only when the allowlist names it as such
    (``%linux-admins``): its members are not visible here."""
    return principal.lower() in {a.strip().lower() for a in allow}


def read_holders(outputs: Mapping[str, Output]) -> Holders | str:
    """Who sudoers grants root to (outputs ``sudoers``, ``passwd``, ``admin_groups``), or why it
    cannot be told (sudoers needs root; ``/etc/passwd`` gave nothing). When the admin-group
    lookup printed none of sudo/wheel/admin, grants to those groups stay in ``unexpanded``:
    callers judge that lookup's failure themselves."""
    sudoers = SUDOERS.read(outputs.get("sudoers"))
    if isinstance(sudoers, Unknown):
        return f"sudoers not readable: {sudoers.reason}"
    accounts = PASSWD.read(outputs.get("passwd"))
    if isinstance(accounts, Unknown):
        return accounts.reason
    groups = ADMIN_GROUPS.read(outputs.get("admin_groups"))
    return root_holders(sudoers, accounts, {} if isinstance(groups, Unknown) else groups)
