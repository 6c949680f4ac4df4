"""Kerberos for WinRM (``ansible_winrm_transport: kerberos``) on python-gssapi, not pykerberos.

**Why not pywinrm's own Kerberos.** pywinrm authenticates with its vendored requests_kerberos on
pykerberos, which takes no password and no credential: it reads the *process's* default credential
cache (``KRB5CCNAME``). A password would then mean a ``kinit`` into a cache named by a process-wide
environment variable, and hosts scanned in parallel under different users would race for it (and
for the user's own cache). So this module gives pywinrm a requests authenticator of its own:

**Why one ~450-line module**: it is one requests authenticator — credential, handshake, channel
bindings and message wrapping share the one GSSAPI security context, so they stay together.

* **Credential, per host, in memory.** With a password (``e8_password_env``), ``gss_acquire_cred_
  with_password`` asks the KDC for a TGT and keeps it in a private ``MEMORY:`` cache owned by that
  credential handle: nothing is written to disk, ``KRB5CCNAME`` is neither read nor changed, and
  each host's transport holds its own handle, so parallel hosts never see each other's tickets.
  The handle (TGT and service ticket) lives as long as the host's transport and dies with it.
  Without a password (or with ``ansible_winrm_kinit_mode: manual``), the ticket comes from the
  user's credential cache (``kinit``; ``KRB5CCNAME`` or krb5.conf's default), for ``ansible_user``
  when given (which must then be in the cache collection), else for the cache's default principal.
* **The KDC** comes from the system's Kerberos configuration (``KRB5_CONFIG`` or
  ``/etc/krb5.conf``, or DNS SRV records when it allows them), as for ``kinit``.
* **Target.** The service principal is ``HTTP/<host>`` (``ansible_winrm_kerberos_hostname_override``
  replaces the host), asked for *as written*, in the referral realm: no reverse-DNS
  canonicalisation (which turns a loopback or NAT address into the wrong name), the way Windows'
  own clients name it. The KDC of the user's realm resolves the realm (referrals).
* **Handshake** (MS-WSMV / RFC 4559): after the listener's 401 offering ``Negotiate`` (or
  ``Kerberos``), a raw Kerberos AP-REQ as pywinrm sends it, with mutual authentication, replay and
  sequence detection, integrity and confidentiality; delegation only with
  ``ansible_winrm_kerberos_delegation: true``. Over HTTPS the token carries ``tls-server-end-point``
  channel bindings (read off that 401's TLS socket). The listener's answer must carry the AP-REP
  that proves it holds the key of that SPN: an answer without it is refused (``host_key_refused``),
  which is what makes a plain-HTTP Kerberos host *identified*.
* **Message encryption** over ``http://``: pywinrm's own ``Encryption`` (``multipart/encrypted``,
  ``application/HTTP-SPNEGO-session-encrypted``) calls ``wrap_winrm``/``unwrap_winrm`` on the
  session's authenticator, which this one implements with ``gss_wrap_iov``/``gss_unwrap_iov``
  (header, data, padding; DCE layout, as SSPI). Over HTTPS there is none, as pywinrm does.
* **Outcomes.** Every GSSAPI failure becomes a one-line :class:`KerberosFailure` (a
  ``TransportError``) that names Kerberos and what to fix: wrong password, unknown or disabled
  user, expired password or ticket, no ticket cache → ``auth_failed``; no KDC reachable for the
  realm → ``unreachable``; clock skew, a missing SPN, a host whose key does not match → ``error``.
  A password is never part of any message (MIT's texts never contain one).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from typing import Any

import gssapi
import gssapi.raw as graw
import requests
from cryptography import x509
from gssapi.raw import IOV, IOVBufferType
from gssapi.raw.exceptions import ExpiredCredentialsError, MissingCredentialsError
from gssapi.raw.misc import GSSError
from requests.auth import AuthBase
from winrm.transport import Transport

from scanner.collect.transports.base import TransportError
from scanner.model.vocabulary import Reach

KRB5_MECH = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2")
_FLAGS = (
    gssapi.RequirementFlag.mutual_authentication
    | gssapi.RequirementFlag.replay_detection
    | gssapi.RequirementFlag.out_of_sequence_detection
    | gssapi.RequirementFlag.confidentiality
    | gssapi.RequirementFlag.integrity
)

# MIT krb5 / com_err codes (krb5.h), as gssapi reports them in ``min_code`` (unsigned 32-bit).
_BASE = 2**32 - 1765328384  # ERROR_TABLE_BASE_krb5
C_PRINCIPAL_UNKNOWN = _BASE + 6
S_PRINCIPAL_UNKNOWN = _BASE + 7
CLIENT_REVOKED = _BASE + 18
KEY_EXPIRED = _BASE + 23
PREAUTH_FAILED = _BASE + 24
BAD_INTEGRITY = _BASE + 31
TKT_EXPIRED = _BASE + 32
SKEW = _BASE + 37
MODIFIED = _BASE + 41
NOKEY = _BASE + 45
CC_NOTFOUND = _BASE + 141
REALM_UNKNOWN = _BASE + 154
KDC_UNREACH = _BASE + 156
FCC_NOFILE = _BASE + 195
PREAUTH_FAILED_CLIENT = _BASE + 210
REALM_CANT_RESOLVE = _BASE + 220
CONFIG_NODEFREALM = _BASE + 224

_NO_KDC = {KDC_UNREACH, REALM_UNKNOWN, REALM_CANT_RESOLVE, CONFIG_NODEFREALM}
_NO_TICKET = {FCC_NOFILE, CC_NOTFOUND, TKT_EXPIRED}


class KerberosFailure(TransportError):
    """A Kerberos step failed; ``str()`` is one line naming Kerberos (never a secret)."""


def _minor_text(exc: GSSError) -> str:
    """MIT's own words for the minor status (e.g. "Preauthentication failed")."""
    try:
        text = exc.gen_message()
    except Exception:
        text = ""
    m = re.search(r"Minor \(\d+\): (.*)$", " ".join(text.split()))
    words = m.group(1) if m else (" ".join(text.split()) or type(exc).__name__)
    if "gss_display_status call returned failure" in words:
        words = f"GSSAPI minor status {exc.min_code}"
    return words[:200]


def _realm(principal: str | None) -> str:
    return principal.rsplit("@", 1)[1] if principal and "@" in principal else "the default realm"


def _cache_name() -> str:
    return os.environ.get("KRB5CCNAME") or "the default credential cache"


def principal_name(user: str) -> str:
    """``user@REALM`` as Kerberos wants it: AD realms are upper case, whatever the inventory wrote."""
    name, at, realm = user.rpartition("@")
    return f"{name}@{realm.upper()}" if at and name else user


def classify(
    exc: BaseException, doing: str, principal: str | None, spn: str, at_host: bool = False
) -> KerberosFailure:
    """One GSSAPI failure as a reach outcome with a reason that says what to fix.

    ``at_host``: the error is the host's answer to our AP-REQ (a KRB-ERROR its acceptor sent),
    where an integrity failure means the host's key, not the user's password.
    """
    if isinstance(exc, KerberosFailure):
        return exc
    who = principal or "the cached principal"
    if not isinstance(exc, GSSError):
        return KerberosFailure(
            Reach.ERROR, f"Kerberos failed while {doing}: {type(exc).__name__}: {exc}"[:300]
        )
    code, words = exc.min_code, _minor_text(exc)
    if isinstance(exc, ExpiredCredentialsError):
        code = TKT_EXPIRED
    if at_host and code in (BAD_INTEGRITY, MODIFIED, NOKEY):
        return KerberosFailure(
            Reach.ERROR,
            f"Kerberos: the host cannot decrypt its ticket for {spn} ({words}); the SPN "
            "belongs to another account (duplicate SPN) or the host's key is stale",
        )
    if code in (PREAUTH_FAILED, BAD_INTEGRITY, PREAUTH_FAILED_CLIENT):
        return KerberosFailure(
            Reach.AUTH_FAILED, f"Kerberos: the KDC refused the password for {who} ({words})"
        )
    if code == C_PRINCIPAL_UNKNOWN:
        return KerberosFailure(
            Reach.AUTH_FAILED,
            f"Kerberos: no such user {who} in {_realm(principal)} ({words}); "
            "ansible_user must be user@REALM",
        )
    if code == CLIENT_REVOKED:
        return KerberosFailure(
            Reach.AUTH_FAILED, f"Kerberos: the account {who} is disabled or locked out ({words})"
        )
    if code == KEY_EXPIRED:
        return KerberosFailure(
            Reach.AUTH_FAILED, f"Kerberos: the password of {who} has expired ({words})"
        )
    if code in _NO_KDC:
        return KerberosFailure(
            Reach.UNREACHABLE,
            f"Kerberos: cannot reach a KDC for {_realm(principal)} while {doing} ({words}); "
            "the KDCs come from krb5.conf (KRB5_CONFIG or /etc/krb5.conf) or DNS",
        )
    if code == SKEW:
        return KerberosFailure(
            Reach.ERROR,
            f"Kerberos: clock skew too great while {doing} ({words}); this machine, the KDC "
            "and the host must agree on the time within 5 minutes (NTP)",
        )
    if code == S_PRINCIPAL_UNKNOWN:
        return KerberosFailure(
            Reach.ERROR,
            f"Kerberos: the KDC has no service principal {spn} ({words}); register the "
            "host's SPN, or name the host as its DNS name (ansible_host, or "
            "ansible_winrm_kerberos_hostname_override)",
        )
    if code in _NO_TICKET or isinstance(exc, MissingCredentialsError):
        return KerberosFailure(
            Reach.AUTH_FAILED,
            f"Kerberos: no valid ticket for {who} in {_cache_name()} ({words}); run kinit, "
            "or give a password with e8_password_env",
        )
    if "client principal" in words.lower() and "cache" in words.lower():
        return KerberosFailure(
            Reach.AUTH_FAILED,
            f"Kerberos: {_cache_name()} holds no ticket for {who} ({words}); run kinit "
            "for that user, or give a password with e8_password_env",
        )
    return KerberosFailure(Reach.ERROR, f"Kerberos failed while {doing}: {words}")


def acquire_credential(user: str | None, password: str | None) -> gssapi.Credentials:
    """A credential for one host: a TGT from the password (in memory), or from the ticket cache."""
    principal = principal_name(user) if user else None
    if password is not None:
        if principal is None:
            raise KerberosFailure(
                Reach.AUTH_FAILED,
                "Kerberos with a password needs ansible_user (user@REALM)",
            )
        name = gssapi.Name(principal, gssapi.NameType.kerberos_principal)
        try:
            acquired = graw.acquire_cred_with_password(
                name, password.encode("utf-8"), usage="initiate", mechs=[KRB5_MECH]
            )
        except GSSError as exc:
            raise classify(exc, "getting a ticket (TGT) from the KDC", principal, "") from None
        return gssapi.Credentials(base=acquired.creds)
    try:
        wanted = gssapi.Name(principal, gssapi.NameType.kerberos_principal) if principal else None
        cred = gssapi.Credentials(name=wanted, usage="initiate", mechs=[KRB5_MECH])
        if cred.lifetime is not None and cred.lifetime <= 0:
            raise ExpiredCredentialsError(0, TKT_EXPIRED)
    except GSSError as exc:
        raise classify(exc, "reading the ticket cache", principal, "") from None
    return cred


def target_spn(host: str, override: str | None) -> str:
    """``HTTP/<host>`` (the override when given), without DNS canonicalisation."""
    name = (override or host).strip().strip("[]").rstrip(".")
    return f"HTTP/{name}"


def _negotiate_token(response: requests.Response) -> tuple[str | None, bytes | None]:
    """(scheme, token) of the first ``Negotiate``/``Kerberos`` in ``WWW-Authenticate``."""
    header = response.headers.get("WWW-Authenticate", "")
    for scheme in ("Negotiate", "Kerberos"):
        m = re.search(rf"(?:^|,)\s*{scheme}(?:\s+([A-Za-z0-9+/=]+))?\s*(?:,|$)", header, re.I)
        if m:
            token = None
            if m.group(1):
                try:
                    token = base64.b64decode(m.group(1), validate=True)
                except ValueError:
                    token = None
            return scheme, token
    return None, None


def _tls_end_point(response: requests.Response) -> bytes | None:
    """RFC 5929 ``tls-server-end-point`` application data of the response's TLS socket."""
    raw: Any = response.raw
    conn = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is None:
        try:
            sock = raw._fp.fp.raw._sock
        except AttributeError:
            return None
    try:
        der = sock.getpeercert(True)
    except (AttributeError, ValueError):
        return None
    if not der:
        return None
    try:
        algorithm = x509.load_der_x509_certificate(der).signature_hash_algorithm
        name = algorithm.name if algorithm is not None else "sha256"
    except Exception:
        name = "sha256"
    if name in ("md5", "sha1") or name not in hashlib.algorithms_available:
        name = "sha256"
    return b"tls-server-end-point:" + hashlib.new(name, der).digest()


class KerberosAuth(AuthBase):
    """requests authenticator: one Kerberos context for the session's (one) connection.

    Also the ``wrap_winrm``/``unwrap_winrm`` pywinrm's ``Encryption`` calls for ``kerberos``.
    """

    def __init__(
        self,
        credential: gssapi.Credentials,
        spn: str,
        principal: str | None,
        delegate: bool = False,
    ) -> None:
        self.credential = credential
        self.spn = spn
        self.principal = principal
        self.delegate = delegate
        self.context: graw.SecurityContext | None = None
        self.established = False
        self.channel_bound = False
        self._bindings: graw.ChannelBindings | None = None
        # the SPN as written, in the referral realm ("HTTP/host@"): no DNS canonicalisation
        self._target = gssapi.Name(f"{spn}@", gssapi.NameType.kerberos_principal)
        self._more = True

    def _step(self, token: bytes | None) -> bytes | None:
        """One ``gss_init_sec_context`` call (raw: a refusal raises at once, with its reason)."""
        flags = _FLAGS | (gssapi.RequirementFlag.delegate_to_peer if self.delegate else 0)
        res = graw.init_sec_context(
            self._target,
            creds=self.credential,
            context=self.context,
            mech=KRB5_MECH,
            flags=flags,
            channel_bindings=self._bindings,
            input_token=token,
        )
        self.context, self._more = res.context, res.more_steps
        out: bytes | None = res.token
        return out

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.register_hook("response", self._handle)
        return request

    def _fail(self, exc: BaseException, doing: str, at_host: bool = False) -> KerberosFailure:
        return classify(exc, doing, self.principal, self.spn, at_host)

    def _handle(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401:
            return response
        if self.established:
            raise KerberosFailure(
                Reach.ERROR,
                "Kerberos: the host asked to authenticate again in the middle of the session",
            )
        scheme, _ = _negotiate_token(response)
        if scheme is None:
            offered = response.headers.get("WWW-Authenticate", "") or "nothing"
            raise KerberosFailure(
                Reach.AUTH_FAILED,
                f"Kerberos: the WinRM listener does not offer Negotiate or Kerberos "
                f"(WWW-Authenticate: {' '.join(offered.split())[:120]}); enable Kerberos in "
                "its WinRM service auth settings",
            )
        bindings = _tls_end_point(response) if response.url.lower().startswith("https") else None
        self.channel_bound = bindings is not None
        self._bindings = graw.ChannelBindings(application_data=bindings) if bindings else None
        try:
            token = self._step(None)
        except GSSError as exc:
            raise self._fail(exc, f"getting a service ticket for {self.spn}") from None
        _ = response.content  # consume the 401 so its connection can carry the retry
        response.raw.release_conn()
        retry = response.request.copy()
        retry.headers["Authorization"] = f"{scheme} {base64.b64encode(token or b'').decode()}"
        answer: requests.Response = response.connection.send(retry, **kwargs)
        answer.history.append(response)
        answer.request = retry
        self._verify(answer)
        return answer

    def _verify(self, answer: requests.Response) -> None:
        """The listener's answer to our AP-REQ: refused (why), or it must prove who it is."""
        _, token = _negotiate_token(answer)
        assert self.context is not None
        if answer.status_code == 401:
            if token:  # a KRB-ERROR the listener's acceptor produced: let MIT read it
                try:
                    self._step(token)
                except GSSError as exc:
                    raise self._fail(exc, f"authenticating to {self.spn}", at_host=True) from None
            raise KerberosFailure(
                Reach.AUTH_FAILED,
                f"Kerberos: the host refused the ticket of {self.principal or 'the cached principal'} "
                f"for {self.spn} (the account is not allowed on WinRM, the host's clock is off, "
                "or its key for the SPN differs from the KDC's)",
            )
        if token is None:
            if answer.status_code >= 400:
                return  # an HTTP error without mutual authentication: pywinrm reports it
            raise KerberosFailure(
                Reach.HOST_KEY_REFUSED,
                f"Kerberos: the host answered without proving it holds the key of {self.spn} "
                "(no mutual-authentication token); its answer was not trusted",
            )
        try:
            self._step(token)
        except GSSError as exc:
            raise KerberosFailure(
                Reach.HOST_KEY_REFUSED,
                f"Kerberos: the host's mutual-authentication token for {self.spn} is not valid "
                f"({_minor_text(exc)})",
            ) from None
        if self._more:
            raise KerberosFailure(
                Reach.HOST_KEY_REFUSED,
                f"Kerberos: mutual authentication with {self.spn} did not complete",
            )
        self.established = True

    # -- message encryption (pywinrm's Encryption calls these for "kerberos") ------------------

    def wrap_winrm(self, host: object, message: bytes) -> tuple[bytes, bytes]:
        """(encrypted data + padding, header) of one request body."""
        if self.context is None or not self.established:
            raise KerberosFailure(Reach.ERROR, "Kerberos: encrypting before authentication")
        iov = IOV(IOVBufferType.header, message, IOVBufferType.padding, std_layout=False)
        graw.wrap_iov(self.context, iov, confidential=True)
        return (iov[1].value or b"") + (iov[2].value or b""), iov[0].value or b""

    def unwrap_winrm(self, host: object, message: bytes, header: bytes) -> bytes:
        if self.context is None or not self.established:
            raise KerberosFailure(Reach.ERROR, "Kerberos: decrypting before authentication")
        iov = IOV(
            (IOVBufferType.header, False, header), message, IOVBufferType.data, std_layout=False
        )
        try:
            res = graw.unwrap_iov(self.context, iov)
        except GSSError as exc:
            raise KerberosFailure(
                Reach.ERROR, f"Kerberos: cannot decrypt the host's answer ({_minor_text(exc)})"
            ) from None
        if not res.encrypted:
            raise KerberosFailure(Reach.ERROR, "Kerberos: the host's answer was not encrypted")
        return iov[1].value or b""


class KerberosTransport(Transport):
    """pywinrm's Transport with :class:`KerberosAuth` in place of requests_kerberos.

    The session is built by pywinrm itself as for ``plaintext`` (so proxies, CA trust and headers
    follow pywinrm's rules exactly as for NTLM hosts), then given this authenticator; over
    ``http://`` pywinrm's ``setup_encryption`` runs as it would for its own Kerberos.
    """

    def __init__(self, auth: KerberosAuth, **kwargs: Any) -> None:
        super().__init__(auth_method="kerberos", **kwargs)
        self.kerberos_auth = auth

    def build_session(self) -> requests.Session:
        if self.session:
            return self.session
        self.auth_method = "plaintext"
        try:
            session: requests.Session = super().build_session()
        finally:
            self.auth_method = "kerberos"
        session.auth = self.kerberos_auth
        if self.message_encryption == "always" or (
            self.message_encryption == "auto" and not self.endpoint.lower().startswith("https")
        ):
            try:
                self.setup_encryption(session)
            except BaseException:
                # never leave a session behind that would talk in plaintext
                self.session = None
                session.close()
                raise
        return session
