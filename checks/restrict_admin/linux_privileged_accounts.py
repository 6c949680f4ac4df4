"""Linux: who holds administrative privilege, and is each one a designated privileged account?

**Collected (read-only, no root):** ``/etc/passwd`` reduced to name, UID, primary GID and shell
(UID-0 accounts and primary-group members), and ``getent group sudo wheel admin``
(the groups that Debian/Ubuntu and the RHEL family grant full sudo to by default).

**Mapped to ISM-0445** (ML1-3, privileged users have a dedicated privileged account used only for
privileged duties): the inventory variable ``e8_admin_allowlist`` (a list, or a comma-separated
string) is the organisation's register of the dedicated privileged accounts allowed on this host.
- ineffective: an account other than ``root`` has UID 0 (an undedicated, unattributable root
  equivalent; ComplianceAsCode ``accounts_no_uid_except_zero``) — whatever the allowlist says; or
  a member of sudo/wheel/admin (listed in the group or having it as primary group) is not in the
  allowlist, i.e. an everyday or unregistered account holds standing admin rights;
- no_visibility: no allowlist in the inventory — the scanner cannot know which members are
  dedicated privileged accounts, so the evidence lists them for the assessor; or ``getent``
  failed;
- effective: only root has UID 0 and every admin-group member is allowlisted (``getent``
  printing none of sudo/wheel/admin is an unread lookup, no_visibility).

Not mapped: ISM-1649 (just-in-time administration, ML3) — one snapshot of group membership
cannot tell a just-in-time grant from a standing one; ISM-1508 is organisational. Caveats: sudo
rights granted in sudoers to other users or groups (including directory groups) are not counted
here (see ``restrict_admin.linux_sudo_policy``); accounts that exist only in a directory
(SSSD/LDAP) are not in ``/etc/passwd``, so a directory account with UID 0 is not seen.
Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.accounts import ADMIN_GROUPS, PASSWD, admin_members
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    accounts = PASSWD.read(outputs.get("passwd"))
    groups = ADMIN_GROUPS.read(outputs.get("admin_groups"))
    if isinstance(accounts, Unknown):
        return [Finding(ism="ISM-0445", outcome=Outcome.NO_VISIBILITY, evidence=accounts.reason)]
    if isinstance(groups, Unknown):
        return [Finding(ism="ISM-0445", outcome=Outcome.NO_VISIBILITY, evidence=groups.reason)]
    uid0 = [a.name for a in accounts if a.uid == 0 and a.name != "root"]
    members = admin_members(accounts, groups)
    everyone = sorted({m for ms in members.values() for m in ms})
    allow = ctx.profile.listed("e8_admin_allowlist")
    observed: dict[str, object] = {
        "uid0_besides_root": uid0,
        "admin_groups": members,
        "allowlist": allow,
    }
    listing = "; ".join(f"{g}: {', '.join(ms) or '(empty)'}" for g, ms in members.items())
    listing = listing or "no sudo/wheel/admin group"
    problems = []
    if uid0:
        problems.append(f"UID 0 besides root: {', '.join(uid0)}")
    if allow is not None:
        extra = [m for m in everyone if m not in allow]
        observed["not_allowlisted"] = extra
        if extra:
            problems.append(f"admin-group members not in e8_admin_allowlist: {', '.join(extra)}")
    if problems:
        outcome, evidence = Outcome.INEFFECTIVE, "; ".join(problems) + f" ({listing})"
    elif allow is None:
        outcome = Outcome.NO_VISIBILITY
        evidence = (
            f"no e8_admin_allowlist in the inventory, so dedicated privileged accounts cannot be "
            f"told apart; members: {listing}"
        )
    else:
        outcome = Outcome.EFFECTIVE
        evidence = f"only root has UID 0; every admin-group member is allowlisted ({listing})"
    return [Finding(ism="ISM-0445", outcome=outcome, evidence=evidence, observed=observed)]


CHECK = Check(
    id="restrict_admin.linux_privileged_accounts",
    title="Linux administrative accounts are the designated privileged accounts",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-0445",),
    platforms=frozenset({Platform.LINUX}),
    collect={"passwd": PASSWD.cmd, "admin_groups": ADMIN_GROUPS.cmd},
    judge=judge,
    version=2,  # v2: an empty admin-group lookup is no_visibility
)
