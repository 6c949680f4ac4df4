"""Windows accounts as the restrict_admin checks see them: privileged groups read through ADSI.

One PowerShell snippet (:data:`PRIVILEGED_GROUPS`) is shared by ``windows_local_admins`` and
``windows_stale_admins``. It finds each powerful built-in group by its well-known SID (so the
localised name, such as "Administratoren", never matters), enumerates its members with the ADSI
``WinNT://`` provider (works on PowerShell 2.0 and, unlike ``Get-LocalGroupMember``, does not throw
on orphaned SIDs), and for members that are local user accounts adds ``UserFlags`` and
``LastLogin``. It also reports the account names a LAPS policy manages.

Also here: :func:`read_json`, the one way these checks turn a step's output into data or into a
no_visibility reason. Pure functions only; no check lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from checks._windows import as_list, ps_json, unreadable
from scanner.checking.api import Output

# Read-only: registry reads through .NET, WMI reads, ADSI property reads (no SetInfo/Put).
PRIVILEGED_GROUPS = r"""$pc = $env:COMPUTERNAME
$os = Get-WmiObject Win32_OperatingSystem
$lm = [Microsoft.Win32.Registry]::LocalMachine
$fmt = "yyyy-MM-dd'T'HH:mm:ss'Z'"
$inv = [Globalization.CultureInfo]::InvariantCulture
$lapsKeys = 'SOFTWARE\Microsoft\Policies\LAPS', 'SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\LAPS',
  'SOFTWARE\Microsoft\Windows\CurrentVersion\LAPS\Config', 'SOFTWARE\Policies\Microsoft Services\AdmPwd'
$lapsNames = 'AdministratorAccountName', 'AdminAccountName', 'AutomaticAccountManagementNameOrPrefix'
$laps = @()
foreach ($p in $lapsKeys) {
  $k = $lm.OpenSubKey($p)
  if (-not $k) { continue }
  foreach ($n in $lapsNames) {
    $v = $k.GetValue($n)
    if ($v) { $laps += New-Object PSObject -Property @{ value_name = $n; value = [string]$v } }
  }
}
$groupSids = 'S-1-5-32-544', 'S-1-5-32-548', 'S-1-5-32-549', 'S-1-5-32-550', 'S-1-5-32-551',
  'S-1-5-32-578', 'S-1-5-32-555', 'S-1-5-32-580'
$groups = @()
foreach ($gs in $groupSids) {
  $sidObj = New-Object System.Security.Principal.SecurityIdentifier($gs)
  try { $gn = $sidObj.Translate([System.Security.Principal.NTAccount]).Value } catch { continue }
  $gn = $gn.Substring($gn.IndexOf('\') + 1)
  $members = @()
  foreach ($m in @(([ADSI]"WinNT://$pc/$gn,group").psbase.Invoke('Members'))) {
    $t = $m.GetType()
    $e = @{ path = $null; class = $null; sid = $null }
    try { $e.path = [string]$t.InvokeMember('ADsPath', 'GetProperty', $null, $m, $null) } catch { }
    try { $e.class = [string]$t.InvokeMember('Class', 'GetProperty', $null, $m, $null) } catch { }
    try {
      $raw = $t.InvokeMember('objectSid', 'GetProperty', $null, $m, $null)
      $e.sid = (New-Object System.Security.Principal.SecurityIdentifier($raw, 0)).Value
    } catch { }
    if ($e.class -eq 'User' -and $e.path -like "WinNT://*/$pc/*") {
      $e.flags = $null
      $e.last_login = $null
      try {
        $u = [ADSI]$e.path
        $e.flags = [int]$u.UserFlags.Value
        $e.last_login = $u.LastLogin.Value.ToUniversalTime().ToString($fmt, $inv)
      } catch { }
    }
    $members += New-Object PSObject -Property $e
  }
  $groups += New-Object PSObject -Property @{ sid = $gs; name = $gn; members = $members }
}
$out = @{ computer = $pc; product_type = [int]$os.ProductType; groups = $groups; laps_accounts = $laps }
New-Object PSObject -Property $out | ConvertTo-Json -Depth 5 -Compress"""

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
# Principals that stand for (nearly) everyone: never acceptable in a privileged group.
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

_SID = re.compile(r"^S-1-\d+(?:-\d+)+$", re.IGNORECASE)
_WINNT = re.compile(r"^winnt://", re.IGNORECASE)


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
        return len(parts) == 1 and bool(_SID.match(parts[0])) and not self.entra

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


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_accounts(data: Any) -> Accounts:
    """The :data:`PRIVILEGED_GROUPS` JSON; raises ValueError when its shape is wrong."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    computer = str(data.get("computer") or "")
    groups = []
    for g in arr(data.get("groups")):
        if not isinstance(g, dict) or not g.get("sid"):
            raise ValueError("a group entry has no sid")
        members = tuple(
            Member(
                path=str(m.get("path") or ""),
                cls=str(m.get("class") or ""),
                sid=m.get("sid") or None,
                flags=_int(m.get("flags")),
                last_login=m.get("last_login") or None,
                computer=computer,
            )
            for m in arr(g.get("members"))
            if isinstance(m, dict)
        )
        groups.append(
            Group(sid=str(g["sid"]).upper(), name=str(g.get("name") or g["sid"]), members=members)
        )
    laps = tuple(
        (str(e.get("value_name") or ""), str(e.get("value") or ""))
        for e in arr(data.get("laps_accounts"))
        if isinstance(e, dict) and e.get("value")
    )
    return Accounts(
        computer=computer,
        product_type=_int(data.get("product_type")),
        groups=tuple(groups),
        laps_names=laps,
    )


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
        if _SID.match(e):
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
