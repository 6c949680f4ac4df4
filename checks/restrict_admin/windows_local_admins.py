"""Windows: who holds standing membership of the local Administrators group and the other powerful
built-in groups, and is each one a registered, dedicated privileged account?

**Collected (read-only, PowerShell, works on 2.0 apart from the final ``ConvertTo-Json``):** the
built-in groups found by well-known SID and translated to their local (possibly localised) name —
Administrators ``S-1-5-32-544``, Account Operators ``-548``, Server Operators ``-549``, Print
Operators ``-550``, Backup Operators ``-551``, Hyper-V Administrators ``-578`` (judged), Remote
Desktop Users ``-555`` and Remote Management Users ``-580`` (reported only) — each with its members
from ADSI ``WinNT://`` (ADsPath, class, SID; ``UserFlags`` for local users). ADSI is used rather
than ``Get-LocalGroupMember`` because it exists on PowerShell 2.0 and lists orphaned SIDs instead
of throwing. Also the account names that a LAPS policy manages (``AdministratorAccountName``,
legacy ``AdminAccountName``, ``AutomaticAccountManagementNameOrPrefix``).

**ISM-0445** (ML1-3, privileged users have a dedicated privileged account): ``e8_admin_allowlist``
(list or comma-separated string) is the organisation's register of the accounts and groups allowed
in these groups on this host. Entries: ``DOMAIN\\name`` for domain accounts and groups (NetBIOS
domain, as Windows shows it), a bare ``name`` (or ``.\\name``) for local accounts, or an SID.
- ineffective: a member of a judged group is not in the allowlist (named in the evidence), or a
  broad principal (Everyone, Authenticated Users, INTERACTIVE, Users, Domain Users, Domain
  Computers …) is a member whatever the allowlist says; an orphaned SID (an ``S-1-5-21-…`` that no
  longer resolves) is listed as such and never counts as allowlisted. Microsoft Entra ID principals
  (``S-1-12-1-…``, e.g. the Global Administrator and device-administrator role SIDs that Entra join
  adds) also appear as bare SIDs but are not orphans: allowlist them by SID;
- no_visibility: no allowlist in the inventory ("the organisation's register of authorised admins
  is needed") — members are still listed in the evidence; or the read failed (PowerShell 2.0 has
  no ``ConvertTo-Json``, access denied, timeout);
- effective: every enabled member of every judged group is allowlisted. Disabled local accounts
  (``UserFlags`` bit 0x2) cannot log on; they are listed but do not fail the control.

**ISM-1649** (ML3, just-in-time administration), judged from the same snapshot of *standing*
membership (as essential-eight.md 2.4 puts it: standing members other than the LAPS-managed
built-in account and the PAM broker are findings):
- ineffective: an enabled user account other than the built-in Administrator (RID 500) or the
  LAPS-managed account holds standing membership of a judged group (orphaned SIDs and broad
  principals such as Everyone or Domain Users count too);
- no_visibility: the only other standing members are groups or Entra ID role principals (for
  example ``CONTOSO\\Domain Admins``, added to every domain member): whether their membership is
  granted just in time (time-bound group membership from a PAM tool, PIM for Groups or roles)
  lives in the directory, not on the host;
- effective: no standing member besides the built-in / LAPS-managed account. The just-in-time
  mechanism itself (request, approval, expiry) is organisational and not seen here.

Caveats: nested membership inside domain groups is not expanded (the directory holds it); a
domain controller's "local" groups are the domain's BUILTIN groups, so there the evidence is
domain-wide; user rights granted outside these groups (``SeDebugPrivilege``, ``SeBackupPrivilege``
assigned directly) are not read. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.windows.accounts import PRIVILEGED_GROUPS, Accounts, Member
from checks.restrict_admin._admins import allowlisted, with_administrators
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

REGISTER_NEEDED = "the organisation's register of authorised admins is needed"


def _listing(acc: Accounts) -> str:
    parts = []
    empty = []
    for g in acc.privileged() + acc.informational():
        names = [m.display + (" (disabled)" if m.disabled else "") for m in g.members]
        if names:
            parts.append(f"{g.label}: {', '.join(names)}")
        else:
            empty.append(g.label)
    if empty:
        parts.append(f"empty: {', '.join(empty)}")
    return "; ".join(parts) or "no built-in privileged group found"


def _ism_0445(acc: Accounts, allow: list[str] | None) -> Finding:
    listing = _listing(acc)
    judged = [(g, m) for g in acc.privileged() for m in g.members]
    broad = sorted({f"{m.broad} in {g.label}" for g, m in judged if m.broad})
    orphans = sorted({m.name for _, m in judged if m.orphaned})
    observed: dict[str, object] = {
        "computer": acc.computer,
        "groups": {
            g.label: [m.display for m in g.members] for g in acc.privileged() + acc.informational()
        },
        "orphaned_sids": orphans,
        "allowlist": allow,
    }
    problems = []
    if broad:
        problems.append(f"broad principals hold admin rights: {', '.join(broad)}")
    if allow is not None:
        extra = sorted(
            {
                m.display
                for _, m in judged
                if not m.disabled and not m.broad and not allowlisted(m, allow)
            }
        )
        observed["not_allowlisted"] = extra
        if extra:
            problems.append(f"members not in e8_admin_allowlist: {', '.join(extra)}")
    if problems:
        return Finding(
            ism="ISM-0445",
            outcome=Outcome.INEFFECTIVE,
            evidence="; ".join(problems) + f" ({listing})",
            observed=observed,
        )
    if allow is None:
        note = f"; orphaned SIDs: {', '.join(orphans)}" if orphans else ""
        return Finding(
            ism="ISM-0445",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"no e8_admin_allowlist in the inventory: {REGISTER_NEEDED} to tell dedicated "
                f"privileged accounts from everyday ones; members: {listing}{note}"
            ),
            observed=observed,
        )
    return Finding(
        ism="ISM-0445",
        outcome=Outcome.EFFECTIVE,
        evidence=f"every enabled member of the built-in privileged groups is allowlisted ({listing})",
        observed=observed,
    )


def _standing_exempt(acc: Accounts, m: Member) -> bool:
    return m.builtin_admin or acc.laps_managed(m)


def _ism_1649(acc: Accounts) -> Finding:
    judged = [(g, m) for g in acc.privileged() for m in g.members if not m.disabled]
    users = sorted(
        {
            f"{m.display} in {g.label}"
            for g, m in judged
            if (m.orphaned or m.broad or not m.is_group) and not _standing_exempt(acc, m)
        }
    )
    groups = sorted(
        {
            f"{m.display} in {g.label}"
            for g, m in judged
            if m.is_group and not m.orphaned and not m.broad
        }
    )
    exempt = sorted({m.display for _, m in judged if _standing_exempt(acc, m)})
    observed: dict[str, object] = {
        "standing_accounts": users,
        "standing_groups": groups,
        "builtin_or_laps_managed": exempt,
    }
    if users:
        return Finding(
            ism="ISM-1649",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"accounts hold standing admin membership (not just in time): {', '.join(users)}; "
                f"only the built-in / LAPS-managed account is expected to be standing"
            ),
            observed=observed,
        )
    if groups:
        return Finding(
            ism="ISM-1649",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"groups or directory roles hold standing admin membership: {', '.join(groups)}; "
                f"whether their own membership is granted just in time (time-bound membership from "
                f"a PAM tool, PIM for Groups or Entra roles) is in the directory, not visible from "
                f"the host"
            ),
            observed=observed,
        )
    held = f" ({', '.join(exempt)})" if exempt else ""
    return Finding(
        ism="ISM-1649",
        outcome=Outcome.EFFECTIVE,
        evidence=(
            f"no standing member of the built-in privileged groups besides the built-in / "
            f"LAPS-managed account{held}; the just-in-time process itself is organisational"
        ),
        observed=observed,
    )


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    acc = with_administrators(outputs.get("groups"))
    if isinstance(acc, str):
        reason = f"local group membership not read: {acc}"
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason) for i in CHECK.ism]
    return [_ism_0445(acc, ctx.profile.listed("e8_admin_allowlist")), _ism_1649(acc)]


CHECK = Check(
    id="restrict_admin.windows_local_admins",
    title="Windows local Administrators and other built-in admin groups hold only registered accounts",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-0445", "ISM-1649"),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"groups": PRIVILEGED_GROUPS.cmd},
    judge=judge,
    version=1,
)
