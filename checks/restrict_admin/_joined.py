"""A Windows host's domain admins, expanded through the directories read in the same run.

The local Administrators of a domain member usually hold domain groups (``CORP\\Domain Admins``)
or domain accounts. The host cannot show their last logon or expiry; the directory can. A check
that declares ``uses_directory`` finds the directory hosts' outputs in ``ctx.directories``
(:mod:`scanner.checking.api`); :func:`join` reads them with the directory facts
(``checks/facts/directory/objects.py``) and, for each domain member of a privileged local group:

- finds the directory of its domain — by SID when the host reported one (the member's SID less
  its RID is the domain SID of the domain search), else by the NetBIOS name Windows shows
  (``CORP`` of ``WinNT://CORP/Domain Admins``; the crossRef whose ``nCName`` is that domain);
- finds the member among the directory's objects (by SID, else by ``sAMAccountName``) and
  expands it through nested groups and ``primaryGroupID``
  (:class:`checks.facts.directory.privileged.Membership`);
- returns the enabled, unexpired accounts to judge, per directory, and why anything else could
  not be judged: no directory of that domain in the run, a directory whose searches failed or
  were cut short (all five must be read: a partial read can hide the account that fails), a
  member the directory does not hold (a foreign principal, another domain), members of a
  group that are not among the objects read, or an account whose ``userAccountControl`` is not
  readable.

Pure; judging the accounts is :mod:`checks.restrict_admin._domain_accounts`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from checks.facts.directory.objects import ACCOUNTS, COMPUTERS, DOMAIN, GROUPS, NETBIOS, Domain
from checks.facts.directory.privileged import Membership, PrivilegedAccount
from checks.facts.fact import Unknown
from checks.facts.windows.accounts import Group, Member
from checks.restrict_admin._admins import DOMAIN_UNSEEN
from checks.restrict_admin._domain_accounts import holds_access, label
from scanner.checking.api import Output


@dataclass(frozen=True)
class Directory:
    """One directory host whose five searches were all read."""

    host: str
    domain: Domain
    names: tuple[str, ...]  # this domain's NetBIOS names (crossRef nCName = the domain's DN)
    index: Membership

    @property
    def label(self) -> str:
        return self.names[0] if self.names else self.domain.dn


@dataclass(frozen=True)
class Unread:
    """A directory host that could not be used, and what is known of its domain."""

    host: str
    why: str
    sid: str | None = None
    names: tuple[str, ...] = ()


def _domain_sid(member: Member) -> str | None:
    sid = (member.sid or "").upper()
    return sid.rsplit("-", 1)[0] if sid.startswith("S-1-5-21-") else None


def _matches(sid: str | None, names: Sequence[str], member: Member) -> bool:
    own = _domain_sid(member)
    if own is not None:  # the SID decides: a name can be reused by another domain
        return sid is not None and own == sid.upper()
    return member.domain.lower() in {n.lower() for n in names}


Read = tuple[list[Directory], list[Unread]]
# The engine hands every host the same ``directories`` object; parsing a large domain's searches
# once per host and check would cost more than the rest of judging. One entry, keyed by identity
# while it holds the mapping (so the identity cannot be reused): same input, same value.
_last: list[tuple[Mapping[str, Mapping[str, Output]], Read]] = []


def read(directories: Mapping[str, Mapping[str, Output]]) -> Read:
    """The directories whose searches were all read, and the others with the reason."""
    if _last and _last[0][0] is directories:
        return _last[0][1]
    found = _read(directories)
    _last[:] = [(directories, found)]
    return found


def _read(directories: Mapping[str, Mapping[str, Output]]) -> Read:
    usable: list[Directory] = []
    unread: list[Unread] = []
    for host, outs in sorted(directories.items()):
        dom = DOMAIN.read(outs.get(DOMAIN.cmd.line))
        groups = GROUPS.read(outs.get(GROUPS.cmd.line))
        accounts = ACCOUNTS.read(outs.get(ACCOUNTS.cmd.line))
        computers = COMPUTERS.read(outs.get(COMPUTERS.cmd.line))
        nb = NETBIOS.read(outs.get(NETBIOS.cmd.line))
        names: tuple[str, ...] = ()
        if not isinstance(dom, Unknown) and not isinstance(nb, Unknown):
            names = tuple(n.netbios for n in nb if n.nc_name.lower() == dom.dn.lower())
        searches = (("domain", dom), ("groups", groups), ("accounts", accounts),
                    ("computers", computers), ("NetBIOS", nb))  # fmt: skip
        why = next((f"{w} search: {v.reason}" for w, v in searches if isinstance(v, Unknown)), "")
        if (
            isinstance(dom, Unknown)
            or isinstance(groups, Unknown)
            or isinstance(accounts, Unknown)
            or isinstance(computers, Unknown)
            or isinstance(nb, Unknown)
        ):
            sid = None if isinstance(dom, Unknown) else dom.sid
            unread.append(Unread(host, why, sid, names))
            continue
        usable.append(Directory(host, dom, names, Membership(dom.sid, groups, accounts, computers)))
    return usable, unread


@dataclass
class Joined:
    """The domain members of a host's privileged groups, as the directories show them."""

    judged: list[tuple[Directory, list[PrivilegedAccount]]] = field(default_factory=list)
    hidden: dict[str, str] = field(default_factory=dict)  # name → why it cannot be judged
    inactive: list[str] = field(default_factory=list)  # disabled or expired: hold no access
    directories: list[str] = field(default_factory=list)  # directory hosts that were used

    @property
    def count(self) -> int:
        return sum(len(accts) for _, accts in self.judged)


def _not_read(member: Member, usable: Sequence[Directory], unread: Sequence[Unread]) -> str:
    dom = member.domain or "?"
    for u in unread:
        if _matches(u.sid, u.names, member):
            return f"{DOMAIN_UNSEEN}; domain {dom} not read: directory {u.host}: {u.why}"
    if not usable and not unread:
        return f"{DOMAIN_UNSEEN}; domain {dom} not read: no directory in this run"
    held = ", ".join(f"{d.label} ({d.host})" for d in usable)
    failed = "; ".join(f"directory {u.host} not read: {u.why}" for u in unread)
    return (
        f"{DOMAIN_UNSEEN}; domain {dom} not read: "
        + (f"the directories read hold {held}" if held else "")
        + ("; " if held and failed else "")
        + failed
    )


def join(
    members: Sequence[tuple[Group, Member]],
    directories: Mapping[str, Mapping[str, Output]],
    now: datetime,
) -> Joined:
    """Expand ``members`` (domain members of privileged local groups) through ``directories``."""
    usable, unread = read(directories)
    out = Joined()
    seen: dict[str, dict[str, PrivilegedAccount]] = {}
    for group, member in members:
        d = next((d for d in usable if _matches(d.domain.sid, d.names, member)), None)
        if d is None:
            out.hidden[member.display] = _not_read(member, usable, unread)
            continue
        if d.host not in out.directories:
            out.directories.append(d.host)
        sid = (member.sid or "").upper()
        entry = d.index.by_sid.get(sid) if sid else d.index.by_name.get(member.name.lower())
        if entry is None:
            out.hidden[member.display] = (
                f"not held by the directory of {d.label} ({d.host}): a foreign principal, "
                f"another domain's or a deleted object"
            )
            continue
        accounts, unresolved = d.index.expand([entry])
        if unresolved:
            shown = ", ".join(unresolved[:3]) + (" …" if len(unresolved) > 3 else "")
            out.hidden[f"{member.display} members"] = (
                f"not among the objects read from {d.label} (a foreign principal, another "
                f"domain): {shown}"
            )
        chain_of = seen.setdefault(d.host, {})
        for a in accounts:
            via = (*(f"{d.label}\\{g}" for g in a.via), group.name)
            found = PrivilegedAccount(a.entry, via)
            if a.enabled is None:
                out.hidden[label(found, d.label)] = "userAccountControl not readable"
            elif not holds_access(a, now):
                out.inactive.append(label(found, d.label))
            else:
                chain_of.setdefault(a.entry.dn.lower(), found)
    for d in usable:
        if seen.get(d.host):
            out.judged.append((d, sorted(seen[d.host].values(), key=lambda a: a.name.lower())))
    return out
