"""The built-in privileged groups of a Windows host and their members, read through ADSI.

``privileged_groups.ps1`` finds each powerful built-in group by its well-known SID (so the
localised name, such as "Administratoren", never matters), enumerates its members with the ADSI
``WinNT://`` provider (works on PowerShell 2.0 and, unlike ``Get-LocalGroupMember``, does not throw
on orphaned SIDs), and for members that are local user accounts adds ``UserFlags`` and
``LastLogin``. It also reports the account names a LAPS policy manages and
``Win32_OperatingSystem.ProductType``. Read-only: registry reads through .NET, WMI reads, ADSI
property reads (no SetInfo/Put).

The value (:class:`Accounts`) names what each member is (local, domain, orphaned SID, Entra ID
principal, group, disabled, the built-in RID 500 account, a principal standing for nearly
everyone); which members are acceptable is for the checks to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import as_list, ps_fact

ADMINISTRATORS = "S-1-5-32-544"
# Groups whose members hold administrative power on the host (or, on a DC, over the domain).
PRIVILEGED = {
    "S-1-5-32-544": "Administrators",
    "S-1-5-32-548": "Account Operators",
    "S-1-5-32-549": "Server Operators",
    "S-1-5-32-550": "Print Operators",
    "S-1-5-32-551": "Backup Operators",
    "S-1-5-32-578": "Hyper-V Administrators",
}
# Reported, not judged: they grant remote logon, not administration.
INFORMATIONAL = {
    "S-1-5-32-555": "Remote Desktop Users",
    "S-1-5-32-580": "Remote Management Users",
}
# Principals that stand for (nearly) everyone.
BROAD_SIDS = {
    "S-1-1-0": "Everyone",
    "S-1-5-4": "INTERACTIVE",
    "S-1-5-7": "ANONYMOUS LOGON",
    "S-1-5-11": "Authenticated Users",
    "S-1-5-32-545": "Users",
    "S-1-5-32-546": "Guests",
}
BROAD_DOMAIN_RIDS = {"513": "Domain Users", "514": "Domain Guests", "515": "Domain Computers"}

ACCOUNTDISABLE = 0x2
DOMAIN_CONTROLLER = 2  # Win32_OperatingSystem.ProductType: 1 workstation, 2 DC, 3 server

SID_PATTERN = re.compile(r"^S-1-\d+(?:-\d+)+$", re.IGNORECASE)
_WINNT = re.compile(r"^winnt://", re.IGNORECASE)


@dataclass(frozen=True)
class Member:
    """One member of a local group, as ADSI ``WinNT://`` names it."""

    path: str
    cls: str
    sid: str | None
    flags: int | None
    last_login: str | None
    computer: str

    @property
    def _parts(self) -> list[str]:
        return [p for p in _WINNT.sub("", self.path).split("/") if p]

    @property
    def entra(self) -> bool:
        """A Microsoft Entra ID principal (``S-1-12-1-…``: the Global Administrator / device
        administrator role SIDs Entra join adds, or an Entra group). Windows cannot name these,
        so ADSI lists them as a bare SID, like an orphan; they are not orphans."""
        parts = self._parts
        sid = (self.sid or (parts[0] if len(parts) == 1 else "")).upper()
        return len(parts) == 1 and sid.startswith("S-1-12-1-")

    @property
    def orphaned(self) -> bool:
        """An SID that no longer resolves to an account (deleted account, broken trust)."""
        parts = self._parts
        return len(parts) == 1 and bool(SID_PATTERN.match(parts[0])) and not self.entra

    @property
    def local(self) -> bool:
        parts = self._parts
        return len(parts) == 3 and parts[1].lower() == self.computer.lower()

    @property
    def domain(self) -> str:
        parts = self._parts
        if self.local:
            return self.computer
        return parts[0] if len(parts) == 2 else ""

    @property
    def name(self) -> str:
        parts = self._parts
        return parts[-1] if parts else (self.sid or "?")

    @property
    def display(self) -> str:
        """As ``net localgroup`` prints it: local accounts bare, others ``DOMAIN\\name``."""
        if self.orphaned:
            return f"{self.name} (unresolved SID)"
        if self.entra:
            return f"{self.name} (Entra ID principal)"
        if self.local or not self.domain:
            return self.name
        return f"{self.domain}\\{self.name}"

    @property
    def is_group(self) -> bool:
        """A group, or an Entra ID role/group principal (its members are not visible here)."""
        return self.cls.lower() == "group" or self.entra

    @property
    def disabled(self) -> bool:
        return self.flags is not None and bool(self.flags & ACCOUNTDISABLE)

    @property
    def builtin_admin(self) -> bool:
        """The built-in Administrator account (RID 500), whatever it has been renamed to."""
        return bool(
            self.sid and self.sid.upper().startswith("S-1-5-21-") and self.sid.endswith("-500")
        )

    @property
    def broad(self) -> str | None:
        """The name of a principal that stands for (nearly) everyone, else None."""
        sid = (self.sid or "").upper()
        if sid in BROAD_SIDS:
            return BROAD_SIDS[sid]
        if sid.startswith("S-1-5-21-"):
            return BROAD_DOMAIN_RIDS.get(sid.rsplit("-", 1)[-1])
        return None


@dataclass(frozen=True)
class Group:
    sid: str
    name: str
    members: tuple[Member, ...]

    @property
    def label(self) -> str:
        known = PRIVILEGED.get(self.sid) or INFORMATIONAL.get(self.sid) or self.sid
        return self.name if self.name.lower() == known.lower() else f"{self.name} ({known})"


@dataclass(frozen=True)
class Accounts:
    computer: str
    product_type: int | None
    groups: tuple[Group, ...]
    laps_names: tuple[tuple[str, str], ...]  # (registry value name, account name or prefix)

    @property
    def domain_controller(self) -> bool:
        return self.product_type == DOMAIN_CONTROLLER

    def privileged(self) -> list[Group]:
        return [g for g in self.groups if g.sid in PRIVILEGED]

    def informational(self) -> list[Group]:
        return [g for g in self.groups if g.sid in INFORMATIONAL]

    def laps_managed(self, member: Member) -> bool:
        """The member is the account a LAPS policy names (or, with automatic account management,
        an account under its name prefix)."""
        if not member.local:
            return False
        name = member.name.lower()
        for value_name, value in self.laps_names:
            v = value.lower()
            if name == v or (
                value_name == "AutomaticAccountManagementNameOrPrefix" and name.startswith(v)
            ):
                return True
        return False


def parse(data: Any) -> Accounts | Unknown:
    """The snippet's JSON object; a group entry without a SID is an unexpected shape."""
    data = json_object(data)
    computer = str(data.get("computer") or "")
    groups = []
    for g in as_list(data.get("groups")):
        if not isinstance(g, dict) or not g.get("sid"):
            raise ValueError("a group entry has no sid")
        members = tuple(
            Member(
                path=str(m.get("path") or ""),
                cls=str(m.get("class") or ""),
                sid=m.get("sid") or None,
                flags=to_int(m.get("flags")),
                last_login=m.get("last_login") or None,
                computer=computer,
            )
            for m in as_list(g.get("members"))
            if isinstance(m, dict)
        )
        groups.append(
            Group(sid=str(g["sid"]).upper(), name=str(g.get("name") or g["sid"]), members=members)
        )
    laps = tuple(
        (str(e.get("value_name") or ""), str(e.get("value") or ""))
        for e in as_list(data.get("laps_accounts"))
        if isinstance(e, dict) and e.get("value")
    )
    return Accounts(
        computer=computer,
        product_type=to_int(data.get("product_type")),
        groups=tuple(groups),
        laps_names=laps,
    )


PRIVILEGED_GROUPS = ps_fact(
    "windows.privileged_groups", "checks.facts.windows", "privileged_groups.ps1", parse
)
