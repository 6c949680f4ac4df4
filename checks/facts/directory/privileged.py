"""Who is privileged in a domain: the transitive members of its privileged groups.

Resolved from what the directory holds, not from ``adminCount`` (set by SDProp only now and
then, and never cleared when someone leaves a group). The privileged groups are found by SID,
not by name (names are localised — "Domänen-Admins" — and can be renamed): the domain's
Domain Admins (RID 512), Schema Admins (518), Enterprise Admins (519) and Group Policy Creator
Owners (520); the built-in Administrators (S-1-5-32-544), Account Operators (548), Server
Operators (549), Print Operators (550) and Backup Operators (551); DnsAdmins by name (it has no
well-known RID); and the site's own ``e8_privileged_groups`` (names, DNs or SIDs).

Membership is followed through ``member`` (nested groups, any depth, cycles tolerated) **and**
``primaryGroupID``: an account whose primary group is Domain Admins is a member that no
``member`` attribute lists (and that LDAP's in-chain matching rule does not return either).
A member that is not among the objects read — a foreign security principal from a trusted
domain, an object of another domain, a contact — cannot be judged and is listed as such.

:class:`Membership` does the walking for any group, not only the privileged ones: a Windows
host's local Administrators may hold any domain group (``CORP\\Server-Admins``), and the
host checks expand it through the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from checks.facts.directory.search import Entry

DOMAIN_RIDS = {512: "Domain Admins", 518: "Schema Admins", 519: "Enterprise Admins"}
DOMAIN_RIDS[520] = "Group Policy Creator Owners"
BUILTIN_SIDS = {
    "S-1-5-32-544": "Administrators",
    "S-1-5-32-548": "Account Operators",
    "S-1-5-32-549": "Server Operators",
    "S-1-5-32-550": "Print Operators",
    "S-1-5-32-551": "Backup Operators",
}
BY_NAME = ("DnsAdmins",)

UF_ACCOUNTDISABLE = 0x2


@dataclass(frozen=True)
class PrivilegedAccount:
    """A privileged account and how it gets there (``via``: group names, outermost last)."""

    entry: Entry
    via: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def enabled(self) -> bool | None:
        uac = self.entry.integer("userAccountControl")
        return None if uac is None else not uac & UF_ACCOUNTDISABLE


@dataclass(frozen=True)
class Privileged:
    """The domain's privileged accounts, the groups that made them so, and what could not be
    followed."""

    accounts: list[PrivilegedAccount]
    groups: list[str]  # the privileged groups found (names)
    missing_groups: list[str] = field(default_factory=list)  # e8_privileged_groups not found
    unresolved: list[str] = field(default_factory=list)  # member DNs not among the objects read


def rid(sid: str | None) -> int | None:
    if not sid:
        return None
    try:
        return int(sid.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return None


def _root_groups(
    domain_sid: str, groups: Sequence[Entry], extra: Sequence[str]
) -> tuple[list[Entry], list[str]]:
    roots: list[Entry] = []
    wanted = {x.lower() for x in extra}
    seen_extra: set[str] = set()
    for g in groups:
        sid = g.first("objectSid") or ""
        is_domain = sid.startswith(domain_sid + "-") and rid(sid) in DOMAIN_RIDS
        keys = {g.name.lower(), g.dn.lower(), sid.lower()}
        hit = wanted & keys
        seen_extra |= hit
        if is_domain or sid in BUILTIN_SIDS or g.name in BY_NAME or hit:
            roots.append(g)
    missing = sorted(x for x in extra if x.lower() not in seen_extra)
    return roots, missing


class Membership:
    """The directory's objects indexed for following membership: ``member`` (by DN) and
    ``primaryGroupID`` (by the RID of a group of ``domain_sid``). Built once, walked many times."""

    def __init__(
        self,
        domain_sid: str,
        groups: Sequence[Entry],
        accounts: Sequence[Entry],
        computers: Sequence[Entry] = (),
    ) -> None:
        self.domain_sid = domain_sid
        self.groups = list(groups)
        self.by_dn: dict[str, Entry] = {}
        self.by_sid: dict[str, Entry] = {}
        self.by_name: dict[str, Entry] = {}
        for e in [*groups, *accounts, *computers]:
            self.by_dn[e.dn.lower()] = e
            if sid := e.first("objectSid"):
                self.by_sid.setdefault(sid.upper(), e)
            if name := e.first("sAMAccountName"):
                self.by_name.setdefault(name.lower(), e)
        self.group_dns = {g.dn.lower() for g in groups}
        self.by_primary: dict[int, list[Entry]] = {}
        for p in [*accounts, *computers]:
            pg = p.integer("primaryGroupID")
            if pg is not None:
                self.by_primary.setdefault(pg, []).append(p)

    def is_group(self, entry: Entry) -> bool:
        return entry.dn.lower() in self.group_dns

    def expand(self, roots: Sequence[Entry]) -> tuple[list[PrivilegedAccount], list[str]]:
        """Every account (user or computer) that is a transitive member of one of ``roots``,
        sorted by name, and the member DNs that are not among the objects read.

        Breadth first; ``via`` is the chain of groups from the account's own group out to the
        root. A root that is itself an account is returned as its own member (``via`` empty)."""
        found: dict[str, PrivilegedAccount] = {}
        unresolved: set[str] = set()
        queue: list[tuple[Entry, tuple[str, ...]]] = []
        for root in roots:
            if self.is_group(root):
                queue.append((root, (root.name,)))
            else:
                found.setdefault(root.dn.lower(), PrivilegedAccount(root, ()))
        visited: set[str] = set()
        while queue:
            group, chain = queue.pop(0)
            if group.dn.lower() in visited:
                continue
            visited.add(group.dn.lower())
            members: list[Entry] = []
            for dn in group.all("member"):
                target = self.by_dn.get(dn.lower())
                if target is None:
                    unresolved.add(dn)
                else:
                    members.append(target)
            sid = group.first("objectSid") or ""
            if sid.startswith(self.domain_sid + "-") and (r := rid(sid)) is not None:
                members.extend(self.by_primary.get(r, []))
            for m in members:
                if self.is_group(m):
                    queue.append((m, (m.name, *chain)))
                elif m.dn.lower() not in found:
                    found[m.dn.lower()] = PrivilegedAccount(m, chain)
        return sorted(found.values(), key=lambda a: a.name.lower()), sorted(unresolved)


def resolve(
    domain_sid: str,
    groups: Sequence[Entry],
    accounts: Sequence[Entry],
    computers: Sequence[Entry] = (),
    extra_groups: Sequence[str] = (),
) -> Privileged:
    """Every account (user or computer) that is a transitive member of a privileged group."""
    index = Membership(domain_sid, groups, accounts, computers)
    roots, missing = _root_groups(domain_sid, groups, extra_groups)
    found, unresolved = index.expand(roots)
    return Privileged(
        accounts=found,
        groups=sorted(g.name for g in roots),
        missing_groups=missing,
        unresolved=unresolved,
    )
