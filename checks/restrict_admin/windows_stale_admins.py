"""Windows: are privileged accounts, local and domain, that have gone unused still enabled?

**Collected:** the same read-only PowerShell/ADSI snapshot as ``restrict_admin.windows_local_admins``
(built-in privileged groups by well-known SID; for members that are local user accounts, ADSI
``WinNT://`` ``UserFlags`` — bit 0x2 ACCOUNTDISABLE — and ``LastLogin``, converted on the host to
UTC ISO 8601, null when the account never logged on) plus ``Win32_OperatingSystem.ProductType``.
ADSI gives the same Disabled/SID facts as ``Win32_UserAccount`` in one pass, and never enumerates a
domain controller's whole directory as ``Win32_UserAccount -Filter "LocalAccount=True"`` would.

**Domain members, through the directory.** When the same run reads the host's domain (a
directory host, ``ansible_connection=ldap``; the check declares ``uses_directory``), each domain
group or account in a privileged local group is found in that domain's directory — by its SID
(the domain SID of the directory's domain object), else by the NetBIOS name Windows shows
(``CORP\\Domain Admins``) — and expanded through nested groups and ``primaryGroupID``
(``checks/restrict_admin/_joined.py``). Each enabled, unexpired domain account is judged as
``restrict_admin.directory_privileged_accounts`` judges it: ``lastLogonTimestamp`` may lag a real
logon by the domain's sync interval (``msDS-LogonTimeSyncInterval``, 14 days by default), so an
account is inactive for certain only beyond the limit plus that lag.

**ISM-1648** (ML2-3, privileged access disabled after 45 days of inactivity; the limit is
``policy.stale_privileged_days``):
- ineffective: an enabled local user account in Administrators, Account/Server/Print/Backup
  Operators or Hyper-V Administrators last logged on more than the limit before the collection
  time, or never logged on; or an enabled domain account reaching one of them whose
  ``lastLogonTimestamp`` is older than the limit plus the lag, or that never logged on and was
  created before the limit (named, with the date and the group chain);
- effective: every enabled privileged account — local, and domain accounts expanded through the
  directory — logged on within the limit (at least one account);
- no_visibility: a domain account or group (``CONTOSO\\Domain Admins``) whose domain was not read
  in the run — no directory, a directory of another domain, or one whose searches failed or were
  cut short ("domain accounts: not visible from the host; domain CONTOSO not read: …") — or that
  the directory does not hold (a foreign principal, a deleted object); a domain account whose
  timestamp lies between the limit and the limit plus the lag (read ``lastLogon`` on every DC to
  decide); an Entra ID principal, an unresolved SID or a nested local group; no enabled
  privileged account at all (an empty set is not evidence); or the read failed (PowerShell 2.0
  has no ``ConvertTo-Json``, access denied, timeout);
- not_applicable: a domain controller (``ProductType`` 2) has no local accounts; judge privileged
  domain accounts in the directory.

Caveats: ``LastLogin`` is what the local SAM recorded for logons it authenticated; a break-glass
account that is kept enabled but unused on purpose fails here and needs an exception in the
register. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, timedelta
from functools import partial

from checks.facts.fact import Unknown
from checks.facts.windows.accounts import PRIVILEGED_GROUPS, Accounts
from checks.facts.windows.dates import iso_time
from checks.restrict_admin._admins import DOMAIN_UNSEEN, unseen, unseen_text
from checks.restrict_admin._domain_accounts import Sorted, inactivity, label, lag_note
from checks.restrict_admin._joined import join
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def _judge(acc: Accounts, ctx: Context) -> Finding:
    limit = ctx.policy.stale_privileged_days
    if acc.domain_controller:
        return Finding(
            ism="ISM-1648",
            outcome=Outcome.NOT_APPLICABLE,
            evidence=(
                "domain controller: it has no local accounts; inactivity of privileged domain "
                "accounts is judged in the directory (lastLogonTimestamp), not on the host"
            ),
            observed={"product_type": acc.product_type},
        )
    now = ctx.collected_at if ctx.collected_at.tzinfo else ctx.collected_at.replace(tzinfo=UTC)
    cutoff = now - timedelta(days=limit)
    local: dict[str, str] = {}
    stale: list[str] = []
    disabled: set[str] = set()
    unparsed: list[str] = []
    hidden: dict[str, str] = {}
    domain_members = []
    for g in acc.privileged():
        for m in g.members:
            why = unseen(m)
            if why == DOMAIN_UNSEEN:
                domain_members.append((g, m))
                continue
            if why is not None:
                hidden[m.display] = why
                continue
            if m.disabled:
                disabled.add(m.display)
                continue
            if m.display in local:
                continue
            if m.flags is None:
                unparsed.append(f"{m.display} (account flags not readable)")
                continue
            seen = iso_time(m.last_login)
            if m.last_login and seen is None:
                unparsed.append(f"{m.display} ({m.last_login!r})")
                continue
            local[m.display] = m.last_login or "never"
            if seen is None:
                stale.append(f"{m.display} (never logged on)")
            elif seen < cutoff:
                days = (now - seen).days
                stale.append(
                    f"{m.display} (last logon {m.last_login}, {days} days before collection)"
                )
    joined = join(domain_members, ctx.directories, now)
    hidden.update(joined.hidden)
    dom = Sorted()
    notes = []
    for d, accts in joined.judged:
        dom += inactivity(accts, now, limit, d.domain, partial(label, domain=d.label))
        notes.append(f"{d.label}: {lag_note(d.domain)}")
    lag = f" ({'; '.join(notes)})" if notes else ""
    observed: dict[str, object] = {
        "limit_days": limit,
        "enabled_local_privileged": local,
        "disabled_local_privileged": sorted(disabled),
        "not_visible_members": hidden,
    }
    if joined.directories:
        observed["directories"] = joined.directories
        observed["domain_privileged"] = {
            "inactive": dom.failing,
            "maybe_inactive": dom.maybe,
            "active": dom.passing,
            "unknown": [u for u in dom.unknown if u not in dom.maybe],
            "disabled_or_expired": joined.inactive,
        }
    not_judged = f"; not judged here: {unseen_text(hidden)}" if hidden else ""
    seen_text = ", ".join(f"{k} ({v})" for k, v in sorted(local.items())) or "none"
    if stale or dom.failing:
        outcome = Outcome.INEFFECTIVE
        which = "" if dom.failing else "local "
        evidence = f"enabled {which}privileged accounts unused for more than {limit} days: "
        evidence += "; ".join(stale + dom.failing) + (lag if dom.failing else "") + not_judged
    elif unparsed:
        outcome = Outcome.NO_VISIBILITY
        evidence = f"last logon could not be read for: {', '.join(unparsed)}{not_judged}"
    elif dom.unknown:
        outcome = Outcome.NO_VISIBILITY
        evidence = (
            f"not determinable: {'; '.join(dom.unknown)}{lag}; read lastLogon on every domain "
            f"controller to decide{not_judged}"
        )
    elif hidden:
        # Domain members whose directory was not read (or who are not in it): their last
        # logon is unknown, so the control is too.
        outcome = Outcome.NO_VISIBILITY
        evidence = f"{unseen_text(hidden)}; enabled local privileged accounts: {seen_text}"
    elif not local and not dom.passing:
        outcome = Outcome.NO_VISIBILITY
        evidence = (
            "no enabled privileged account to judge: nothing shows privileged access being "
            f"disabled after {limit} days of inactivity"
            + (
                f" (disabled: {', '.join(sorted(disabled | set(joined.inactive)))})"
                if disabled or joined.inactive
                else ""
            )  # fmt: skip
        )
    elif dom.passing:
        outcome = Outcome.EFFECTIVE
        evidence = (
            f"every enabled privileged account logged on within {limit} days: local: "
            f"{seen_text}; domain: {'; '.join(dom.passing)}{lag}"
        )
    else:
        outcome = Outcome.EFFECTIVE
        evidence = (
            f"every enabled privileged account is local and logged on within {limit} days: "
            f"{seen_text}"
        )
    return Finding(ism="ISM-1648", outcome=outcome, evidence=evidence, observed=observed)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    acc = PRIVILEGED_GROUPS.read(outputs.get("groups"))
    why = acc.reason if isinstance(acc, Unknown) else None
    if not isinstance(acc, Unknown) and acc.product_type is None:
        why = "the OS product type was not reported"
    if why is not None or isinstance(acc, Unknown):
        return [
            Finding(
                ism="ISM-1648",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"local privileged accounts not read: {why}",
            )
        ]
    return [_judge(acc, ctx)]


CHECK = Check(
    id="restrict_admin.windows_stale_admins",
    title="Windows privileged accounts, local and domain, unused beyond the inactivity limit are disabled",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1648",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"groups": PRIVILEGED_GROUPS.cmd},
    judge=judge,
    version=3,  # v3: domain members judged through a directory read in the same run
    uses_directory=True,
)
