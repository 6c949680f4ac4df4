"""Active Directory: are the domain's privileged accounts lapsing when unused, expiring, and kept off email?

**Collected (read-only LDAP searches over LDAPS, as an ordinary domain user):** the domain object
(its SID and ``msDS-LogonTimeSyncInterval``), every group (SID, name, ``member``), every user
account (name, SID, ``primaryGroupID``, ``userAccountControl``, ``lastLogonTimestamp``,
``accountExpires``, ``whenCreated``, ``mail``, ``proxyAddresses``, ``msExchRecipientTypeDetails``,
``msExchMailboxGuid``, ``adminCount``) and every computer account (a computer can be a member of
a privileged group too).

**Who is privileged:** the transitive members — through nested groups and ``primaryGroupID`` —
of Domain Admins, Enterprise Admins, Schema Admins, Administrators, Account/Server/Backup/Print
Operators, DnsAdmins, Group Policy Creator Owners and the site's ``e8_privileged_groups``; the
groups are found by SID, so a renamed or localised group still counts
(``checks/facts/directory/privileged.py``). ``adminCount`` is only shown, never trusted: SDProp sets
it and nothing clears it. Disabled accounts, and accounts past their ``accountExpires``, hold no
access and are not judged.

**ISM-1648** (ML2-3, privileged access disabled after 45 days of inactivity; the policy's
``stale_privileged_days``): ``lastLogonTimestamp`` is replicated only when it is older than the
domain's sync interval (14 days by default, less a random 0-5), so it may lag a real logon by up
to that interval; the evidence states it.
- ineffective: an enabled privileged account whose ``lastLogonTimestamp`` is older than 45 days
  plus the sync interval (inactive for certain), or that never logged on and was created more
  than 45 days before the collection;
- no_visibility: an account whose timestamp is between 45 days and 45 days plus the interval (it
  may have logged on since, on a DC that has not replicated it: read ``lastLogon`` on every DC to
  decide), an account whose creation date is not readable, or a privileged group member that is
  not among the objects read (a foreign principal from a trusted domain, another domain's
  account);
- effective: every enabled privileged account logged on within 45 days.

**ISM-1647** (ML2-3, privileged access disabled after 12 months unless revalidated):
ineffective when an enabled privileged account never expires (``accountExpires`` 0 or never) or
expires more than 12 months after the collection; effective when every one expires within 12
months; no_visibility when an expiry is not readable or a member is not resolvable. Revalidation
by other means is organisational: record it as an exception.

**ISM-1175** (ML1-3, privileged accounts kept off the internet, email and web services):
ineffective when an enabled privileged account has a mailbox or an address (``mail``,
``proxyAddresses``, ``msExchRecipientTypeDetails``, ``msExchMailboxGuid``). Without one the outcome
is no_visibility: the directory shows the email half only; web and internet access are a matter
of the hosts and the proxy.

**ISM-1649** (ML3, just-in-time administration): ineffective when an enabled account other than
the built-in Administrator (RID 500, the break-glass account) holds standing membership of a
privileged group; effective when none does. Time-bound memberships (the PAM feature's TTL links)
are not read, so a site using them should record an exception — stated, not guessed.

Not judged here, with the reason (essential-eight.md RA-02 and MF): whether privileged users
have a dedicated account (ISM-0445) needs the organisation's list of people; smart card required
(``userAccountControl`` 0x40000) on privileged accounts says nothing about remote and network
logons, so it is not taken as MFA evidence. Evidence grade: good (the directory's own records).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from checks.facts.directory.objects import ACCOUNTS, COMPUTERS, DOMAIN, GROUPS, NETBIOS, Domain
from checks.facts.directory.privileged import PrivilegedAccount, resolve, rid
from checks.facts.fact import Unknown
from checks.restrict_admin._domain_accounts import expiry, holds_access, inactivity, label, lag_note
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISMS = ("ISM-1648", "ISM-1647", "ISM-1175", "ISM-1649")
MAIL_ATTRIBUTES = ("mail", "proxyAddresses", "msExchRecipientTypeDetails", "msExchMailboxGuid")


def _stale(accts: list[PrivilegedAccount], now: datetime, limit: int, dom: Domain) -> Finding:
    got = inactivity(accts, now, limit, dom)
    certain, maybe, recent = got.failing, got.maybe, got.passing
    blind = [u for u in got.unknown if u not in maybe]
    note = lag_note(dom)
    observed: dict[str, object] = {
        "inactive": certain,
        "maybe_inactive": maybe,
        "active": recent,
        "unknown": blind,
        "limit_days": limit,
        "sync_interval_days": dom.sync_days,
    }
    if certain:
        text = (
            f"enabled privileged accounts inactive for more than {limit} days: "
            f"{'; '.join(certain)} ({note})"
        )
        return Finding(
            ism="ISM-1648", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed
        )
    if maybe or blind:
        text = (
            f"not determinable: {'; '.join(maybe + blind)} — {note}; read lastLogon on every "
            f"domain controller to decide"
        )
        return Finding(
            ism="ISM-1648", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    text = f"every enabled privileged account logged on within {limit} days: {'; '.join(recent)} ({note})"
    return Finding(ism="ISM-1648", outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)


def _expiry(accts: list[PrivilegedAccount], now: datetime) -> Finding:
    got = expiry(accts, now)
    late, fine, blind = got.failing, got.passing, got.unknown
    observed = {"beyond_12_months": late, "within_12_months": fine, "unknown": blind}
    note = "; revalidation by other means is organisational (record it as an exception)"
    if late:
        text = f"privileged accounts not expiring within 12 months: {'; '.join(late)}{note}"
        return Finding(
            ism="ISM-1647", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed
        )
    if blind:
        text = f"accountExpires not readable for: {', '.join(blind)}"
        return Finding(
            ism="ISM-1647", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    text = f"every enabled privileged account expires within 12 months: {'; '.join(fine)}"
    return Finding(ism="ISM-1647", outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)


def _mail(accts: list[PrivilegedAccount]) -> Finding:
    mailed = []
    for a in accts:
        shown = [f"{n}={a.entry.all(n)[0]}" for n in MAIL_ATTRIBUTES if a.entry.all(n)]
        if shown:
            mailed.append(f"{label(a)} ({', '.join(shown)})")
    observed = {"with_mail": mailed, "checked": [a.name for a in accts]}
    if mailed:
        text = f"privileged accounts with a mailbox or email address: {'; '.join(mailed)}"
        return Finding(
            ism="ISM-1175", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed
        )
    text = (
        f"no enabled privileged account has a mailbox or address ({len(accts)} checked); "
        f"internet and web access are not visible from the directory"
    )
    return Finding(ism="ISM-1175", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed)


def _standing(accts: list[PrivilegedAccount]) -> Finding:
    standing = [label(a) for a in accts if rid(a.entry.first("objectSid")) != 500]
    observed = {"standing_enabled": standing}
    if standing:
        text = (
            "enabled accounts hold standing membership of privileged groups (not just in time): "
            + "; ".join(standing)
            + " (time-bound memberships are not read)"
        )
        return Finding(
            ism="ISM-1649", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed
        )
    text = "no enabled standing member of a privileged group besides the built-in Administrator"
    return Finding(ism="ISM-1649", outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)


def _unresolved(f: Finding, unresolved: list[str]) -> Finding:
    """Members that are not among the objects read cannot be judged: an effective verdict on the
    rest is not one on the domain's privileged accounts."""
    observed = {**f.observed, "members_not_resolved": unresolved}
    if not unresolved or f.outcome is Outcome.INEFFECTIVE:
        return f.model_copy(update={"observed": observed})
    text = (
        f"privileged group members not among the objects read (another domain, a foreign "
        f"principal): {', '.join(unresolved[:5])}{' …' if len(unresolved) > 5 else ''}"
    )
    evidence = (
        f"{text}; {f.evidence}"
        if f.outcome is Outcome.NO_VISIBILITY
        else f"{text} (the rest: {f.evidence})"
    )
    return Finding(ism=f.ism, outcome=Outcome.NO_VISIBILITY, evidence=evidence, observed=observed)


def _blind(why: Unknown) -> list[Finding]:
    return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=why.reason) for i in ISMS]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    dom = DOMAIN.read(outputs.get("domain"))
    groups = GROUPS.read(outputs.get("groups"))
    accounts = ACCOUNTS.read(outputs.get("accounts"))
    computers = COMPUTERS.read(outputs.get("computers"))
    if isinstance(dom, Unknown):
        return _blind(dom)
    if isinstance(groups, Unknown):
        return _blind(groups)
    if isinstance(accounts, Unknown):
        return _blind(accounts)
    if isinstance(computers, Unknown):
        return _blind(computers)
    now = ctx.collected_at if ctx.collected_at.tzinfo else ctx.collected_at.replace(tzinfo=UTC)
    extra = ctx.profile.e8_privileged_groups or ()
    priv = resolve(dom.sid, groups, accounts, computers, extra)
    if priv.missing_groups:
        text = (
            f"e8_privileged_groups names groups not in the domain: {', '.join(priv.missing_groups)}"
        )
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=text) for i in ISMS]
    held = [a for a in priv.accounts if holds_access(a, now)]
    if any(a.enabled is None for a in priv.accounts):
        unread = ", ".join(a.name for a in priv.accounts if a.enabled is None)
        text = f"userAccountControl not readable for privileged accounts: {unread}"
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=text) for i in ISMS]
    if not held:
        text = (
            "no enabled privileged account was found; a domain always has one, so the "
            "scanner's account probably cannot read group membership"
        )
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=text) for i in ISMS]
    findings = [
        _stale(held, now, ctx.policy.stale_privileged_days, dom),
        _expiry(held, now),
        _mail(held),
        _standing(held),
    ]
    names = NETBIOS.read(outputs.get("netbios"))
    domain = [n.netbios for n in names] if not isinstance(names, Unknown) else []
    return [
        _unresolved(f, priv.unresolved).model_copy(
            update={"observed": {**f.observed, "domain": domain, "domain_sid": dom.sid}}
        )
        for f in findings
    ]


CHECK = Check(
    id="restrict_admin.directory_privileged_accounts",
    title="AD privileged accounts lapse when unused, expire, stay off email, are not standing",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=ISMS,
    platforms=frozenset({Platform.DIRECTORY}),
    collect={
        "domain": DOMAIN.cmd,
        "groups": GROUPS.cmd,
        "accounts": ACCOUNTS.cmd,
        "computers": COMPUTERS.cmd,
        "netbios": NETBIOS.cmd,
    },
    judge=judge,
    version=1,
    doc=__doc__ or "",
    # The NetBIOS search only names the domain in ``observed``; no verdict is drawn from it.
    rests_on=dict.fromkeys(ISMS, ("domain", "groups", "accounts", "computers")),
)
