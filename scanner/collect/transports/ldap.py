"""A directory target: one LDAPS connection to a domain controller, read-only searches only.

The client is ldap3 (pure Python; the LDAP library most Python AD tooling is built on), opened
``read_only`` so that it refuses every write operation itself, and driven only through
:func:`scanner.model.ldap_search.parse`: the one "command" a directory runs is a search line
(base, scope, filter, attributes). Each search is paged (500 entries a page), follows no
referral (a referral is recorded, never chased to another server), asks for ranged attributes
(``member`` of a group beyond the server's 1500 values) to be completed, and is capped like a
command's output: past ``max_output`` bytes the entries stop and the result says truncated.

What a search gives back is one JSON document on stdout::

    {"base": "DC=corp,DC=example", "scope": "sub", "filter": "(objectClass=group)",
     "entries": [{"dn": "...", "attributes": {"cn": ["Domain Admins"], ...}}],
     "references": ["ldap://ForestDnsZones.corp.example/..."]}

Attribute values are text; SIDs and GUIDs are given in their string forms; other binary values
as ``{"base64": ...}``. The exit code is the LDAP result code (0 success, 10 referral, 32 no such
object, 50 insufficient access…), and stderr its name and the server's message.

Why one ~440-line module: it is one transport (connect, bind, paged search, ranged attributes,
caps, error classification) whose pieces share the one ldap3 connection; the GSSAPI sealing
lives apart in ``ldap_gssapi``.

Security: LDAPS by default, the certificate validated against ``e8_ldap_ca_trust_path`` or the
system store and the DC's name checked; a simple bind only inside TLS, with the password from
``e8_password_env``. Kerberos (``e8_ldap_auth=kerberos``) from a password (no kinit: a credential
held in memory for this connection only) or the user's ticket cache, with mutual
authentication — over LDAPS with channel binding, or over plain LDAP (``e8_ldap_scheme=ldap``)
sealed by the Kerberos session (:mod:`scanner.collect.transports.ldap_gssapi`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import socket
import ssl
import time
import uuid
from typing import Any

from scanner.collect.transports.base import Progress, RunResult, TransportError, one_line
from scanner.inventory.connection import ConnectionSpec
from scanner.model.ldap_search import LdapSearch, SearchLineError, parse
from scanner.model.vocabulary import Reach

PAGE_SIZE = 500
SID_ATTRIBUTES = frozenset({"objectsid", "tokengroups", "securityidentifier", "sidhistory"})
GUID_ATTRIBUTES = frozenset({"objectguid", "msexchmailboxguid"})
ROOTDSE_CONTEXTS = (
    "defaultNamingContext",
    "configurationNamingContext",
    "schemaNamingContext",
    "rootDomainNamingContext",
)
# LDAP result codes (RFC 4511 4.1.9) the runner and the facts read back from the exit code.
RESULT_NAMES = {
    0: "success",
    1: "operationsError",
    3: "timeLimitExceeded",
    4: "sizeLimitExceeded",
    10: "referral",
    11: "adminLimitExceeded",
    32: "noSuchObject",
    34: "invalidDNSyntax",
    49: "invalidCredentials",
    50: "insufficientAccessRights",
    51: "busy",
    52: "unavailable",
    53: "unwillingToPerform",
    80: "other",
}


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def sid_text(raw: bytes) -> str:
    """A binary SID (MS-DTYP 2.4.2.2) as ``S-1-5-21-…``; ValueError when it is not one."""
    if len(raw) < 8 or raw[0] != 1 or len(raw) != 8 + 4 * raw[1]:
        raise ValueError("not a SID")
    authority = int.from_bytes(raw[2:8], "big")
    subs = [int.from_bytes(raw[8 + 4 * i : 12 + 4 * i], "little") for i in range(raw[1])]
    return "S-1-" + "-".join(str(x) for x in [authority, *subs])


def _value(attr: str, raw: bytes) -> Any:
    key = attr.lower().split(";", 1)[0]
    with contextlib.suppress(ValueError):
        if key in SID_ATTRIBUTES:
            return sid_text(raw)
        if key in GUID_ATTRIBUTES and len(raw) == 16:
            return str(uuid.UUID(bytes_le=raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(raw).decode("ascii")}


class LdapTransport:
    """One directory target. ``run`` takes a search line and returns its JSON."""

    name = "ldap"

    def __init__(self, spec: ConnectionSpec, connect_timeout: float = 10.0) -> None:
        self._spec = spec
        self._connect_timeout = connect_timeout
        self._conn: Any = None
        self._cert: str | None = None
        self._contexts: dict[str, str] = {}
        self.notes: list[str] = []

    @property
    def host_key(self) -> str | None:
        return self._cert

    @property
    def user(self) -> str:
        return self._spec.user or ""

    # -- connect -------------------------------------------------------------------------

    def connect(self) -> None:
        spec = self._spec
        if spec.ldap_auth == "kerberos":
            self._conn = self._kerberos_bind(self._kerberos_credential())
        else:
            self._conn = self._simple_bind()
        self._read_rootdse()

    @property
    def _where(self) -> str:
        return f"{self._spec.address}:{self._spec.port}"

    def _open(self, **auth: Any) -> Any:
        """An open (not yet bound) read-only ldap3 connection: TLS with the DC's certificate
        checked on LDAPS, plain TCP on LDAP (Kerberos then seals it)."""
        import ldap3
        from ldap3.core import exceptions as lx

        spec = self._spec
        tls = spec.ldap_scheme == "ldaps"
        server = ldap3.Server(
            spec.address,
            port=spec.port,
            use_ssl=tls,
            tls=ldap3.Tls(
                validate=ssl.CERT_REQUIRED,
                ca_certs_file=spec.ldap_ca_trust_path,
                version=ssl.PROTOCOL_TLS_CLIENT,
                valid_names=[spec.name, spec.address],
            )
            if tls
            else None,
            get_info=ldap3.NONE,
            connect_timeout=self._connect_timeout,
        )
        conn = ldap3.Connection(
            server,
            read_only=True,
            auto_referrals=False,
            raise_exceptions=False,
            check_names=False,
            auto_range=True,
            receive_timeout=max(5, int(self._connect_timeout) * 3),
            **auth,
        )
        try:
            conn.open()
        except lx.LDAPSocketOpenError as exc:
            raise self._open_error(exc, self._where) from None
        except (lx.LDAPException, OSError) as exc:
            raise TransportError(
                Reach.ERROR,
                f"cannot open {spec.ldap_scheme.upper()} to {self._where}: {one_line(exc)}",
            ) from None
        if tls:
            self._cert = self._fingerprint(conn)
        return conn

    def _simple_bind(self) -> Any:
        import ldap3

        spec = self._spec
        if spec.password is None or not spec.user:
            raise TransportError(
                Reach.AUTH_FAILED,
                f"{spec.name}: a simple bind needs ansible_user and a password "
                "(e8_password_env); or set e8_ldap_auth=kerberos",
            )
        conn = self._open(
            user=spec.user, password=spec.password.get_secret_value(), authentication=ldap3.SIMPLE
        )
        try:
            bound = conn.bind()
        except Exception as exc:  # ldap3's errors of every kind: the bind did not succeed
            self._drop(conn)
            raise TransportError(
                Reach.AUTH_FAILED, f"{self._where}: bind failed: {self._scrub(one_line(exc))}"
            ) from None
        if not bound:
            self._drop(conn)
            raise self._refused("bind", conn.result or {})
        return conn

    def _kerberos_bind(self, creds: Any) -> Any:
        """SASL GSSAPI: inside TLS with no security layer (channel-bound); on plain LDAP sealed
        (:mod:`scanner.collect.transports.ldap_gssapi`)."""
        import ldap3

        from scanner.collect.transports import ldap_gssapi as g

        spec = self._spec
        tls = spec.ldap_scheme == "ldaps"
        target = spec.address if not _is_ip(spec.address) else spec.name
        layer = g.NO_LAYER if tls else g.CONFIDENTIALITY
        conn = self._open(authentication=ldap3.SASL, sasl_mechanism=ldap3.KERBEROS)
        try:
            res = g.bind(conn, creds, target, tls=tls, layer=layer)
        except Exception as exc:  # gssapi's and ldap3's errors alike
            self._drop(conn)
            raise TransportError(
                Reach.AUTH_FAILED,
                f"{self._where}: Kerberos bind to ldap/{target} failed: "
                f"{self._scrub(one_line(str(exc)))}",
            ) from None
        if res.get("result") != 0:
            self._drop(conn)
            err = self._refused("Kerberos bind", res)
            # Samba with "ldap server require strong auth = yes" takes no SASL bind inside TLS
            # (strongerAuthRequired, or unwillingToPerform "Sign or Seal are not allowed").
            if tls and "seal" in str(res.get("message", "")).lower():
                raise TransportError(
                    err.reach,
                    f"{err.detail}; this DC takes Kerberos binds only sealed on plain LDAP: set "
                    "e8_ldap_scheme=ldap (Kerberos seals the session)",
                )
            raise err
        conn.bound = True
        if layer != g.NO_LAYER:
            self.notes.append("LDAP traffic sealed by Kerberos (SASL GSSAPI confidentiality)")
        return conn

    def _refused(self, kind: str, res: dict[str, Any]) -> TransportError:
        return TransportError(
            Reach.AUTH_FAILED,
            f"{self._where}: {kind} refused: {res.get('description', '?')} "
            f"({self._scrub(str(res.get('message', '')).strip())})",
        )

    @staticmethod
    def _drop(conn: Any) -> None:
        with contextlib.suppress(Exception):
            conn.unbind()

    def _kerberos_credential(self) -> Any:
        """A Kerberos credential for this connection only: from the password when one is given
        (acquired in memory, no kinit, no ticket cache written), else the user's ticket cache."""
        spec = self._spec
        try:
            import gssapi
        except ImportError:
            raise TransportError(
                Reach.ERROR,
                f"{spec.name}: e8_ldap_auth=kerberos needs the gssapi package: "
                "pip install 'e8scan[kerberos]'",
            ) from None
        try:
            if spec.password is not None and spec.user:
                name = gssapi.Name(spec.user, gssapi.NameType.kerberos_principal)
                acquired = gssapi.raw.acquire_cred_with_password(
                    name, spec.password.get_secret_value().encode(), usage="initiate"
                )
                return acquired.creds
            return gssapi.Credentials(usage="initiate")
        except gssapi.raw.misc.GSSError as exc:
            raise TransportError(
                Reach.AUTH_FAILED,
                f"{spec.name}: Kerberos credential for {spec.user or 'the ticket cache'}: "
                f"{self._scrub(one_line(str(exc)))}",
            ) from None

    def _open_error(self, exc: BaseException, where: str) -> TransportError:
        text = one_line(exc)
        low = text.lower()
        if "certificate" in low or "ssl" in low or "hostname" in low:
            return TransportError(
                Reach.HOST_KEY_REFUSED,
                f"{where}: the DC's TLS certificate was not accepted: {text} "
                "(set e8_ldap_ca_trust_path to the CA that signed it)",
            )
        if "timed out" in low or "timeout" in low:
            return TransportError(Reach.TIMEOUT, f"{where}: no answer: {text}")
        return TransportError(Reach.UNREACHABLE, f"{where}: cannot connect: {text}")

    @staticmethod
    def _fingerprint(conn: Any) -> str | None:
        with contextlib.suppress(Exception):
            der = conn.socket.getpeercert(binary_form=True)
            if der:
                return "SHA256:" + hashlib.sha256(der).hexdigest().upper()
        return None

    def _scrub(self, text: str) -> str:
        pw = self._spec.password
        return text.replace(pw.get_secret_value(), "********") if pw else text

    def _read_rootdse(self) -> None:
        conn = self._conn
        conn.search("", "(objectClass=*)", search_scope="BASE", attributes=list(ROOTDSE_CONTEXTS))
        for entry in conn.response or []:
            for attr in ROOTDSE_CONTEXTS:
                values = (entry.get("raw_attributes") or {}).get(attr) or []
                if values:
                    self._contexts[attr] = values[0].decode("utf-8", errors="replace")
        if self._spec.ldap_base:
            self._contexts["defaultNamingContext"] = self._spec.ldap_base
            self.notes.append(f"base DN from e8_ldap_base: {self._spec.ldap_base}")

    # -- run -----------------------------------------------------------------------------

    def run(
        self,
        command: str,
        timeout: float,
        max_output: int,
        stdin: bytes | None = None,
        max_stderr: int | None = None,
        progress: Progress | None = None,
    ) -> RunResult:
        """Run one search line; the JSON of its entries on stdout, the LDAP result as exit code.

        A search is not a framed batch: ``progress`` is unused (``timeout`` bounds the search)."""
        start = time.monotonic()
        if self._conn is None:
            raise TransportError(Reach.ERROR, f"not connected to {self._spec.name}")
        try:
            search = parse(command)
            base = search.resolve(self._contexts)
        except SearchLineError as exc:
            return RunResult(b"", f"refused: {exc}\n".encode(), 2, time.monotonic() - start)
        return self._search(search, base, timeout, max_output, start)

    def _search(
        self, search: LdapSearch, base: str, timeout: float, cap: int, start: float
    ) -> RunResult:
        from ldap3.core import exceptions as lx

        conn = self._conn
        head = {"base": base, "scope": search.scope, "filter": search.filter}
        entries: list[dict[str, Any]] = []
        refs: list[str] = []
        size = len(json.dumps(head)) + 64
        truncated = timed_out = False
        code, message = 0, ""
        scope = {"base": "BASE", "one": "LEVEL", "sub": "SUBTREE"}[search.scope]
        deadline = start + timeout
        try:
            pages = conn.extend.standard.paged_search(
                base,
                search.filter,
                search_scope=scope,
                attributes=list(search.attributes),
                paged_size=PAGE_SIZE,
                generator=True,
            )
            for item in pages:
                if item.get("type") == "searchResRef":
                    refs.extend(item.get("uri") or [])
                    continue
                if item.get("type") != "searchResEntry":
                    continue
                attrs = {
                    name: [_value(name, v) for v in values]
                    for name, values in (item.get("raw_attributes") or {}).items()
                    if values
                }
                entry = {"dn": item.get("dn", ""), "attributes": attrs}
                size += len(json.dumps(entry)) + 2
                if size > cap:
                    truncated = True
                    break
                entries.append(entry)
                if time.monotonic() > deadline:
                    timed_out = True
                    break
            res = conn.result or {}
            code = int(res.get("result", 0) or 0)
            message = str(res.get("message", "") or "")
            if code == 10:
                refs.extend(res.get("referrals") or [])
        except lx.LDAPOperationResult as exc:
            code, message = int(exc.result or 80), str(exc.message or exc.description or "")
            if code == 10:
                refs.extend(getattr(exc, "referrals", None) or [])
        except (lx.LDAPSocketReceiveError, TimeoutError) as exc:
            if "timed out" in str(exc).lower() or isinstance(exc, TimeoutError | socket.timeout):
                timed_out = True
            else:
                raise TransportError(
                    Reach.ERROR, f"connection lost during a search: {one_line(exc)}"
                ) from None
        except (lx.LDAPException, OSError) as exc:
            raise TransportError(
                Reach.ERROR, f"connection lost during a search: {one_line(exc)}"
            ) from None
        doc = {**head, "entries": entries, "references": refs}
        stdout = json.dumps(doc, ensure_ascii=False, sort_keys=False).encode()
        stderr = b""
        if code:
            name = RESULT_NAMES.get(code, "result")
            stderr = f"LDAP {code} {name}: {message.strip()}".strip().encode()
            if code == 10 and refs:
                stderr += f" (referral to {', '.join(refs[:3])}; not followed)".encode()
        if code == 4:  # sizeLimitExceeded: entries past the server's limit were not sent
            truncated = True
        return RunResult(
            stdout=stdout,
            stderr=stderr,
            exit_code=None if timed_out else code,
            duration=time.monotonic() - start,
            timed_out=timed_out,
            truncated=truncated,
        )

    # -- close ---------------------------------------------------------------------------

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.unbind()
