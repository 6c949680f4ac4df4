"""Trusted Locations as the macro-blocking controls judge them (``windows_macro_settings``).

A file in a Trusted Location runs its macros whatever ``VBAWarnings`` says (even 4, *disable
without notification*) and whether or not it came from the internet, so a Trusted Location a user
can write to undoes both "macros disabled" (ISM-1671) and "internet macros blocked" (ISM-1488).
Read from the ``windows.office_macro_trust`` fact (``checks/facts/windows/office_policy.py``).
Pure functions only; no check lives here.

Per user and application (Outlook has no Trusted Locations):
- every location counts — from a policy root, the machine root or the user's own preference root —
  unless a *user* policy root (Cloud Policy or user GPO) sets ``AllLocationsDisabled`` = 1 and no
  policy root sets anything else (the machine root alone is not shown to apply to users: Office's
  honouring of ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Office\\16.0`` for User Configuration
  policies is unverified, essential-eight.md 2.0). *Allow mix of policy and user locations* is not
  read, so user-created locations always count (a failure it would have excused is named);
- a problem: a location in a user-writable folder (user profile, Downloads, temp — this includes
  Office's default ``%APPDATA%`` Startup/Templates locations), a policy that allows network
  locations (``AllowNetworkLocations`` = 1), a network location while network locations are
  allowed (by policy, or by the user's own Trust Center choice when no policy sets it), or an ACL
  that gives write to Everyone, Authenticated Users, Users, INTERACTIVE or Domain Users;
- not visible: a location's ACL could not be read, or the trust read failed.
"""

from __future__ import annotations

from collections.abc import Iterable

from checks._office import NETWORK_PATH, USER_WRITABLE_PATH, write_holders
from checks.facts.fact import Unknown
from checks.facts.windows.office import LABEL
from checks.facts.windows.office_policy import HiveUser, MacroTrust

TRUST_APPS = ("word", "excel", "powerpoint", "access", "visio", "ms project", "publisher")
ROOT_LABEL = {
    "cloud": "Cloud Policy",
    "user_policy": "user policy",
    "machine": "machine policy",
    "preference": "user preference",
}
Issue = tuple[str, str, str]  # (user, application, what is wrong)


def _disabled(trust: MacroTrust, sid: str, app: str) -> bool:
    found = trust.policy.policy(sid, app, "alllocationsdisabled")
    by_user_root = any(r != "machine" for r in found)
    return by_user_root and all(v == 1 for v in found.values())


def _network_allowed(trust: MacroTrust, sid: str, app: str) -> tuple[bool, bool]:
    """(network locations are honoured, a policy root allows them)."""
    found = trust.policy.policy(sid, app, "allownetworklocations")
    if found:
        on = any(v == 1 for v in found.values())
        return on, on
    present, value = trust.policy.get(sid, "preference", app, "allownetworklocations")
    return present and value == 1, False


def open_locations(
    trust: MacroTrust | Unknown, users: Iterable[HiveUser], apps: Iterable[str]
) -> tuple[list[Issue], list[str]]:
    """(Trusted Locations that let a user run macros, what could not be seen)."""
    if isinstance(trust, Unknown):
        return [], [f"Trusted Locations not read: {trust.reason}"]
    problems: list[Issue] = []
    blind: list[str] = []
    for user in users:
        for app in apps:
            if app not in TRUST_APPS or _disabled(trust, user.sid, app):
                continue
            network_on, by_policy = _network_allowed(trust, user.sid, app)
            if by_policy:
                problems.append(
                    (user.label, LABEL[app], "policy allows Trusted Locations on the network")
                )
            for lsid, root, lapp, path in trust.policy.locations:
                if lapp != app or (lsid is not None and lsid != user.sid):
                    continue
                where = f"Trusted Location {path} ({ROOT_LABEL.get(root, root)})"
                if USER_WRITABLE_PATH.search(path):
                    problems.append(
                        (user.label, LABEL[app], f"{where} is in a user-writable folder")
                    )
                elif NETWORK_PATH.search(path):
                    if network_on:
                        problems.append(
                            (user.label, LABEL[app], f"{where} is a network location, allowed")
                        )
                else:
                    acl = trust.acls.get(path)
                    if acl is None or acl.get("error"):
                        error = (acl or {}).get("error") or "not collected"
                        blind.append(f"{where}: ACL not read ({error})")
                        continue
                    broad, _ = write_holders(acl)
                    if broad:
                        problems.append(
                            (
                                user.label,
                                LABEL[app],
                                f"{where} is writable by {', '.join(sorted(set(broad)))}",
                            )
                        )
    return problems, sorted(set(blind))
