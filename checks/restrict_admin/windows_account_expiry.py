"""Windows: do enabled privileged accounts, local and domain, expire within 12 months?

**Collected (read-only PowerShell/ADSI):** the privileged-group snapshot shared with
``restrict_admin.windows_local_admins`` (built-in powerful groups by well-known SID, their members,
``UserFlags`` of local members) and, in a second step, every local user account of the SAM
(ADSI ``WinNT://<computer>``: name, SID, ``UserFlags`` and ``AccountExpirationDate`` converted on
the host to UTC; an unset expiry throws on read and is reported as null = never). The second step
skips domain controllers, whose ``WinNT://`` provider would list the whole domain.

**Domain members, through the directory.** When the same run reads the host's domain (the
check declares ``uses_directory``), each domain group or account in a privileged local group is
found in that domain's directory (by SID, else by the NetBIOS name Windows shows) and expanded
through nested groups and ``primaryGroupID`` (``checks/restrict_admin/_joined.py``); each enabled,
unexpired domain account is judged on ``accountExpires`` as
``restrict_admin.directory_privileged_accounts`` judges it.

**ISM-1647** (ML2-3, privileged access disabled after 12 months unless revalidated):
- ineffective: an enabled local user account in Administrators, Account/Server/Print/Backup
  Operators or Hyper-V Administrators has no expiry, or an expiry more than 365 days after the
  collection time; or an enabled domain account reaching one of them never expires
  (``accountExpires`` 0 or never) or expires beyond 12 months (named, with the date and the
  group chain);
- effective: every enabled privileged account — local (a disabled built-in Administrator does not
  count), and domain accounts expanded through the directory — expires within 365 days (at
  least one account);
- not_applicable: a domain controller (``ProductType`` 2) has no local accounts; judge the expiry
  of privileged domain accounts in the directory;
- no_visibility: a read failed (PowerShell 2.0 has no ``ConvertTo-Json``, access denied), or a
  privileged local account is missing from the account list; or a domain account or group
  (``CONTOSO\\Domain Admins``) whose domain was not read in the run (no directory, a directory of
  another domain, or one whose searches failed or were cut short: "domain accounts: not visible
  from the host; domain CONTOSO not read: …"), or that the directory does not hold, or whose
  ``accountExpires`` is not readable; an Entra ID principal, an unresolved SID or a nested local
  group; or there is no enabled privileged account at all (an empty set is not evidence).

A LAPS-managed built-in account that is revalidated another way needs an exception in the
register. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, timedelta
from functools import partial

from checks.facts.fact import Unknown
from checks.facts.windows.accounts import PRIVILEGED_GROUPS
from checks.facts.windows.local_accounts import LOCAL_ACCOUNTS
from checks.restrict_admin._admins import DOMAIN_UNSEEN, unseen, unseen_text
from checks.restrict_admin._domain_accounts import Sorted, expiry, label
from checks.restrict_admin._joined import join
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

LIMIT = timedelta(days=365)


def _nv(why: str) -> list[Finding]:
    return [Finding(ism="ISM-1647", outcome=Outcome.NO_VISIBILITY, evidence=why)]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    acc = PRIVILEGED_GROUPS.read(outputs.get("groups"))
    if isinstance(acc, Unknown):
        return _nv(f"privileged groups not read: {acc.reason}")
    if acc.domain_controller:
        return [
            Finding(
                ism="ISM-1647",
                outcome=Outcome.NOT_APPLICABLE,
                evidence="domain controller: no local accounts; judge the expiry of privileged "
                "domain accounts in the directory",
            )
        ]
    local = LOCAL_ACCOUNTS.read(outputs.get("expiry"))
    if isinstance(local, Unknown):
        return _nv(f"local account expiry not read: {local.reason}")
    by_sid = {u.sid: u for u in local.users}
    by_name = {u.name.lower(): u for u in by_sid.values()}
    now = ctx.collected_at if ctx.collected_at.tzinfo else ctx.collected_at.replace(tzinfo=UTC)
    limit = now + LIMIT
    bad: list[str] = []
    ok: list[str] = []
    missing: list[str] = []
    hidden: dict[str, str] = {}
    domain_members = []
    for group in acc.privileged():
        for m in group.members:
            why = unseen(m)
            if why == DOMAIN_UNSEEN:
                domain_members.append((group, m))
                continue
            if why is not None:
                hidden[m.display] = why
                continue
            if m.disabled:
                continue
            u = by_sid.get((m.sid or "").upper()) or by_name.get(m.name.lower())
            if u is None:
                missing.append(m.display)
                continue
            if u.flags is not None and u.flags & 0x2:
                continue
            expires = u.expires
            label_ = f"{m.display} ({group.label})"
            if expires is None:
                bad.append(f"{label_}: never expires")
            elif expires > limit:
                bad.append(f"{label_}: expires {expires:%Y-%m-%d}, beyond 12 months")
            else:
                ok.append(f"{label_}: expires {expires:%Y-%m-%d}")
    joined = join(domain_members, ctx.directories, now)
    hidden.update(joined.hidden)
    dom = Sorted()
    for d, accts in joined.judged:
        dom += expiry(accts, now, partial(label, domain=d.label))
    observed: dict[str, object] = {
        "non_expiring_or_late": sorted(set(bad))[:20],
        "expiring": sorted(set(ok))[:20],
        "not_visible_members": hidden,
    }
    if joined.directories:
        observed["directories"] = joined.directories
        observed["domain_privileged"] = {
            "beyond_12_months": dom.failing[:20],
            "within_12_months": dom.passing[:20],
            "unknown": dom.unknown[:20],
            "disabled_or_expired": joined.inactive[:20],
        }
    tail = f"; not judged here (expiry lives in AD): {unseen_text(hidden)}" if hidden else ""
    if bad or dom.failing:
        outcome = Outcome.INEFFECTIVE
        text = "; ".join((sorted(set(bad)) + dom.failing)[:6]) + tail
        if dom.failing:
            text = f"privileged accounts not expiring within 12 months: {text}"
    elif missing:
        outcome = Outcome.NO_VISIBILITY
        text = f"privileged local accounts not in the account list: {', '.join(missing[:6])}{tail}"
    elif dom.unknown:
        outcome = Outcome.NO_VISIBILITY
        text = f"accountExpires not readable for: {', '.join(dom.unknown[:6])}{tail}"
    elif hidden:
        # The expiry of domain accounts lives in the directory; until it is read, the control
        # cannot be shown working on a host whose admins include domain accounts.
        outcome = Outcome.NO_VISIBILITY
        text = unseen_text(hidden)
        text += f"; local: {'; '.join(sorted(set(ok))[:6])}" if ok else ""
    elif dom.passing:
        outcome = Outcome.EFFECTIVE
        text = "every enabled privileged account expires within 12 months: "
        text += "; ".join((sorted(set(ok)) + dom.passing)[:8])
        text += f" ({len(set(ok)) + len(dom.passing)} accounts)"
    elif ok:
        outcome = Outcome.EFFECTIVE
        text = "every enabled privileged account is local and expires within 12 months: "
        text += "; ".join(sorted(set(ok))[:6])
    else:
        outcome = Outcome.NO_VISIBILITY
        text = (
            "no enabled privileged account to judge: nothing shows privileged access being "
            "disabled after 12 months"
        )
    return [Finding(ism="ISM-1647", outcome=outcome, evidence=text, observed=observed)]


CHECK = Check(
    id="restrict_admin.windows_account_expiry",
    title="Windows privileged accounts (local, and domain ones through the directory) expire within 12 months",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1647",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"groups": PRIVILEGED_GROUPS.cmd, "expiry": LOCAL_ACCOUNTS.cmd},
    judge=judge,
    version=3,  # v3: domain members judged through a directory read in the same run
    uses_directory=True,
)
