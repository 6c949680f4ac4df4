"""Windows: is an administrator account used for everyday work on an unprivileged workstation?

**Collected (read-only, PowerShell; works on 2.0 apart from the final ``ConvertTo-Json``):** the
local Administrators group (``S-1-5-32-544``) and the other built-in admin groups with their
members from ADSI ``WinNT://`` (the same snippet as ``restrict_admin.windows_local_admins``), and
the user profiles on the machine: ``Get-WmiObject Win32_UserProfile`` (SID, LocalPath, Loaded,
LastUseTime, Special). ``LastUseTime`` is a CIM datetime (``yyyymmddHHMMSS.ffffff+zzz``, offset
in minutes).

**ISM-1380** (ML1-3, privileged users use separate privileged and unprivileged operating
environments) — host-side part only. It is judged on unprivileged workstations
(``e8_role: workstation`` without ``e8_admin_host``). A *user* account that is a direct member of
the local Administrators group — not a group, not the built-in Administrator (RID 500), not a
LAPS-managed account, not in ``e8_admin_allowlist`` (where break-glass / LAPS accounts are
registered), not disabled — whose profile on this workstation is loaded or was last used within
``policy.stale_privileged_days`` of collection shows an administrator account doing everyday work
in the unprivileged environment.
- ineffective: such an account with a recently used profile (named, with the last-use date);
- effective: none (host-side part: the separate privileged environment itself — a secure admin
  workstation, jump host or virtualised admin environment — is not visible from this workstation);
- no_visibility: a read failed (access denied, PowerShell 2.0 without ``ConvertTo-Json``,
  timeout), or a candidate account's profile has no readable ``LastUseTime`` and is not loaded;
- not_applicable: servers (not a user's everyday environment) and admin hosts (``e8_admin_host``:
  a privileged operating environment, where the reverse concern — unprivileged accounts logging
  on — is ISM-1688, judged from logon rights in ``restrict_admin.windows_logon_rights``).

Caveats: members of groups nested in Administrators (for example ``CONTOSO\\Domain Admins``) are
not expanded, so a domain admin working on the workstation through such a group is not seen
(ISM-1689's deny-logon rights cover that case); ``LastUseTime`` is also updated by some
background activity on the profile (Windows updates, profile services), so "used" means the
profile was touched, and the evidence gives the date for the assessor. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.accounts import ADMINISTRATORS, PRIVILEGED_GROUPS, Accounts
from checks.facts.windows.user_profiles import USER_PROFILES, Profile
from checks.restrict_admin._admins import allowlisted, with_administrators
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def _finding(outcome: Outcome, text: str, observed: dict[str, Any]) -> Finding:
    return Finding(ism="ISM-1380", outcome=outcome, evidence=text, observed=observed)


def _judge_workstation(acc: Accounts, profiles: tuple[Profile, ...], ctx: Context) -> Finding:
    now = ctx.collected_at if ctx.collected_at.tzinfo else ctx.collected_at.replace(tzinfo=UTC)
    limit = ctx.policy.stale_privileged_days
    cutoff = now - timedelta(days=limit)
    by_sid = {p.sid: p for p in profiles if p.sid and not p.special}
    entries = ctx.profile.listed("e8_admin_allowlist") or []
    admins = next(g for g in acc.groups if g.sid == ADMINISTRATORS)
    recent: list[str] = []
    older: list[str] = []
    no_profile: list[str] = []
    unknown: list[str] = []
    excepted: list[str] = []
    groups = [m.display for m in admins.members if m.is_group]
    for m in admins.members:
        if m.is_group or m.orphaned or m.cls.lower() != "user":
            continue
        if m.builtin_admin or acc.laps_managed(m) or allowlisted(m, entries) or m.disabled:
            why = (
                "built-in RID 500"
                if m.builtin_admin
                else "LAPS-managed"
                if acc.laps_managed(m)
                else "disabled"
                if m.disabled
                else "allowlisted"
            )
            excepted.append(f"{m.display} ({why})")
            continue
        prof = by_sid.get((m.sid or "").upper())
        if prof is None:
            no_profile.append(m.display)
            continue
        used = prof.last_use
        path = prof.path
        if prof.loaded:
            recent.append(f"{m.display} (profile {path} loaded now)")
        elif used is None:
            unknown.append(f"{m.display} (profile {path}, LastUseTime {prof.last_use_text!r})")
        elif used >= cutoff:
            recent.append(f"{m.display} (profile {path} last used {used.date().isoformat()})")
        else:
            older.append(f"{m.display} (profile last used {used.date().isoformat()})")
    observed: dict[str, Any] = {
        "role": ctx.role,
        "limit_days": limit,
        "admin_users_recent_profile": recent,
        "admin_users_older_profile": older,
        "admin_users_no_profile": no_profile,
        "admin_users_unknown": unknown,
        "excepted": excepted,
        "groups_not_expanded": groups,
    }
    tail = f"; groups in Administrators not expanded: {', '.join(groups)}" if groups else ""
    if recent:
        return _finding(
            Outcome.INEFFECTIVE,
            "administrator accounts used for everyday work on this unprivileged workstation "
            f"(profile used within {limit} days): {', '.join(recent)}{tail}",
            observed,
        )
    if unknown:
        return _finding(
            Outcome.NO_VISIBILITY,
            f"profile last use not readable for administrator accounts: {', '.join(unknown)}{tail}",
            observed,
        )
    others = older + [f"{n} (no profile here)" for n in no_profile]
    detail = f" (other admin user accounts: {', '.join(others)})" if others else ""
    return _finding(
        Outcome.EFFECTIVE,
        "host-side part: no administrator user account (other than built-in, LAPS-managed, "
        f"allowlisted or disabled ones) used this workstation within {limit} days{detail}{tail}; "
        "the separate privileged environment itself is not visible from here",
        observed,
    )


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    admin_host = ctx.profile.e8_admin_host
    if admin_host:
        return [
            _finding(
                Outcome.NOT_APPLICABLE,
                "an admin host (e8_admin_host): a privileged operating environment; the reverse "
                "concern (unprivileged accounts logging on) is ISM-1688, judged from logon rights "
                "by restrict_admin.windows_logon_rights",
                {"role": ctx.role, "admin_host": True},
            )
        ]
    if ctx.role != "workstation":
        return [
            _finding(
                Outcome.NOT_APPLICABLE,
                f"e8_role {ctx.role}: not a user's everyday (unprivileged) operating environment; "
                "ISM-1380's host-side part is judged on workstations",
                {"role": ctx.role},
            )
        ]
    acc = with_administrators(outputs.get("groups"))
    if isinstance(acc, str):
        return [_finding(Outcome.NO_VISIBILITY, f"local group membership not read: {acc}", {})]
    profiles = USER_PROFILES.read(outputs.get("profiles"))
    if isinstance(profiles, Unknown):
        reason = f"user profiles not read: {profiles.reason}"
        return [_finding(Outcome.NO_VISIBILITY, reason, {})]
    return [_judge_workstation(acc, profiles, ctx)]


CHECK = Check(
    id="restrict_admin.windows_environment_separation",
    title="Windows administrator accounts are not used for everyday work on workstations",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1380",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"groups": PRIVILEGED_GROUPS.cmd, "profiles": USER_PROFILES.cmd},
    judge=judge,
    version=1,
)
