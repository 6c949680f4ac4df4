"""Local accounts and the administrative groups: ``/etc/passwd`` (name, UID, primary GID, shell)
and ``getent group sudo wheel admin`` (the groups Debian/Ubuntu and the RHEL family grant full
sudo to by default).

Only what the files list: accounts that exist only in a directory (SSSD/LDAP) are not in
``/etc/passwd``; ``getent`` does list directory groups of those names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import to_int

ADMIN_GROUP_NAMES = ("sudo", "wheel", "admin")


@dataclass(frozen=True)
class Account:
    """One ``/etc/passwd`` entry."""

    name: str
    uid: int
    gid: int
    shell: str = ""


@dataclass(frozen=True)
class Group:
    """One group entry (``name:x:gid:member,member``)."""

    name: str
    gid: int
    members: tuple[str, ...]


def parse_passwd(text: str) -> tuple[Account, ...] | Unknown:
    """``name:uid:gid:shell`` lines; Unknown when the file gave nothing."""
    accounts = []
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) < 3:
            continue
        uid, gid = to_int(parts[1]), to_int(parts[2])
        if uid is None or gid is None:
            continue
        shell = parts[3] if len(parts) > 3 else ""
        accounts.append(Account(name=parts[0], uid=uid, gid=gid, shell=shell))
    if not accounts:
        return Unknown("/etc/passwd gave no account")
    return tuple(accounts)


def parse_group_line(line: str) -> Group | None:
    """One ``getent group`` line, or None when it is not one."""
    parts = line.strip().split(":")
    if len(parts) < 4 or not parts[0]:
        return None
    gid = to_int(parts[2])
    if gid is None:
        return None
    return Group(name=parts[0], gid=gid, members=tuple(m for m in parts[3].split(",") if m))


def parse_admin_groups(text: str) -> dict[str, Group] | Unknown:
    """The sudo/wheel/admin groups that exist. Unknown when getent printed none: every common
    distribution has at least one of them (Debian/Ubuntu ``sudo``, the RHEL and SUSE families and
    Alpine ``wheel``), so silence means the lookup was lost, not that there are no admins."""
    groups: dict[str, Group] = {}
    for line in text.splitlines():
        group = parse_group_line(line)
        if group is not None and group.name in ADMIN_GROUP_NAMES:
            groups[group.name] = group
    if not groups:
        return Unknown(
            "getent printed no sudo, wheel or admin group: the admin groups were not read"
        )
    return groups


def members(group: Group, accounts: Iterable[Account]) -> list[str]:
    """Who is in ``group``: its listed members, then the accounts that have it as primary group."""
    found = list(group.members)
    found += [a.name for a in accounts if a.gid == group.gid and a.name not in found]
    return found


def admin_members(accounts: Iterable[Account], groups: Mapping[str, Group]) -> dict[str, list[str]]:
    """Admin group name → its members (listed or primary)."""
    everyone = tuple(accounts)
    return {name: members(group, everyone) for name, group in groups.items()}


PASSWD = sh_fact("linux.passwd", 'awk -F: \'{print $1":"$3":"$4":"$7}\' /etc/passwd', parse_passwd)

ADMIN_GROUPS = sh_fact(
    "linux.admin_groups", "getent group sudo wheel admin; true", parse_admin_groups
)
