"""The project's own WS-Management (WinRM) test server, for testing against the real pywinrm.

**What it is.** A stdlib ``ThreadingHTTPServer`` on a loopback address that speaks WS-Man/WinRS
the way a Windows WinRM listener does, as far as a client can observe it: HTTP/1.1 keep-alive,
``Content-Length`` on every reply (401s included), the whole body read before any reply,
``Server: Microsoft-HTTPAPI/2.0``; Basic and NTLM-in-``Negotiate`` authentication (the NTLM
context bound to the TCP connection, pyspnego's pure-Python acceptor); **Kerberos** under
``Negotiate`` or ``Kerberos`` against a real KDC (an acceptor over the keytab the server is given,
mutual authentication, the accepted client principals recorded: ``kerberos.py``); NTLM and
Kerberos **message encryption** over ``http://`` (``multipart/encrypted``, faults encrypted too,
the empty setup POST answered 200); HTTPS with a self-signed certificate and optional enforcement
of **channel binding** (``tls-server-end-point``); ``allow_unencrypted=False`` like Windows' default
(Basic over plain HTTP → 401, NTLM or Kerberos with a plaintext body over HTTP → 500). The envelopes, the
faults (``w:TimedOut`` 2150858793, ``w:InvalidSelectors`` 2150858843) and the Receive rounds follow
real-host recordings; see ``soap.py`` and ``service.py``.

**What it is not.** There is no PowerShell and no Windows here. The server emulates WS-Man/WinRS
faithfully but **replaces PowerShell (and cmd.exe) with fixture lookup**: each command line, run_ps
script or ``scanner.collect.ps_batch`` step is looked up in the host's :class:`HostFixtures` and the
recorded output is returned, framed exactly as the real process would write it. ``powershell.py``
documents what is emulated (the winbatch stdin bootstrap and framing, ``-EncodedCommand`` prefix
matching, the shell's code page, cmd.exe's 8,191-character limit, "not recognized" errors) and what
is not. A green test here proves the client side and the protocol, not what a real cmdlet prints:
that is what recorded fixtures (``tests/wsman/hosts/*.json``, with provenance) are for.

Usage::

    with WSManServer("127.0.0.21", auth={"ntlm"}, users={"scanner": "pw"},
                     fixtures=HostFixtures({"hostname": "WIN01\\r\\n"})) as host:
        winrm.Session(host.url, auth=("scanner", "pw"), transport="ntlm").run_ps("hostname")
        assert host.connections == 1 and host.shells_opened == 1

Several servers may run at once (one per simulated host: different loopback addresses or ports)
and start/stop any number of times; ``stop()`` ends every connection and handler thread and
deletes the temp files (TLS directory; the shared NTLM user file with the last NTLM server).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import socket
import ssl
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

import spnego

from . import kerberos, ntlm, soap
from .faults import GARBAGE, HTTP_KINDS, Fault, FaultPlan
from .fixtures import HostFixtures
from .service import Caller, CommandRecord, Stats, Stopped, WinRSService
from .tls import ServerCertificate, self_signed

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
DEFAULT_USERS = {"scanner": "Sc4nner-pw!"}
AuthName = Literal["basic", "ntlm", "kerberos"]


class WSManServer:
    """One simulated Windows host's WinRM listener (see the module docstring).

    Args:
        address: loopback address to listen on (``127.0.0.x``).
        port: TCP port; 0 picks a free one (kept across a restart of the same object).
        scheme: ``"http"`` (5985-style) or ``"https"`` (self-signed certificate, ``cert_path``).
        auth: the schemes offered, a subset of ``{"basic", "ntlm", "kerberos"}`` (Windows'
            default: ntlm and kerberos, both under ``Negotiate``).
        users: user → password. NTLM users are shared process-wide (see ``ntlm.py``).
        allow_unencrypted: like WinRM's ``AllowUnencrypted``; False refuses Basic over HTTP (401)
            and plaintext NTLM bodies over HTTP (500).
        require_cbt: refuse NTLM over HTTPS without matching channel bindings (``CbtHardeningLevel=Strict``);
            for Kerberos, bindings the client sends are checked (MIT's acceptor cannot demand them)
            and ``kerberos_channel_bound`` says whether they were.
        keytab: the keytab holding this host's service key (``HTTP/<fqdn>``), needed for kerberos.
        kerberos_ap_rep: False answers an accepted ticket without the AP-REP (no mutual
            authentication), as a listener that cannot prove it holds the key would.
        fixtures: what the host's commands print.
        faults: fault injection, see ``faults.py``.
        name: the host's name (the ``Machine`` of faults); defaults to the address.
        receive_chunk: most output bytes per Receive round.
        idle_timeout: seconds an idle keep-alive connection stays open (HTTP.sys: 120).
        record_wire: keep every raw request (headers, body) in ``wire`` for assertions.
    """

    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 0,
        *,
        scheme: Literal["http", "https"] = "http",
        auth: Iterable[AuthName] = ("basic", "ntlm"),
        users: Mapping[str, str] | None = None,
        allow_unencrypted: bool = True,
        require_cbt: bool = False,
        fixtures: HostFixtures | None = None,
        faults: Iterable[Fault | str] = (),
        name: str | None = None,
        receive_chunk: int = 16384,
        idle_timeout: float | None = 120.0,
        record_wire: bool = False,
        keytab: str | None = None,
        kerberos_ap_rep: bool = True,
    ) -> None:
        if scheme not in ("http", "https"):
            raise ValueError(f"scheme must be 'http' or 'https', not {scheme!r}")
        self.auth = frozenset(a.lower() for a in auth)
        if not self.auth or not self.auth <= {"basic", "ntlm", "kerberos"}:
            raise ValueError(
                f"auth must be a non-empty subset of {{'basic', 'ntlm', 'kerberos'}}, not {set(auth)}"
            )
        if require_cbt and (scheme != "https" or not self.auth & {"ntlm", "kerberos"}):
            raise ValueError("require_cbt needs scheme='https' and 'ntlm' or 'kerberos' in auth")
        if ("kerberos" in self.auth) != (keytab is not None):
            raise ValueError("auth 'kerberos' needs a keytab, and a keytab needs auth 'kerberos'")
        if receive_chunk < 1:
            raise ValueError("receive_chunk must be at least 1 byte")
        self.address = address
        self.scheme = scheme
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.allow_unencrypted = allow_unencrypted
        self.require_cbt = require_cbt
        self.fixtures = fixtures if fixtures is not None else HostFixtures()
        self.faults = FaultPlan(faults)
        self.name = name or address
        self.idle_timeout = idle_timeout
        self.record_wire = record_wire
        self.keytab = keytab
        self.kerberos_ap_rep = kerberos_ap_rep
        self.kerberos_creds: Any = None  # the acceptor credential, loaded by start()
        # client principals the Kerberos acceptor authenticated, one per authenticated connection
        self.kerberos_principals: list[str] = []
        self.kerberos_channel_bound: list[bool] = []  # per authenticated connection, in order
        self.kerberos_delegated: list[bool] = []  # whether the client delegated a TGT, likewise
        self.wire: list[tuple[dict[str, str], bytes]] = []  # requests as received (record_wire)
        self.wire_replies: list[tuple[int, str, bytes]] = []  # (status, Content-Type, body) as sent
        # unexpected server-side exceptions (tests assert it stays empty)
        self.errors: list[str] = []
        self.stats = Stats()
        self.service = WinRSService(
            self.fixtures, self.faults, self.stats, self.name, receive_chunk
        )
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._cert: ServerCertificate | None = None
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> WSManServer:
        with self._lock:
            if self._httpd is not None:
                return self
            if self.keytab is not None and self.kerberos_creds is None:
                self.kerberos_creds = kerberos.acceptor_credentials(self.keytab)
            cert = self_signed(self.address, self.name) if self.scheme == "https" else None
            try:
                if "ntlm" in self.auth:
                    ntlm.register_users(self, self.users)
                httpd = _HTTPServer(
                    self, (self.address, self._port), cert.context() if cert else None
                )
            except BaseException:
                ntlm.unregister_users(self)
                if cert is not None:
                    cert.remove()
                raise
            self._cert, self._httpd = cert, httpd
            self._port = httpd.server_address[1]
            self.service.start()
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=f"wsman-{self.address}:{self._port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            httpd, thread, cert = self._httpd, self._thread, self._cert
            self._httpd, self._thread, self._cert = None, None, None
            if httpd is None:
                return
            self.service.reset()  # wakes every waiting Receive
            httpd.shutdown()
            httpd.server_close()
            if thread is not None:
                thread.join(timeout=5)
            ntlm.unregister_users(self)
            if cert is not None:
                cert.remove()

    def __enter__(self) -> WSManServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # -- where ---------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the server has no port until start()")
        return self._port

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.address}:{self.port}/wsman"

    @property
    def cert_path(self) -> str:
        """PEM of the self-signed certificate (HTTPS, while running): a CA file for clients."""
        if self._cert is None:
            raise RuntimeError("cert_path exists only for a running https server")
        return self._cert.cert_path

    @property
    def cert_der(self) -> bytes:
        if self._cert is None:
            raise RuntimeError("cert_der exists only for a running https server")
        return self._cert.der

    # -- faults --------------------------------------------------------------------------------

    def set_faults(self, *faults: Fault | str) -> None:
        """Replace the fault plan (no arguments: no faults)."""
        self.faults.set(faults)

    def add_fault(self, fault: Fault | str) -> Fault:
        return self.faults.add(fault)

    # -- counters ------------------------------------------------------------------------------

    @property
    def connections(self) -> int:
        """TCP connections accepted (TLS or not) since construction."""
        return self.stats.connections

    @property
    def http_requests(self) -> int:
        return self.stats.http_requests

    @property
    def encrypted_requests(self) -> int:
        """Requests whose body arrived NTLM- or Kerberos-sealed (``multipart/encrypted``) and was unsealed."""
        return self.stats.encrypted_requests

    @property
    def auth_failures(self) -> int:
        return self.stats.auth_failures

    @property
    def shells_opened(self) -> int:
        return self.stats.shells_opened

    @property
    def commands_run(self) -> int:
        return self.stats.commands_run

    @property
    def timeouts(self) -> int:
        """``w:TimedOut`` faults answered to Receive."""
        return self.stats.timeouts

    @property
    def requests(self) -> Counter[str]:
        """WS-Man requests per action (``Create``, ``Command``, ``Send``, ``Receive``, ``Signal``, ``Delete``)."""
        with self.stats.lock:
            return Counter(self.stats.requests)

    @property
    def codepages(self) -> list[int]:
        """``WINRS_CODEPAGE`` of each shell opened, in order."""
        with self.stats.lock:
            return list(self.stats.codepages)

    @property
    def commands(self) -> list[CommandRecord]:
        """Every command run: command line, decoded script or batch steps, stdin, exit code."""
        with self.stats.lock:
            return list(self.stats.commands)

    @property
    def open_shells(self) -> int:
        return self.service.open_shells

    def reset_counters(self) -> None:
        with self.stats.lock:
            for name in ("connections", "http_requests", "encrypted_requests", "auth_failures"):
                setattr(self.stats, name, 0)
            for name in ("shells_opened", "commands_run", "timeouts"):
                setattr(self.stats, name, 0)
            self.stats.requests.clear()
            self.stats.codepages.clear()
            self.stats.commands.clear()
            self.kerberos_principals.clear()
            self.kerberos_channel_bound.clear()
            self.kerberos_delegated.clear()
        self.wire.clear()
        self.wire_replies.clear()

    # -- authentication helpers (used by the handler) -----------------------------------------

    def check_password(self, user: str, password: str) -> bool:
        for known, secret in self.users.items():
            if known.lower() == user.lower():
                return secret == password
        return False

    def is_user(self, principal: str | None) -> bool:
        """Whether an NTLM principal (``user`` or ``DOMAIN\\user``) is one of this server's users."""
        return principal is not None and any(
            principal.lower() == known.lower() for known in self.users
        )

    def __repr__(self) -> str:
        where = self.url if self._port else f"{self.scheme}://{self.address}"
        return f"<WSManServer {self.name} {where} auth={sorted(self.auth)} running={self.running}>"


class _HTTPServer(ThreadingHTTPServer):
    """Tracks live connections and handler threads so that ``server_close`` really ends them."""

    daemon_threads = True
    block_on_close = False  # we join our own threads, with a time limit
    allow_reuse_address = True

    def __init__(
        self, owner: WSManServer, address: tuple[str, int], context: ssl.SSLContext | None
    ) -> None:
        self.owner = owner
        self.ssl_context = context
        self.live: set[socket.socket] = set()
        self.handler_threads: list[threading.Thread] = []
        self.live_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = self.socket.accept()
        self.owner.stats.add("connections")
        if self.ssl_context is not None:
            # The handshake happens in the handler thread, never in the accept loop.
            sock = self.ssl_context.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, addr

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"wsman-conn-{self.owner.address}",
            daemon=True,
        )
        with self.live_lock:
            self.live.add(request)
            self.handler_threads = [t for t in self.handler_threads if t.is_alive()]
            self.handler_threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self.live_lock:
            self.live.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        with self.live_lock:
            sockets, threads = list(self.live), list(self.handler_threads)
        for sock in sockets:
            # socket.socket's shutdown, not SSLSocket's, which would drop its TLS state under a reader
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        super().server_close()
        for thread in threads:
            thread.join(timeout=5)
            if thread.is_alive():
                self.owner.errors.append(f"handler thread {thread.name} did not end within 5 s")

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        # resets, TLS refusals, idle timeouts, sockets shut down by stop()
        if isinstance(exc, OSError):
            return
        if isinstance(exc, ValueError) and self.owner.service.stopping.is_set():
            return  # I/O on a file closed under us by stop()
        self.owner.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    """One TCP connection: its authentication (NTLM context) and encryption state live here."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # otherwise headers and body stall ~40 ms (delayed ACK)
    server: _HTTPServer

    def setup(self) -> None:
        self.ntlm: spnego.ContextProxy | None = None
        self.ntlm_user: str | None = None
        self.krb: kerberos.Acceptor | None = None
        self.krb_user: str | None = None
        self.krb_protocol = kerberos.PROTOCOLS[0]  # the encryption protocol of the last request
        self.reply_headers: list[tuple[str, str]] = []  # for the next reply (the AP-REP)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10.0)
            self.request.do_handshake()
        super().setup()
        # HTTP.sys closes a keep-alive connection idle for 120 s; reads time out likewise here.
        self.connection.settimeout(self.server.owner.idle_timeout)

    def version_string(self) -> str:
        return "Microsoft-HTTPAPI/2.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- HTTP ---------------------------------------------------------------------------------

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        owner.stats.add("http_requests")
        if owner.record_wire:
            with owner.stats.lock:
                owner.wire.append((dict(self.headers.items()), body))
        if urlsplit(self.path).path.rstrip("/").lower() != "/wsman":
            self._send(404, b"")
            return
        user = self._authenticate()
        if user is None:
            return
        content_type = self.headers.get("Content-Type", "")
        krb_protocol = kerberos.encrypted_protocol(content_type)
        encrypted = krb_protocol is not None if self.krb_user else ntlm.is_encrypted(content_type)
        if encrypted and self.krb is not None and krb_protocol is not None:
            try:
                plain = kerberos.unwrap_message(self.krb, body)
            except ntlm.EncryptionError:
                self._send(400, b"")
                return
            self.krb_protocol = krb_protocol
            owner.stats.add("encrypted_requests")
        elif encrypted:
            if self.ntlm is None or not self.ntlm.complete:
                self._send(400, b"")
                return
            try:
                plain = ntlm.unwrap_message(self.ntlm, body)
            except ntlm.EncryptionError:
                self._send(400, b"")
                return
            owner.stats.add("encrypted_requests")
        else:
            plain = body
            if not plain:  # pywinrm's setup_encryption POST, or an empty probe
                self._send(200, b"")
                return
            if (
                (self.ntlm_user or self.krb_user)
                and owner.scheme == "http"
                and not owner.allow_unencrypted
            ):
                # Windows refuses unencrypted NTLM/Kerberos traffic (AllowUnencrypted=false)
                self._send(500, b"")
                return
        self._dispatch(plain, user, encrypted)

    def _dispatch(self, plain: bytes, user: str, encrypted: bool) -> None:
        owner = self.server.owner
        try:
            req = soap.parse_request(plain)
        except soap.BadRequest as exc:
            self._send(500, soap.schema_error(str(exc)).render("", owner.name), encrypted)
            return
        action = req.short_action
        with owner.stats.lock:
            owner.stats.requests[action] += 1
        fault = owner.faults.take(HTTP_KINDS, action)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "garbage":
            self._send(200, GARBAGE, encrypted)
            return
        if fault is not None and fault.kind == "soap_fault":
            self._send(*owner.service.fault(req, soap.access_denied()), encrypted=encrypted)
            return
        host = self.client_address[0] if self.client_address else ""
        caller = Caller(user=user, client_ip=str(host), endpoint=owner.url)
        try:
            status, reply = owner.service.handle(req, caller)
        except Stopped:
            self.close_connection = True
            return
        except Exception:
            owner.errors.append(traceback.format_exc())
            # 1359: ERROR_INTERNAL_ERROR
            fault_reply = soap.process_failed(1359, "An internal error occurred. ")
            status, reply = 500, fault_reply.render(req.message_id, owner.name)
        self._send(status, reply, encrypted)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537)
                try:
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        data = self.rfile.read(length) if length > 0 else b""
        return data if len(data) == length or length <= 0 else None

    def _send(
        self,
        status: int,
        body: bytes,
        encrypted: bool = False,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        content_type = SOAP_CONTENT_TYPE
        if encrypted and body and self.krb_user is not None and self.krb is not None:
            body = kerberos.wrap_message(self.krb, body, self.krb_protocol)
            content_type = kerberos.content_type(self.krb_protocol)
        elif encrypted and body and self.ntlm is not None:
            body = ntlm.wrap_message(self.ntlm, body)
            content_type = ntlm.ENCRYPTED_CONTENT_TYPE
        headers = [*self.reply_headers, *headers]
        self.reply_headers = []
        owner = self.server.owner
        if owner.record_wire:
            with owner.stats.lock:
                owner.wire_replies.append((status, content_type if body else "", body))
        self.send_response(status)
        if body:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    # -- authentication -------------------------------------------------------------------------

    def _unauthorized(self, failed: bool = False, challenge: str | None = None) -> None:
        owner = self.server.owner
        if failed:
            owner.stats.add("auth_failures")
        offers = []
        if challenge is not None:
            offers.append(("WWW-Authenticate", challenge))
        else:
            if owner.auth & {"ntlm", "kerberos"}:
                offers.append(("WWW-Authenticate", "Negotiate"))
            if "kerberos" in owner.auth:
                offers.append(("WWW-Authenticate", "Kerberos"))
            if "basic" in owner.auth:
                offers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        self._send(401, b"", headers=offers)

    def _authenticate(self) -> str | None:
        """The authenticated user, or None after answering 401."""
        owner = self.server.owner
        header = self.headers.get("Authorization")
        if header is None:
            if self.ntlm_user is not None:
                return self.ntlm_user  # NTLM authenticates the connection, not each request
            if self.krb_user is not None:
                return self.krb_user  # so does Kerberos
            self._unauthorized()
            return None
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "basic" and "basic" in owner.auth:
            if owner.scheme == "http" and not owner.allow_unencrypted:
                self._unauthorized(failed=True)  # Basic over HTTP needs AllowUnencrypted=true
                return None
            try:
                decoded = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                self._unauthorized(failed=True)
                return None
            try:
                text = decoded.decode("utf-8")
            except UnicodeDecodeError:
                text = decoded.decode("latin-1")
            user, _, password = text.partition(":")
            if owner.check_password(user, password):
                return user
            self._unauthorized(failed=True)
            return None
        if scheme.lower() in ("negotiate", "kerberos") and "kerberos" in owner.auth:
            try:
                token = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                token = b""
            if token and ntlm.ntlm_message_type(token) is None:
                return self._kerberos_step(scheme, token)
        if scheme.lower() in ("negotiate", "ntlm") and "ntlm" in owner.auth:
            return self._ntlm_step(scheme, value.strip())
        self._unauthorized(failed=True)
        return None

    def _kerberos_step(self, scheme: str, token: bytes) -> str | None:
        """Accept an AP-REQ (raw or in SPNEGO); the AP-REP rides on the reply to this request."""
        owner = self.server.owner
        acceptor = self.krb
        if acceptor is None or acceptor.complete:  # a new authentication on this connection
            bindings = b"tls-server-end-point:" + self._cbt_hash() if owner.require_cbt else None
            acceptor = kerberos.Acceptor(owner.kerberos_creds, bindings)
        self.krb, self.krb_user, self.ntlm, self.ntlm_user = None, None, None, None
        try:
            answer = acceptor.step(token)
        except Exception as exc:  # GSSError: wrong key, clock skew, modified ticket, garbage …
            error_token = getattr(exc, "token", None)
            challenge = (
                f"{scheme} {base64.b64encode(error_token).decode()}" if error_token else None
            )
            self._unauthorized(failed=True, challenge=challenge)
            return None
        if not acceptor.complete:  # SPNEGO wanting another leg
            self.krb = acceptor
            self._unauthorized(challenge=f"{scheme} {base64.b64encode(answer or b'').decode()}")
            return None
        principal = acceptor.principal
        with owner.stats.lock:
            owner.kerberos_principals.append(principal)
            owner.kerberos_channel_bound.append(acceptor.channel_bound)
            owner.kerberos_delegated.append(acceptor.delegated)
        self.krb, self.krb_user = acceptor, principal
        if answer and owner.kerberos_ap_rep:
            self.reply_headers = [
                ("WWW-Authenticate", f"{scheme} {base64.b64encode(answer).decode()}")
            ]
        return principal

    def _ntlm_step(self, scheme: str, value: str) -> str | None:
        owner = self.server.owner
        try:
            token = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self._unauthorized(failed=True)
            return None
        kind = ntlm.ntlm_message_type(token)
        if kind == 1:
            cbt = self._cbt_hash() if owner.require_cbt else None
            self.ntlm, self.ntlm_user = ntlm.acceptor(cbt), None
            self.krb, self.krb_user = None, None
            try:
                challenge = self.ntlm.step(token) or b""
            except Exception:
                self.ntlm = None
                self._unauthorized(failed=True)
                return None
            self._unauthorized(challenge=f"{scheme} {base64.b64encode(challenge).decode()}")
            return None
        if kind == 3 and self.ntlm is not None and not self.ntlm.complete:
            try:
                self.ntlm.step(token)
                principal = self.ntlm.client_principal
            except Exception:  # wrong password, missing/mismatched channel bindings, bad MIC …
                self.ntlm = None
                self._unauthorized(failed=True)
                return None
            if not owner.is_user(principal):
                self.ntlm = None
                self._unauthorized(failed=True)
                return None
            self.ntlm_user = principal
            return principal
        self.ntlm = None
        self._unauthorized(failed=True)
        return None

    def _cbt_hash(self) -> bytes:
        cert = self.server.owner._cert
        if cert is None:
            raise RuntimeError("channel binding needs the server certificate")
        return cert.end_point_hash
