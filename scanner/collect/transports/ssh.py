"""SSH transport (paramiko): one TCP connection, one authentication, many exec channels.

The host key is checked against known_hosts *before* any credential is sent: an unknown key is
refused unless the policy is accept-new (then it is recorded), and a changed key is always
refused with both fingerprints in the reason. Authentication tries the key file, then ssh-agent
keys, then the password. Every failure leaves :meth:`SSHTransport.connect` as a
:class:`~scanner.collect.transports.base.TransportError` whose ``reach`` says why.

With ``proxy_jump`` set, the TCP connection is replaced by a ``direct-tcpip`` channel of a
bastion connection shared through a :class:`~scanner.collect.transports.jump.JumpPool`; the target's
own host key is still verified and its own authentication still done, end to end.

Algorithms: every connection is a :class:`~scanner.collect.transports.ssh_algorithms.ModernTransport`
(no SHA-1 key exchange or ``ssh-rsa`` signature), except a host whose inventory sets
``e8_ssh_legacy: true`` (``legacy=True``), which also allows exactly those, tried last, and says so
in its notes; see :mod:`scanner.collect.transports.ssh_algorithms` for why. A server whose offer
has nothing in common is UNREACHABLE with the algorithms it offered. A bastion is never legacy.
What a connection agreed (key exchange, host-key signature, ciphers, MACs) is kept as
:attr:`SSHTransport.algorithms` for the raw record, where scoring reads it to grade the evidence
(:mod:`scanner.assess.grading`); behind a bastion it is the host's own session's, not the bastion's.

Secrets (the password, private keys) never appear in exceptions, logs or reprs.

Why one ~650-line module: :class:`SSHTransport` is one session's lifecycle (socket or bastion
channel, handshake with throttling retries, host-key check, authentication, exec channels with
deadlines and capped output, close), and its steps share the session's state. known_hosts
handling, which has none of that state, lives in :mod:`scanner.collect.transports.known_hosts`.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko
from paramiko.ssh_exception import IncompatiblePeer
from pydantic import SecretStr

from scanner.collect.transports import known_hosts
from scanner.collect.transports.base import (
    Progress,
    RunResult,
    TransportError,
    host_id,
    one_line,
)
from scanner.collect.transports.jump import JumpHost, JumpPool, parse_jump
from scanner.collect.transports.ssh_algorithms import (
    LEGACY_ALGORITHMS,
    LegacyRSAKey,
    LegacyTransport,
    ModernTransport,
    offer_text,
)
from scanner.inventory.connection import ConnectionSpec, HostKeyPolicy
from scanner.model.vocabulary import Reach
from scanner.record.raw import SSHAlgorithms

__all__ = ["SSHOptions", "SSHTransport"]

_BANNER_BACKOFF = 0.5  # seconds before the first banner retry; doubles each time
_THROTTLE_HINT = "sshd MaxStartups throttling?"
_READ_CHUNK = 65536
# Serialises appends to known_hosts files when many transports run in threads.
# paramiko logs a full traceback at ERROR for every refused banner or reset; with no logging
# configured Python would print those to stderr. Our TransportError already says what
# happened, so paramiko's own log goes to this logger, quiet unless someone lowers its level.
PARAMIKO_LOGGER = "scanner.collect.transports.ssh.paramiko"
_paramiko_log = logging.getLogger(PARAMIKO_LOGGER)
_paramiko_log.addHandler(logging.NullHandler())
_paramiko_log.setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class SSHOptions:
    """How SSH transports verify hosts and how long they wait."""

    known_hosts: tuple[Path, ...] = ()
    """Extra known_hosts files; ``~/.ssh/known_hosts`` is always read when it exists."""
    host_key_policy: HostKeyPolicy = HostKeyPolicy.STRICT
    record_new_keys_to: Path | None = None
    """Where accept-new appends unknown keys (default ``~/.ssh/known_hosts``); also read."""
    connect_timeout: float = 10.0
    """Seconds for the TCP connect, and again for the server's banner and the key exchange."""
    banner_retries: int = 4
    """Retries (backoff 0.5 s, 1 s, 2 s, 4 s …) when the server resets or drops us before its
    banner or during key exchange, as a throttling sshd (``MaxStartups``) does."""
    connect_budget: float | None = None
    """Seconds :meth:`SSHTransport.connect` may spend in all (the host's time budget): no retry
    is started whose backoff would end past it. None: only ``banner_retries`` bounds them."""


# --------------------------------------------------------------------------- transport


class _Retry(Exception):
    """Internal: the server dropped us before its banner (or during key exchange); try again."""

    def __init__(self, detail: str, before_banner: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.before_banner = before_banner


class SSHTransport:
    """One SSH connection to one host (implements :class:`scanner.collect.transports.base.Transport`)."""

    name = "ssh"

    def __init__(
        self,
        spec: ConnectionSpec,
        options: SSHOptions,
        jump_pool: JumpPool | None = None,
        legacy: bool = False,
        bastion: bool = False,
    ) -> None:
        """``jump_pool`` shares bastion connections between the hosts of a sweep; a host with
        ``proxy_jump`` and no pool gets a private pool, closed with this transport. ``legacy``
        (the host's ``e8_ssh_legacy``) also allows the SHA-1 algorithms old servers need; a
        ``bastion`` (a connection shared by many hosts) never does."""
        self._spec = spec
        self._options = options
        self._legacy = legacy and not bastion
        self._bastion_role = bastion
        self._negotiated: tuple[str, str] | None = None
        self._algorithms: SSHAlgorithms | None = None
        self._transport: ModernTransport | None = None
        self._host_key: str | None = None
        self._closed = False
        self._jump: JumpHost | None = None
        self._jump_pool = jump_pool
        self._own_pool: JumpPool | None = None
        self._via: str | None = None
        self.notes: list[str] = []
        """Facts worth keeping in the raw record (e.g. the bastion the host was reached via)."""

    def __repr__(self) -> str:
        return f"SSHTransport({self.user}@{host_id(self._spec.address, self._spec.port)})"

    # -- properties ----------------------------------------------------------------------

    @property
    def host_key(self) -> str | None:
        """Fingerprint (``SHA256:...``) of the verified host key; None before connect()."""
        return self._host_key

    @property
    def negotiated(self) -> tuple[str, str] | None:
        """(key exchange, host-key algorithm) the connection agreed; None before connect()."""
        return self._negotiated

    @property
    def algorithms(self) -> SSHAlgorithms | None:
        """Everything the connection agreed (kex, host-key signature, ciphers, MACs), for the
        raw record; None before connect() or when the agreement was not seen."""
        return self._algorithms

    @property
    def user(self) -> str:
        """The login account: the inventory's user, else the local login name."""
        if self._spec.user:
            return self._spec.user
        try:
            return getpass.getuser()
        except (OSError, KeyError):
            return str(os.getuid())

    @property
    def _where(self) -> str:
        return host_id(self._spec.address, self._spec.port)

    # -- connect -------------------------------------------------------------------------

    def connect(self) -> None:
        """Open, verify the host key, authenticate. Raises only TransportError."""
        if self._transport is not None:
            return  # one connection per transport instance
        if self._closed:
            raise TransportError(Reach.ERROR, "transport already closed")
        try:
            self._resolve_jump()
            self._connect()
        except TransportError:
            raise
        except Exception as exc:  # nothing else may escape connect()
            raise TransportError(
                Reach.ERROR, f"{self._where}: {type(exc).__name__}: {one_line(exc)}"
            ) from None

    def _connect(self) -> None:
        transport, resets = self._handshake_with_retries()
        if resets:
            self.notes.append(
                f"connected on attempt {resets + 1}: the SSH connection was reset or closed "
                f"{resets} time{'s' if resets > 1 else ''} first ({_THROTTLE_HINT})"
            )
        try:
            self._verify_host_key(transport.get_remote_server_key())
            self._authenticate(transport)
        except BaseException:
            transport.close()
            raise
        self._transport = transport
        self._negotiated = transport.negotiated
        if transport.negotiated is not None and transport.channel is not None:
            (kex, key), (c_out, c_in, m_out, m_in) = transport.negotiated, transport.channel
            self._algorithms = SSHAlgorithms(
                kex=kex,
                host_key_algorithm=key,
                cipher_c2s=c_out,
                cipher_s2c=c_in,
                mac_c2s=m_out,
                mac_s2c=m_in,
            )
        if self._via is not None:
            self.notes.append(self._via)
        if self._legacy:
            self.notes.append(self._legacy_note(transport))

    @staticmethod
    def _legacy_note(transport: ModernTransport) -> str:
        kex, key = transport.negotiated or ("?", "?")
        used = [a for a in (kex, key) if a in LEGACY_ALGORITHMS]
        return (
            f"e8_ssh_legacy: SHA-1 algorithms allowed for this host; negotiated key exchange "
            f"{kex}, host key {key}"
            + (
                f" ({', '.join(used)}: SHA-1)"
                if used
                else " (no SHA-1 algorithm was needed: e8_ssh_legacy can be removed)"
            )
        )

    def is_active(self) -> bool:
        """True while the connection is open and authenticated."""
        transport = self._transport
        return transport is not None and transport.is_active() and transport.is_authenticated()

    def open_forward(self, target: tuple[str, int], timeout: float) -> paramiko.Channel:
        """A ``direct-tcpip`` channel from this host to ``target`` (for hosts behind it).

        Raises paramiko.ChannelException when the server refuses (target down, forwarding
        prohibited), paramiko.SSHException on timeout or a lost connection.
        """
        transport = self._transport
        if transport is None:
            raise paramiko.SSHException(f"not connected to {self._where}")
        return transport.open_channel(
            "direct-tcpip", target, ("127.0.0.1", 0), timeout=max(1.0, timeout)
        )

    def _bastion(self, spec: ConnectionSpec) -> SSHTransport:
        """A transport to this host's bastion, with the same options (host keys, timeouts).

        Never legacy: the bastion connection is shared by every host behind it."""
        return SSHTransport(spec, self._options, bastion=True)

    def _resolve_jump(self) -> None:
        """Parse ``proxy_jump`` (if any) and make sure there is a pool to reach it through."""
        if not self._spec.proxy_jump:
            return
        try:
            self._jump = parse_jump(self._spec.proxy_jump)
        except ValueError as exc:
            raise TransportError(Reach.ERROR, f"{self._where}: {exc}") from None
        if self._jump is not None and self._jump_pool is None:
            self._own_pool = self._jump_pool = JumpPool()

    def _handshake_with_retries(self) -> tuple[ModernTransport, int]:
        """Handshake, retrying resets with doubling backoff; (transport, resets survived).

        Bounded by ``banner_retries`` and ``connect_budget``; giving up is UNREACHABLE.
        """
        retries = max(0, self._options.banner_retries)
        budget = self._options.connect_budget
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._handshake(), attempt - 1
            except _Retry as why:
                delay = _BANNER_BACKOFF * 2 ** (attempt - 1)
                over_budget = budget is not None and time.monotonic() - started + delay >= budget
                if attempt > retries or over_budget:
                    if over_budget:
                        limit = f"; the {budget:g} s time budget allows no more"
                    elif attempt > 1:
                        limit = f", backing off {_BANNER_BACKOFF:g} s to {delay / 2:g} s"
                    else:
                        limit = ""
                    raise TransportError(
                        Reach.UNREACHABLE,
                        f"{self._where}: {why.detail}; gave up after {attempt} "
                        f"attempt{'s' if attempt > 1 else ''}{limit}"
                        + (f" ({_THROTTLE_HINT})" if why.before_banner else ""),
                    ) from None
                time.sleep(delay)

    def _open_socket(self) -> socket.socket | paramiko.Channel:
        if self._jump is not None and self._jump_pool is not None:
            # The target's SSH session runs inside a direct-tcpip channel of the bastion's.
            bastion = self._jump_pool.bastion(self._jump, self._spec, self._bastion)
            self._via = f"reached via bastion {self._jump} (bastion host key {bastion.host_key})"
            return self._jump_pool.open_channel(
                self._jump,
                self._spec,
                self._bastion,
                (self._spec.address, self._spec.port),
                self._options.connect_timeout,
            )
        addr, port, timeout = self._spec.address, self._spec.port, self._options.connect_timeout
        try:
            sock = socket.create_connection((addr, port), timeout=timeout)
        except socket.gaierror as exc:
            raise TransportError(
                Reach.UNREACHABLE, f"cannot resolve {addr}: {one_line(exc)}"
            ) from None
        except TimeoutError:
            raise TransportError(
                Reach.TIMEOUT, f"TCP connect to {self._where} timed out after {timeout:g} s"
            ) from None
        except (ConnectionResetError, ConnectionAbortedError) as exc:
            # A throttling sshd (MaxStartups) may reset us as early as the TCP handshake.
            raise _Retry(f"connection reset before the SSH banner ({one_line(exc)})") from None
        except OSError as exc:
            raise TransportError(
                Reach.UNREACHABLE, f"cannot connect to {self._where}: {one_line(exc)}"
            ) from None
        try:
            # Nagle + delayed ACK stalls every request/response turn (~40 ms each).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            sock.close()
            raise
        return sock

    def _handshake(self) -> ModernTransport:
        """TCP connect + banner + key exchange. Raises TransportError or _Retry."""
        timeout = self._options.connect_timeout
        sock = self._open_socket()
        try:
            transport = (LegacyTransport if self._legacy else ModernTransport)(sock)
        except Exception:
            sock.close()
            raise
        transport.set_log_channel(PARAMIKO_LOGGER)
        transport.banner_timeout = timeout
        transport.handshake_timeout = timeout
        transport.auth_timeout = max(30.0, timeout)
        self._prefer_known_key_types(transport)
        done = threading.Event()
        started = time.monotonic()
        try:
            transport.start_client(event=done)
            # Banner wait + key exchange each have `timeout`; allow both plus slack.
            finished = done.wait(2 * timeout + 1)
        except Exception:
            transport.close()
            raise
        if finished and transport.is_active():
            return transport
        exc = transport.get_exception()
        got_banner = bool(transport.remote_version)
        transport.close()
        if not finished:
            raise TransportError(
                Reach.TIMEOUT, f"SSH handshake with {self._where} did not finish in time"
            )
        if isinstance(exc, IncompatiblePeer):
            # No algorithm in common: say what the server offered (paramiko's text does not).
            raise TransportError(
                Reach.UNREACHABLE,
                f"{self._where}: no SSH algorithm in common ({one_line(exc)}); "
                + offer_text(transport.offered, str(exc), self._legacy, self._bastion_role),
            )
        raise self._classify_handshake_failure(exc, got_banner, time.monotonic() - started)

    def _classify_handshake_failure(
        self, exc: Exception | None, got_banner: bool, elapsed: float
    ) -> TransportError | _Retry:
        """Sort a failed banner/key exchange into timeout, retry-worthy drop, or error."""
        timeout = self._options.connect_timeout
        cause = exc.__context__ if exc is not None else None
        text = one_line(exc) if exc is not None else "negotiation failed"
        dropped = (EOFError, ConnectionResetError, BrokenPipeError)
        if not got_banner:
            if isinstance(cause, TimeoutError) or isinstance(exc, TimeoutError):
                return TransportError(
                    Reach.TIMEOUT, f"{self._where} sent no SSH banner within {timeout:g} s"
                )
            banner_error = isinstance(exc, paramiko.SSHException) and str(exc).startswith(
                "Error reading SSH protocol banner"
            )
            if banner_error or isinstance(exc, dropped):
                # Reset or closed before the banner: sshd's MaxStartups throttling looks so
                # (OpenSSH 9 first writes "Exceeded MaxStartups", which is no banner, and closes).
                for reset in (cause, exc):
                    if isinstance(reset, ConnectionResetError):
                        return _Retry(f"connection reset before the SSH banner ({one_line(reset)})")
                return _Retry("connection closed before the SSH banner")
            return TransportError(Reach.ERROR, f"{self._where} is not an SSH server? {text}")
        if isinstance(exc, ConnectionResetError) or isinstance(cause, ConnectionResetError):
            return _Retry(f"connection reset during key exchange ({text})", before_banner=False)
        if isinstance(exc, EOFError) and elapsed >= timeout:
            return TransportError(
                Reach.TIMEOUT, f"key exchange with {self._where} took longer than {timeout:g} s"
            )
        if isinstance(exc, EOFError):
            return TransportError(
                Reach.ERROR, f"{self._where} closed the connection during key exchange"
            )
        return TransportError(Reach.ERROR, f"SSH negotiation with {self._where} failed: {text}")

    # -- host keys -----------------------------------------------------------------------

    def _known_hosts_files(self) -> list[Path]:
        return known_hosts.files(self._options.known_hosts, self._options.record_new_keys_to)

    def _load_known(self) -> tuple[list[known_hosts.KnownKey], list[known_hosts.KnownKey]]:
        """(keys recorded for this host, revoked keys) from every known_hosts file."""
        return known_hosts.lookup(self._known_hosts_files(), self._where)

    def _prefer_known_key_types(self, transport: ModernTransport) -> None:
        """Ask for the key types already recorded for this host first (as OpenSSH does)."""
        try:
            known, _ = self._load_known()
        except TransportError:
            return  # reported again, properly, by _verify_host_key
        wanted: list[str] = []
        for k in known:
            for alg in known_hosts.key_algorithms(k.key_type):
                if alg not in wanted:
                    wanted.append(alg)
        opts = transport.get_security_options()
        available = list(opts.key_types)
        first = [a for a in wanted if a in available]
        if first:
            opts.key_types = first + [a for a in available if a not in first]

    def _verify_host_key(self, key: paramiko.PKey) -> None:
        known, revoked = self._load_known()
        accept_new = self._options.host_key_policy == HostKeyPolicy.ACCEPT_NEW
        got, new = known_hosts.verify(
            key.asbytes(), key.get_name(), known, revoked, self._where, accept_new
        )
        if new:
            path = self._options.record_new_keys_to or Path.home() / ".ssh" / "known_hosts"
            known_hosts.record(path.expanduser(), self._where, key.get_name(), key.get_base64())
        self._host_key = got

    # -- authentication ------------------------------------------------------------------

    def _authenticate(self, transport: paramiko.Transport) -> None:
        user = self.user
        tried: list[str] = []
        notes: list[str] = []

        # 1. the key file
        if self._spec.key_file:
            try:
                pkey = paramiko.PKey.from_path(self._spec.key_file)
                if self._legacy and type(pkey) is paramiko.RSAKey:
                    pkey = LegacyRSAKey(key=pkey.key)  # may sign ssh-rsa (SHA-1) too
            except Exception as exc:
                notes.append(
                    f"key file {self._spec.key_file} not usable ({type(exc).__name__}; "
                    "only passphrase-less keys are supported)"
                )
            else:
                if self._try(transport, f"publickey ({self._spec.key_file})", tried, notes, pkey):
                    return

        # 2. ssh-agent
        if os.environ.get("SSH_AUTH_SOCK"):
            agent: paramiko.Agent | None = None
            try:
                agent = paramiko.Agent()
                agent_keys = list(agent.get_keys())
            except Exception as exc:
                notes.append(f"ssh-agent unusable ({one_line(exc)})")
                agent_keys = []
            try:
                for akey in agent_keys:
                    label = f"agent key {known_hosts.fingerprint(akey.asbytes())}"
                    if self._try(transport, label, tried, notes, akey):
                        return
            finally:
                if agent is not None:
                    agent.close()

        # 3. the password
        # Kept as SecretStr down to the call, so no frame holds the plain text.
        password = self._spec.password
        if password is not None and self._try(transport, "password", tried, notes, None, password):
            return

        methods = ", ".join(tried) if tried else "none (no key file, agent key or password)"
        extra = f"; {'; '.join(dict.fromkeys(notes))}" if notes else ""
        raise TransportError(
            Reach.AUTH_FAILED,
            f"authentication as {user}@{self._where} failed; tried {methods}{extra}",
        )

    def _try(
        self,
        transport: paramiko.Transport,
        label: str,
        tried: list[str],
        notes: list[str],
        pkey: paramiko.PKey | None,
        password: SecretStr | None = None,
    ) -> bool:
        """One authentication attempt; True once the session is fully authenticated."""
        tried.append(label)
        try:
            if pkey is not None:
                transport.auth_publickey(self.user, pkey)
            elif password is not None:
                transport.auth_password(self.user, password.get_secret_value())
        except paramiko.BadAuthenticationType as exc:
            notes.append(f"server accepts only {', '.join(exc.allowed_types) or 'nothing'}")
        except paramiko.AuthenticationException as exc:
            if "timeout" in str(exc).lower():
                raise TransportError(
                    Reach.TIMEOUT, f"authentication to {self._where} timed out"
                ) from None
        except paramiko.SSHException as exc:
            if not transport.is_active():
                raise TransportError(
                    Reach.ERROR,
                    f"{self._where} closed the connection during authentication "
                    f"({type(exc).__name__})",
                ) from None
            notes.append(f"{label}: {type(exc).__name__}")
        if transport.is_authenticated():
            return True
        if not transport.is_active():
            raise TransportError(
                Reach.AUTH_FAILED,
                f"{self._where} closed the connection during authentication; tried "
                + ", ".join(tried),
            )
        return False

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
        """Run one command on its own exec channel; raw bytes, capped, bounded in time.

        ``stdin`` (the batch script) is sent whole, then the channel's write side is closed.
        With ``progress``, a batch whose steps stop making progress is ended, ``timed_out``:
        the channel is closed, so the host's shell loses its output and stops at its next write
        (a hung process itself lives on until it ends; nothing more can reach it over SSH).
        """
        transport = self._transport
        if transport is None or not transport.is_active():
            raise TransportError(Reach.ERROR, f"not connected to {self._where}")
        start = time.monotonic()
        deadline = start + timeout
        try:
            chan = transport.open_session(timeout=max(1.0, timeout))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if not transport.is_active():
                raise self._lost(transport, exc) from None
            raise TransportError(
                Reach.ERROR, f"cannot open a session channel on {self._where}: {one_line(exc)}"
            ) from None
        try:
            caps = (max_output, max_output if max_stderr is None else max_stderr)
            return self._run_on(chan, transport, command, start, deadline, caps, stdin, progress)
        finally:
            with contextlib.suppress(Exception):  # it may already be gone with the connection
                chan.close()

    def _run_on(
        self,
        chan: paramiko.Channel,
        transport: paramiko.Transport,
        command: str,
        start: float,
        deadline: float,
        caps: tuple[int, int],
        stdin: bytes | None = None,
        progress: Progress | None = None,
    ) -> RunResult:
        out = bytearray()
        err = bytearray()
        truncated = False

        def keep(buf: bytearray, data: bytes) -> None:
            nonlocal truncated
            room = (caps[1] if buf is err else caps[0]) - len(buf)
            if len(data) > room:
                truncated = True
                data = data[: max(room, 0)]
            buf += data

        def drain() -> None:
            while chan.recv_ready():
                data = chan.recv(_READ_CHUNK)
                if progress is not None:
                    progress.feed(data)  # every byte, even past the cap: markers are progress
                keep(out, data)
            while chan.recv_stderr_ready():
                keep(err, chan.recv_stderr(_READ_CHUNK))

        def left() -> float:
            """Seconds to the host's deadline or the watchdog's, whichever comes first."""
            now = time.monotonic()
            if progress is not None and progress.deadline < deadline:
                if progress.deadline <= now:
                    progress.stalled = True
                return progress.deadline - now
            return deadline - now

        def result(code: int | None, timed_out: bool) -> RunResult:
            return RunResult(
                stdout=bytes(out),
                stderr=bytes(err),
                exit_code=code,
                duration=time.monotonic() - start,
                timed_out=timed_out,
                truncated=truncated,
            )

        if progress is not None:
            progress.start()
        try:
            chan.exec_command(command)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if not transport.is_active():
                raise self._lost(transport, exc) from None
            raise TransportError(
                Reach.ERROR, f"{self._where} refused to run the command: {one_line(exc)}"
            ) from None
        try:
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if not transport.is_active():
                raise self._lost(transport, exc) from None
            # The command ended before it read its input (a ForceCommand, a login shell that
            # exits): what it printed and its exit status, read below, say why.

        with selectors.DefaultSelector() as sel:
            sel.register(chan, selectors.EVENT_READ)
            # Phase 1: stream both outputs until EOF (or the channel closes).
            while not (chan.eof_received or chan.closed):
                drain()
                remaining = left()
                if remaining <= 0:
                    drain()
                    return result(None, True)
                if not (chan.eof_received or chan.closed):
                    sel.select(min(remaining, 1.0))
                if not transport.is_active() and not chan.exit_status_ready():
                    drain()
                    raise self._lost(transport, None)
        drain()
        # Phase 2: the streams are closed; wait for the exit status.
        while not chan.exit_status_ready():
            remaining = left()
            if remaining <= 0:
                return result(None, True)
            chan.status_event.wait(min(remaining, 1.0))
            if not transport.is_active() and not chan.exit_status_ready():
                raise self._lost(transport, None)
        drain()
        status = chan.recv_exit_status()
        if status == -1 and not transport.is_active():
            raise self._lost(transport, None)
        # -1: the server sent no exit status (e.g. the command died of a signal).
        return result(None if status == -1 else status, False)

    def _lost(self, transport: paramiko.Transport, exc: BaseException | None) -> TransportError:
        cause = exc or transport.get_exception()
        why = one_line(cause) if cause is not None else "connection closed"
        return TransportError(Reach.ERROR, f"connection lost during command: {self._where}: {why}")

    # -- close ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; never raises."""
        self._closed = True
        transport, self._transport = self._transport, None
        if transport is not None:
            with contextlib.suppress(Exception):  # closing must never fail the caller
                transport.close()
        pool, self._own_pool = self._own_pool, None
        if pool is not None:
            pool.close()
