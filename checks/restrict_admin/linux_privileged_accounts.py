"""Linux: who holds administrative privilege, and is each one a designated privileged account?

**Collected (read-only):** ``/etc/passwd`` reduced to name, UID, primary GID and shell (UID-0
accounts and primary-group members), ``getent group sudo wheel admin`` (the groups that
Debian/Ubuntu and the RHEL family grant full sudo to by default), and (root) the sudoers files:
privileged users are whoever sudoers grants root to — users, ``%groups`` (directory groups and
names with spaces included), ``#uid``, ``+netgroups``, ``User_Alias`` members, ``ALL`` — not only
the members of the admin groups.

**Mapped to ISM-0445** (ML1-3, privileged users have a dedicated privileged account used only for
privileged duties): the inventory variable ``e8_admin_allowlist`` (a list, or a comma-separated
string) is the organisation's register of the dedicated privileged accounts allowed on this host.
- ineffective: an account other than ``root`` has UID 0 (an undedicated, unattributable root
  equivalent; ComplianceAsCode ``accounts_no_uid_except_zero``) — whatever the allowlist says;
  sudo grants root to everyone (``ALL``, ``%users``, ``%domain users`` …); or a member of
  sudo/wheel/admin (listed or by primary group) or an account sudo grants root to is not in the
  allowlist, i.e. an everyday or unregistered account holds standing admin rights;
- no_visibility: no allowlist in the inventory — the scanner cannot know which accounts are
  dedicated privileged accounts, so the evidence lists them for the assessor; a read failed
  (sudoers needs root; ``getent`` printing none of sudo/wheel/admin counts as failed); sudo
  grants root to a group whose members are not visible (other than sudo/wheel/admin) and the
  allowlist does not name it (``%group``); or no privileged account besides root was found;
- effective: only root has UID 0 and every privileged account is allowlisted.

Not mapped: ISM-1649 (just-in-time administration, ML3) — one snapshot of group membership
cannot tell a just-in-time grant from a standing one; ISM-1508 is organisational. Caveats: members of
directory groups are not expanded (register the group itself); accounts that exist only in a directory
(SSSD/LDAP) are not in ``/etc/passwd``, so a directory account with UID 0 is not seen.
Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks._sudo import registered, root_holders
from checks.facts.fact import Unknown
from checks.facts.linux.accounts import ADMIN_GROUPS, PASSWD, admin_members
from checks.facts.linux.sudoers import SUDOERS
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    accounts = PASSWD.read(outputs.get("passwd"))
    groups = ADMIN_GROUPS.read(outputs.get("admin_groups"))
    sudoers = SUDOERS.read(outputs.get("sudoers"))
    if isinstance(accounts, Unknown) or isinstance(groups, Unknown) or isinstance(sudoers, Unknown):
        why = next(r.reason for r in (accounts, groups, sudoers) if isinstance(r, Unknown))
        return [Finding(ism="ISM-0445", outcome=Outcome.NO_VISIBILITY, evidence=why)]
    uid0 = [a.name for a in accounts if a.uid == 0 and a.name != "root"]
    members = admin_members(accounts, groups)
    held = root_holders(sudoers, accounts, groups)
    everyone = sorted({m for ms in members.values() for m in ms} | set(held.accounts))
    allow = ctx.profile.listed("e8_admin_allowlist")
    observed: dict[str, object] = {
        "uid0_besides_root": uid0,
        "admin_groups": members,
        "sudo_root_holders": sorted(held.accounts),
        "sudo_broad_grants": held.broad,
        "sudo_unexpanded_grants": sorted(held.unexpanded),
        "allowlist": allow,
    }
    listing = "; ".join(f"{g}: {', '.join(ms) or '(empty)'}" for g, ms in members.items())
    sudo_only = sorted(set(held.accounts) - {m for ms in members.values() for m in ms})
    if sudo_only:
        listing += f"; sudo grants root to: {', '.join(sudo_only)}"
    if held.unexpanded:
        listing += f"; sudo grants root to groups: {', '.join(sorted(held.unexpanded))}"
    problems = []
    if uid0:
        problems.append(f"UID 0 besides root: {', '.join(uid0)}")
    if held.broad:
        problems.append("sudo grants root to everyone: " + "; ".join(held.broad[:3]))
    if allow is not None:
        extra = [m for m in everyone if m not in allow]
        observed["not_allowlisted"] = extra
        if extra:
            problems.append(f"privileged accounts not in e8_admin_allowlist: {', '.join(extra)}")
    unseen = sorted(p for p in held.unexpanded if allow is None or not registered(p, allow))
    if problems:
        outcome, evidence = Outcome.INEFFECTIVE, "; ".join(problems) + f" ({listing})"
    elif allow is None:
        outcome = Outcome.NO_VISIBILITY
        evidence = (
            f"no e8_admin_allowlist in the inventory, so dedicated privileged accounts cannot be "
            f"told apart; privileged: {listing}"
        )
    elif unseen:
        outcome = Outcome.NO_VISIBILITY
        evidence = (
            f"sudo grants root to {', '.join(unseen)}, whose members are not visible from the "
            f"host and which e8_admin_allowlist does not name ({listing})"
        )
    elif not everyone and not held.unexpanded:
        outcome = Outcome.NO_VISIBILITY
        evidence = f"no privileged account besides root was found to judge ({listing})"
    else:
        outcome = Outcome.EFFECTIVE
        evidence = (
            f"only root has UID 0; every account in the admin groups or granted root by sudo "
            f"is allowlisted ({listing})"
        )
    return [Finding(ism="ISM-0445", outcome=outcome, evidence=evidence, observed=observed)]


CHECK = Check(
    id="restrict_admin.linux_privileged_accounts",
    title="Linux administrative accounts are the designated privileged accounts",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-0445",),
    platforms=frozenset({Platform.LINUX}),
    collect={"passwd": PASSWD.cmd, "admin_groups": ADMIN_GROUPS.cmd, "sudoers": SUDOERS.cmd},
    judge=judge,
    version=2,  # v2: sudoers root grants count; an empty admin-group lookup is no_visibility
)
