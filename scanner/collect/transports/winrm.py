"""WinRM through pywinrm's Protocol API: one shell per host per sweep, our own deadlines.

``winrm.Session.run_ps`` opens a new shell and a new TCP connection for every call and retries
``w:TimedOut`` forever; this transport instead opens **one shell** (code page 65001) at connect,
runs every batch on it, polls ``Receive`` against its own deadline (then Signal + Delete), and
turns every failure — WinRM faults, HTTP errors, TLS refusals, XML garbage, a missing exit code —
into a :class:`TransportError` with a ``Reach`` outcome. A transport error in the middle of a
command gets one rebuild-and-retry (a new connection and shell), never more: a slow OT host is
not hammered.

Why one ~460-line module: it is one transport (shell lifecycle, Receive polling, fault
classification) around one pywinrm Protocol object; Kerberos and the bastion tunnel are apart.

Certificates are validated by default (``ansible_winrm_server_cert_validation: ignore`` is an
explicit opt-in, recorded in the host's notes); over HTTP, NTLM and Kerberos traffic is encrypted
by message encryption (Windows' default posture), but the server's identity is not verified by
TLS, which is also recorded (Kerberos' mutual authentication does verify it, and says so).

Through a bastion (``e8_jump_host`` or a ProxyJump): every HTTP(S) connection is a ``direct-tcpip``
channel of the sweep's one shared bastion connection (:mod:`scanner.collect.transports.tunnel`);
TLS, message encryption and authentication still run end to end with the Windows host, whose
name the bastion resolves. The bastion login is never the Windows account, and never gets the
Windows password (see :func:`scanner.inventory.connection.bastion_spec`).

``ansible_winrm_transport: kerberos`` authenticates with python-gssapi, one private credential per
host, instead of pywinrm's pykerberos, which can only read the process's ticket cache: see
``winrm_kerberos.py`` (imported only for Kerberos hosts, as gssapi is an optional extra).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from typing import Any
from xml.etree.ElementTree import ParseError

import paramiko
import requests
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from scanner.collect.transports.base import Progress, RunResult, TransportError
from scanner.collect.transports.jump import JumpPool
from scanner.collect.transports.ssh import SSHOptions, SSHTransport
from scanner.collect.transports.tunnel import TunnelAdapter
from scanner.collect.transports.winrm_options import WinRMOptions
from scanner.inventory.connection import ConnectionSpec, check_winrm_transport
from scanner.model.vocabulary import Reach

STDIN_CHUNK = 64 * 1024
MIN_POLL_INTERVAL = 1.0  # seconds between Receive polls when a host answers TimedOut early


# What pywinrm raises when an HTTP answer is not the WS-Man it expects: unparsable XML, missing
# elements, an authentication context that was never set up (a peer that answers 200 at once).
_NOT_WSMAN = (
    ParseError,
    StopIteration,
    KeyError,
    ValueError,
    AttributeError,
    TypeError,
    IndexError,
)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


class WinRMTransport:
    name = "winrm"

    def __init__(
        self,
        spec: ConnectionSpec,
        options: WinRMOptions,
        jump_pool: JumpPool | None = None,
        ssh: SSHOptions | None = None,
    ) -> None:
        """``jump_pool`` shares bastion connections with the sweep's other hosts (a host behind
        a bastion with no pool gets a private one, closed with this transport); ``ssh`` says
        how the bastion's host key is verified and how long connecting may take."""
        self._spec = spec
        self._opts = options
        self._jump = spec.jump
        self._ssh = ssh or SSHOptions()
        self._own_pool = JumpPool() if self._jump is not None and jump_pool is None else None
        self._jump_pool = jump_pool or self._own_pool
        self._transport = check_winrm_transport(spec.winrm_transport, spec.name)
        scheme = spec.winrm_scheme
        host = f"[{spec.address}]" if ":" in spec.address else spec.address
        self._url = f"{scheme}://{host}:{spec.port}/wsman"
        self._protocol: Protocol | None = None
        self._shell: str | None = None
        self._cert: str | None = None
        self._krb_credential: Any = None  # Kerberos: this host's own credential (winrm_kerberos)
        self._krb_principal: str | None = None
        self.notes: list[str] = []
        self.shells_opened = 0
        if scheme == "https" and not spec.winrm_cert_validation:
            self.notes.append(
                "TLS certificate validation disabled (ansible_winrm_server_cert_validation=ignore)"
            )
        if scheme == "http":
            self.notes.append("HTTP listener: server identity not verified by TLS")
            if self._transport == "basic":  # only with e8_allow_basic_over_http (see plan)
                self.notes.append(
                    "Basic authentication over plain HTTP: the password crossed the network "
                    "base64-encoded (e8_allow_basic_over_http)"
                )

    @property
    def host_key(self) -> str | None:
        return self._cert

    @property
    def user(self) -> str:
        return self._spec.user or self._krb_principal or ""

    # -- connection -------------------------------------------------------------------------

    def _build(self) -> Protocol:
        if self._transport == "kerberos":
            return self._build_kerberos()
        spec = self._spec
        kwargs: dict[str, Any] = {
            "endpoint": self._url,
            "transport": self._transport,
            "username": spec.user,
            "password": spec.password.get_secret_value() if spec.password else None,
            "server_cert_validation": "validate" if spec.winrm_cert_validation else "ignore",
            "read_timeout_sec": max(self._opts.read_timeout, self._opts.operation_timeout + 5),
            "operation_timeout_sec": self._opts.operation_timeout,
            "message_encryption": "auto",
        }
        if spec.winrm_ca_trust_path:
            kwargs["ca_trust_path"] = spec.winrm_ca_trust_path
        return Protocol(**kwargs)

    def _build_kerberos(self) -> Protocol:
        """pywinrm's Protocol on a transport whose authenticator holds this host's credential."""
        try:
            from scanner.collect.transports import winrm_kerberos as krb
        except ImportError as exc:  # gssapi missing, or its libgssapi_krb5 cannot be loaded
            raise TransportError(
                Reach.ERROR,
                f"Kerberos needs python-gssapi: pip install 'e8scan[kerberos]' ({_one_line(exc)})",
            ) from None

        spec = self._spec
        password = spec.password.get_secret_value() if spec.password else None
        if spec.winrm_kinit_mode == "manual":
            password = None  # ansible_winrm_kinit_mode=manual: the user's ticket cache, always
        if self._krb_credential is None:
            self._krb_credential = krb.acquire_credential(spec.user, password)
            with contextlib.suppress(Exception):
                self._krb_principal = str(self._krb_credential.name)
            self.notes.append(
                "Kerberos: ticket from the password (e8_password_env), kept in memory for this host"
                if password is not None
                else "Kerberos: ticket from the user's credential cache (kinit)"
            )
            if spec.winrm_kerberos_delegation:
                self.notes.append(
                    "Kerberos delegation requested (ansible_winrm_kerberos_delegation): the host "
                    "may receive a forwardable ticket for the user"
                )
        auth = krb.KerberosAuth(
            self._krb_credential,
            krb.target_spn(spec.address, spec.winrm_kerberos_hostname_override),
            self._krb_principal or spec.user,
            delegate=spec.winrm_kerberos_delegation,
        )
        read_timeout = max(self._opts.read_timeout, self._opts.operation_timeout + 5)
        protocol = Protocol(
            endpoint=self._url,
            transport="kerberos",
            username=spec.user,
            read_timeout_sec=read_timeout,
            operation_timeout_sec=self._opts.operation_timeout,
        )
        protocol.transport = krb.KerberosTransport(
            auth,
            endpoint=self._url,
            username=spec.user,
            ca_trust_path=spec.winrm_ca_trust_path or "legacy_requests",
            server_cert_validation="validate" if spec.winrm_cert_validation else "ignore",
            read_timeout_sec=read_timeout,
            message_encryption="auto",
        )
        return protocol

    def connect(self) -> None:
        self._protocol, self._shell = self._open()

    def _bastion(self, spec: ConnectionSpec) -> SSHTransport:
        return SSHTransport(spec, self._ssh)

    def _channel(self) -> paramiko.Channel:
        """A ``direct-tcpip`` channel to this host through its bastion (one per HTTP connection)."""
        jump, pool = self._jump, self._jump_pool
        if jump is None or pool is None:  # pragma: no cover - only called behind a bastion
            raise TransportError(Reach.ERROR, "no bastion")
        bastion = pool.bastion(jump, self._spec, self._bastion)
        note = f"reached via bastion {jump} (bastion host key {bastion.host_key})"
        if note not in self.notes:
            self.notes.append(note)
        return pool.open_channel(
            jump,
            self._spec,
            self._bastion,
            (self._spec.address, self._spec.port),
            self._ssh.connect_timeout,
        )

    def _tunnel(self, protocol: Protocol) -> None:
        """Send every request of ``protocol`` through the bastion: pywinrm builds its requests
        session lazily and sends its first request from there (the encryption setup), so the
        adapter is mounted on that session just before any request leaves."""
        transport: Any = protocol.transport
        send = transport._send_message_request
        adapter = TunnelAdapter(self._channel)

        def send_tunnelled(session: requests.Session, prepared: Any) -> Any:
            if session.get_adapter("https://") is not adapter:
                session.trust_env = False  # no HTTP proxy from the environment behind a bastion
                session.proxies = {}
                session.mount("https://", adapter)
                session.mount("http://", adapter)
            return send(session, prepared)

        transport._send_message_request = send_tunnelled

    def _open(self) -> tuple[Protocol, str]:
        try:
            protocol = self._build()
        except Exception as exc:  # pywinrm's own checks (missing user, password)
            raise self._classify(exc, "setting up the connection") from None
        if self._jump is not None:
            self._tunnel(protocol)
        try:
            shell = protocol.open_shell(codepage=65001, noprofile=True)
        except Exception as exc:
            raise self._classify(exc, "opening a shell") from None
        self.shells_opened += 1
        self._cert = self._peer_certificate(protocol) or self._cert
        auth = getattr(protocol.transport, "kerberos_auth", None)
        if auth is not None and self.shells_opened == 1:
            self.notes.append(
                f"Kerberos: the host proved it holds the key of {auth.spn} (mutual authentication)"
                + ("; TLS channel bindings sent" if auth.channel_bound else "")
            )
        return protocol, shell

    def _peer_certificate(self, protocol: Protocol) -> str | None:
        """SHA-256 of the TLS certificate the (only) pooled connection saw, read off that socket."""
        if self._spec.winrm_scheme != "https":
            return None
        with contextlib.suppress(Exception):
            session: Any = protocol.transport.session
            manager = session.get_adapter(self._url).poolmanager
            for key in list(manager.pools.keys()):
                for conn in list(manager.pools[key].pool.queue):
                    sock = getattr(conn, "sock", None)
                    der = sock.getpeercert(binary_form=True) if sock is not None else None
                    if der:
                        return "SHA256:" + hashlib.sha256(der).hexdigest().upper()
        return None

    def _classify(self, exc: BaseException, doing: str, connected: bool = False) -> TransportError:
        """Map any exception to a reach outcome; ``connected``: the shell was already open."""
        where = f"{self._url} ({doing})"
        if isinstance(exc, TransportError):  # already classified (Kerberos' own failures)
            return exc
        if connected and isinstance(exc, requests.exceptions.ConnectionError):
            return TransportError(Reach.ERROR, f"connection lost while {doing}: {_one_line(exc)}")
        if isinstance(exc, InvalidCredentialsError):
            return TransportError(
                Reach.AUTH_FAILED, f"WinRM refused the credentials for {self._spec.user}: {where}"
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return TransportError(
                Reach.HOST_KEY_REFUSED, f"TLS certificate not trusted: {_one_line(exc)}"
            )
        if isinstance(exc, requests.exceptions.Timeout):
            return TransportError(Reach.TIMEOUT, f"no answer from {where}: {_one_line(exc)}")
        if isinstance(exc, requests.exceptions.ConnectionError):
            text = _one_line(exc)
            if "refused" in text.lower():
                return TransportError(
                    Reach.UNREACHABLE,
                    f"no WinRM listener at {self._url} (connection refused; WinRM disabled, "
                    "firewalled, or a pre-WinRM host such as Windows XP)",
                )
            return TransportError(Reach.UNREACHABLE, f"cannot reach {where}: {text}")
        if isinstance(exc, WSManFaultError):
            return TransportError(Reach.ERROR, f"WinRM fault while {doing}: {_one_line(exc)}")
        if isinstance(exc, WinRMTransportError):
            return TransportError(
                Reach.ERROR, f"WinRM transport error while {doing}: {_one_line(exc)}"
            )
        if not connected and isinstance(exc, _NOT_WSMAN):
            # No shell was ever opened: whatever answers HTTP here is no WinRM listener (a web
            # server, a router's admin page, a proxy). pywinrm's own failure (e.g. an NTLM
            # session that never got a challenge: AttributeError '...wrap') says nothing useful.
            return TransportError(
                Reach.ERROR,
                f"not a WinRM listener: {self._url} answers HTTP, but not as WS-Man, while "
                f"{doing} (no authentication challenge or no WS-Man envelope; "
                f"{type(exc).__name__})",
            )
        if isinstance(exc, _NOT_WSMAN):
            return TransportError(
                Reach.ERROR,
                f"the host answered something that is not WS-Man while {doing} "
                f"({type(exc).__name__}: {_one_line(exc)})",
            )
        return TransportError(Reach.ERROR, f"{type(exc).__name__} while {doing}: {_one_line(exc)}")

    # -- commands ---------------------------------------------------------------------------

    def run(
        self,
        command: str,
        timeout: float,
        max_output: int,
        stdin: bytes | None = None,
        max_stderr: int | None = None,
        progress: Progress | None = None,
    ) -> RunResult:
        """Run one command on the host's shell; with ``progress``, a batch whose steps stop
        making progress is ended (Signal terminate, then Delete the shell), ``timed_out``."""
        if self._protocol is None or self._shell is None:
            raise TransportError(Reach.ERROR, f"not connected to {self._url}")
        start = time.monotonic()
        caps = (max_output, max_output if max_stderr is None else max_stderr)
        try:
            return self._run_once(command, start + timeout, caps, stdin, start, progress)
        except TransportError as first:
            if first.reach is not Reach.ERROR or time.monotonic() - start > timeout:
                raise
            # One rebuild-and-retry: a new connection and shell (e.g. the host closed an idle one).
            self._discard()
            self._protocol, self._shell = self._open()
            return self._run_once(command, start + timeout, caps, stdin, start, progress)

    def _run_once(
        self,
        command: str,
        deadline: float,
        caps: tuple[int, int],
        stdin: bytes | None,
        start: float,
        progress: Progress | None = None,
    ) -> RunResult:
        p, shell = self._protocol, self._shell
        if p is None or shell is None:
            raise TransportError(Reach.ERROR, f"not connected to {self._url}")
        try:
            command_id = p.run_command(
                shell, command, console_mode_stdin=stdin is None, skip_cmd_shell=True
            )
        except Exception as exc:
            raise self._classify(exc, "starting the command", connected=True) from None
        out, err = bytearray(), bytearray()
        truncated = False
        try:
            if stdin is not None:
                for i in range(0, max(len(stdin), 1), STDIN_CHUNK):
                    chunk = stdin[i : i + STDIN_CHUNK]
                    p.send_command_input(
                        shell, command_id, chunk, end=i + STDIN_CHUNK >= len(stdin)
                    )
            if progress is not None:
                progress.start()  # the batch runs once its stdin has ended
            while True:
                # Our deadline, or the watchdog's when the batch's steps stop making progress.
                until = deadline if progress is None else min(deadline, progress.deadline)
                if time.monotonic() >= until:
                    if progress is not None and until < deadline:
                        progress.stalled = True
                        self._end_shell(command_id)
                    else:
                        self._signal(command_id)
                    return RunResult(
                        bytes(out), bytes(err), None, time.monotonic() - start, True, truncated
                    )
                # A Receive blocks on the host for up to its operation timeout: never past `until`.
                wait = min(
                    self._opts.operation_timeout, max(1, math.ceil(until - time.monotonic()))
                )
                p.operation_timeout_sec = wait
                asked = time.monotonic()
                try:
                    o, e, code, done = p.get_command_output_raw(shell, command_id)
                except WinRMOperationTimeoutError:
                    # Still working; our deadline decides, not pywinrm's loop. A host that says
                    # "timed out" at once instead of waiting out the operation timeout must not
                    # be polled in a tight loop (OT gentleness): wait before asking again.
                    early = wait - (time.monotonic() - asked)
                    pause = min(
                        max(early, 0.0), MIN_POLL_INTERVAL, max(until - time.monotonic(), 0.0)
                    )
                    time.sleep(pause)
                    continue
                if progress is not None:
                    progress.feed(o)  # every byte, even past the cap: markers are progress
                for buf, data, cap in ((out, o, caps[0]), (err, e, caps[1])):
                    room = cap - len(buf)
                    if len(data) > room:
                        truncated = True
                    buf += data[: max(room, 0)]
                if done:
                    self._signal(command_id)
                    return RunResult(
                        bytes(out), bytes(err), code, time.monotonic() - start, False, truncated
                    )
        except TransportError:
            raise
        except Exception as exc:
            raise self._classify(exc, "running the batch", connected=True) from None

    def _signal(self, command_id: str) -> None:
        if self._protocol is not None and self._shell is not None:
            with contextlib.suppress(Exception):
                self._protocol.cleanup_command(self._shell, command_id)

    def _end_shell(self, command_id: str) -> None:
        """A batch that stopped making progress: Signal terminate, then Delete its shell (the
        host's process may ignore the signal; the shell's deletion ends it)."""
        self._signal(command_id)
        if self._protocol is not None and self._shell is not None:
            with contextlib.suppress(Exception):
                self._protocol.close_shell(self._shell, close_session=False)
        self._shell = None

    def _discard(self) -> None:
        if self._protocol is not None:
            with contextlib.suppress(Exception):
                self._protocol.transport.close_session()
        self._protocol, self._shell = None, None

    def close(self) -> None:
        if self._protocol is not None and self._shell is not None:
            with contextlib.suppress(Exception):
                self._protocol.close_shell(self._shell, close_session=True)
        self._discard()
        if self._own_pool is not None:
            self._own_pool.close()


__all__ = ["WinRMError", "WinRMOptions", "WinRMTransport"]
