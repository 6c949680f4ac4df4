"""Linux: may unprivileged accounts log on to admin hosts, and privileged accounts to other hosts, over SSH?

**Collected:** the effective sshd configuration ``sshd -T`` (root, through ``sudo -n``);
``/etc/passwd`` reduced to name, UID, primary GID and shell, and ``getent group sudo wheel admin``
(the groups Debian/Ubuntu and the RHEL family grant full sudo to; members listed in the group or
having it as primary group); the non-comment lines of ``/etc/security/access.conf`` (reported
only).

**Which host is which** (inventory): ``e8_admin_host: true`` marks a privileged operating
environment (jump host, admin server); every other host (``e8_role: workstation``, and servers
that are not admin hosts) is treated as an unprivileged operating environment.
``e8_admin_allowlist`` (list or comma-separated string) names the dedicated privileged accounts
or groups allowed to log on to admin hosts, and, on other hosts, the local break-glass accounts
that ISM-1689 excepts.

**ISM-1688** (ML1-3, unprivileged accounts cannot log on to privileged operating environments),
on admin hosts only (elsewhere not_applicable):
- effective: sshd ``AllowGroups`` names only sudo/wheel/admin or allowlisted groups, or
  ``AllowUsers`` names only ``root``, allowlisted accounts or members of those admin groups (when
  both are set, a login must pass both, so one restrictive list is enough);
- ineffective: neither is set (any account may log in over SSH), or a list admits a non-admin
  group or account, or uses a wildcard pattern (named in the evidence);
- no_visibility: ``sshd -T`` refused or failed, or there is no OpenSSH sshd (the host is still
  reached over SSH — dropbear on BusyBox systems — so that is not "no SSH logon path").

**ISM-1689** (ML1-3, privileged accounts, local administrator accounts excepted, cannot log on to
unprivileged operating environments), on hosts that are not admin hosts (on admin hosts
not_applicable):
- effective: ``PermitRootLogin no`` and every member of sudo/wheel/admin is either denied by sshd
  (its group in ``DenyGroups``, or the account in ``DenyUsers``) or an allowlisted local
  break-glass account;
- ineffective: sshd permits root login (``yes``, ``prohibit-password``, ``forced-commands-only``),
  or an admin-group member that is not allowlisted can log in over SSH;
- no_visibility: ``sshd -T`` refused or failed or no OpenSSH sshd, or ``/etc/passwd`` / the
  groups could not be read (``getent`` printing none of sudo/wheel/admin counts as unread),
  or admin-group members may log in and there is no ``e8_admin_allowlist`` to tell excepted
  break-glass accounts from other privileged accounts (the members are listed).

**Partly:** only the SSH logon path is judged, which is the host-side part the scan can show.
Console and local (getty, display manager) logons, and access managed in the directory or PAM —
SSSD ``simple_allow_groups`` / ``ad_gpo_access_control``, ``pam_access`` with
``/etc/security/access.conf`` (its rules are reported in ``observed``, not judged), FreeIPA HBAC —
are not judged. ``sshd -T`` without ``-C`` does not evaluate ``Match`` blocks, so a ``Match`` that
widens or narrows logins is missed; nested or directory group membership beyond what ``getent``
prints is not expanded. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.accounts import ADMIN_GROUP_NAMES, ADMIN_GROUPS, PASSWD, admin_members
from checks.facts.linux.pam import ACCESS_CONF
from checks.facts.linux.sshd import SSHD, Sshd
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISMS = ("ISM-1688", "ISM-1689")
_WILDCARD = set("*?[!")
# No OpenSSH sshd is not evidence of no SSH logon path: the host was reached over SSH (dropbear
# on BusyBox systems), and console logons are not judged either.
NO_SSHD = (
    "no OpenSSH sshd binary, yet the host is reached over SSH (dropbear or another server?): "
    "its logon restrictions were not read, and console logons are not judged"
)


def _access_rules(out: Output | None) -> list[str]:
    rules = ACCESS_CONF.read(out)
    return [] if isinstance(rules, Unknown) else rules[:20]


def _not_applicable(ism: str, text: str, observed: dict[str, object]) -> Finding:
    return Finding(ism=ism, outcome=Outcome.NOT_APPLICABLE, evidence=text, observed=observed)


def _ism_1688(
    conf: Sshd | None,
    missing: bool,
    why: str | None,
    members: dict[str, list[str]] | None,
    allow: list[str],
    observed: dict[str, object],
) -> Finding:
    if missing:
        return Finding(
            ism="ISM-1688", outcome=Outcome.NO_VISIBILITY, evidence=NO_SSHD, observed=observed
        )
    if conf is None:
        return Finding(
            ism="ISM-1688",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"sshd configuration not readable: {why}",
            observed=observed,
        )
    allow_groups = conf.entries("allowgroups")
    allow_users = conf.entries("allowusers")
    observed.update(allowgroups=allow_groups, allowusers=allow_users)
    ok_groups = {g.lower() for g in ADMIN_GROUP_NAMES} | {a.lower() for a in allow}
    admin_people = {m.lower() for ms in (members or {}).values() for m in ms}
    ok_users = {"root"} | {a.lower() for a in allow} | admin_people

    bad_groups = [g for g in allow_groups if g.lower() not in ok_groups or _WILDCARD & set(g)]
    bad_users = [
        u
        for u in allow_users
        if u.split("@", 1)[0].lower() not in ok_users or _WILDCARD & set(u.split("@", 1)[0])
    ]
    groups_restrict = bool(allow_groups) and not bad_groups
    users_restrict = bool(allow_users) and not bad_users
    note = "; console logons and directory/PAM access rules are not judged"
    if groups_restrict or users_restrict:
        what = []
        if groups_restrict:
            what.append(f"AllowGroups {' '.join(allow_groups)}")
        if users_restrict:
            what.append(f"AllowUsers {' '.join(allow_users)}")
        return Finding(
            ism="ISM-1688",
            outcome=Outcome.EFFECTIVE,
            evidence=f"host-side part: sshd admits only admin accounts ({'; '.join(what)}){note}",
            observed=observed,
        )
    unknown = [u for u in bad_users if u.split("@", 1)[0].lower() not in ok_users]
    if members is None and allow_users and not allow_groups and bad_users == unknown:
        return Finding(
            ism="ISM-1688",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"AllowUsers {' '.join(allow_users)} names accounts whose admin-group membership "
                "could not be read"
            ),
            observed=observed,
        )
    if not allow_groups and not allow_users:
        text = (
            "sshd sets neither AllowGroups nor AllowUsers, so any account may log in over SSH to "
            "this admin host"
        )
    else:
        text = "sshd admits accounts that are not admin accounts: " + "; ".join(
            ([f"AllowGroups {', '.join(bad_groups)}"] if bad_groups else [])
            + ([f"AllowUsers {', '.join(bad_users)}"] if bad_users else [])
        )
    return Finding(ism="ISM-1688", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed)


def _ism_1689(
    conf: Sshd | None,
    missing: bool,
    why: str | None,
    members: dict[str, list[str]] | None,
    groups_why: str | None,
    allow: list[str] | None,
    observed: dict[str, object],
) -> Finding:
    if conf is None and not missing:
        return Finding(
            ism="ISM-1689",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"sshd configuration not readable: {why}",
            observed=observed,
        )
    note = "; console logons and directory/PAM access rules are not judged"
    if missing:
        return Finding(
            ism="ISM-1689", outcome=Outcome.NO_VISIBILITY, evidence=NO_SSHD, observed=observed
        )
    assert conf is not None
    root = conf.value("permitrootlogin", default="unknown")
    deny_groups = {g.lower() for g in conf.entries("denygroups")}
    deny_users = {u.split("@", 1)[0].lower() for u in conf.entries("denyusers")}
    observed.update(
        permitrootlogin=root, denygroups=sorted(deny_groups), denyusers=sorted(deny_users)
    )
    problems: list[str] = []
    if root != "no":
        problems.append(f"sshd allows direct root login (PermitRootLogin {root})")
    if members is None:
        if problems:
            return Finding(
                ism="ISM-1689",
                outcome=Outcome.INEFFECTIVE,
                evidence="; ".join(problems),
                observed=observed,
            )
        return Finding(
            ism="ISM-1689",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"PermitRootLogin no, but admin-group membership not read: {groups_why}",
            observed=observed,
        )
    allowed = {a.lower() for a in (allow or [])}
    can_log_in = sorted(
        {
            m
            for g, ms in members.items()
            if g.lower() not in deny_groups
            for m in ms
            if m.lower() not in deny_users and m.lower() not in allowed
        }
    )
    excepted = sorted({m for ms in members.values() for m in ms if m.lower() in allowed})
    observed.update(admin_members_not_denied=can_log_in, allowlisted_break_glass=excepted)
    listing = "; ".join(f"{g}: {', '.join(ms) or '(empty)'}" for g, ms in members.items())
    listing = listing or "no sudo/wheel/admin group"
    if can_log_in and allow is not None:
        problems.append(
            "admin-group members that are not allowlisted break-glass accounts may log in over "
            f"SSH (not in DenyGroups/DenyUsers): {', '.join(can_log_in)}"
        )
    if problems:
        return Finding(
            ism="ISM-1689",
            outcome=Outcome.INEFFECTIVE,
            evidence="; ".join(problems) + f" ({listing})",
            observed=observed,
        )
    if can_log_in:
        return Finding(
            ism="ISM-1689",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                "PermitRootLogin no, but admin-group members may log in over SSH and there is no "
                "e8_admin_allowlist to tell excepted local break-glass accounts from other "
                f"privileged accounts: {', '.join(can_log_in)} ({listing})"
            ),
            observed=observed,
        )
    denied = sorted(g for g in members if g.lower() in deny_groups)
    how = f"DenyGroups covers {', '.join(denied)}; " if denied else ""
    return Finding(
        ism="ISM-1689",
        outcome=Outcome.EFFECTIVE,
        evidence=(
            f"host-side part: PermitRootLogin no; {how}no admin-group member besides allowlisted "
            f"break-glass accounts may log in over SSH ({listing}){note}"
        ),
        observed=observed,
    )


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    admin_host = ctx.profile.e8_admin_host
    observed: dict[str, object] = {
        "role": ctx.role,
        "admin_host": admin_host,
        "access_conf_rules_not_judged": _access_rules(outputs.get("access_conf")),
    }
    sshd = SSHD.read(outputs.get("sshd"))
    why = sshd.reason if isinstance(sshd, Unknown) else None
    conf = sshd if isinstance(sshd, Sshd) and sshd.installed else None
    missing = isinstance(sshd, Sshd) and not sshd.installed
    accounts = PASSWD.read(outputs.get("passwd"))
    groups = ADMIN_GROUPS.read(outputs.get("admin_groups"))
    groups_why = next((r.reason for r in (accounts, groups) if isinstance(r, Unknown)), None)
    members = (
        admin_members(accounts, groups)
        if not isinstance(accounts, Unknown) and not isinstance(groups, Unknown)
        else None
    )
    observed["admin_groups"] = members
    allow = ctx.profile.listed("e8_admin_allowlist")
    if admin_host:
        f1688 = _ism_1688(conf, missing, why, members, allow or [], dict(observed))
        f1689 = _not_applicable(
            "ISM-1689",
            "a privileged operating environment (e8_admin_host); ISM-1689 is judged on "
            "workstations and on servers that are not admin hosts",
            dict(observed),
        )
    else:
        f1688 = _not_applicable(
            "ISM-1688",
            f"not a privileged operating environment (e8_role {ctx.role}, no e8_admin_host); "
            "ISM-1688 is judged on admin hosts",
            dict(observed),
        )
        f1689 = _ism_1689(conf, missing, why, members, groups_why, allow, dict(observed))
    return [f1688, f1689]


CHECK = Check(
    id="restrict_admin.linux_logon_separation",
    title="Linux SSH logons keep privileged and unprivileged operating environments apart",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=ISMS,
    platforms=frozenset({Platform.LINUX}),
    collect={
        "sshd": SSHD.cmd,
        "passwd": PASSWD.cmd,
        "admin_groups": ADMIN_GROUPS.cmd,
        "access_conf": ACCESS_CONF.cmd,
    },
    # ISM-1688 rests on sshd alone: AllowGroups/AllowUsers are what restrict logons; the admin
    # groups only widen which AllowUsers entries count as admins (unread, fewer count). ISM-1689
    # needs the admin-group members too. access.conf rules are reported, never judged.
    rests_on={"ISM-1688": ("sshd",), "ISM-1689": ("sshd", "passwd", "admin_groups")},
    judge=judge,
    version=2,  # v2: no sshd, or no admin group listed, is no_visibility
)
