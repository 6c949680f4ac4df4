"""End to end: one sweep in which every way a host can fail happens at once, beside healthy hosts.

A single ``e8scan scan`` (real CLI, real paramiko, real pywinrm) covers healthy sshd hosts and, each
on its own loopback address: nothing listening, a tarpit that never sends a banner, a wrong key, a
host key missing from known_hosts, a changed host key, a connection dropped in the middle of the
batch, a name that does not resolve, hostile output (a formula and a non-UTF-8 byte), an sshd
throttling at MaxStartups (its one startup slot held all sweep long, so every connection is
dropped before the banner), a host whose first ``systemctl`` never returns and whose
``timeout(1)`` does nothing (so only e8scan's own watchdog can end it), and two broken WinRM
hosts (garbage answers; a Receive that times out forever). Every fault must become that host's
``reach`` with a reason, the healthy hosts must come back whole, the exit code is 4, and the
sweep's wall time is bounded by the per-host budget, not by the sum of the faults.

Name resolution of ``no-such-host.invalid`` is failed in-process (``socket.getaddrinfo`` raises
the resolver's own ``EAI_NONAME``): the machine's resolver is off loopback and the suite sends no
traffic beyond 127.0.0.0/8.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import subprocess
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sshfleet import HostSpec, SSHFleet
from wsman.fixtures import HostFixtures
from wsman.server import WSManServer

from scanner.cli.main import main
from scanner.collect import posix_batch
from scanner.collect.transports.ssh import SSHOptions, SSHTransport
from scanner.inventory.connection import ConnectionSpec
from tests.faultservers import free_port, hold_startup_slot, maxstartups_drops, tcp_server

pytestmark = pytest.mark.sshd

HOST_TIMEOUT = 30
# apt-get -s dist-upgrade alone takes ~3.5 s of CPU here; three healthy hosts share two cores
# (measured 15 s under a load average of 6).
COMMAND_TIMEOUT = 25
COMMAND_GRACE = 1  # the watchdog ends a step at 26 s, before the 30 s host budget
STUCK_LIMIT = COMMAND_TIMEOUT + COMMAND_GRACE
# `stuck`: timeout(1) drops its options and duration and runs the command; systemctl sleeps.
NO_TIMEOUT = """#!/bin/sh
while [ $# -gt 0 ]; do
  case $1 in -k|-s) shift 2 ;; -*) shift ;; *) break ;; esac
done
shift
exec "$@"
"""
STUCK_FILES = {
    "/usr/local/bin/timeout": NO_TIMEOUT,
    "/usr/local/bin/systemctl": "#!/bin/sh\nexec sleep 600\n",
}
WIN_USER, WIN_PW, WIN_PW_ENV = "e8faults", "Fault-Sweep-77", "E8_TEST_FAULTS_WIN_PASSWORD"
HOSTILE_OS = (
    b'PRETTY_NAME="=HYPERLINK(\\"http://x/\\",\\"x\\")"\xff\n'
    b'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
)
DROP_AFTER = 12_000  # server→client bytes relayed before the forwarder cuts the connection
# MaxStartups 1 with its one slot held is the default 10:30:100 at full load: every new
# connection is dropped before the banner.
THROTTLED_SSHD = ("MaxStartups 1", "LoginGraceTime 120")
HOLDER_SOURCE = "127.0.0.245"  # the slot holder connects from here
HEALTHY = ("good1", "good2", "hostile")
EXPECTED_REACH = {
    "good1": "ok",
    "good2": "ok",
    "hostile": "ok",
    "refused": "unreachable",
    "tarpit": "timeout",
    "badkey": "auth_failed",
    "unknownkey": "host_key_refused",
    "changedkey": "host_key_refused",
    "dropped": "error",
    "nodns": "unreachable",
    "throttled": "unreachable",
    "win-garbage": "error",
    "win-forever": "timeout",
    "stuck": "timeout",
}


def dropping_forwarder(address: str, port: int, after: int) -> Callable[[socket.socket, int], None]:
    """Relay to ``address:port``; close both sides once the server has sent ``after`` bytes."""

    def handle(conn: socket.socket, _n: int) -> None:
        up = socket.create_connection((address, port))
        sent = [0]
        done = threading.Event()

        def cut() -> None:
            done.set()
            for s in (conn, up):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

        def down() -> None:  # server → client, counted
            with contextlib.suppress(OSError):
                while not done.is_set() and (data := up.recv(4096)):
                    conn.sendall(data)
                    sent[0] += len(data)
                    if sent[0] >= after:
                        break
            cut()

        threading.Thread(target=down, daemon=True).start()
        with contextlib.suppress(OSError):
            while not done.is_set() and (data := conn.recv(65536)):
                up.sendall(data)
        cut()

    return handle


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], check=True, capture_output=True)
    return out.stdout.decode().split()[1]


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Any) -> Iterator[SSHFleet]:
    f: SSHFleet = ssh_fleet_factory(
        [
            HostSpec("good1"),
            HostSpec("good2"),
            HostSpec("hostile", overlay={"/etc/os-release": HOSTILE_OS}),
            HostSpec("badkey"),
            HostSpec("unknownkey"),
            HostSpec("changedkey"),
            HostSpec("dropped"),
            HostSpec("throttled", sshd_config=THROTTLED_SSHD),
            HostSpec("stuck", overlay=dict(STUCK_FILES), executables=tuple(STUCK_FILES)),
        ],
        name="faults",
    )
    yield f
    f.stop()


def _win(server: WSManServer, name: str) -> str:
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    return (
        f"{name} ansible_host={server.address} ansible_port={port} ansible_connection=winrm "
        f"ansible_winrm_scheme=http ansible_winrm_transport=basic e8_allow_basic_over_http=true "
        f"ansible_user={WIN_USER} "
        f"e8_password_env={WIN_PW_ENV}"
    )


@pytest.fixture(scope="module")
def sweep(
    fleet: SSHFleet,
    wsman_server_factory: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """Run the one sweep; the WS-Man servers are stopped when it ends (the factory backs this up)."""
    work = tmp_path_factory.mktemp("faults")
    home = work / "home"
    home.mkdir()
    wrong_key = keygen(work / "wrong_ed25519")
    other_key = keygen(work / "other_ed25519")

    servers = [
        wsman_server_factory(
            "127.0.0.243",
            auth=("basic",),
            users={WIN_USER: WIN_PW},
            fixtures=HostFixtures({}),
            faults=("garbage:Receive",),
        ),
        wsman_server_factory(
            "127.0.0.244",
            auth=("basic",),
            users={WIN_USER: WIN_PW},
            fixtures=HostFixtures({}),
            faults=("timed_out_forever",),
        ),
    ]
    dropped = fleet.host("dropped")
    throttled = fleet.host("throttled")
    with (
        contextlib.closing(hold_startup_slot(throttled.address, throttled.port, HOLDER_SOURCE)),
        tcp_server("127.0.0.241", lambda conn, n: None) as tarpit_port,
        tcp_server(
            "127.0.0.242", dropping_forwarder(dropped.address, dropped.port, DROP_AFTER)
        ) as drop_port,
        pytest.MonkeyPatch.context() as mp,
    ):
        real_getaddrinfo = socket.getaddrinfo

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(host, str) and host.endswith(".invalid"):
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real_getaddrinfo(host, *args, **kwargs)

        mp.setattr(socket, "getaddrinfo", getaddrinfo)

        # known_hosts: unknownkey left out, changedkey given another key, the forwarder's
        # address carries the dropped host's real key.
        kh_lines = []
        for h in fleet.hosts:
            if h.name == "unknownkey":
                continue
            kt, b64 = h.host_key.read_text().split()[:2]
            if h.name == "changedkey":
                kt, b64 = Path(f"{other_key}.pub").read_text().split()[:2]
            kh_lines.append(f"[{h.address}]:{h.port} {kt} {b64}\n")
        kt, b64 = dropped.host_key.read_text().split()[:2]
        kh_lines.append(f"[127.0.0.242]:{drop_port} {kt} {b64}\n")
        known_hosts = work / "known_hosts"
        known_hosts.write_text("".join(kh_lines))

        key = fleet.client_key
        lines = ["[linux]"]
        for h in fleet.hosts:
            if h.name == "dropped":
                continue
            k = wrong_key if h.name == "badkey" else key
            lines.append(
                f"{h.name} ansible_host={h.address} ansible_port={h.port} "
                f"ansible_user={fleet.login_user} ansible_ssh_private_key_file={k}"
            )
        common = f"ansible_user={fleet.login_user} ansible_ssh_private_key_file={key}"
        lines += [
            f"dropped ansible_host=127.0.0.242 ansible_port={drop_port} {common}",
            f"refused ansible_host=127.0.0.240 ansible_port={free_port('127.0.0.240')} {common}",
            f"tarpit ansible_host=127.0.0.241 ansible_port={tarpit_port} {common}",
            f"nodns ansible_host=no-such-host.invalid ansible_port=22 {common}",
            "",
            "[windows]",
            _win(servers[0], "win-garbage"),
            _win(servers[1], "win-forever"),
        ]
        inv = work / "site.ini"
        inv.write_text("\n".join(lines) + "\n")
        out = work / "out"
        start = time.monotonic()
        result = CliRunner(
            env={"HOME": str(home), "SSH_AUTH_SOCK": None, WIN_PW_ENV: WIN_PW}
        ).invoke(
            main,
            [
                "scan",
                "--no-history",
                "-q",
                "-i",
                str(inv),
                "--known-hosts",
                str(known_hosts),
                "--out",
                str(out),
                "-f",
                "12",
                "--host-timeout",
                str(HOST_TIMEOUT),
                "--command-timeout",
                str(COMMAND_TIMEOUT),
                "--command-grace",
                str(COMMAND_GRACE),
                "--connect-timeout",
                "3",
            ],
        )
        elapsed = time.monotonic() - start
    for server in servers:
        server.stop()
    return {
        "result": result,
        "elapsed": elapsed,
        "out": out,
        "raw": json.loads((out / "raw.json").read_text()),
        "results": json.loads((out / "results.json").read_text()),
    }


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in doc["hosts"]}


def test_exit_code_is_4_and_the_sweep_is_bounded_by_the_host_budget(
    sweep: dict[str, Any],
) -> None:
    result = sweep["result"]
    assert result.exit_code == 4, (result.output, result.exception)
    # The faults run side by side: the slowest one is the budget, not their sum.
    assert sweep["elapsed"] < HOST_TIMEOUT + 15, sweep["elapsed"]


def test_every_host_gets_the_right_reach_with_a_reason(sweep: dict[str, Any]) -> None:
    results = by_name(sweep["results"])
    raw = by_name(sweep["raw"])
    assert set(results) == set(EXPECTED_REACH) == set(raw)
    got = {n: (results[n]["reach"], results[n]["reach_detail"]) for n in results}
    assert {n: r for n, (r, _) in got.items()} == EXPECTED_REACH, got
    for name, expected in EXPECTED_REACH.items():
        assert raw[name]["reach"] == expected, name
        if expected != "ok":
            assert results[name]["reach_detail"], name
            assert results[name]["level"] is None, name
            assert not [
                c
                for c in results[name]["controls"]
                if c["outcome"] in ("effective", "alternate_control")
            ], name


def test_reasons_say_what_happened(sweep: dict[str, Any]) -> None:
    detail = {n: h["reach_detail"].lower() for n, h in by_name(sweep["results"]).items()}
    assert "refused" in detail["refused"]
    assert "banner" in detail["tarpit"]
    assert "no-such-host.invalid" in detail["nodns"]
    assert "connection lost during command" in detail["dropped"], detail["dropped"]
    assert "not ws-man" in detail["win-garbage"], detail["win-garbage"]
    # No step marker ever came back: e8scan's watchdog ended it, before the host budget did.
    assert f"first step made no progress for {STUCK_LIMIT} s" in detail["win-forever"], detail
    assert f"made no progress for {STUCK_LIMIT} s" in detail["stuck"], detail["stuck"]
    assert "changed" in detail["changedkey"] or "mismatch" in detail["changedkey"]
    assert "unknown" in detail["unknownkey"] or "not in" in detail["unknownkey"]


def test_the_throttled_host_was_retried_with_backoff_then_given_up(
    sweep: dict[str, Any], fleet: SSHFleet
) -> None:
    detail = by_name(sweep["results"])["throttled"]["reach_detail"]
    assert "closed before the SSH banner" in detail, detail
    assert "gave up after 5 attempts, backing off 0.5 s to 4 s" in detail, detail
    assert detail.endswith("(sshd MaxStartups throttling?)"), detail
    # sshd's own log: five connections of the scanner dropped, none let in.
    log = fleet.sshd_log("throttled")
    assert maxstartups_drops(log, excluding=HOLDER_SOURCE) == 5, log
    assert fleet.auths("throttled") == 0


def test_the_dropped_connection_was_cut_mid_batch(sweep: dict[str, Any], fleet: SSHFleet) -> None:
    # The forwarder let the login through: the cut came after authentication, during the batch.
    assert fleet.auths("dropped") == 1
    assert by_name(sweep["results"])["dropped"]["host_key"] == fingerprint(
        fleet.host("dropped").host_key
    )


def test_healthy_hosts_are_intact_and_complete(sweep: dict[str, Any], fleet: SSHFleet) -> None:
    raw = by_name(sweep["raw"])
    results = by_name(sweep["results"])
    counts = set()
    for name in HEALTHY:
        h = raw[name]
        assert h["reach_detail"] == "", name
        assert h["host_key"] == fingerprint(fleet.host(name).host_key)
        assert h["commands"], name
        counts.add(len(h["commands"]))
        for c in h["commands"]:
            assert c["ran"] and not c["timed_out"] and c["exit_code"] is not None, (name, c)
        assert results[name]["level"] is not None or any(
            v is not None for v in results[name]["levels"].values()
        )
    assert len(counts) == 1  # every healthy Linux host ran the same whole plan
    assert fleet.connections("good1") == 1 and fleet.connections("good2") == 1


def test_non_utf8_output_is_kept_as_base64(sweep: dict[str, Any]) -> None:
    hostile = by_name(sweep["raw"])["hostile"]
    os_release = next(c for c in hostile["commands"] if "os-release" in c["command"])
    assert isinstance(os_release["stdout"], dict), os_release["stdout"]
    assert HOSTILE_OS in base64.b64decode(os_release["stdout"]["base64"])


def test_formula_looking_output_never_becomes_a_formula(sweep: dict[str, Any]) -> None:
    path = sweep["out"] / "e8-report.xlsx"
    with zipfile.ZipFile(path) as z:
        xml = {n: z.read(n) for n in z.namelist() if n.endswith(".xml")}
    assert any(b"HYPERLINK" in body for body in xml.values()), "hostile text not in the workbook"
    for name, body in xml.items():  # charts hold legitimate <f> references; none may be hostile
        formulas = re.findall(rb"<f[ >].*?</f>", body, re.DOTALL)
        assert not [f for f in formulas if b"HYPERLINK" in f], name
    wb = load_workbook(path)
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                    seen += 1
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
    assert seen


def test_a_100_mb_output_is_capped_in_bounded_time_and_memory(fleet: SSHFleet) -> None:
    host = fleet.host("good1")
    spec = ConnectionSpec(
        name="good1",
        connection="ssh",
        address=host.address,
        port=host.port,
        user=fleet.login_user,
        key_file=str(fleet.client_key),
    )
    cap = 1 << 20
    steps = [posix_batch.Step("head -c 100000000 /dev/zero"), posix_batch.Step("echo after")]
    script, nonce = posix_batch.build(steps, 5, cap)
    t = SSHTransport(spec, SSHOptions(known_hosts=(fleet.known_hosts,), connect_timeout=3.0))
    tracemalloc.start()
    start = time.monotonic()
    try:
        t.connect()
        res = t.run("sh -s", 30.0, (cap * 3 + 1024) * len(steps) + 65536, stdin=script.encode())
        parsed = posix_batch.parse(res.stdout, res.stderr, nonce, len(steps), cap, res.timed_out)
    finally:
        t.close()
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    big, after = parsed
    assert big.truncated and len(big.stdout) == cap and big.stdout == b"\0" * cap
    assert after.stdout == b"after\n" and after.exit_code == 0
    assert not res.timed_out
    assert elapsed < 15, elapsed
    assert peak < 64 * cap, peak  # a few copies of the cap, never the 100 MB


def test_a_step_the_host_cannot_time_out_ends_only_that_host(sweep: dict[str, Any]) -> None:
    """`stuck` hangs in its first systemctl; the watchdog ends it: what finished is kept, the
    hung step is timed out, the rest not run (and the healthy hosts finished whole, above)."""
    host = by_name(sweep["raw"])["stuck"]
    ran = [c for c in host["commands"] if c["ran"]]
    assert ran and len(ran) < len(host["commands"])
    *finished, hung = ran
    assert all(not c["timed_out"] and c["exit_code"] is not None for c in finished)
    assert hung["timed_out"] and hung["exit_code"] is None and "systemctl" in hung["command"]
    assert host["commands"][: len(ran)] == ran  # nothing after the hung step ran
    detail = host["reach_detail"]
    assert f"step {len(ran)} of {len(host['commands'])} made no progress" in detail, detail
    assert f"{len(finished)} step(s) finished and were kept" in detail, detail
