"""Shared fixtures: the loopback fleet of real sshd hosts (see ``tests/sshfleet.py``) and the
Samba AD domain controller (see ``tests/sambadc.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sambadc import SambaDC, SambaDCError, populate, require_free_ports, require_root_and_samba
from sshfleet import FleetError, HostSpec, SSHFleet, require_root_and_sshd

FleetFactory = Callable[..., SSHFleet]


@pytest.fixture(scope="session")
def ssh_fleet_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetFactory]:
    """Start fleets of real sshd hosts: ``factory(hosts, password_auth=False, name="fleet")``.

    Every fleet started through the factory is stopped at the end of the session, whatever
    the tests did; a module may stop its own fleet earlier with ``fleet.stop()``. Fails (never
    skips) when the machine has no sshd/sudo or the suite is not running as root.
    """
    try:
        require_root_and_sshd()
    except FleetError as exc:
        pytest.fail(str(exc), pytrace=False)
    fleets: list[SSHFleet] = []

    def start(hosts: list[HostSpec], password_auth: bool = False, name: str = "fleet") -> SSHFleet:
        fleet = SSHFleet(tmp_path_factory.mktemp(name), hosts, password_auth=password_auth)
        fleets.append(fleet)
        try:
            fleet.start()
        except FleetError as exc:
            pytest.fail(f"could not start the sshd fleet: {exc}", pytrace=False)
        return fleet

    try:
        yield start
    finally:
        for fleet in fleets:
            fleet.stop()


@pytest.fixture(scope="session")
def samba_dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    """One real Samba AD DC for the session: provisioned, populated (``sambadc.POPULATION``),
    started on 127.0.0.1 (88/389/636/445), stopped at the end.

    Fails (never skips) when not root, when the Samba packages are missing or when another
    DC already holds the ports.
    """
    try:
        require_root_and_samba()
        require_free_ports()
    except SambaDCError as exc:
        pytest.fail(str(exc), pytrace=False)
    dc = SambaDC(tmp_path_factory.mktemp("samba-dc"))
    try:
        dc.provision()
        populate(dc)
        dc.start()
    except SambaDCError as exc:
        dc.stop()
        pytest.fail(f"could not set up the Samba DC: {exc}", pytrace=False)
    try:
        yield dc
    finally:
        dc.stop()


@pytest.fixture(scope="session")
def wsman_server_factory() -> Iterator[Callable[..., object]]:
    """Start WS-Man test servers (``tests/wsman/server.py``): ``factory(address, **WSManServer kwargs)``.

    One server per simulated Windows host; each is started at once and returned, and every one still
    running is stopped at the end of the session (a test may stop its own earlier with ``stop()``).
    """
    from wsman.server import WSManServer

    servers: list[WSManServer] = []

    def start(*args: object, **kwargs: object) -> WSManServer:
        server = WSManServer(*args, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(autouse=True)
def _no_dns_for_invalid_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under ``.invalid`` (RFC 6761) fail in-process, as a validating resolver would.

    Tests use them for "a DNS name that does not resolve"; this machine's resolver is not on
    loopback, and a test must never send traffic off it.
    """
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if isinstance(host, str | bytes) and str(
            host if isinstance(host, str) else host.decode()
        ).rstrip(".").endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _own_feed_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test (and every e8scan it starts) has its own feed data folder, never the real
    ``~/.local/share/e8scan/feeds``: nothing installed there, so scans use the shipped snapshot."""
    monkeypatch.setenv("E8SCAN_DATA_DIR", str(tmp_path_factory.mktemp("feeds-data")))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
