"""Office 16.0 policy values as the loaded user hives and the machine hold them.

Three snippets walk every loaded interactive user hive (domain ``S-1-5-21-…`` and Entra
``S-1-12-1-…`` SIDs; the walk is ``office_user_hives.ps1``, written once) and the machine policy
root, reading the values their own ``E8Read`` function names (``*_read.ps1``), and print
``{scanner, users, values[, acls]}`` (``office_policy_out.ps1`` / ``macro_trust_out.ps1``):

- ``windows.office_macro_settings``: ``VBAWarnings``, ``blockcontentexecutionfrominternet``,
  Outlook ``level`` and ``common\\security\\macroruntimescanscope``;
- ``windows.office_hardening_settings``: ``PackagerPrompt`` and the Protected View values of Word,
  Excel and PowerPoint;
- ``windows.office_macro_trust``: ``VBAWarnings``, Trusted Locations (and each location's ACL),
  ``DisabledCmdBarItemsList`` command 19092 and ``trustcenter\\TrustBar``.

Roots: ``cloud`` (Cloud Policy), ``user_policy`` (user GPO / Intune), ``machine`` and the
user-writable ``preference`` root. Also ``windows.trusted_publishers`` (the TrustedPublisher
certificate stores) and ``windows.amsi_antivirus`` (AMSI providers and Defender's state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import as_list, ps_fact

_PACKAGE = "checks.facts.windows"
POLICY_ROOTS = ("cloud", "user_policy", "machine")
Key = tuple[str | None, str, str, str]  # (user SID or None for machine, root, app, value name)


@dataclass(frozen=True)
class HiveUser:
    sid: str
    name: str | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.sid})" if self.name else self.sid


@dataclass(frozen=True)
class OfficePolicy:
    """The values read, and the users whose hives count.

    ``users``: loaded hives other than the scanning account's with an Office 16.0 profile or an
    Office policy; ``skipped``: the other loaded hives, with the reason. ``values`` keys are lower
    case; ``locations`` holds Trusted Location paths (``value`` rows named ``location``).
    """

    scanner: str | None
    users: tuple[HiveUser, ...]
    skipped: tuple[str, ...]
    values: dict[Key, int | None]
    locations: tuple[tuple[str | None, str, str, str], ...] = ()

    def get(self, sid: str | None, root: str, app: str, name: str) -> tuple[bool, int | None]:
        """(the value is set, its value) in one root; the machine root ignores ``sid``."""
        key = (None if root == "machine" else sid, root, app, name)
        return (key in self.values, self.values.get(key))

    def policy(self, sid: str | None, app: str, name: str) -> dict[str, int | None]:
        """Policy root → value for one user (``sid`` None: the machine root alone)."""
        found = {}
        for root in POLICY_ROOTS:
            if sid is None and root != "machine":
                continue
            present, value = self.get(sid, root, app, name)
            if present:
                found[root] = value
        return found


def parse_policy(data: Any) -> OfficePolicy:
    data = json_object(data)
    scanner = data.get("scanner") or None
    values: dict[Key, int | None] = {}
    locations = []
    for row in as_list(data.get("values")):
        if not isinstance(row, dict) or not row.get("root") or not row.get("name"):
            raise ValueError("a value row lacks root/name")
        sid = row.get("sid") or None
        root, app, name = str(row["root"]), str(row.get("app") or "").lower(), str(row["name"])
        if name.lower() == "location":
            locations.append((sid, root, app, str(row.get("value") or "")))
        else:
            values[(sid, root, app, name.lower())] = to_int(row.get("value"))
    policy_sids = {k[0] for k in values if k[0] and k[1] in ("cloud", "user_policy")}
    policy_sids |= {s for s, root, _, _ in locations if s and root in ("cloud", "user_policy")}
    users, skipped = [], []
    for u in as_list(data.get("users")):
        if not isinstance(u, dict) or not u.get("sid"):
            raise ValueError("a user entry has no sid")
        user = HiveUser(sid=str(u["sid"]), name=u.get("name") or None)
        if scanner and user.sid == scanner:
            skipped.append(f"{user.label}: the scanning account's own hive")
        elif not u.get("office_profile") and user.sid not in policy_sids:
            skipped.append(f"{user.label}: no Office 16.0 profile or Office policy in the hive")
        else:
            users.append(user)
    return OfficePolicy(
        scanner=scanner,
        users=tuple(users),
        skipped=tuple(skipped),
        values=values,
        locations=tuple(locations),
    )


@dataclass(frozen=True)
class MacroTrust:
    """The trust snippet's values, and each Trusted Location's ACL by path
    (``{path, rules: [{sid, rights, type}], error}``)."""

    policy: OfficePolicy
    acls: dict[str, dict[str, Any]]


def parse_trust(data: Any) -> MacroTrust:
    policy = parse_policy(data)
    acls = {
        str(a["path"]): a
        for a in as_list(data.get("acls"))
        if isinstance(a, dict) and a.get("path")
    }
    return MacroTrust(policy=policy, acls=acls)


@dataclass(frozen=True)
class Certificate:
    store: str
    subject: str | None
    thumbprint: str | None
    not_after: str | None  # ISO 8601 UTC (machine store); None for user-store entries


def parse_publishers(data: Any) -> tuple[Certificate, ...]:
    data = json_object(data)
    return tuple(
        Certificate(
            store=str(c.get("store") or ""),
            subject=c.get("subject") or None,
            thumbprint=c.get("thumbprint") or None,
            not_after=str(c["not_after"]) if c.get("not_after") else None,
        )
        for c in as_list(data.get("certificates"))
        if isinstance(c, dict)
    )


@dataclass(frozen=True)
class Amsi:
    """Registered AMSI providers (CLSID, name) and ``Get-MpComputerStatus`` (None when the
    Defender module is absent or failed: ``defender_error``)."""

    providers: tuple[tuple[str, str | None], ...]
    defender: dict[str, Any] | None
    defender_error: str | None


def parse_amsi(data: Any) -> Amsi:
    data = json_object(data)
    defender = data.get("defender")
    error = data.get("defender_error")
    return Amsi(
        providers=tuple(
            (str(p.get("clsid") or ""), p.get("name") or None)
            for p in as_list(data.get("providers"))
            if isinstance(p, dict)
        ),
        defender=defender if isinstance(defender, dict) else None,
        defender_error=str(error) if error else None,
    )


_WALK = "office_user_hives.ps1"
OFFICE_MACRO_SETTINGS = ps_fact(
    "windows.office_macro_settings",
    _PACKAGE,
    ("macro_settings_read.ps1", _WALK, "office_policy_out.ps1"),
    parse_policy,
)
OFFICE_HARDENING_SETTINGS = ps_fact(
    "windows.office_hardening_settings",
    _PACKAGE,
    ("office_hardening_read.ps1", _WALK, "office_policy_out.ps1"),
    parse_policy,
)
OFFICE_MACRO_TRUST = ps_fact(
    "windows.office_macro_trust",
    _PACKAGE,
    ("macro_trust_read.ps1", _WALK, "macro_trust_out.ps1"),
    parse_trust,
)
TRUSTED_PUBLISHERS = ps_fact(
    "windows.trusted_publishers", _PACKAGE, "trusted_publishers.ps1", parse_publishers
)
AMSI_ANTIVIRUS = ps_fact("windows.amsi_antivirus", _PACKAGE, "amsi_antivirus.ps1", parse_amsi)
