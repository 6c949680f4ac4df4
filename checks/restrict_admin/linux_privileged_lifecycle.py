"""Linux: are privileged accounts disabled when unused, set to expire, not standing, and is root's password locked?

**Collected (root, through ``sudo -n``, C locale):** the privileged accounts are worked out on the
host — members of ``sudo``/``wheel``/``admin`` (listed, or having the group as primary group) and
every UID-0 account — and for each: ``passwd -S`` (password status), ``chage -l`` (last password
change, account expiry) and the last login from ``lastlog2 -u`` where installed, else
``lastlog -u`` (wtmp/lastlog). Also ``/etc/passwd``, ``getent group sudo wheel admin`` and (root)
the sudoers files, the same reads as ``restrict_admin.linux_privileged_accounts``: privileged users
are whoever sudoers grants root to (users, ``%groups``, ``#uid``, ``User_Alias`` members, ``ALL``;
resolved by ``checks/_sudo.py``), not only the members of sudo/wheel/admin. The lifecycle reads
above are made for the admin-group members and UID-0 accounts only, so an account sudoers grants
root to outside them is privileged but not judged here: it leaves ISM-1648/1647/1649 without
visibility rather than effective.

An account is **disabled** when ``passwd -S`` shows a locked password (``L``/``LK``) or its
``Account expires`` date has passed; disabled accounts do not count below. (A locked password
stops password logins and ``sudo``'s password prompt; SSH-key logins of a locked but unexpired
account are a caveat.)

**ISM-1648** (ML2-3, privileged access disabled after 45 days of inactivity; limit
``policy.stale_privileged_days``), for enabled privileged accounts other than ``root``:
- ineffective: last login older than the limit, or never logged in and the password last changed
  before the limit (named with dates);
- effective: every such account logged in within the limit (at least one; none is no_visibility)
  and sudoers grants root to no one else;
- no_visibility: neither ``lastlog2`` nor ``lastlog`` exists (wtmp/lastlog retired), or the read
  was refused; sudoers grants root to accounts outside the listing (named, a group whose members
  are not visible, or everyone); sudoers, ``/etc/passwd`` or the admin groups not readable.
  ``root`` is left out: it is reached through ``sudo``, which lastlog does not record; its
  credential is judged under ISM-1685.

**ISM-1647** (ML2-3, privileged access disabled after 12 months unless revalidated) — host-side
part only (account expiry; revalidation itself is an organisational process):
- ineffective: an enabled non-root privileged account has ``Account expires: never`` or a date
  more than 365 days after collection;
- effective: each expires within 12 months (at least one; no enabled non-root privileged account
  is no_visibility: an empty set is not evidence) and sudoers grants root to no one else
  (otherwise no_visibility, as for ISM-1648).

**ISM-1685** (ML2-3, break-glass, local administrator and service account credentials are long,
unique, unpredictable and managed) — host-side part: the shared ``root`` credential (and any
other UID-0 account):
- effective: their passwords are locked (``L``/``LK``): no usable shared local admin password
  exists on the host (break-glass then needs a managed path such as a vaulted account);
- ineffective: one has no password at all (``NP``);
- no_visibility: a usable password is set (``P``/``PS``): its length, uniqueness and whether a
  vault rotates it cannot be seen from the host.

**ISM-1649** (ML3, just-in-time administration), mirroring ``restrict_admin.windows_local_admins``:
- ineffective: an enabled account other than ``root`` is a standing member of sudo/wheel/admin,
  or a second UID-0 account is enabled, or sudoers grants root to everyone (``ALL``, ``%users``,
  ``%domain users`` …: a standing grant to every account);
- no_visibility: sudoers grants root to an account outside the listing (whether it is enabled was
  not read) or to a group whose members are not visible; sudoers, ``/etc/passwd`` or the admin
  groups not readable;
- effective: no enabled standing member besides root and no other sudoers grantee (the
  just-in-time process is organisational).

Caveats: directory (SSSD/LDAP) sudo rules and members of directory groups are not seen; the
``lastlog2`` output format is assumed to match ``lastlog`` (Latest column ending in
``%a %b %e %H:%M:%S %z %Y``; unverified against a capture). Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from checks._sudo import read_holders
from checks.facts.fact import Unknown
from checks.facts.linux.accounts import ADMIN_GROUPS, PASSWD
from checks.facts.linux.privileged_accounts import PRIVILEGED_ACCOUNTS, Account
from checks.facts.linux.sudoers import SUDOERS
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISMS = ("ISM-1648", "ISM-1647", "ISM-1685", "ISM-1649")


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "unknown"


def _stale(accts: list[Account], now: datetime, limit: int, no_lastlog: bool) -> Finding:
    cutoff = now - timedelta(days=limit)
    stale: list[str] = []
    blind: list[str] = []
    recent: list[str] = []
    for a in accts:
        if a.last_login is not None:
            (stale if a.last_login < cutoff else recent).append(
                f"{a.name} (last login {_day(a.last_login)})"
            )
        elif a.never_logged_in:
            if a.pw_changed is not None and a.pw_changed < cutoff:
                stale.append(f"{a.name} (never logged in, password set {_day(a.pw_changed)})")
            elif a.pw_changed is not None:
                recent.append(f"{a.name} (new: password set {_day(a.pw_changed)})")
            else:
                blind.append(f"{a.name} (never logged in, creation date unknown)")
        else:
            blind.append(f"{a.name} (no last-login record read)")
    observed = {"stale": stale, "recent": recent, "unknown": blind, "limit_days": limit}
    if stale:
        text = f"enabled privileged accounts unused for more than {limit} days: {', '.join(stale)}"
        return Finding(
            ism="ISM-1648", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed
        )
    if blind and no_lastlog:
        text = "neither lastlog2 nor lastlog is installed, so last logins cannot be read"
        return Finding(
            ism="ISM-1648", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    if blind:
        text = f"last login not determinable: {', '.join(blind)}"
        return Finding(
            ism="ISM-1648", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    if not recent:
        text = "no enabled privileged account besides root to judge (an empty set is not evidence)"
        return Finding(
            ism="ISM-1648", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    text = (
        f"every enabled non-root privileged account logged in within {limit} days: "
        f"{', '.join(recent)}"
    )
    return Finding(ism="ISM-1648", outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)


def _expiry(accts: list[Account], now: datetime) -> Finding:
    horizon = now + timedelta(days=365)
    late: list[str] = []
    fine: list[str] = []
    blind: list[str] = []
    for a in accts:
        if a.expires_never:
            late.append(f"{a.name} (never expires)")
        elif a.expires is None:
            blind.append(a.name)
        elif a.expires > horizon:
            late.append(f"{a.name} (expires {_day(a.expires)})")
        else:
            fine.append(f"{a.name} (expires {_day(a.expires)})")
    observed = {"beyond_12_months": late, "within_12_months": fine, "unknown": blind}
    note = "; revalidation itself is an organisational process"
    if late:
        text = f"privileged accounts without expiry within 12 months: {', '.join(late)}{note}"
        return Finding(
            ism="ISM-1647", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed
        )
    if blind:
        text = f"account expiry not read for: {', '.join(blind)}"
        return Finding(
            ism="ISM-1647", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    if not fine:
        text = "no enabled privileged account besides root to judge (an empty set is not evidence)"
        return Finding(
            ism="ISM-1647", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    text = (
        f"host-side part: every enabled non-root privileged account expires within 12 months "
        f"({', '.join(fine)}){note}"
    )
    return Finding(ism="ISM-1647", outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)


def _root_credential(uid0: list[Account]) -> Finding:
    states = {a.name: a.status or "unknown" for a in uid0}
    observed: dict[str, object] = {"uid0_password_status": states}
    empty = [n for n, s in states.items() if s == "NP"]
    usable = [n for n, s in states.items() if s in ("P", "PS")]
    unknown = [n for n, s in states.items() if s not in ("P", "PS", "NP", "L", "LK")]
    if empty:
        text = f"UID-0 account with no password: {', '.join(empty)}"
        return Finding(
            ism="ISM-1685", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed
        )
    if usable:
        text = (
            f"usable password on {', '.join(usable)}: its length (30+ characters), uniqueness and "
            f"management by a vault are not visible from the host"
        )
        return Finding(
            ism="ISM-1685", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    if unknown or not states:
        text = f"password status not read for: {', '.join(unknown) or 'root'}"
        return Finding(
            ism="ISM-1685", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed
        )
    text = (
        f"host-side part: root's password is locked ({', '.join(f'{n} {s}' for n, s in states.items())}),"
        f" so no shared local administrator password is usable on the host"
    )
    return Finding(ism="ISM-1685", outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)


def _standing(accts: list[Account]) -> Finding:
    names = sorted(a.name for a in accts)
    observed = {"standing_enabled": names}
    if names:
        text = (
            f"enabled accounts hold standing sudo/wheel/admin membership or UID 0 (not just in "
            f"time): {', '.join(names)}"
        )
        return Finding(
            ism="ISM-1649", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed
        )
    text = (
        "no enabled standing member of sudo/wheel/admin besides root; the just-in-time process "
        "itself is organisational"
    )
    return Finding(ism="ISM-1649", outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)


@dataclass(frozen=True)
class _Beyond:
    """Who sudoers grants root to outside the accounts the lifecycle reads covered: ``broad``
    grants to everyone, ``unread`` named accounts and groups whose members are not visible,
    ``blind`` why the grants could not be resolved."""

    broad: list[str]
    unread: list[str]
    blind: str | None


def _beyond(outputs: Mapping[str, Output], listed: Collection[str]) -> _Beyond:
    held = read_holders(outputs)
    if isinstance(held, str):
        return _Beyond([], [], held)
    groups = ADMIN_GROUPS.read(outputs.get("admin_groups"))
    unread = sorted(n for n in held.accounts if n not in listed) + sorted(held.unexpanded)
    blind = groups.reason if isinstance(groups, Unknown) else None
    return _Beyond(held.broad, unread, blind)


def _widen(f: Finding, beyond: _Beyond) -> Finding:
    """A verdict on the listed accounts says nothing about other accounts sudo makes root."""
    observed = {
        **f.observed,
        "sudo_broad_grants": beyond.broad,
        "sudo_grantees_not_read": beyond.unread,
    }
    if f.outcome is Outcome.INEFFECTIVE:
        return f.model_copy(update={"observed": observed})
    if f.ism == "ISM-1649" and beyond.broad:
        text = (
            "sudo grants root to everyone, a standing grant to every account (not just in time): "
            + "; ".join(beyond.broad[:3])
        )
        return Finding(ism=f.ism, outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed)
    if beyond.blind:
        note = f"who else sudo grants root to is not visible ({beyond.blind})"
    elif beyond.broad or beyond.unread:
        note = (
            f"sudo grants root to {', '.join(beyond.unread + beyond.broad)}, outside "
            f"sudo/wheel/admin and UID 0, whose account status, expiry and last login were not read"
        )
    else:
        evidence = f.evidence
        if f.outcome is Outcome.EFFECTIVE:
            evidence += "; sudoers grants root to no other account"
        return f.model_copy(update={"evidence": evidence, "observed": observed})
    if f.outcome is Outcome.EFFECTIVE:
        evidence = f"{note} (the accounts read: {f.evidence})"
    else:
        evidence = f"{f.evidence}; {note}"
    return Finding(ism=f.ism, outcome=Outcome.NO_VISIBILITY, evidence=evidence, observed=observed)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    read = PRIVILEGED_ACCOUNTS.read(outputs.get("accounts"))
    if isinstance(read, Unknown):
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=read.reason) for i in ISMS]
    now = ctx.collected_at if ctx.collected_at.tzinfo else ctx.collected_at.replace(tzinfo=UTC)
    accounts = read.accounts
    uid0 = [a for a in accounts.values() if a.name in read.uid0]
    if not uid0 and "root" in accounts:
        uid0 = [accounts["root"]]
    enabled = [a for a in accounts.values() if a.name != "root" and not a.disabled(now)]
    beyond = _beyond(outputs, accounts)
    return [
        _widen(_stale(enabled, now, ctx.policy.stale_privileged_days, read.no_lastlog), beyond),
        _widen(_expiry(enabled, now), beyond),
        _root_credential(uid0),
        _widen(_standing(enabled), beyond),
    ]


CHECK = Check(
    id="restrict_admin.linux_privileged_lifecycle",
    title="Linux privileged accounts expire, lapse when unused, are not standing; root locked",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=ISMS,
    platforms=frozenset({Platform.LINUX}),
    collect={
        "accounts": PRIVILEGED_ACCOUNTS.cmd,
        "passwd": PASSWD.cmd,
        "admin_groups": ADMIN_GROUPS.cmd,
        "sudoers": SUDOERS.cmd,
    },
    # Root's credential (ISM-1685) is judged from the UID-0 accounts' password status alone; who
    # else sudo makes root does not change it. ISM-1648/1647/1649 rest on all four reads.
    rests_on={"ISM-1685": ("accounts",)},
    judge=judge,
    # v2: no enabled non-root privileged account is no_visibility (ISM-1648/1647);
    # v3: whoever sudoers grants root to counts as privileged (ISM-1648/1647/1649).
    version=3,
)
