"""ProxyJump through a real OpenSSH bastion: one bastion login shared by every host behind it.

The fleet's first host is the bastion (sshd's default ``AllowTcpForwarding yes``, which
tests/sshfleet.py leaves alone); the others are reached only through ``direct-tcpip`` channels
of one authenticated bastion connection. Counting ``Accepted publickey`` lines in the bastion's
sshd log proves a single authentication; the targets' own logs prove their sessions arrived.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sshfleet import LOGIN_USER, FleetHost, HostSpec, SSHFleet

from scanner.collect.transports.base import TransportError
from scanner.collect.transports.jump import JumpHost, JumpPool, parse_jump
from scanner.collect.transports.ssh import SSHOptions, SSHTransport
from scanner.inventory.connection import ConnectionSpec
from scanner.model.vocabulary import Reach
from tests.faultservers import free_port

pytestmark = pytest.mark.sshd

TARGETS = ("alpha", "beta", "gamma")


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Callable[..., SSHFleet]) -> Iterator[SSHFleet]:
    """A bastion and three targets behind it (all real sshds on loopback)."""
    f = ssh_fleet_factory([HostSpec("bastion")] + [HostSpec(n) for n in TARGETS], name="jump")
    config = (f.host("bastion").directory / "sshd_config").read_text()
    assert "AllowTcpForwarding no" not in config  # the bastion must forward
    yield f
    f.stop()


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh $HOME (so ~/.ssh/known_hosts is the test's own) and no ssh-agent."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def jump_of(fleet: SSHFleet) -> str:
    b = fleet.host("bastion")
    return f"{LOGIN_USER}@{b.address}:{b.port}"


def label_of(fleet: SSHFleet) -> str:
    """How the bastion is named in details and notes (``user@[addr]:port``)."""
    b = fleet.host("bastion")
    return f"{LOGIN_USER}@[{b.address}]:{b.port}"


def spec(
    fleet: SSHFleet, host: FleetHost | None, *, address: str = "", port: int = 0
) -> ConnectionSpec:
    """A target spec that goes through the fleet's bastion."""
    return ConnectionSpec(
        name=host.name if host else address,
        connection="ssh",
        address=host.address if host else address,
        port=host.port if host else port,
        user=LOGIN_USER,
        key_file=str(fleet.client_key),
        proxy_jump=jump_of(fleet),
    )


def opts(known_hosts: Path) -> SSHOptions:
    return SSHOptions(known_hosts=(known_hosts,), connect_timeout=3.0)


def known_hosts_without(fleet: SSHFleet, tmp: Path, drop: FleetHost) -> Path:
    """The fleet's known_hosts minus one host's line."""
    prefix = f"[{drop.address}]:{drop.port} "
    lines = fleet.known_hosts.read_text().splitlines(keepends=True)
    path = tmp / "known_hosts_partial"
    path.write_text("".join(line for line in lines if not line.startswith(prefix)))
    return path


def hostname_via(pool: JumpPool, target: ConnectionSpec, options: SSHOptions) -> str:
    t = SSHTransport(target, options, jump_pool=pool)
    try:
        t.connect()
        res = t.run("hostname", timeout=10, max_output=4096)
        assert res.exit_code == 0, res.stderr
        assert t.notes and "via bastion" in t.notes[0]
        return res.stdout.decode().strip()
    finally:
        t.close()


def connect_error(pool: JumpPool, target: ConnectionSpec, options: SSHOptions) -> TransportError:
    t = SSHTransport(target, options, jump_pool=pool)
    try:
        with pytest.raises(TransportError) as info:
            t.connect()
    finally:
        t.close()
    return info.value


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("bastion", JumpHost("bastion", 22, None)),
        ("ops@bastion", JumpHost("bastion", 22, "ops")),
        ("ops@10.0.0.1:2200", JumpHost("10.0.0.1", 2200, "ops")),
        ("ssh://ops@[fe80::1]:2222", JumpHost("fe80::1", 2222, "ops")),
        ("none", None),
    ],
)
def test_parse_jump(text: str, want: JumpHost | None) -> None:
    assert parse_jump(text) == want


@pytest.mark.parametrize("text", ["a,b", "ops@host:99999", "ops@", "a b"])
def test_parse_jump_refuses_what_it_cannot_honour(text: str) -> None:
    with pytest.raises(ValueError, match="ProxyJump"):
        parse_jump(text)


# --------------------------------------------------------------------------- through the bastion


def test_targets_share_one_bastion_login(fleet: SSHFleet) -> None:
    before = {h.name: (fleet.auths(h.name), fleet.connections(h.name)) for h in fleet.hosts}
    with JumpPool() as pool, ThreadPoolExecutor(max_workers=len(TARGETS)) as ex:
        names = list(
            ex.map(
                lambda n: hostname_via(pool, spec(fleet, fleet.host(n)), opts(fleet.known_hosts)),
                TARGETS,
            )
        )
    assert names == list(TARGETS)  # each command ran on its own target
    bastion_auths, bastion_conns = before["bastion"]
    assert fleet.auths("bastion") - bastion_auths == 1
    assert fleet.connections("bastion") - bastion_conns == 1
    for n in TARGETS:  # each target authenticated the client itself, end to end
        assert fleet.auths(n) - before[n][0] == 1


def test_pool_close_ends_the_bastion_connection_and_reopens_on_demand(fleet: SSHFleet) -> None:
    pool = JumpPool()
    alpha = spec(fleet, fleet.host("alpha"))
    assert hostname_via(pool, alpha, opts(fleet.known_hosts)) == "alpha"
    options = opts(fleet.known_hosts)
    bastion = pool.bastion(
        parse_jump(jump_of(fleet)) or JumpHost("x"), alpha, lambda s: SSHTransport(s, options)
    )
    assert bastion.is_active()
    pool.close()
    assert not bastion.is_active()
    before = fleet.auths("bastion")
    assert hostname_via(pool, alpha, opts(fleet.known_hosts)) == "alpha"
    pool.close()
    assert fleet.auths("bastion") - before == 1


def test_unknown_target_key_is_refused_though_the_bastion_is_fine(
    fleet: SSHFleet, tmp_path: Path
) -> None:
    alpha = fleet.host("alpha")
    partial = known_hosts_without(fleet, tmp_path, alpha)
    with JumpPool() as pool:
        err = connect_error(pool, spec(fleet, alpha), opts(partial))
        assert err.reach is Reach.HOST_KEY_REFUSED
        assert "unknown host key SHA256:" in err.detail
        assert f"[{alpha.address}]:{alpha.port}" in err.detail
        assert "via bastion" not in err.detail  # the bastion was verified and fine
        # ...and the same pool still reaches a target whose key is known.
        assert hostname_via(pool, spec(fleet, fleet.host("beta")), opts(partial)) == "beta"


def test_bastion_with_a_changed_key_is_refused(fleet: SSHFleet, tmp_path: Path) -> None:
    b = fleet.host("bastion")
    other = tmp_path / "other"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)],
        check=True,
        capture_output=True,
    )
    kt, b64 = Path(f"{other}.pub").read_text().split()[:2]
    kh = known_hosts_without(fleet, tmp_path, b)
    kh.write_text(kh.read_text() + f"[{b.address}]:{b.port} {kt} {b64}\n")
    before, conns = fleet.auths("bastion"), fleet.connections("bastion")
    with JumpPool() as pool:
        errors = [connect_error(pool, spec(fleet, fleet.host(n)), opts(kh)) for n in TARGETS]
    for err in errors:
        assert err.reach is Reach.HOST_KEY_REFUSED
        assert err.detail.startswith(f"via bastion {label_of(fleet)}: host key CHANGED")
    assert fleet.auths("bastion") == before  # no credential was ever sent to it
    # The failure was remembered: one connection attempt to the bastion, not one per target.
    assert fleet.connections("bastion") - conns == 1


def test_down_target_is_unreachable_while_the_others_succeed(fleet: SSHFleet) -> None:
    down_addr = "127.0.0.200"  # no fleet host listens there
    down = spec(fleet, None, address=down_addr, port=free_port(down_addr))
    with JumpPool() as pool:
        err = connect_error(pool, down, opts(fleet.known_hosts))
        assert err.reach is Reach.UNREACHABLE
        assert err.detail.startswith(f"via bastion {label_of(fleet)}: cannot connect to ")
        assert f"[{down_addr}]:{down.port}" in err.detail
        ok = [
            hostname_via(pool, spec(fleet, fleet.host(n)), opts(fleet.known_hosts)) for n in TARGETS
        ]
    assert ok == list(TARGETS)


def test_bastion_down_fails_each_target_with_the_bastions_reach() -> None:
    addr = "127.0.0.201"
    target = ConnectionSpec(
        name="t",
        connection="ssh",
        address="127.0.0.12",
        port=22,
        user=LOGIN_USER,
        proxy_jump=f"{LOGIN_USER}@{addr}:{free_port(addr)}",
    )
    with JumpPool() as pool:
        errs = [connect_error(pool, target, SSHOptions(connect_timeout=2.0)) for _ in range(2)]
    for err in errs:
        assert err.reach is Reach.UNREACHABLE
        assert err.detail.startswith(f"via bastion {LOGIN_USER}@[{addr}]:")


def test_private_pool_when_none_is_given(fleet: SSHFleet) -> None:
    t = SSHTransport(spec(fleet, fleet.host("gamma")), opts(fleet.known_hosts))
    try:
        t.connect()
        assert t.run("hostname", timeout=10, max_output=4096).stdout == b"gamma\n"
    finally:
        t.close()


# --------------------------------------------------------------------------- the runner


def sshd_logs(fleet: SSHFleet, name: str) -> str:
    """The last lines of the host's and the bastion's sshd logs (LogLevel VERBOSE)."""
    tails = []
    for n in dict.fromkeys((name, "bastion")):
        lines = fleet.host(n).log_file.read_text(errors="replace").splitlines()
        tails.append(f"--- {n} sshd log ---\n" + "\n".join(lines[-25:]))
    return "\n".join(tails)


def test_collect_reaches_hosts_behind_the_bastion_with_one_login(
    fleet: SSHFleet, tmp_path: Path
) -> None:
    from scanner.checking.loader import load_checks
    from scanner.collect.plan import make_plan
    from scanner.collect.runner import RunOptions, collect
    from scanner.inventory.load import load_inventory

    b = fleet.host("bastion")
    lines = ["[fleet]"]
    for h in fleet.hosts:
        via = ""
        if h.name == "alpha":  # Ansible's way
            via = f" ansible_ssh_common_args='-o ProxyJump={jump_of(fleet)}'"
        elif h.name != "bastion":
            via = f" e8_jump_host={jump_of(fleet)}"
        lines.append(
            f"{h.name} ansible_host={h.address} ansible_port={h.port} ansible_user={LOGIN_USER} "
            f"ansible_ssh_private_key_file={fleet.client_key}{via}"
        )
    down_addr = "127.0.0.202"
    lines.append(
        f"down ansible_host={down_addr} ansible_port={free_port(down_addr)} "
        f"ansible_user={LOGIN_USER} ansible_ssh_private_key_file={fleet.client_key} "
        f"e8_jump_host={jump_of(fleet)}"
    )
    inv_path = tmp_path / "jump.ini"
    inv_path.write_text("\n".join(lines) + "\n")
    inv = load_inventory([inv_path])
    # Two light checks: this test is about reaching hosts, not about what the checks find.
    light = {"patch_os.linux_os_support", "restrict_admin.linux_sudo_policy"}
    checks = [c for c in load_checks() if c.id in light]
    assert len(checks) == 2
    plans = make_plan(inv.select(None), checks)
    assert {p.host.name: p.spec.proxy_jump for p in plans}["alpha"] == jump_of(fleet)
    before = fleet.auths("bastion")
    opts = RunOptions(forks=8, ssh=SSHOptions(known_hosts=(fleet.known_hosts,)))
    with opts.jump_pool:
        records = {r.name: r for r in collect(plans, opts)}
    for n in ("bastion", *TARGETS):
        # a lost connection once failed here under load: keep both sshd logs for the next one
        assert records[n].reach is Reach.OK, (records[n].reach_detail, sshd_logs(fleet, n))
    for n in TARGETS:
        assert records[n].notes == [
            f"reached via bastion {label_of(fleet)} (bastion host key {records['bastion'].host_key})",
            "target priority: low (nice 19, ionice idle)",
        ]
    assert records["down"].reach is Reach.UNREACHABLE
    assert "via bastion" in records["down"].reach_detail
    # The bastion scanned itself directly (one login) and carried the three targets (one more).
    assert fleet.auths("bastion") - before == 2
    assert b.address in records["bastion"].address
