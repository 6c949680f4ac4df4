"""A real Samba Active Directory domain controller on loopback, for the directory tests.

One DC per test session (it needs the machine's ports 88, 389, 636 and 445 on ``127.0.0.1``):
:meth:`SambaDC.provision` makes a fresh domain ``CORP.E8SCAN.TEST`` (NetBIOS ``CORP``, DC
``dc01``) in a temp dir, :func:`populate` fills it with :data:`POPULATION` (privileged and
ordinary users, nested groups, computers with LAPS attributes, a Kerberos service account),
and :meth:`SambaDC.start` runs ``samba -i -M single`` until :meth:`SambaDC.stop`.

Everything the DC writes stays in :attr:`SambaDC.workdir` (pid files, sockets, logs, caches,
``ntp_signd``, TLS keys); the only machine file it touches is ``/etc/hosts``, which gains
the lines ``127.0.0.1 dc01.corp.e8scan.test dc01`` and ``127.0.0.1 win01.corp.e8scan.test``
(each marked ``# e8scan-test-dc``) while the DC runs: its certificate names only
``CN=dc01.corp.e8scan.test``, so TLS clients must reach it by that name.

What a client may rely on (all checked by ``tests/directory/test_samba_dc.py``):

- **LDAPS** on ``dc01.corp.e8scan.test:636`` with :attr:`SambaDC.ca_pem`; a simple bind as
  ``svc-e8scan@corp.e8scan.test`` (an ordinary domain user) works. Plain LDAP (389) refuses
  simple binds ("strong auth required"), as a hardened Windows DC does.
- **Kerberos**: ``KRB5_CONFIG=`` :attr:`SambaDC.krb5_conf` (KDC ``127.0.0.1``, no DNS), then
  ``kinit svc-e8scan@CORP.E8SCAN.TEST``; :meth:`SambaDC.exportkeytab` gives a keytab for a
  service principal such as ``HTTP/win01.corp.e8scan.test`` (account ``svc-winrm``).
- Searches from the domain root return referrals (Configuration, ForestDnsZones…): clients
  must skip them deliberately.
- The LAPS attributes are schema extensions added at provision with Microsoft's OIDs,
  syntaxes and ``searchFlags`` (:data:`LAPS_ATTRIBUTES`). As in Windows AD, the computer
  class's default security descriptor grants Authenticated Users ``RPLCLORC`` (read every
  property), so an ordinary account such as ``svc-e8scan`` reads ``ms-Mcs-AdmPwdExpirationTime``
  and ``msLAPS-PasswordExpirationTime`` with no delegation; the passwords themselves are
  confidential (``searchFlags: 904``) and need CONTROL_ACCESS on the attribute (what
  ``Set-AdmPwdReadPasswordPermission`` / ``Set-LapsADReadPasswordPermission`` grant), so Samba
  returns nothing for them to that account, exactly as Windows does.
- A bind sets ``lastLogonTimestamp`` when it is missing or older than the sync interval
  (9–14 days; ``lastLogon`` and ``logonCount`` stay 0): ``svc-e8scan``'s at its first bind,
  the built-in Administrator's at the start's readiness bind. The others stay as populated.

Speed (2 busy CPUs): a session costs 2.5–4 s — provision 0.5 s (a copy of a template domain
provisioned once per machine and Samba version in :data:`TEMPLATE_CACHE`: the first session on
a machine adds the 5–9 s ``samba-tool domain provision``), populate 1.4 s, start 0.4–1.3 s (the
template keeps the TLS CA, certificate and key samba generated at its first start: two
4096-bit RSA keys cost 2–3 s). The ``samba-tool`` steps of :func:`populate` run in one Samba
Python process sharing one SamDB (:meth:`SambaDC.samba_tool_batch`): a separate
``samba-tool`` run costs about half a second. ``SambaDC(template_cache=None)`` provisions from
scratch instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Literal

REALM = "CORP.E8SCAN.TEST"
DOMAIN = "CORP"
DC_NAME = "dc01"
DNS_DOMAIN = REALM.lower()
FQDN = f"{DC_NAME}.{DNS_DOMAIN}"
BASE_DN = "DC=corp,DC=e8scan,DC=test"
SCHEMA_DN = f"CN=Schema,CN=Configuration,{BASE_DN}"
ADDRESS = "127.0.0.1"
PORTS = {"Kerberos": 88, "LDAP": 389, "LDAPS": 636, "SMB": 445}
HOSTS_MARKER = "# e8scan-test-dc"
WINRM_HOST = f"win01.{DNS_DOMAIN}"
WINRM_SPN = f"HTTP/{WINRM_HOST}"
NEVER_EXPIRES = 9223372036854775807  # accountExpires: 0 or this value means "never"
REQUIRED_COMMANDS = ("samba", "samba-tool", "ldbmodify", "ldbsearch", "kinit", "klist")
TEMPLATE_CACHE = Path("/var/tmp/e8scan-samba-template")  # provisioned domains, per Samba version
_TLS_FILES = ("ca.pem", "cert.pem", "key.pem")  # what samba generates in private/tls
_HOSTS = Path("/etc/hosts")
_START_TIMEOUT = 60.0
_EPOCH_AS_FILETIME = 116444736000000000  # 1970-01-01 in 100-ns intervals since 1601-01-01


class SambaDCError(RuntimeError):
    """The DC could not be provisioned, started, populated or queried (stderr included)."""


# --------------------------------------------------------------------------- time values


def filetime(when: datetime) -> int:
    """``when`` as a Windows FILETIME (100-ns intervals since 1601-01-01 UTC)."""
    return _EPOCH_AS_FILETIME + int(when.timestamp() * 10_000_000)


def from_filetime(value: int) -> datetime | None:
    """The UTC datetime of a FILETIME; ``None`` for 0 and ``NEVER_EXPIRES`` ("never")."""
    if value in (0, NEVER_EXPIRES):
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        microseconds=(value - _EPOCH_AS_FILETIME) // 10
    )


# --------------------------------------------------------------------------- the population


@dataclass(frozen=True)
class DomainUser:
    """A user :func:`populate` creates.

    ``groups`` are direct memberships; ``privileged`` says whether the user reaches Domain
    Admins, Administrators or another protected group (see :data:`PRIVILEGED_GROUPS`),
    directly or through nested groups — what a scanner must judge. ``last_logon_days`` is
    how many days before populate time ``lastLogonTimestamp`` lies (``None``: never set);
    ``expires_days`` how many days after populate time ``accountExpires`` lies (``None``:
    never expires, stored as ``NEVER_EXPIRES``).
    """

    name: str
    groups: tuple[str, ...] = ()
    privileged: bool = False
    enabled: bool = True
    last_logon_days: int | None = None
    expires_days: int | None = None
    mail: str | None = None
    proxy_addresses: tuple[str, ...] = ()
    admin_count: int | None = None
    note: str = ""

    @property
    def upn(self) -> str:
        return f"{self.name}@{DNS_DOMAIN}"

    @property
    def dn(self) -> str:
        return f"CN={self.name},CN=Users,{BASE_DN}"


@dataclass(frozen=True)
class DomainGroup:
    """A group :func:`populate` creates (global security group in ``CN=Users``)."""

    name: str
    member_of: tuple[str, ...] = ()  # groups (created or built-in) this group is a member of
    privileged: bool = False
    note: str = ""

    @property
    def dn(self) -> str:
        return f"CN={self.name},CN=Users,{BASE_DN}"


@dataclass(frozen=True)
class DomainComputer:
    """A computer account :func:`populate` creates (``CN=Computers``).

    ``laps`` is ``"windows"`` (``msLAPS-PasswordExpirationTime``), ``"legacy"``
    (``ms-Mcs-AdmPwdExpirationTime``) or ``None``; ``laps_expires_days`` is days after
    populate time (negative: already expired).
    """

    name: str
    operating_system: str
    os_version: str
    last_logon_days: int | None
    enabled: bool = True
    laps: Literal["windows", "legacy"] | None = None
    laps_expires_days: int | None = None
    note: str = ""

    @property
    def dns_host_name(self) -> str:
        return f"{self.name.lower()}.{DNS_DOMAIN}"

    @property
    def dn(self) -> str:
        return f"CN={self.name},CN=Computers,{BASE_DN}"


@dataclass(frozen=True)
class Population:
    """What :func:`populate` puts in the directory; tests state expectations from this."""

    users: tuple[DomainUser, ...]
    groups: tuple[DomainGroup, ...]
    computers: tuple[DomainComputer, ...]
    scanner_user: str
    winrm_account: str
    winrm_spn: str
    # The provision's own Administrator: in Domain Admins (and Administrators, Enterprise and
    # Schema Admins), never expires; its lastLogonTimestamp is set by each start's readiness bind.
    builtin_privileged: tuple[str, ...] = ("Administrator",)
    # A secret only a LAPS reader may see (ms-Mcs-AdmPwd on WIN02): a scanner never asks for it.
    laps_secret: str = "LAPS-secret-never-read-7c1e"

    def user(self, name: str) -> DomainUser:
        return next(u for u in self.users if u.name == name)

    def computer(self, name: str) -> DomainComputer:
        return next(c for c in self.computers if c.name == name)

    def privileged_users(self, *, builtin: bool = True) -> set[str]:
        """Names of the users in a privileged group (directly or nested), disabled ones too."""
        names = {u.name for u in self.users if u.privileged}
        return names | set(self.builtin_privileged) if builtin else names

    def members_in_chain(self, group: str) -> set[str]:
        """Populated users reaching ``group`` through any nesting (built-in users excluded)."""
        reach: dict[str, set[str]] = {g.name: set(g.member_of) for g in self.groups}

        def closure(start: tuple[str, ...]) -> set[str]:
            seen: set[str] = set()
            todo = list(start)
            while todo:
                g = todo.pop()
                if g not in seen:
                    seen.add(g)
                    todo.extend(reach.get(g, ()))
            return seen

        return {u.name for u in self.users if group in closure(u.groups)}


# Built-in groups whose members, directly or through nested groups, count as privileged here
# (some of AD's protected groups, those AdminSDHolder/SDProp stamps with adminCount).
PRIVILEGED_GROUPS = ("Domain Admins", "Enterprise Admins", "Schema Admins", "Administrators",
                     "Backup Operators", "Account Operators", "Server Operators",
                     "Print Operators")  # fmt: skip
_DA = ("Domain Admins",)

POPULATION = Population(
    users=(
        DomainUser("da-fresh", _DA, True, last_logon_days=2, expires_days=180),
        DomainUser("da-stale", _DA, True, last_logon_days=120, expires_days=180),
        DomainUser("da-noexpiry", _DA, True, last_logon_days=3, expires_days=None),
        DomainUser("da-farexpiry", _DA, True, last_logon_days=1, expires_days=800),
        DomainUser(
            "da-mail", _DA, True, last_logon_days=1, expires_days=90,
            mail=f"da-mail@{DNS_DOMAIN}", proxy_addresses=(f"SMTP:da-mail@{DNS_DOMAIN}",),
        ),
        DomainUser(
            "tier0-nested", ("Tier0-Operators",), True, last_logon_days=1, expires_days=60,
            note="Tier0-Operators → Server-Admins → Administrators (built-in)",
        ),
        DomainUser("bk-stale", ("Backup Operators",), True, last_logon_days=200, expires_days=100),
        DomainUser(
            "da-disabled-stale", _DA, True, enabled=False, last_logon_days=300,
            note="disabled (samba-tool user disable); accountExpires left at never",
        ),
        DomainUser("da-neverlogged", _DA, True, last_logon_days=None, expires_days=30),
        DomainUser(
            "alice", ("app-admins",), False, last_logon_days=400, mail=f"alice@{DNS_DOMAIN}",
            admin_count=1, note="stale adminCount=1 left by SDProp: not privileged",
        ),
        DomainUser("svc-e8scan", (), False, note="the scanner's ordinary account"),
    ),
    groups=(
        DomainGroup("Tier0-Operators", ("Server-Admins",), True),
        DomainGroup("Server-Admins", ("Administrators",), True),
        DomainGroup("app-admins", (), False, note="decoy: 'admin' in the name, not privileged"),
    ),
    computers=(
        DomainComputer("WIN01", "Windows 10 Enterprise", "10.0 (19045)", 1,
                       laps="windows", laps_expires_days=20),
        DomainComputer("WIN02", "Windows 11 Enterprise", "10.0 (22631)", 5,
                       laps="legacy", laps_expires_days=-10, note="legacy LAPS expired; has ms-Mcs-AdmPwd"),
        DomainComputer("HMI01", "Windows 7 Professional", "6.1 (7601)", 10,
                       note="an HMI nobody listed; no LAPS"),
        DomainComputer("SRV2008", "Windows Server 2008 R2 Enterprise", "6.1 (7601)", 30,
                       laps="legacy", laps_expires_days=15),
        DomainComputer("SRV2022", "Windows Server 2022 Datacenter", "10.0 (20348)", 2,
                       laps="windows", laps_expires_days=25),
        DomainComputer("GONE01", "Windows 10 Pro", "10.0 (19044)", 200,
                       note="not active in 90 days"),
        DomainComputer("LNX01", "Ubuntu", "22.04", 3, note="Linux joined with sssd"),
        DomainComputer("OLDXP", "Windows XP Professional", "5.1 (2600)", None, enabled=False),
    ),
    scanner_user="svc-e8scan",
    winrm_account="svc-winrm",
    winrm_spn=WINRM_SPN,
)  # fmt: skip


# --------------------------------------------------------------------------- LAPS schema

# Microsoft's definitions ([MS-ADA2] 2.63–2.71, "Windows LAPS schema extensions reference").
# searchFlags 904 = fCONFIDENTIAL | fRODCFilteredAttribute | fNEVERVALUEAUDIT | fPRESERVEONDELETE.
# [MS-ADA2] gives ms-Mcs-AdmPwd attributeSyntax 2.5.5.7 with omSyntax 19, an impossible pair;
# the legacy LAPS schema (AdmPwd.PS) really uses 2.5.5.5 / 19, as here.
LAPS_ATTRIBUTES: tuple[tuple[str, str, str, int, int], ...] = (
    # (lDAPDisplayName, attributeID, attributeSyntax, oMSyntax, searchFlags)
    ("ms-Mcs-AdmPwd",
     "1.2.840.113556.1.8000.2554.50051.45980.28112.18903.35903.6685103.1224907.2.1",
     "2.5.5.5", 19, 904),
    ("ms-Mcs-AdmPwdExpirationTime",
     "1.2.840.113556.1.8000.2554.50051.45980.28112.18903.35903.6685103.1224907.2.2",
     "2.5.5.16", 65, 0),
    ("msLAPS-PasswordExpirationTime", "1.2.840.113556.1.6.44.1.1", "2.5.5.16", 65, 0),
    ("msLAPS-Password", "1.2.840.113556.1.6.44.1.2", "2.5.5.5", 19, 904),
    ("msLAPS-EncryptedPassword", "1.2.840.113556.1.6.44.1.3", "2.5.5.10", 4, 904),
)  # fmt: skip


def laps_schema_ldif() -> tuple[str, str]:
    """The two LDIF steps extending the schema: the attributes, then ``computer``'s mayContain
    (``Update-LapsADSchema`` and the legacy ``Update-AdmPwdADSchema`` do the same)."""
    adds = []
    for name, oid, syntax, om, flags in LAPS_ATTRIBUTES:
        cn = name.replace("msLAPS-", "ms-LAPS-")
        adds.append(
            f"dn: CN={cn},{SCHEMA_DN}\nchangetype: add\nobjectClass: top\n"
            f"objectClass: attributeSchema\ncn: {cn}\nlDAPDisplayName: {name}\n"
            f"adminDisplayName: {cn}\nattributeID: {oid}\nattributeSyntax: {syntax}\n"
            f"oMSyntax: {om}\nisSingleValued: TRUE\nsystemOnly: FALSE\nsearchFlags: {flags}\n"
            "isMemberOfPartialAttributeSet: FALSE\n"
        )
    may = "".join(f"mayContain: {a[0]}\n" for a in LAPS_ATTRIBUTES)
    modify = f"dn: CN=Computer,{SCHEMA_DN}\nchangetype: modify\nadd: mayContain\n{may}-\n"
    return "\n".join(adds), modify


# --------------------------------------------------------------------------- machine checks


def require_root_and_samba() -> None:
    """Fail (never skip) when this machine cannot run the DC: not root or packages missing."""
    problems = []
    if os.geteuid() != 0:
        problems.append("the Samba DC tests must run as root")
    missing = [c for c in REQUIRED_COMMANDS if shutil.which(c) is None]
    if missing:
        problems.append(f"{', '.join(missing)} missing")
    if problems:
        raise SambaDCError(
            "; ".join(problems) + " — run `make system-deps`, which installs samba, "
            "samba-ad-dc, krb5-user, winbind, ldb-tools"
        )


def require_free_ports() -> None:
    """Fail when something already listens on the DC's ports (another session's DC?)."""
    taken = {f"{name} {port}": who for name, port in PORTS.items() if (who := _listener(port))}
    if taken:
        raise SambaDCError(
            "another domain controller (or server) already listens on 127.0.0.1 — "
            + ", ".join(f"{k} by {v}" for k, v in taken.items())
            + "; only one test DC can run at a time"
        )


def _listener(port: int) -> str | None:
    """Who listens on 127.0.0.1:``port`` (``ss`` line), or ``None`` when nobody does."""
    try:
        with socket.create_connection((ADDRESS, port), timeout=0.5):
            pass
    except OSError:
        return None
    out = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
    )
    return " ".join(out.stdout.split()[-1:]) or "an unknown process"


def _strong_password() -> str:
    """A password meeting AD complexity (upper, lower, digit, symbol), 24+ characters."""
    return "E8s!" + secrets.token_urlsafe(18).replace("-", "x").replace("_", "y") + "a1"


# --------------------------------------------------------------------------- /etc/hosts


@contextlib.contextmanager
def _locked_hosts() -> Iterator[list[str]]:
    """/etc/hosts' lines, locked; changes to the list are written back in place.

    In place (not rename): in a container /etc/hosts is often a bind mount.
    """
    with _HOSTS.open("r+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            lines = fh.read().splitlines()
            before = list(lines)
            yield lines
            if lines != before:
                fh.seek(0)
                fh.write("".join(line + "\n" for line in lines))
                fh.truncate()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def hosts_lines() -> list[str]:
    """The lines the DC adds to /etc/hosts (each ends with :data:`HOSTS_MARKER`)."""
    return [
        f"{ADDRESS} {FQDN} {DC_NAME} {HOSTS_MARKER}",
        f"{ADDRESS} {WINRM_HOST} {HOSTS_MARKER}",
    ]


def _add_hosts_lines() -> None:
    with _locked_hosts() as lines:
        lines[:] = [line for line in lines if not line.endswith(HOSTS_MARKER)] + hosts_lines()


def _remove_hosts_lines() -> None:
    with _locked_hosts() as lines:
        lines[:] = [line for line in lines if not line.endswith(HOSTS_MARKER)]


def _provision_command(target: Path, admin_password: str) -> list[str]:
    """``samba-tool domain provision`` of the test domain, everything kept under ``target``."""
    options = {
        "interfaces": "lo",
        "bind interfaces only": "yes",
        "pid directory": f"{target}/run",
        "ncalrpc dir": f"{target}/run/ncalrpc",
        "winbindd socket directory": f"{target}/run/winbindd",
        "ntp signd socket directory": f"{target}/ntp_signd",  # Samba creates it (must not exist)
        "log file": f"{target}/log/samba.log",
        # The provision's list less dnsupdate (its helper processes inherit the listening
        # sockets), nbt and wrepl (NetBIOS/WINS, UDP 137/138 and TCP 42): none used here.
        "server services": "s3fs, rpc, ldap, cldap, kdc, drepl, winbindd, ntp_signd, kcc",
        "load printers": "no",
        "printing": "bsd",
        "printcap name": "/dev/null",
        "disable spoolss": "yes",
    }
    return [
        "samba-tool", "domain", "provision", f"--realm={REALM}", f"--domain={DOMAIN}",
        "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307", f"--host-name={DC_NAME}",
        f"--adminpass={admin_password}", f"--targetdir={target}",
    ] + [f"--option={k}={v}" for k, v in options.items()]  # fmt: skip


def _provision_into(target: Path, admin_password: str) -> None:
    """Provision the domain in ``target`` and extend its schema with LAPS (both static)."""
    target.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        _provision_command(target, admin_password), capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SambaDCError(f"samba-tool domain provision failed: {_tail(out.stderr)}")
    for step in laps_schema_ldif():  # two runs: the new attributes must load before mayContain
        _ldbmodify(target / "private" / "sam.ldb", step, schema=True)


def _ldbmodify(sam_ldb: Path, ldif: str, *, schema: bool = False) -> None:
    cmd = ["ldbmodify", "-H", str(sam_ldb)]
    if schema:
        cmd.append("--option=dsdb:schema update allowed=true")
    out = subprocess.run(cmd, input=ldif, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SambaDCError(f"ldbmodify failed: {_tail(out.stderr or out.stdout)}")


def _template(cache: Path) -> Path:
    """The provisioned (never started) template domain for this Samba version and this
    module's provision command, made under a lock if missing or incomplete."""
    version = subprocess.run(["samba", "--version"], capture_output=True, text=True, check=False)
    command = " ".join(_provision_command(Path("/TARGET"), "PASSWORD"))
    recipe = "\n".join([command, *laps_schema_ldif(), version.stdout])
    key = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    slot, done = cache / key, cache / key / "complete"
    with (cache / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                shutil.rmtree(slot, ignore_errors=True)
                _provision_into(slot / "domain", _strong_password())
                done.write_text(recipe + "\n")
            tls = slot / "domain" / "private" / "tls"
            if not _tls_valid(tls, timedelta(days=30)):
                for name in _TLS_FILES:
                    (tls / name).unlink(missing_ok=True)  # samba generates new ones at start
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return slot / "domain"


def _keep_tls(template: Path, workdir: Path) -> None:
    """Give the template the TLS CA, certificate and key samba generated at its first start
    (4096-bit RSA keys: 2–3 s of every start otherwise); later copies start with them."""
    tls = template / "private" / "tls"
    with (template.parent.parent / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _tls_valid(tls, timedelta(days=30)):
                for name in _TLS_FILES:
                    shutil.copy2(workdir / "private" / "tls" / name, tls / name)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tls_valid(tls: Path, margin: timedelta) -> bool:
    """Samba's TLS files are all there and the certificates valid for ``margin`` more.

    (``openssl x509 -checkend``: the ``cryptography`` package warns about, and will refuse,
    samba's certificates, whose serial number is 0.)
    """
    if not all((tls / name).exists() for name in _TLS_FILES):
        return False
    seconds = str(int(margin.total_seconds()))
    for name in ("ca.pem", "cert.pem"):
        try:
            check = subprocess.run(
                ["openssl", "x509", "-checkend", seconds, "-noout", "-in", str(tls / name)],
                capture_output=True, check=False,
            )  # fmt: skip
        except FileNotFoundError:  # no openssl: let samba make new ones
            return False
        if check.returncode != 0:
            return False
    return True


# --------------------------------------------------------------------------- the DC

# Runs samba-tool commands in one Samba Python process (JSON list of argv lists on stdin);
# prints one JSON object per command: {"argv": [...], "rc": int, "out": str, "err": str}.
# Each command would open sam.ldb afresh (~0.12 s: the schema loads); the commands used here
# get one shared SamDB per URL instead, so a command costs milliseconds.
_BATCH_RUNNER = r"""
import json, os, sys, tempfile
import samba.samdb
from samba.netcmd import computer, group, spn, user
from samba.netcmd.main import cmd_sambatool

opened = {}
def shared_samdb(*args, **kwargs):
    url = args[0] if args else kwargs.get("url")
    if url not in opened:
        opened[url] = samba.samdb.SamDB(*args, **kwargs)
    return opened[url]
for module in (computer, group, spn, user):
    module.SamDB = shared_samdb

# samba-tool's commands write to the process's own stdout/stderr (bound when they are
# defined): each command gets fresh files on fds 1 and 2; the records go to a copy of fd 1.
records = os.fdopen(os.dup(1), "w")
for argv in json.load(sys.stdin):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush(); sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
        cmd = cmd_sambatool()
        try:
            rc = cmd._run("samba-tool", *argv)
        except SystemExit as e:
            rc = e.code
        except Exception as e:
            cmd.show_command_error(e)
            rc = 1
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
            os.close(saved[0]); os.close(saved[1])
        out.seek(0); err.seek(0)
        text = {"out": out.read().decode(errors="replace"), "err": err.read().decode(errors="replace")}
    records.write(json.dumps({"argv": argv, "rc": rc or 0, **text}) + "\n")
    records.flush()
    if rc:
        break
"""


@dataclass
class SambaDC:
    """A Samba AD DC provisioned in ``workdir``; use as a context manager or start()/stop().

    ``user_password`` is every populated user's password (:data:`POPULATION`).
    ``timings`` records seconds per phase (``provision``, ``populate``, ``start``).
    """

    workdir: Path
    admin_password: str = field(default_factory=_strong_password)
    scanner_user: str = "svc-e8scan"
    scanner_password: str = field(default_factory=_strong_password)
    user_password: str = field(default_factory=_strong_password)
    template_cache: Path | None = TEMPLATE_CACHE  # None: run samba-tool domain provision here
    ca_pem: Path = field(init=False)
    krb5_conf: Path = field(init=False)
    populated_at: datetime | None = field(default=None, init=False)
    timings: dict[str, float] = field(default_factory=dict, init=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _hosts_added: bool = field(default=False, init=False, repr=False)
    _template: Path | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self.ca_pem = self.workdir / "private" / "tls" / "ca.pem"
        self.krb5_conf = self.workdir / "krb5.conf"

    # -- paths ---------------------------------------------------------------------------

    @property
    def smb_conf(self) -> Path:
        return self.workdir / "etc" / "smb.conf"

    @property
    def sam_ldb(self) -> Path:
        return self.workdir / "private" / "sam.ldb"

    @property
    def log_file(self) -> Path:
        return self.workdir / "log" / "samba.log"

    @property
    def scanner_upn(self) -> str:
        return f"{self.scanner_user}@{DNS_DOMAIN}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{FQDN}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> SambaDC:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def provision(self) -> SambaDC:
        """A fresh domain in ``workdir`` (which must not hold one yet), its schema extended
        with the LAPS attributes (:data:`LAPS_ATTRIBUTES`) as a site running LAPS has it.

        With ``template_cache`` (the default) the domain is a copy of one provisioned once per
        machine and Samba version (``samba-tool domain provision`` takes 4–9 s; a copy 0.2 s):
        its paths are rewritten and the Administrator password set to ``admin_password``.
        """
        require_root_and_samba()
        if self.sam_ldb.exists():
            raise SambaDCError(f"{self.workdir} already holds a provisioned domain")
        t0 = time.monotonic()
        if self.template_cache is None:
            _provision_into(self.workdir, self.admin_password)
        else:
            template = _template(Path(self.template_cache))
            self._template = template
            shutil.copytree(template, self.workdir, symlinks=True, dirs_exist_ok=True)
            self.smb_conf.write_text(
                self.smb_conf.read_text().replace(str(template), str(self.workdir))
            )
            self.samba_tool_batch(
                [["user", "setpassword", "Administrator", f"--newpassword={self.admin_password}"]]
            )
        self.log_file.parent.mkdir(exist_ok=True)  # else smbd/winbindd log to /var/log/samba
        self._write_krb5_conf()
        self.timings["provision"] = time.monotonic() - t0
        return self

    def start(self) -> SambaDC:
        """Start the DC (provisioning first if needed); returns once LDAPS and Kerberos work."""
        require_root_and_samba()
        if self.running:
            return self
        require_free_ports()
        if not self.sam_ldb.exists():
            self.provision()
        t0 = time.monotonic()
        _add_hosts_lines()
        self._hosts_added = True
        out = (self.workdir / "samba.out").open("wb")
        # -i: samba stays in the foreground and exits when its stdin closes (stop(), or this
        # process dying); --pdeathsig KILL covers a SIGKILLed pytest as well.
        self._proc = subprocess.Popen(
            ["setpriv", "--pdeathsig", "KILL", "samba", "-s", str(self.smb_conf), "-i",
             "-M", "single"],
            stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        out.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        if self._template is not None:
            _keep_tls(self._template, self.workdir)
        self.timings["start"] = time.monotonic() - t0
        return self

    def stop(self) -> None:
        """Stop samba and its smbd/winbindd; remove the /etc/hosts lines start() added."""
        proc, self._proc = self._proc, None
        try:
            if proc is not None:
                if proc.stdin is not None:
                    with contextlib.suppress(OSError):
                        proc.stdin.close()  # samba -i exits on EOF
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # anything left in samba's group
            self._kill_daemons()
            if proc is not None:
                _wait_ports_closed()
        finally:
            if self._hosts_added:  # never another session's lines (its DC holds the ports)
                _remove_hosts_lines()
                self._hosts_added = False

    @contextlib.contextmanager
    def reconfigured(self, options: dict[str, str]) -> Iterator[SambaDC]:
        """The DC restarted with ``options`` added to ``[global]`` of its smb.conf (a site's
        non-default setting), then restarted as it was. About two restarts' time."""
        original = self.smb_conf.read_text()
        if "[global]\n" not in original:
            raise SambaDCError(f"{self.smb_conf}: no [global] section to add {options} to")
        extra = "".join(f"\t{k} = {v}\n" for k, v in options.items())
        self.stop()
        self.smb_conf.write_text(original.replace("[global]\n", "[global]\n" + extra, 1))
        try:
            self.start()
            yield self
        finally:
            self.stop()
            self.smb_conf.write_text(original)
            self.start()

    # -- tools ---------------------------------------------------------------------------

    def samba_tool(self, *args: str) -> str:
        """``samba-tool ARGS -s smb.conf`` on the local sam.ldb; its stdout."""
        out = subprocess.run(
            ["samba-tool", *args, "-s", str(self.smb_conf)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise SambaDCError(
                f"samba-tool {' '.join(args)} failed: {_tail(out.stderr or out.stdout)}"
            )
        return out.stdout

    def samba_tool_batch(self, commands: Sequence[Sequence[str]]) -> list[str]:
        """Run many samba-tool commands in one process (``-s smb.conf`` added to each).

        The same command classes the ``samba-tool`` script runs, without paying its Python
        start-up and sam.ldb opening per command (``user``, ``group``, ``computer`` and ``spn``
        commands share one SamDB); stops at the first failure and raises with its error.
        """
        argvs = [[*c, "-s", str(self.smb_conf)] for c in commands]
        out = subprocess.run(
            [_samba_python(), "-c", _BATCH_RUNNER],
            input=json.dumps(argvs), capture_output=True, text=True, check=False,
        )  # fmt: skip
        results = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
        for r in results:
            if r["rc"] != 0:
                argv = " ".join(r["argv"][:-2])
                raise SambaDCError(f"samba-tool {argv} failed: {_tail(r['err'] or r['out'])}")
        if out.returncode != 0 or len(results) != len(argvs):
            raise SambaDCError(f"the samba-tool batch runner failed: {_tail(out.stderr)}")
        return [r["out"] for r in results]

    def ldbmodify(self, ldif: str, *, schema: bool = False) -> None:
        """Apply ``ldif`` to the local sam.ldb as the system (no ACLs); ``schema`` allows
        schema changes (``dsdb:schema update allowed``)."""
        _ldbmodify(self.sam_ldb, ldif, schema=schema)

    def ldbsearch(self, base: str, expression: str, *attrs: str) -> str:
        """``ldbsearch`` on the local sam.ldb as the system (sees everything); its LDIF."""
        out = subprocess.run(
            ["ldbsearch", "-H", str(self.sam_ldb), "-b", base, expression, *attrs],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise SambaDCError(f"ldbsearch failed: {_tail(out.stderr or out.stdout)}")
        return out.stdout

    def exportkeytab(self, principal: str, path: Path) -> Path:
        """A keytab for ``principal`` (e.g. ``HTTP/win01.corp.e8scan.test``) at ``path``."""
        path = Path(path)
        path.unlink(missing_ok=True)  # exportkeytab adds to an existing keytab
        self.samba_tool("domain", "exportkeytab", str(path), f"--principal={principal}")
        if not path.exists():
            raise SambaDCError(f"samba-tool domain exportkeytab wrote no {path}")
        return path

    def add_spn_account(self, account: str, spn: str) -> None:
        """Create service account ``account`` (random password) holding ``spn``."""
        self.samba_tool_batch(_spn_account_commands(account, spn))

    def kinit(self, principal: str, password: str, ccache: Path) -> None:
        """``kinit principal`` with this DC's krb5.conf into ``ccache``."""
        env = dict(os.environ, KRB5_CONFIG=str(self.krb5_conf), KRB5CCNAME=f"FILE:{ccache}")
        out = subprocess.run(
            ["kinit", principal], input=password + "\n", env=env,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if out.returncode != 0:
            raise SambaDCError(f"kinit {principal} failed: {_tail(out.stderr or out.stdout)}")

    # -- internals -----------------------------------------------------------------------

    def _write_krb5_conf(self) -> None:
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            f"    default_realm = {REALM}\n"
            "    dns_lookup_kdc = false\n"
            "    dns_lookup_realm = false\n"
            "    rdns = false\n"
            "    dns_canonicalize_hostname = false\n"
            f"    default_ccache_name = FILE:{self.workdir}/krb5cc_default\n"
            "[realms]\n"
            f"    {REALM} = {{\n"
            f"        kdc = {ADDRESS}\n"
            f"        admin_server = {ADDRESS}\n"
            "    }\n"
            "[domain_realm]\n"
            f"    .{DNS_DOMAIN} = {REALM}\n"
            f"    {DNS_DOMAIN} = {REALM}\n"
        )

    def _wait_ready(self) -> None:
        """Until 636 and 88 accept and an LDAPS simple bind (CA-validated) succeeds."""
        from ldap3.core.exceptions import LDAPException

        deadline = time.monotonic() + _START_TIMEOUT
        last = "no answer yet"
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise SambaDCError(
                    f"samba exited with {self._proc.returncode}: {self._read_logs()}"
                )
            if all(_listener_up(p) for p in (PORTS["LDAPS"], PORTS["Kerberos"])):
                try:
                    self._bind_check()
                    return
                except (LDAPException, OSError, SambaDCError) as exc:  # reported if it persists
                    last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise SambaDCError(
                    f"the DC did not answer an LDAPS bind within {_START_TIMEOUT:g} s "
                    f"({last}); see {self.log_file}"
                )
            time.sleep(0.05)

    def _bind_check(self) -> None:
        import ldap3

        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_pem))
        server = ldap3.Server(FQDN, port=PORTS["LDAPS"], use_ssl=True, tls=tls, connect_timeout=2)
        conn = ldap3.Connection(
            server, user=f"Administrator@{DNS_DOMAIN}", password=self.admin_password,
            receive_timeout=5,
        )  # fmt: skip
        try:
            if not conn.bind():
                raise SambaDCError(f"LDAPS bind as Administrator refused: {conn.result}")
        finally:
            conn.unbind()

    def _kill_daemons(self) -> None:
        """smbd/winbindd that outlived samba (they run in their own sessions)."""
        for name in ("smbd", "winbindd"):
            pid_file = self.workdir / "run" / f"{name}.pid"
            try:
                pid = int(pid_file.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(self.smb_conf) in cmd:  # still ours (pids get reused)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)

    def _read_logs(self) -> str:
        texts = []
        for f in (self.workdir / "samba.out", self.log_file):
            with contextlib.suppress(OSError):
                texts.append(f.read_text(errors="replace").strip())
        return _tail(" | ".join(t for t in texts if t))


def _wait_ports_closed(timeout: float = 10.0) -> None:
    """Until nothing accepts on the DC's ports (the next DC can bind them)."""
    deadline = time.monotonic() + timeout
    while any(_listener_up(p) for p in PORTS.values()):
        if time.monotonic() > deadline:
            raise SambaDCError(f"the DC's ports {sorted(PORTS.values())} still accept after stop")
        time.sleep(0.05)


def _listener_up(port: int) -> bool:
    try:
        with socket.create_connection((ADDRESS, port), timeout=0.5):
            return True
    except OSError:
        return False


def _tail(text: str, limit: int = 2000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def _samba_python() -> str:
    """The interpreter samba-tool runs with (its shebang): it has Samba's Python modules."""
    tool = shutil.which("samba-tool")
    if tool is None:
        raise SambaDCError("samba-tool is missing — run `make system-deps`")
    first = Path(tool).read_text(errors="replace").splitlines()[0]
    return first.removeprefix("#!").strip().split()[0]


def _spn_account_commands(account: str, spn: str) -> list[list[str]]:
    return [
        ["user", "create", account, "--random-password"],
        ["spn", "add", spn, account],
    ]


# --------------------------------------------------------------------------- populate


def populate(dc: SambaDC, population: Population = POPULATION) -> None:
    """Fill the DC's directory with ``population`` (DC running or not).

    Times are relative to now: ``dc.populated_at`` records the instant they count from.
    """
    t0 = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)
    dc.populated_at = now

    cmds: list[list[str]] = []
    for u in population.users:
        password = dc.scanner_password if u.name == population.scanner_user else dc.user_password
        cmds.append(["user", "create", u.name, password])
    for g in population.groups:
        cmds.append(["group", "add", g.name])
    members: dict[str, list[str]] = {}
    for g in population.groups:
        for parent in g.member_of:
            members.setdefault(parent, []).append(g.name)
    for u in population.users:
        for parent in u.groups:
            members.setdefault(parent, []).append(u.name)
    for group, names in members.items():
        cmds.append(["group", "addmembers", group, ",".join(names)])
    cmds += [["user", "disable", u.name] for u in population.users if not u.enabled]
    for c in population.computers:
        cmds.append(["computer", "create", c.name] + (["--prepare-oldjoin"] if c.enabled else []))
    cmds += _spn_account_commands(population.winrm_account, population.winrm_spn)
    # A Windows DC registers its LDAP service principals itself; Samba's samba_spnupdate (run by
    # the dnsupdate service this test DC does without) would add these. Kerberos binds to LDAP
    # ask for ldap/<DC's FQDN>.
    cmds += [["spn", "add", spn, f"{DC_NAME}$"] for spn in (
        f"ldap/{FQDN}", f"ldap/{DC_NAME}", f"ldap/{FQDN}/{DNS_DOMAIN}",
    )]  # fmt: skip
    dc.samba_tool_batch(cmds)

    def ago(days: int) -> int:
        return filetime(now - timedelta(days=days))

    changes = []
    for u in population.users:
        attrs: list[tuple[str, list[str]]] = []
        if u.last_logon_days is not None:
            attrs.append(("lastLogonTimestamp", [str(ago(u.last_logon_days))]))
        if u.name != population.scanner_user:
            expires = NEVER_EXPIRES if u.expires_days is None else ago(-u.expires_days)
            attrs.append(("accountExpires", [str(expires)]))
        if u.mail:
            attrs.append(("mail", [u.mail]))
        if u.proxy_addresses:
            attrs.append(("proxyAddresses", list(u.proxy_addresses)))
        if u.admin_count is not None:
            attrs.append(("adminCount", [str(u.admin_count)]))
        if attrs:
            changes.append(_replace_ldif(u.dn, attrs))
    for c in population.computers:
        attrs = [
            ("operatingSystem", [c.operating_system]),
            ("operatingSystemVersion", [c.os_version]),
            ("dNSHostName", [c.dns_host_name]),
        ]
        if c.last_logon_days is not None:
            attrs.append(("lastLogonTimestamp", [str(ago(c.last_logon_days))]))
        if c.laps is not None and c.laps_expires_days is not None:
            name = (
                "msLAPS-PasswordExpirationTime"
                if c.laps == "windows"
                else ("ms-Mcs-AdmPwdExpirationTime")
            )
            attrs.append((name, [str(ago(-c.laps_expires_days))]))
        if c.name == "WIN02":
            attrs.append(("ms-Mcs-AdmPwd", [population.laps_secret]))
        changes.append(_replace_ldif(c.dn, attrs))
    dc.ldbmodify("\n".join(changes))
    dc.timings["populate"] = time.monotonic() - t0


def _replace_ldif(dn: str, attrs: list[tuple[str, list[str]]]) -> str:
    body = "".join(
        f"replace: {name}\n" + "".join(f"{name}: {v}\n" for v in values) + "-\n"
        for name, values in attrs
    )
    return f"dn: {dn}\nchangetype: modify\n{body}"
