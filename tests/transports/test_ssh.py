"""The paramiko SSH transport against real OpenSSH servers on loopback (no mocks)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sshfleet import (
    LOGIN_USER,
    PASSWORD_USER,
    FleetHost,
    HostSpec,
    SSHFleet,
    lock_password,
    set_password,
)

from scanner.collect.transports.base import TransportError
from scanner.collect.transports.ssh import SSHOptions, SSHTransport
from scanner.inventory.connection import ConnectionSpec, HostKeyPolicy
from scanner.model.vocabulary import Reach
from tests.faultservers import free_port, hold_startup_slot, maxstartups_drops, tcp_server

pytestmark = pytest.mark.sshd

ALPHA_OS = 'PRETTY_NAME="Alpha Linux 1"\nID=alpha\nVERSION_ID="1"\n'
# One unauthenticated connection fills sshd's startup slots; the next is dropped before the
# banner, as the default MaxStartups 10:30:100 does under load.
THROTTLED_SSHD = ("MaxStartups 1", "LoginGraceTime 120")
HOLDER_SOURCE = "127.0.0.8"  # the slot holder's address, so its own drops are told apart
BETA_OS = 'PRETTY_NAME="Beta Linux 2"\nID=beta\nVERSION_ID="2"\n'


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Callable[..., SSHFleet]) -> Iterator[SSHFleet]:
    """alpha grants the login user NOPASSWD sudo, beta does not; throttled has MaxStartups 1."""
    f = ssh_fleet_factory(
        [
            HostSpec("alpha", overlay={"/etc/os-release": ALPHA_OS}, sudo_nopasswd=True),
            HostSpec("beta", overlay={"/etc/os-release": BETA_OS}),
            HostSpec("throttled", sshd_config=THROTTLED_SSHD),
        ],
        name="ssh-transport",
    )
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh $HOME (so ~/.ssh/known_hosts is the test's own) and no ssh-agent."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return home


def make_spec(
    host: FleetHost | None = None,
    *,
    address: str | None = None,
    port: int | None = None,
    user: str = LOGIN_USER,
    key_file: Path | None = None,
    password: str | None = None,
    proxy_jump: str | None = None,
) -> ConnectionSpec:
    """A ConnectionSpec for a fleet host (or any address/port)."""
    return ConnectionSpec(
        name=host.name if host else (address or "host"),
        connection="ssh",
        address=address or (host.address if host else "127.0.0.1"),
        port=port or (host.port if host else 22),
        user=user,
        key_file=str(key_file) if key_file else None,
        password=SecretStr(password) if password is not None else None,
        proxy_jump=proxy_jump,
    )


def options(known_hosts: Path | None = None, **kw: object) -> SSHOptions:
    kh = (known_hosts,) if known_hosts else ()
    kw.setdefault("connect_timeout", 3.0)
    return SSHOptions(known_hosts=kh, **kw)  # type: ignore[arg-type]


@contextlib.contextmanager
def connected(fleet: SSHFleet, name: str) -> Iterator[SSHTransport]:
    t = SSHTransport(
        make_spec(fleet.host(name), key_file=fleet.client_key), options(fleet.known_hosts)
    )
    t.connect()
    try:
        yield t
    finally:
        t.close()


def connect_error(spec: ConnectionSpec, opts: SSHOptions) -> TransportError:
    t = SSHTransport(spec, opts)
    try:
        with pytest.raises(TransportError) as info:
            t.connect()
    finally:
        t.close()
    return info.value


def keygen(path: Path, key_type: str = "ed25519") -> tuple[str, str]:
    """A fresh key pair; returns (type, base64) of the public key."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    kt, b64 = Path(f"{path}.pub").read_text().split()[:2]
    return kt, b64


def keygen_fingerprint(pub: Path) -> str:
    """What ``ssh-keygen -lf`` prints as the fingerprint of a public key file."""
    out = subprocess.run(
        ["ssh-keygen", "-lf", str(pub)], check=True, capture_output=True, text=True
    ).stdout
    return out.split()[1]


# --------------------------------------------------------------------------- run


def test_exit_codes_and_separate_streams(fleet: SSHFleet) -> None:
    with connected(fleet, "alpha") as t:
        ok = t.run("echo out; echo err >&2", timeout=10, max_output=1 << 20)
        three = t.run("echo partial; exit 3", timeout=10, max_output=1 << 20)
    assert (ok.stdout, ok.stderr, ok.exit_code) == (b"out\n", b"err\n", 0)
    assert not ok.timed_out
    assert not ok.truncated
    assert ok.duration > 0
    assert (three.stdout, three.exit_code) == (b"partial\n", 3)


def test_a_command_that_exits_before_reading_its_input_keeps_what_it_printed(
    fleet: SSHFleet,
) -> None:
    # A ForceCommand or a login shell that exits at once: the script sent on stdin meets a
    # closed channel. What the host printed, and its exit status, are the reason, not the
    # failed write (seen on a loaded CI machine as "refused to run the command").
    with connected(fleet, "alpha") as t:
        r = t.run(
            "exec 0<&-; echo why >&2; exit 7",
            timeout=20,
            max_output=1 << 20,
            stdin=b"x" * (8 << 20),  # far more than the channel's window: the write must fail
        )
        after = t.run("echo still-here", timeout=10, max_output=1024)
    assert (r.stderr, r.exit_code, r.timed_out) == (b"why\n", 7, False)
    assert after.stdout == b"still-here\n"


def test_non_utf8_bytes_are_kept(fleet: SSHFleet) -> None:
    with connected(fleet, "alpha") as t:
        r = t.run(r"printf '\377\376ok\200'; printf '\351t\351' >&2", timeout=10, max_output=1024)
    assert r.stdout == b"\xff\xfeok\x80"
    assert r.stderr == b"\xe9t\xe9"


def test_output_cap_on_both_streams_read_concurrently(fleet: SSHFleet) -> None:
    # stderr first: a client that read stdout to EOF before stderr would deadlock here.
    cmd = "head -c 5000000 /dev/zero >&2; head -c 5000000 /dev/zero | tr '\\0' x; exit 4"
    with connected(fleet, "alpha") as t:
        r = t.run(cmd, timeout=20, max_output=1_000_000)
    assert r.truncated
    assert r.exit_code == 4
    assert len(r.stdout) == 1_000_000
    assert set(r.stdout) == {ord("x")}
    assert len(r.stderr) == 1_000_000


def test_command_timeout_keeps_partial_output_and_the_connection(fleet: SSHFleet) -> None:
    with connected(fleet, "alpha") as t:
        start = time.monotonic()
        r = t.run("echo started; sleep 30", timeout=1, max_output=1024)
        elapsed = time.monotonic() - start
        after = t.run("echo still-here", timeout=10, max_output=1024)
    assert r.timed_out
    assert r.exit_code is None
    assert r.stdout == b"started\n"
    assert elapsed < 10
    assert after.stdout == b"still-here\n"
    assert after.exit_code == 0


def test_many_runs_use_one_connection_and_one_authentication(fleet: SSHFleet) -> None:
    conns, auths = fleet.connections("beta"), fleet.auths("beta")
    with connected(fleet, "beta") as t:
        t.connect()  # a second connect() is a no-op
        codes = [t.run(f"exit {i}", timeout=10, max_output=64).exit_code for i in range(5)]
    assert codes == [0, 1, 2, 3, 4]
    assert fleet.connections("beta") - conns == 1
    assert fleet.auths("beta") - auths == 1


def test_connection_lost_mid_command(fleet: SSHFleet) -> None:
    with connected(fleet, "beta") as t, pytest.raises(TransportError) as info:
        # $PPID is this session's sshd process: killing it drops the TCP connection.
        t.run("echo bye; kill -9 $PPID; sleep 5", timeout=10, max_output=1024)
    assert info.value.reach == Reach.ERROR
    assert "connection lost during command" in info.value.detail


def test_sudo_n_works_only_where_the_overlay_grants_it(fleet: SSHFleet) -> None:
    with connected(fleet, "alpha") as t:
        granted = t.run("sudo -n id -u", timeout=10, max_output=1024)
    with connected(fleet, "beta") as t:
        refused = t.run("sudo -n id -u", timeout=10, max_output=1024)
    assert (granted.stdout, granted.stderr, granted.exit_code) == (b"0\n", b"", 0)
    assert refused.exit_code != 0
    assert b"a password is required" in refused.stderr
    assert t.user == LOGIN_USER


def test_hosts_show_their_own_overlay_and_hostname(fleet: SSHFleet) -> None:
    with connected(fleet, "alpha") as t:
        a = t.run("cat /etc/os-release; hostname", timeout=10, max_output=4096)
    with connected(fleet, "beta") as t:
        b = t.run("cat /etc/os-release; hostname", timeout=10, max_output=4096)
    assert a.stdout == (ALPHA_OS + "alpha\n").encode()
    assert b.stdout == (BETA_OS + "beta\n").encode()


# --------------------------------------------------------------------------- host keys


def test_known_host_key_is_verified_and_recorded(fleet: SSHFleet) -> None:
    host = fleet.host("alpha")
    t = SSHTransport(make_spec(host, key_file=fleet.client_key), options(fleet.known_hosts))
    assert t.host_key is None
    t.connect()
    t.close()
    t.close()  # close() is idempotent
    assert t.host_key == keygen_fingerprint(host.host_key)


def test_hashed_known_hosts_entry(fleet: SSHFleet, tmp_path: Path) -> None:
    kh = tmp_path / "hashed_known_hosts"
    kh.write_text(fleet.known_hosts.read_text())
    subprocess.run(["ssh-keygen", "-H", "-f", str(kh)], check=True, capture_output=True)
    assert "127.0.0" not in kh.read_text()
    host = fleet.host("beta")
    t = SSHTransport(make_spec(host, key_file=fleet.client_key), options(kh))
    t.connect()
    t.close()
    assert t.host_key == keygen_fingerprint(host.host_key)


def test_unknown_host_key_is_refused_before_authentication(fleet: SSHFleet, tmp_path: Path) -> None:
    host = fleet.host("alpha")
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    before = len(fleet.sshd_log("alpha"))
    err = connect_error(make_spec(host, key_file=fleet.client_key), options(empty))
    assert err.reach == Reach.HOST_KEY_REFUSED
    fp = keygen_fingerprint(host.host_key)
    assert err.detail == (
        f"unknown host key {fp} for [{host.address}]:{host.port}; add it to known_hosts "
        "or use --host-key-policy accept-new"
    )
    new_log = fleet.sshd_log("alpha")[before:]
    assert "Connection from 127.0.0.1" in new_log
    assert "publickey" not in new_log
    assert "Accepted" not in new_log


def test_accept_new_records_the_key_then_strict_accepts_it(fleet: SSHFleet, tmp_path: Path) -> None:
    host = fleet.host("beta")
    record = tmp_path / "new" / "dir" / "known_hosts"
    accept = options(host_key_policy=HostKeyPolicy.ACCEPT_NEW, record_new_keys_to=record)
    t = SSHTransport(make_spec(host, key_file=fleet.client_key), accept)
    t.connect()
    t.run("true", timeout=10, max_output=64)
    t.close()
    fp = keygen_fingerprint(host.host_key)
    assert t.host_key == fp
    kt, b64 = host.host_key.read_text().split()[:2]
    assert record.read_text() == f"[{host.address}]:{host.port} {kt} {b64}\n"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.parent.stat().st_mode) == 0o700
    # Recorded now: a strict transport reading that file accepts it, nothing is appended.
    strict = SSHTransport(make_spec(host, key_file=fleet.client_key), options(record))
    strict.connect()
    strict.close()
    assert strict.host_key == fp
    again = SSHTransport(make_spec(host, key_file=fleet.client_key), accept)
    again.connect()
    again.close()
    assert record.read_text().count("\n") == 1


def test_accept_new_defaults_to_home_known_hosts(fleet: SSHFleet) -> None:
    home = Path(os.environ["HOME"])  # the autouse fixture's fresh home
    host = fleet.host("alpha")
    t = SSHTransport(
        make_spec(host, key_file=fleet.client_key),
        options(host_key_policy=HostKeyPolicy.ACCEPT_NEW),
    )
    t.connect()
    t.close()
    recorded = home / ".ssh" / "known_hosts"
    assert f"[{host.address}]:{host.port} ssh-ed25519 " in recorded.read_text()
    assert stat.S_IMODE(recorded.stat().st_mode) == 0o600
    assert stat.S_IMODE(recorded.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa"])
def test_changed_key_is_refused_even_with_accept_new(
    fleet: SSHFleet, tmp_path: Path, key_type: str
) -> None:
    """Same type with another key, or a known host now showing only another type."""
    host = fleet.host("alpha")
    kt, b64 = keygen(tmp_path / "impostor", key_type)
    kh = tmp_path / "known_hosts"
    kh.write_text(f"[{host.address}]:{host.port} {kt} {b64}\n")
    before_kh = kh.read_text()
    before_log = len(fleet.sshd_log("alpha"))
    opts = options(kh, host_key_policy=HostKeyPolicy.ACCEPT_NEW, record_new_keys_to=kh)
    err = connect_error(make_spec(host, key_file=fleet.client_key), opts)
    assert err.reach == Reach.HOST_KEY_REFUSED
    expected = keygen_fingerprint(tmp_path / "impostor.pub")
    got = keygen_fingerprint(host.host_key)
    assert "host key CHANGED" in err.detail
    assert f"expected {expected}" in err.detail
    assert f"got {got}" in err.detail
    assert kh.read_text() == before_kh  # nothing recorded
    assert "Accepted" not in fleet.sshd_log("alpha")[before_log:]


# --------------------------------------------------------------------------- auth


def test_wrong_key_is_auth_failed(fleet: SSHFleet, tmp_path: Path) -> None:
    keygen(tmp_path / "stranger")
    spec = make_spec(fleet.host("beta"), key_file=tmp_path / "stranger")
    err = connect_error(spec, options(fleet.known_hosts))
    assert err.reach == Reach.AUTH_FAILED
    assert "publickey" in err.detail
    assert str(tmp_path / "stranger") in err.detail


def test_no_credentials_at_all_is_auth_failed(fleet: SSHFleet) -> None:
    err = connect_error(make_spec(fleet.host("beta")), options(fleet.known_hosts))
    assert err.reach == Reach.AUTH_FAILED
    assert "tried none" in err.detail


def test_ssh_agent_keys_are_used(
    fleet: SSHFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock = tmp_path / "agent.sock"
    out = subprocess.run(
        ["ssh-agent", "-s", "-a", str(sock)], check=True, capture_output=True, text=True
    ).stdout
    pid = int(out.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        env = {**os.environ, "SSH_AUTH_SOCK": str(sock)}
        subprocess.run(["ssh-add", str(fleet.client_key)], env=env, check=True, capture_output=True)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        t = SSHTransport(make_spec(fleet.host("alpha")), options(fleet.known_hosts))
        t.connect()
        r = t.run("id -un", timeout=10, max_output=64)
        t.close()
    finally:
        os.kill(pid, signal.SIGTERM)
    assert r.stdout == f"{LOGIN_USER}\n".encode()


def test_password_auth_and_the_password_never_leaks(
    ssh_fleet_factory: Callable[..., SSHFleet],
) -> None:
    pw_fleet = ssh_fleet_factory([HostSpec("pwhost")], password_auth=True, name="ssh-password")
    host = pw_fleet.host("pwhost")
    password = "e8-" + secrets.token_urlsafe(16)
    wrong = "Wr0ng-" + secrets.token_urlsafe(16)
    set_password(PASSWORD_USER, password)
    try:
        good = SSHTransport(
            make_spec(host, user=PASSWORD_USER, password=password), options(pw_fleet.known_hosts)
        )
        good.connect()
        r = good.run("id -un", timeout=10, max_output=64)
        good.close()
        bad_spec = make_spec(host, user=PASSWORD_USER, password=wrong)
        bad = SSHTransport(bad_spec, options(pw_fleet.known_hosts))
        err = connect_error(bad_spec, options(pw_fleet.known_hosts))
    finally:
        lock_password(PASSWORD_USER)
        pw_fleet.stop()
    assert r.stdout == f"{PASSWORD_USER}\n".encode()
    assert r.exit_code == 0
    assert err.reach == Reach.AUTH_FAILED
    assert "password" in err.detail
    for text in (str(err), repr(err), err.detail, repr(bad), repr(bad_spec)):
        assert wrong not in text
    assert "Accepted password for e8pw" in pw_fleet.sshd_log("pwhost")


# --------------------------------------------------------------------------- reachability


def test_connection_refused_is_unreachable() -> None:
    port = free_port("127.0.0.9")
    err = connect_error(make_spec(address="127.0.0.9", port=port), options())
    assert err.reach == Reach.UNREACHABLE
    assert "refused" in err.detail.lower()


def test_unresolvable_name_is_unreachable() -> None:
    err = connect_error(make_spec(address="no-such-host.invalid", port=22), options())
    assert err.reach == Reach.UNREACHABLE
    assert "no-such-host.invalid" in err.detail


def test_an_unreachable_bastion_is_the_hosts_reach(fleet: SSHFleet) -> None:
    spec = make_spec(fleet.host("alpha"), proxy_jump="no-such-bastion.invalid")
    err = connect_error(spec, options(fleet.known_hosts))
    assert err.reach is Reach.UNREACHABLE
    assert "via bastion" in err.detail


def test_tarpit_without_banner_times_out() -> None:
    with tcp_server("127.0.0.4", lambda conn, n: None) as port:
        start = time.monotonic()
        err = connect_error(make_spec(address="127.0.0.4", port=port), options(connect_timeout=1.0))
        elapsed = time.monotonic() - start
    assert err.reach == Reach.TIMEOUT
    assert "banner" in err.detail
    assert elapsed < 4  # connect_timeout (1 s) for the banner, no retries of timeouts


def _forwarder(target: FleetHost, drop_first: int) -> Callable[[socket.socket, int], None]:
    """Reset the first ``drop_first`` connections (like sshd's MaxStartups), relay the rest."""

    def pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def handle(conn: socket.socket, n: int) -> None:
        if n < drop_first:
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            conn.close()  # RST: "Connection reset by peer" while reading the banner
            return
        up = socket.create_connection((target.address, target.port))
        threading.Thread(target=pump, args=(up, conn), daemon=True).start()
        pump(conn, up)

    return handle


def test_banner_resets_are_retried_with_backoff(fleet: SSHFleet, tmp_path: Path) -> None:
    host = fleet.host("alpha")
    kt, b64 = host.host_key.read_text().split()[:2]
    with tcp_server("127.0.0.5", _forwarder(host, drop_first=2)) as port:
        kh = tmp_path / "known_hosts"
        kh.write_text(f"[127.0.0.5]:{port} {kt} {b64}\n")
        spec = make_spec(address="127.0.0.5", port=port, key_file=fleet.client_key)
        t = SSHTransport(spec, options(kh, banner_retries=3))
        t.connect()
        r = t.run("hostname", timeout=10, max_output=64)
        t.close()
    assert r.stdout == b"alpha\n"
    assert len(t.notes) == 1 and "connected on attempt 3" in t.notes[0], t.notes


def test_banner_resets_give_up_after_the_retries(fleet: SSHFleet, tmp_path: Path) -> None:
    host = fleet.host("alpha")
    with tcp_server("127.0.0.6", _forwarder(host, drop_first=5)) as port:
        spec = make_spec(address="127.0.0.6", port=port, key_file=fleet.client_key)
        err = connect_error(spec, options(banner_retries=1))
    assert err.reach == Reach.UNREACHABLE
    assert "banner" in err.detail
    assert "2 attempts" in err.detail
    assert "MaxStartups" in err.detail


# --------------------------------------------------------------------------- MaxStartups


def drops(fleet: SSHFleet, name: str) -> int:
    """Connections the host's sshd dropped past MaxStartups, the slot holder's excluded."""
    return maxstartups_drops(fleet.sshd_log(name), excluding=HOLDER_SOURCE)


def release_after_drops(fleet: SSHFleet, name: str, holder: socket.socket, n: int) -> None:
    """Close ``holder`` once sshd has logged ``n`` dropped connections (gives up after 20 s)."""
    deadline = time.monotonic() + 20
    while drops(fleet, name) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    holder.close()


def test_maxstartups_throttling_is_retried_until_sshd_has_room(fleet: SSHFleet) -> None:
    host = fleet.host("throttled")
    before = drops(fleet, "throttled")
    holder = hold_startup_slot(host.address, host.port, HOLDER_SOURCE)
    releaser = threading.Thread(
        target=release_after_drops, args=(fleet, "throttled", holder, before + 2), daemon=True
    )
    releaser.start()  # the slot frees during the 1 s backoff after the second drop
    t = SSHTransport(make_spec(host, key_file=fleet.client_key), options(fleet.known_hosts))
    try:
        t.connect()
        r = t.run("hostname", timeout=10, max_output=64)
    finally:
        t.close()
        releaser.join()
    assert r.stdout == b"throttled\n" and r.exit_code == 0
    assert drops(fleet, "throttled") - before == 2  # sshd's own word: two dropped, third in
    assert len(t.notes) == 1, t.notes
    assert "connected on attempt 3" in t.notes[0] and "MaxStartups" in t.notes[0]


def test_maxstartups_throttling_forever_gives_up_after_five_attempts(fleet: SSHFleet) -> None:
    host = fleet.host("throttled")
    before = drops(fleet, "throttled")
    holder = hold_startup_slot(host.address, host.port, HOLDER_SOURCE)
    try:
        err = connect_error(make_spec(host, key_file=fleet.client_key), options(fleet.known_hosts))
    finally:
        holder.close()
    assert err.reach is Reach.UNREACHABLE
    # sshd drops a throttled connection by closing it; when the close races our first read the
    # kernel reports a reset instead (seen on a loaded 2-core CI machine). Both are the drop.
    assert re.search(r"(closed|connection reset) before the SSH banner", err.detail), err.detail
    assert "gave up after 5 attempts, backing off 0.5 s to 4 s" in err.detail, err.detail
    assert err.detail.endswith("(sshd MaxStartups throttling?)"), err.detail
    assert drops(fleet, "throttled") - before == 5


def test_maxstartups_retries_stop_within_the_connect_budget(fleet: SSHFleet) -> None:
    host = fleet.host("throttled")
    before = drops(fleet, "throttled")
    holder = hold_startup_slot(host.address, host.port, HOLDER_SOURCE)
    try:
        # Attempts at 0 s, 0.5 s and 1.5 s; the next backoff (2 s) would end past the 2 s budget.
        opts = options(fleet.known_hosts, connect_budget=2.0)
        err = connect_error(make_spec(host, key_file=fleet.client_key), opts)
    finally:
        holder.close()
    assert err.reach is Reach.UNREACHABLE
    assert "gave up after 3 attempts; the 2 s time budget allows no more" in err.detail, err.detail
    assert "MaxStartups" in err.detail
    assert drops(fleet, "throttled") - before == 3
