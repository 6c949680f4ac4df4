"""The directory's objects as facts: the domain, its groups, its accounts and its computers.

Each fact is one search (:mod:`scanner.model.ldap_search`). The searches ask only for what the
judges read; none names a password attribute (``ms-Mcs-AdmPwd``, ``msLAPS-Password``,
``msLAPS-EncryptedPassword``, ``unicodePwd``): a test keeps it so. The computers search is
declared in the engine (:mod:`scanner.checking.directory_searches`), which also reads it for the
fleet coverage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from checks.facts.directory.search import Entry, entries, filetime
from checks.facts.fact import Fact, Unknown
from scanner.checking.api import Cmd, Output
from scanner.checking.directory_searches import COMPUTERS_SEARCH
from scanner.model.ldap_search import LdapSearch
from scanner.model.vocabulary import Platform


def _search(base: str, scope: str, flt: str, *attrs: str) -> Cmd:
    return Cmd(line=LdapSearch(base, scope, flt, attrs).line())


DEFAULT_SYNC_DAYS = 14  # msDS-LogonTimeSyncInterval when the domain does not set it


@dataclass(frozen=True)
class Domain:
    """The domain object: its SID (privileged groups are found by RID) and how far its
    ``lastLogonTimestamp`` may lag behind a real logon."""

    dn: str
    sid: str
    sync_days: int
    sync_set: bool  # False: the domain keeps the default


def _domain(out: Output) -> Domain | Unknown:
    found = entries(out)
    if isinstance(found, Unknown):
        return found
    if len(found) != 1:
        return Unknown(f"the domain object search gave {len(found)} entries, expected 1")
    e = found[0]
    sid = e.first("objectSid")
    if not sid or not sid.startswith("S-1-5-21-"):
        return Unknown("the domain object has no domain SID")
    interval = e.integer("msDS-LogonTimeSyncInterval")
    if interval is not None and interval <= 0:
        interval = None
    return Domain(
        dn=e.dn,
        sid=sid,
        sync_days=interval or DEFAULT_SYNC_DAYS,
        sync_set=interval is not None,
    )


DOMAIN = Fact(
    "directory.domain",
    Platform.DIRECTORY,
    _search(
        "{defaultNamingContext}",
        "base",
        "(objectClass=domain)",
        "objectSid",
        "name",
        "msDS-LogonTimeSyncInterval",
    ),
    _domain,
)


@dataclass(frozen=True)
class NetbiosName:
    """A domain of the forest as its crossRef names it: NetBIOS name, DNS name and the DN of
    its naming context (equal to :attr:`Domain.dn` for the domain that was read)."""

    netbios: str
    dns_root: str
    nc_name: str = ""


def _netbios(out: Output) -> list[NetbiosName] | Unknown:
    found = entries(out)
    if isinstance(found, Unknown):
        return found
    names = [
        NetbiosName(n, e.first("dnsRoot") or "", e.first("nCName") or "")
        for e in found
        if (n := e.first("nETBIOSName"))
    ]
    if not names:
        return Unknown("the partitions container lists no domain with a NetBIOS name")
    return names


NETBIOS = Fact(
    "directory.netbios",
    Platform.DIRECTORY,
    _search(
        "{configurationNamingContext}",
        "sub",
        "(&(objectClass=crossRef)(nETBIOSName=*))",
        "nETBIOSName",
        "dnsRoot",
        "nCName",
    ),
    _netbios,
)


def _objects(out: Output) -> list[Entry] | Unknown:
    found = entries(out)
    if isinstance(found, Unknown):
        return found
    if not found:
        return Unknown("the search returned no objects (a domain always has some)")
    return found


GROUPS = Fact(
    "directory.groups",
    Platform.DIRECTORY,
    _search(
        "{defaultNamingContext}",
        "sub",
        "(objectClass=group)",
        "objectSid",
        "sAMAccountName",
        "member",
    ),
    _objects,
)

ACCOUNTS = Fact(
    "directory.accounts",
    Platform.DIRECTORY,
    _search(
        "{defaultNamingContext}",
        "sub",
        "(&(objectCategory=person)(objectClass=user))",
        "sAMAccountName",
        "userPrincipalName",
        "objectSid",
        "primaryGroupID",
        "userAccountControl",
        "lastLogonTimestamp",
        "accountExpires",
        "whenCreated",
        "mail",
        "proxyAddresses",
        "msExchRecipientTypeDetails",
        "msExchMailboxGuid",
        "adminCount",
    ),
    _objects,
)

COMPUTERS = Fact("directory.computers", Platform.DIRECTORY, COMPUTERS_SEARCH, _objects)

ACTIVE_DAYS = 90  # a computer that logged on within this many days is in use
UF_ACCOUNTDISABLE = 0x2


def active_accounts(
    found: Iterable[Entry], now: datetime, *, days: int = ACTIVE_DAYS, skip_flags: int = 0
) -> tuple[list[Entry], list[str]]:
    """The enabled accounts whose ``lastLogonTimestamp`` is within ``days`` of ``now`` (those
    with any of ``skip_flags`` in ``userAccountControl`` left out), and the names of the accounts
    whose ``userAccountControl`` could not be read. No timestamp: never logged on (or not since
    the domain's functional level kept one), so not active."""
    chosen: list[Entry] = []
    unread: list[str] = []
    for e in found:
        uac = e.integer("userAccountControl")
        if uac is None:
            unread.append(e.name)
            continue
        if uac & (UF_ACCOUNTDISABLE | skip_flags):
            continue
        last = filetime(e.integer("lastLogonTimestamp"))
        if last is not None and now - last <= timedelta(days=days):
            chosen.append(e)
    return chosen, unread


@dataclass(frozen=True)
class LapsSchema:
    legacy: bool  # ms-Mcs-AdmPwdExpirationTime is in the schema
    windows: bool  # msLAPS-PasswordExpirationTime is in the schema


def _laps_schema(out: Output) -> LapsSchema | Unknown:
    found = entries(out)
    if isinstance(found, Unknown):
        return found
    names = {(e.first("lDAPDisplayName") or "").lower() for e in found}
    return LapsSchema(
        legacy="ms-mcs-admpwdexpirationtime" in names,
        windows="mslaps-passwordexpirationtime" in names,
    )


LAPS_SCHEMA = Fact(
    "directory.laps_schema",
    Platform.DIRECTORY,
    _search(
        "{schemaNamingContext}",
        "one",
        "(|(lDAPDisplayName=ms-Mcs-AdmPwdExpirationTime)(lDAPDisplayName=msLAPS-PasswordExpirationTime))",
        "lDAPDisplayName",
    ),
    _laps_schema,
)
