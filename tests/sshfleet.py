"""A fleet of real OpenSSH servers on loopback, one mount+UTS namespace per host.

Host *k* (1-based) listens on ``127.0.0.(k+10)`` at a port free on every fleet address. Its sshd
runs inside ``unshare --mount --uts --propagation private`` with an overlay mounted on each
top-level folder the host's files touch (``/etc`` always: it carries the host's ``/etc/hosts``,
``/etc/hostname`` and the fleet's authorised client key), so hosts differ in the files they
show while every other file is the machine's own. Nothing leaks into the machine's mount table;
the overlays vanish with the namespaces when :meth:`SSHFleet.stop` kills the sshds.

The login account (:data:`LOGIN_USER`) is an unprivileged user created once per machine;
:data:`PASSWORD_USER` is a second one for password tests (its password is set only while a
test needs it, see :func:`set_password` / :func:`lock_password`).

Hostile hosts (issue 11) live in ``tests/e2e/test_hostile_hosts.py``, one fleet and one scan:
``bb01`` (BusyBox userland), ``de01`` (German login locale) and its English twin ``en01``,
``sudo01`` (``%domain\\ users ALL=(ALL:ALL) ALL`` and ``bob ALL=(ALL) ALL``) and its twin
``sudo00`` without those grants; each is asserted never to come out effective from missing or
misread evidence. They use three more knobs of :class:`HostSpec`:

- **BusyBox userland** — ``busybox_applets=BUSYBOX_USERLAND`` (or any names) makes each
  ``/usr/bin/NAME`` on that host a symlink to Debian's ``/usr/bin/busybox`` (an overlay on
  ``/usr``). Debian 12 is merged-usr (``/bin`` → ``usr/bin``), so ``sh`` also replaces
  ``/bin/sh``: the login shell, the ``sh -s`` that runs the batch and every ``sh -c`` (sudo's
  ``secure_path`` finds the same ``/usr/bin``). BusyBox ``find`` has no ``-printf``, ``date``
  prints ``%N`` literally, ``ps`` truncates names, ``stat``/``awk``/``sed`` differ in corners.
  Commands BusyBox lacks (``getent``, ``findmnt``, ``systemctl``, ``sudo``…) stay the machine's.
  BusyBox ``timeout`` leaves a watcher process holding the step's pipes until it next polls
  (once a second), so every batched command costs about a second on this host.
- **Another login locale** — ``sshd_config=("SetEnv LANG=de_DE.UTF-8 LANGUAGE=de_DE:de",)``
  with an ``/etc/default/locale`` in the overlay: every session starts German (the machine's
  translations are installed and ``make system-deps`` generates ``de_DE.UTF-8``), so any
  command the scanner runs without ``LC_ALL=C`` would answer in German.
- **Arbitrary symlinks** — ``symlinks={"/usr/bin/x": "/usr/bin/y"}``.

Broad sudo grants need nothing new: ``/etc/sudoers.d/*``, ``/etc/passwd`` and ``/etc/group``
go in ``overlay`` like any other file (sudoers files get mode 0440, ``/etc/shadow`` and
``/etc/gshadow`` root:shadow 0640, everything else 0644).

Counting connections in the logs (``LogLevel VERBOSE``): a new TCP connection logs
``Connection from 127.0.0.1 port N on 127.0.0.11 port P rdomain ""`` and a successful key
login ``Accepted publickey for e8test from 127.0.0.1 port N ssh2: ED25519 SHA256:...``. The
fleet's own readiness probes connect from :data:`PROBE_SOURCE`, so they never look like the
scanner's connections (see :meth:`SSHFleet.connections`).
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

SSHD = Path("/usr/sbin/sshd")
LOGIN_USER = "e8test"
PASSWORD_USER = "e8pw"
PROBE_SOURCE = "127.0.0.3"  # readiness probes connect from here
FIRST_HOST_OCTET = 11  # host k (1-based) is 127.0.0.(k+10)
BUSYBOX = Path("/usr/bin/busybox")  # Debian's `busybox` package (dynamically linked)
# The applets a BusyBox-only host (embedded, appliance, Alpine-like) answers the checks with:
# the shell, the text and file tools the check commands use. Not here because BusyBox lacks
# them: getent, findmnt, lsblk, systemctl, sudo, dpkg-query, sshd, auditctl.
BUSYBOX_USERLAND = (
    "sh", "find", "ps", "timeout", "stat", "awk", "grep", "sed", "sort", "head", "tail",
    "date", "cut", "tr", "cat", "ls", "dirname", "zcat", "uname", "id", "xargs",
)  # fmt: skip
_LOCK_FILE = Path("/tmp/e8scan-sshfleet.lock")
_NO_OVERLAY = {"proc", "sys", "dev", "run", "tmp"}
_START_TIMEOUT = 10.0
_CONNECTION = re.compile(r"^Connection from (\S+) port \d+ on ", re.MULTILINE)
_ACCEPTED = re.compile(r"^Accepted \S+ for ", re.MULTILINE)  # not "Accepted key ... found at"


@dataclass
class HostSpec:
    """What one fleet host looks like.

    ``overlay`` maps absolute paths to file contents that this host shows instead of (or in
    addition to) the machine's; ``files_mtime`` sets those files' modification times (epoch
    seconds); ``symlinks`` maps absolute paths to the link targets this host shows there;
    each of ``busybox_applets`` (e.g. :data:`BUSYBOX_USERLAND`) becomes ``/usr/bin/NAME`` →
    ``/usr/bin/busybox``; ``executables`` names overlay files made executable (0755), e.g. a fake
    ``/usr/local/bin/date`` that shadows the real one on the login PATH; ``sudo_nopasswd`` grants
    the login user ``NOPASSWD: ALL`` via ``/etc/sudoers.d/e8test`` on this host only; each
    ``sshd_config`` line (e.g. ``"MaxStartups 1"``) replaces the fleet's line for the same
    keyword, or is added; ``host_key_type`` is the host's only host key, ``"ed25519"`` or
    ``"rsa"`` (2048 bits, for legacy hosts that offer ``ssh-rsa`` alone).
    """

    name: str
    overlay: dict[str, str | bytes] = field(default_factory=dict)
    files_mtime: dict[str, float] = field(default_factory=dict)
    symlinks: dict[str, str] = field(default_factory=dict)
    busybox_applets: tuple[str, ...] = ()
    executables: tuple[str, ...] = ()
    sudo_nopasswd: bool = False
    sshd_config: tuple[str, ...] = ()
    host_key_type: str = "ed25519"


@dataclass
class FleetHost:
    """A running fleet host: where to reach it and what its overlay holds."""

    name: str
    address: str
    port: int
    overlay: dict[str, str | bytes]
    host_key: Path  # the host's public key file (ssh-keygen -lf gives its fingerprint)
    directory: Path  # config, keys, pid file and log of this host's sshd

    @property
    def log_file(self) -> Path:
        return self.directory / "sshd.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "sshd.pid"


class FleetError(RuntimeError):
    """The fleet could not be set up (missing sshd, not root, a host that did not start)."""


def busybox_links(applets: tuple[str, ...]) -> dict[str, str]:
    """``/usr/bin/NAME`` → ``/usr/bin/busybox`` for each applet; fails if one cannot be had."""
    if not applets:
        return {}
    if not BUSYBOX.exists():
        raise FleetError(f"{BUSYBOX} is missing — run `make system-deps`, which installs busybox")
    listed = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    missing = set(applets) - set(listed.stdout.split())
    if missing:
        raise FleetError(f"this BusyBox has no applet {', '.join(sorted(missing))}")
    shadowing = [a for a in applets if Path("/usr/local/bin", a).exists()]
    if shadowing:  # sshd's and sudo's PATHs put /usr/local/bin first: the applet would not run
        raise FleetError(f"/usr/local/bin shadows the applets {', '.join(shadowing)}")
    return {f"/usr/bin/{a}": str(BUSYBOX) for a in applets}


def require_root_and_sshd() -> None:
    """Fail (never skip) when this machine cannot run the fleet."""
    problems = []
    if os.geteuid() != 0:
        problems.append("the tests must run as root (they start sshd in namespaces)")
    if not SSHD.exists():
        problems.append(f"{SSHD} is missing")
    if shutil.which("sudo") is None:
        problems.append("sudo is missing")
    if problems:
        raise FleetError(
            "; ".join(problems) + " — run `make test`, which installs openssh-server and sudo"
        )


# --------------------------------------------------------------------------- accounts


@contextlib.contextmanager
def _machine_lock() -> Iterator[None]:
    """Serialise account changes between concurrent test sessions on this machine."""
    with _LOCK_FILE.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _shadow_field(user: str) -> str:
    out = subprocess.run(["getent", "shadow", user], capture_output=True, text=True, check=False)
    parts = out.stdout.split(":")
    return parts[1] if len(parts) > 1 else ""


def ensure_user(user: str) -> None:
    """Create an unprivileged login (shell /bin/sh, empty home, password field ``*``)."""
    home = Path("/var/lib") / user
    with _machine_lock():
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(
                ["useradd", "-M", "-d", str(home), "-s", "/bin/sh", "-p", "*", "-c", "e8scan test"]
                + [user],
                check=True,
                capture_output=True,
            )
        entry = pwd.getpwnam(user)
        if entry.pw_shell != "/bin/sh" or entry.pw_dir != str(home):
            subprocess.run(
                ["usermod", "-s", "/bin/sh", "-d", str(home), user], check=True, capture_output=True
            )
        if _shadow_field(user).startswith("!"):  # locked: refuses even key logins (UsePAM no)
            subprocess.run(["usermod", "-p", "*", user], check=True, capture_output=True)
        home.mkdir(mode=0o755, exist_ok=True)
        os.chown(home, entry.pw_uid, entry.pw_gid)


def set_password(user: str, password: str) -> None:
    """Give ``user`` a password (chpasswd); undo with :func:`lock_password`."""
    with _machine_lock():
        subprocess.run(
            ["chpasswd"], input=f"{user}:{password}\n", text=True, check=True, capture_output=True
        )


def lock_password(user: str) -> None:
    """Put the password field back to ``*`` (no password login; keys still work)."""
    with _machine_lock():
        subprocess.run(["usermod", "-p", "*", user], check=True, capture_output=True)


# --------------------------------------------------------------------------- processes


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [p.decode(errors="replace") for p in raw.split(b"\0") if p]


def _mnt_ns(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _kill_namespaces(pids: list[int]) -> None:
    """SIGKILL fleet sshds and every process left in their mount namespaces (sessions)."""
    own = _mnt_ns(os.getpid())
    spaces = {ns for ns in map(_mnt_ns, pids) if ns is not None and ns != own}
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        victims = [int(e) for e in os.listdir("/proc") if e.isdigit() and _mnt_ns(int(e)) in spaces]
        if not victims:
            return
        for v in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(v, signal.SIGKILL)
        time.sleep(0.02)


def _free_port(addresses: list[str]) -> int:
    """A TCP port nobody listens on at any of ``addresses``."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((addresses[0], 0))
            port = int(s.getsockname()[1])
        try:
            for addr in addresses[1:]:
                with socket.socket() as s:
                    s.bind((addr, port))
        except OSError:
            continue
        return port
    raise FleetError("no TCP port is free on every fleet address")


def _probe_banner(address: str, port: int, timeout: float) -> bool:
    """True when the host accepts a TCP connection and sends an SSH banner."""
    try:
        with socket.create_connection(
            (address, port), timeout=timeout, source_address=(PROBE_SOURCE, 0)
        ) as s:
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


# --------------------------------------------------------------------------- the fleet


class SSHFleet:
    """Real sshd hosts on loopback; use as a context manager or call start()/stop()."""

    def __init__(self, workdir: Path, hosts: list[HostSpec], password_auth: bool = False) -> None:
        names = [h.name for h in hosts]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate host names in {names}")
        if len(hosts) > 240:
            raise ValueError("at most 240 hosts (127.0.0.11 … 127.0.0.250)")
        self.workdir = Path(workdir)
        self.specs = list(hosts)
        self.password_auth = password_auth
        self.login_user = LOGIN_USER
        self.client_key = self.workdir / "client_ed25519"
        self.known_hosts = self.workdir / "known_hosts"
        self.hosts: list[FleetHost] = []
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> SSHFleet:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def host(self, name: str) -> FleetHost:
        """The running host called ``name``."""
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(name)

    def start(self) -> None:
        """Prepare keys, accounts and overlays, start every sshd, wait for their banners."""
        require_root_and_sshd()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._kill_stale()
        ensure_user(LOGIN_USER)
        if self.password_auth:
            ensure_user(PASSWORD_USER)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
        self._keygen(self.client_key, f"{LOGIN_USER}@e8fleet")
        addresses = [f"127.0.0.{FIRST_HOST_OCTET + i}" for i in range(len(self.specs))]
        last_error: FleetError | None = None
        for _attempt in range(3):  # a port can be taken between choosing and binding it
            port = _free_port(addresses) if addresses else 0
            self.hosts = [
                self._prepare(spec, addr, port)
                for spec, addr in zip(self.specs, addresses, strict=True)
            ]
            try:
                for h in self.hosts:
                    self._launch(h)
                self._wait_ready()
            except FleetError as exc:
                last_error = exc
                self.stop()
                continue
            self._write_known_hosts()
            return
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        """Kill every sshd of the fleet (and its sessions); the overlays go with them."""
        procs = [p for h in self.hosts if (p := self._procs.pop(h.name, None)) is not None]
        _kill_namespaces([p.pid for p in procs])
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        for h in self.hosts:  # sshds this object did not start (an earlier, crashed run)
            if h.pid_file.exists():
                self._kill_pidfile(h.pid_file, h.directory / "sshd_config")
            with contextlib.suppress(FileNotFoundError):
                h.pid_file.unlink()

    # -- helpers for tests ---------------------------------------------------------------

    def sshd_log(self, name: str | None = None) -> str:
        """One host's sshd log, or every host's concatenated under ``==> NAME <==`` lines."""
        if name is not None:
            return self._read_log(self.host(name))
        return "".join(f"==> {h.name} <==\n{self._read_log(h)}" for h in self.hosts)

    def connections(self, name: str) -> int:
        """TCP connections the host's sshd accepted, the fleet's own probes excluded."""
        # Only sshd's own "Connection from A port P on B port Q" line: a killed client also
        # produces "ssh_dispatch_run_fatal: Connection from ...: Broken pipe", which is not a new one.
        return sum(
            1 for m in _CONNECTION.finditer(self.sshd_log(name)) if m.group(1) != PROBE_SOURCE
        )

    def auths(self, name: str) -> int:
        """Successful authentications (any method) the host's sshd logged."""
        return len(_ACCEPTED.findall(self.sshd_log(name)))

    def inventory_ini(self, path: Path, extra_vars: dict[str, str] | None = None) -> Path:
        """Write an Ansible INI inventory (group ``fleet``; ``extra_vars`` under ``all:vars``)."""
        lines = ["[fleet]"]
        for h in self.hosts:
            lines.append(
                f"{h.name} ansible_host={h.address} ansible_port={h.port} "
                f"ansible_user={self.login_user} ansible_ssh_private_key_file={self.client_key}"
            )
        if extra_vars:
            lines += ["", "[all:vars]"] + [f"{k}={v}" for k, v in extra_vars.items()]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
        return path

    # -- internals -----------------------------------------------------------------------

    @staticmethod
    def _read_log(h: FleetHost) -> str:
        try:
            return h.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @staticmethod
    def _keygen(path: Path, comment: str, key_type: str = "ed25519") -> None:
        """An unencrypted ed25519 (or RSA) key pair in OpenSSH format (kept if it exists)."""
        pub = path.with_suffix(".pub")
        if path.exists() and pub.exists():
            return
        key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
        if key_type == "rsa":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif key_type == "ed25519":
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(f"host key type {key_type!r}: expected ed25519 or rsa")
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(private)
        pub.write_bytes(public + f" {comment}\n".encode())

    def _kill_stale(self) -> None:
        """Kill sshds a crashed earlier run left behind in this workdir (stale pid files)."""
        hosts_dir = self.workdir / "hosts"
        if not hosts_dir.is_dir():
            return
        for pid_file in hosts_dir.glob("*/sshd.pid"):
            self._kill_pidfile(pid_file, pid_file.parent / "sshd_config")
            with contextlib.suppress(FileNotFoundError):
                pid_file.unlink()

    @staticmethod
    def _kill_pidfile(pid_file: Path, config: Path) -> None:
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        # Only a pid that is still *our* sshd (pids get reused after a crash). sshd rewrites
        # its title to "sshd: /usr/sbin/sshd -D -f CONFIG ... [listener] ...".
        cmd = " ".join(_cmdline(pid))
        ours = cmd.startswith(("sshd", str(SSHD))) and f"-f {config} " in cmd + " "
        if ours:
            _kill_namespaces([pid])

    def _prepare(self, spec: HostSpec, address: str, port: int) -> FleetHost:
        """Write this host's config, keys, overlay tree and fresh upper/work dirs."""
        d = self.workdir / "hosts" / spec.name
        d.mkdir(parents=True, exist_ok=True)
        key = d / f"ssh_host_{spec.host_key_type}_key"
        self._keygen(key, f"root@{spec.name}", spec.host_key_type)
        for sub in ("tree", "upper", "work"):
            shutil.rmtree(d / sub, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (d / "sshd.log").unlink()

        files: dict[str, str | bytes] = {
            "/etc/hostname": f"{spec.name}\n",
            "/etc/hosts": Path("/etc/hosts").read_text() + f"{address}\t{spec.name}\n",
            "/etc/ssh/e8fleet_authorized_keys": self.client_key.with_suffix(".pub").read_text(),
        }
        if spec.sudo_nopasswd:
            files["/etc/sudoers.d/e8test"] = f"{LOGIN_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n"
        files.update(spec.overlay)
        links = busybox_links(spec.busybox_applets) | spec.symlinks
        for path in list(files) + list(links):
            parts = Path(path).parts
            if not Path(path).is_absolute() or len(parts) < 3 or parts[1] in _NO_OVERLAY:
                raise ValueError(
                    f"host {spec.name}: cannot overlay {path!r} (absolute path below a top-level "
                    f"folder other than {', '.join(sorted(_NO_OVERLAY))})"
                )
        for path, content in files.items():
            target = d / "tree" / Path(path).relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            target.write_bytes(data)
            mode = 0o755 if path in spec.executables else 0o644
            target.chmod(0o440 if path.startswith("/etc/sudoers") else mode)
            if path in ("/etc/shadow", "/etc/gshadow"):  # as Debian ships them: root:shadow 0640
                os.chown(target, 0, grp.getgrnam("shadow").gr_gid)
                target.chmod(0o640)
        for path, link_to in links.items():
            target = d / "tree" / Path(path).relative_to("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(link_to)
        for path, mtime in spec.files_mtime.items():
            target = d / "tree" / Path(path).relative_to("/")
            os.utime(target, (mtime, mtime))

        config = [
            f"Port {port}",
            f"ListenAddress {address}",
            f"HostKey {key}",
            f"PidFile {d / 'sshd.pid'}",
            "AuthorizedKeysFile /etc/ssh/e8fleet_authorized_keys",
            f"AllowUsers {LOGIN_USER} {PASSWORD_USER}",
            "PermitRootLogin no",
            "PubkeyAuthentication yes",
            f"PasswordAuthentication {'yes' if self.password_auth else 'no'}",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "MaxStartups 1000",
            "MaxSessions 100",
            "X11Forwarding no",
            "LogLevel VERBOSE",
        ]
        own = {line.split()[0].lower() for line in spec.sshd_config if line.strip()}
        config = [line for line in config if line.split()[0].lower() not in own]
        config += spec.sshd_config
        (d / "sshd_config").write_text("\n".join(config) + "\n")
        return FleetHost(spec.name, address, port, dict(spec.overlay), key.with_suffix(".pub"), d)

    def _launch(self, h: FleetHost) -> None:
        d = h.directory
        tops = sorted({p.name for p in (d / "tree").iterdir()})
        script = ["set -e"]
        for top in tops:
            for sub in ("upper", "work"):
                (d / sub / top).mkdir(parents=True, exist_ok=True)
            opts = (
                f"lowerdir={d / 'tree' / top}:/{top},"
                f"upperdir={d / 'upper' / top},workdir={d / 'work' / top}"
            )
            script.append(f"mount -t overlay overlay -o '{opts}' '/{top}'")
        script.append(f"hostname '{h.name}'")
        script.append(f"exec {SSHD} -D -f '{d / 'sshd_config'}' -E '{h.log_file}'")
        # --pdeathsig: the sshd dies with the test process even if pytest is SIGKILLed.
        cmd = ["setpriv", "--pdeathsig", "KILL", "unshare", "--mount", "--uts"]
        cmd += ["--propagation", "private", "/bin/sh", "-c", "\n".join(script)]
        with (d / "launch.err").open("wb") as err:
            self._procs[h.name] = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=err
            )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        pending = list(self.hosts)
        while pending:
            for h in list(pending):
                proc = self._procs[h.name]
                if proc.poll() is not None:
                    raise FleetError(self._why_dead(h, proc.returncode))
                if _probe_banner(h.address, h.port, 1.0):
                    pending.remove(h)
            if pending and time.monotonic() > deadline:
                raise FleetError(
                    f"hosts {[h.name for h in pending]} sent no SSH banner within "
                    f"{_START_TIMEOUT:g} s; see {pending[0].log_file}"
                )
            if pending:
                time.sleep(0.02)

    def _why_dead(self, h: FleetHost, code: int) -> str:
        texts = []
        for f in (h.directory / "launch.err", h.log_file):
            with contextlib.suppress(OSError):
                texts.append(f.read_text(errors="replace").strip())
        detail = " | ".join(t for t in texts if t)[-2000:]
        return f"sshd for host {h.name} exited with {code}: {detail}"

    def _write_known_hosts(self) -> None:
        lines = []
        for h in self.hosts:
            key_type, b64 = h.host_key.read_text().split()[:2]
            lines.append(f"[{h.address}]:{h.port} {key_type} {b64}\n")
        self.known_hosts.write_text("".join(lines))
