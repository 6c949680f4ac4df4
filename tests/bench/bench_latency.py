"""Slow-link benchmark: e8scan vs ansible-core vs a paramiko floor, through an emulated WAN RTT.

One fleet of N "light" loopback sshd hosts (``bench_fleet.make_fleet``: no package sources, so
``apt-get -s dist-upgrade`` is cheap and the hosts' own CPU does not bound everyone on a small
machine), each reached through its own latency proxy (``latency_proxy.LatencyLab``: each
direction delayed by RTT/2, order kept, the TCP handshake charged — connect + echo costs 2 RTT).
The RTT the proxies give is measured first at each setting (ping-pong and connect + echo
through the same proxy code, to an echo server) and printed. Then, at each RTT, ``--rounds``
interleaved runs of three contenders over the Linux catalogue's command list (equal forks):

* **e8scan**: ``e8scan scan`` end to end (raw.json, results.json, workbook).
* **ansible-core**: ``ansible-playbook``, one ``raw`` task per command (root ones with
  ``become``/sudo), ``strategy: free``, pipelining on, the ssh plugin's default ``ssh_args``
  (``-C -o ControlMaster=auto -o ControlPersist=60s``) written out.
* **floor**: a paramiko thread pool, per host one connection and one exec channel running one
  plain script: each command once, ``</dev/null``, the root ones in one ``sudo -n sh -c``; no
  framing, no timeout, no capping.

Measured per run: wall; **controller CPU** = CPU of the contender's process tree, detached
ControlPersist masters included (a cgroup; ``cpu_groups``); **target CPU** = CPU of everything
the fleet's sshds ran for it (another cgroup holding the sshds: sessions, shells, sudo, the
commands). Medians of the rounds are compared; targets are printed as met/missed, never
asserted. Each wall is split, from the proxies' log, into start-up (until the first
connection), hosts (first connection to the last byte a host sent) and after (judging,
writing, exit), with the client turns per connection (each one a round trip waited).
``--trace`` prints, for one host at the largest RTT, each contender's connection timeline as
the proxy saw it. ``--target-breakdown`` sends the same commands three ways over the floor's
connection — bare with one sudo, bare with one sudo per root command, e8scan's framed batch
(``posix_batch.build``) — and prints each one's target CPU per host.

e8scan and the floor run with this checkout first on ``PYTHONPATH`` and byte-code caching
on (``PYTHONPYCACHEPREFIX`` in the work folder), after one untimed warm-up run.

    .venv/bin/python tests/bench/bench_latency.py                 # 10 hosts, RTT 0 150 300 ms
    .venv/bin/python tests/bench/bench_latency.py --rtt 0 300 --hosts 5 --rounds 1 --trace
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench_fleet as bf
from cpu_groups import CPUGroup, open_group
from latency_proxy import EchoServer, LatencyLab, Measured, measure

CONTENDERS = ("e8scan", "ansible", "floor")
TARGETS = {
    "e8/floor wall": 1.15,
    "e8/floor target CPU": 1.2,
    "ansible/e8 wall at the largest RTT": 10.0,
    "ansible/e8 controller CPU": 15.0,
}


# --------------------------------------------------------------------------- set-up


@dataclass
class Lab:
    """The fleet behind its proxies, and the files every contender reads."""

    bench: Any  # bench_fleet.Bench, its inventories pointing at the proxies
    proxies: LatencyLab
    addresses: dict[str, tuple[str, int]]  # host name -> its proxy's listener
    known_hosts: Path  # the hosts' keys under their proxy addresses
    target: CPUGroup | None
    controller: CPUGroup | None
    sshd_pids: set[int]
    echo: tuple[str, int]  # the echo server the RTT is measured against (upstream address)


def proxied_files(
    fleet: Any, work: Path, addresses: dict[str, tuple[str, int]]
) -> tuple[Path, Path, Path]:
    """known_hosts, e8scan's inventory and ansible's, all naming the proxies."""
    kh = work / "proxied_known_hosts"
    lines = []
    for h in fleet.hosts:
        key_type, b64 = h.host_key.read_text().split()[:2]
        addr, port = addresses[h.name]
        lines.append(f"[{addr}]:{port} {key_type} {b64}\n")
    kh.write_text("".join(lines))

    def inventory(path: Path, extra: list[str]) -> Path:
        rows = ["[fleet]"]
        for h in fleet.hosts:
            addr, port = addresses[h.name]
            rows.append(
                f"{h.name} ansible_host={addr} ansible_port={port} "
                f"ansible_user={fleet.login_user} ansible_ssh_private_key_file={fleet.client_key}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(rows + extra) + "\n")
        return path

    e8 = inventory(work / "proxied.ini", ["", "[all:vars]", "ansible_become=true"])
    ans = inventory(work / "ansible" / "proxied.ini", [])
    return kh, e8, ans


def sshd_pids(fleet: Any) -> set[int]:
    pids = set()
    for h in fleet.hosts:
        pids.add(int(h.pid_file.read_text().split()[0]))
    return pids


# --------------------------------------------------------------------------- one run


@dataclass
class Run:
    wall: float
    controller_cpu: float
    target_cpu: float | None
    summary: str
    startup: float = float("nan")  # start → the first connection the proxies accepted
    network: float = float("nan")  # first accept → the last byte any host sent before the exit
    turns: float = float("nan")  # median client turns per connection (each waited >= 1 RTT)

    @property
    def finish(self) -> float:
        """After the last byte from a host until the contender exited (judge, write, exit)."""
        return self.wall - self.startup - self.network


def timed(
    lab: Lab, args: list[str], after: Any = None, **kwargs: Any
) -> tuple[subprocess.CompletedProcess[str], Run]:
    """Run one contender in the controller group; wall, controller and target CPU seconds."""
    ctrl, target = lab.controller, lab.target
    if ctrl is not None:
        # The child joins the group before it execs, so every descendant is counted.
        args = ["sh", "-c", 'echo $$ > "$0"; exec "$@"', str(ctrl.path / "cgroup.procs"), *args]
    c0 = ctrl.seconds() if ctrl else 0.0
    t0 = target.seconds() if target else 0.0
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    lab.proxies.log.clear()
    lab.proxies.trace = True
    start = time.perf_counter()
    mono0 = time.monotonic()  # the proxies' loop clock
    proc = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    wall = time.perf_counter() - start
    mono1 = time.monotonic()
    if after is not None:
        after()
    if ctrl is not None:
        if not ctrl.settle(set()):
            print(f"  warning: processes still in {ctrl.path}: {sorted(ctrl.pids())}", flush=True)
        ccpu = ctrl.seconds() - c0
    else:
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        ccpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    tcpu = None
    if target is not None:
        if not target.settle(lab.sshd_pids):
            print("  warning: fleet sessions still open after the run", flush=True)
        tcpu = target.seconds() - t0
    lab.proxies.trace = False
    run = Run(wall, ccpu, tcpu, "")
    conns = [c for c in lab.proxies.log if c.upstream != lab.echo]
    if conns:
        first = min(c.accepted for c in conns)
        last = max(
            (
                c.accepted + t
                for c in conns
                for t, _, n in c.events
                if n and c.accepted + t <= mono1
            ),
            default=first,
        )
        run.startup, run.network = first - mono0, last - first
        run.turns = float(statistics.median(len(c.flights()) for c in conns))
    return proc, run


def python_env(work: Path) -> dict[str, str]:
    """The environment e8scan and the floor run in: this checkout's code first on the path, and
    byte-code caching on (into ``work``, never the source tree). A shell that sets
    PYTHONDONTWRITEBYTECODE would otherwise have e8scan compile its ~240 modules on every run,
    which an installed e8scan never does; the untimed warm-up run fills the cache."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(bf.REPO), env.get("PYTHONPATH")) if p)
    return env


def run_e8scan(lab: Lab, out: Path) -> tuple[Run, list[int]]:
    b = lab.bench
    shutil.rmtree(out, ignore_errors=True)
    before = bf.connections(b.fleet)
    args = bf.e8scan_args(b.inventory, lab.known_hosts, out, b.forks)
    proc, run = timed(lab, args, timeout=3600, env=python_env(b.work))
    after = bf.connections(b.fleet)
    run.summary = bf.check_e8scan_output(proc, out, len(b.fleet.hosts))
    return run, [after[n] - before[n] for n in after]


def write_ansible_files(lab: Lab) -> Path:
    """ansible.cfg (free strategy's playbook, pipelining, ControlPersist) and the playbook."""
    b = lab.bench
    d = b.work / "ansible"
    d.mkdir(parents=True, exist_ok=True)
    (d / "ansible.cfg").write_text(
        "[defaults]\n"
        f"inventory = {b.ansible_inventory}\n"
        f"forks = {b.forks}\n"
        "host_key_checking = True\n"
        "retry_files_enabled = False\n"
        f"local_tmp = {d / 'local_tmp'}\n"
        "interpreter_python = auto_silent\n"
        "[privilege_escalation]\n"
        "become_method = sudo\n"
        "[ssh_connection]\n"
        "pipelining = True\n"
        "ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s\n"
        f"ssh_common_args = -o UserKnownHostsFile={lab.known_hosts} "
        "-o StrictHostKeyChecking=yes\n"
    )
    lines = ["- hosts: fleet", "  gather_facts: false", "  strategy: free", "  tasks:"]
    for i, step in enumerate(b.steps):
        # !unsafe: commands are shell, not Jinja ({#, {{ must reach the host untouched).
        lines += [
            f"    - name: cmd{i:02d}",
            f"      raw: !unsafe {json.dumps(step.line)}",
            f"      become: {'true' if step.sudo else 'false'}",
            "      failed_when: false",
        ]
    playbook = d / "playbook.yml"
    playbook.write_text("\n".join(lines) + "\n")
    return playbook


def run_ansible(lab: Lab, playbook: Path, tag: str) -> Run:
    b = lab.bench
    control = b.work / "ansible" / f"cp-{tag}"
    proc, run = timed(
        lab,
        [str(bf.ANSIBLE_PLAYBOOK), str(playbook)],
        after=lambda: bf.kill_control_masters(control),
        env=bf.ansible_env(b, control),
        cwd=b.work / "ansible",
        timeout=7200,
    )
    recap = {m.group(1): m.groups()[1:] for m in bf._RECAP.finditer(proc.stdout)}
    tasks = str(len(b.steps))
    good = [n for n, got in recap.items() if got == (tasks, "0", "0")]
    if proc.returncode != 0 or len(good) != len(b.fleet.hosts):
        raise RuntimeError(
            f"ansible-playbook exited {proc.returncode}, {len(good)}/{len(b.fleet.hosts)} hosts "
            f"with ok={tasks}: {proc.stdout[-2000:]}{proc.stderr[-1000:]}"
        )
    run.summary = f"{len(good)} hosts ok={tasks} failed=0 unreachable=0"
    return run


# --------------------------------------------------------------------------- the floor

FLOOR_DONE = "E8FLOOR_DONE"


def floor_script(steps: list[Any], sudo_each: bool = False) -> str:
    """Each command once, stdin closed; the root ones together in one ``sudo -n sh -c`` (or,
    with ``sudo_each``, each in its own ``sudo -n sh -c``, as e8scan's batch runs them today)."""

    def block(lines: list[tuple[int, str]]) -> str:
        return "".join(f'{{ {line}\n}} </dev/null\necho "E8FLOOR {i} $?"\n' for i, line in lines)

    plain = [(i, s.line) for i, s in enumerate(steps) if not s.sudo]
    root = [(i, s.line) for i, s in enumerate(steps) if s.sudo]
    script = "export LC_ALL=C LANG=C\n" + block(plain)
    if root and sudo_each:
        script += "".join(
            f'sudo -n sh -c {shlex.quote(line)} </dev/null\necho "E8FLOOR {i} $?"\n'
            for i, line in root
        )
    elif root:
        script += f"sudo -n sh -c {shlex.quote(block(root))} </dev/null\n"
    return script + f"echo {FLOOR_DONE}\n"


def write_floor_job(lab: Lab, variant: str = "floor") -> Path:
    """The floor's job; ``variant`` "sudo-each" (one sudo per root command) or "e8-batch"
    (e8scan's own framed batch script, ``posix_batch.build``) for the target-CPU breakdown."""
    from scanner.collect import posix_batch

    b = lab.bench
    script = floor_script(b.steps, sudo_each=variant == "sudo-each")
    expect = [f"E8FLOOR {i} " for i in range(len(b.steps))] + [FLOOR_DONE]
    if variant == "e8-batch":
        script, nonce = posix_batch.build(b.steps, bf.COMMAND_TIMEOUT, bf.MAX_OUTPUT)
        expect = [f"{nonce} E {len(b.steps) - 1} "]
    job = {
        "user": b.fleet.login_user,
        "key": str(b.fleet.client_key),
        "known_hosts": str(lab.known_hosts),
        "forks": b.forks,
        "script": script,
        "expect": expect,
        "hosts": [list(lab.addresses[h.name]) for h in b.fleet.hosts],
    }
    path = b.work / f"job-{variant}.json"
    path.write_text(json.dumps(job))
    return path


def floor_worker(job_path: Path) -> int:
    """The floor itself (its own process, so its wall includes interpreter start-up)."""
    from concurrent.futures import ThreadPoolExecutor

    import paramiko

    job = json.loads(job_path.read_text())
    pkey = paramiko.Ed25519Key.from_private_key_file(job["key"])
    known = {}
    for line in Path(job["known_hosts"]).read_text().splitlines():
        name, _type, b64 = line.split()[:3]
        known[name] = b64

    def one(address: list[Any]) -> bool:
        sock = socket.create_connection((address[0], address[1]), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = paramiko.Transport(sock)
        try:
            t.start_client(timeout=30)
            if t.get_remote_server_key().get_base64() != known[f"[{address[0]}]:{address[1]}"]:
                return False
            t.auth_publickey(job["user"], pkey)
            chan = t.open_session()
            chan.exec_command("sh -s")
            chan.sendall(job["script"].encode())
            chan.shutdown_write()
            out = chan.makefile("rb").read()
            chan.makefile_stderr("rb").read()
            code = chan.recv_exit_status()
            return code == 0 and all(m.encode() in out for m in job["expect"])
        finally:
            t.close()

    with ThreadPoolExecutor(max_workers=job["forks"]) as pool:
        ok = list(pool.map(one, job["hosts"]))
    print(json.dumps({"ok": sum(ok), "hosts": len(ok)}))
    return 0 if all(ok) else 1


def target_breakdown(lab: Lab, rounds: int) -> str:
    """Target CPU per host of the same commands sent three ways over the floor's connection."""
    lab.proxies.rtt = 0.0
    n = len(lab.bench.fleet.hosts)
    parts = []
    for variant, label in (
        ("floor", "bare commands, one sudo"),
        ("sudo-each", "bare commands, one sudo per root command"),
        ("e8-batch", "e8scan's framed batch script"),
    ):
        job = write_floor_job(lab, variant)
        cpu = [run_floor(lab, job).target_cpu or 0.0 for _ in range(rounds)]
        parts.append(f"{label} {statistics.median(cpu) / n * 1000:.0f} ms")
    return "Target CPU per host at RTT 0 (median of " + f"{rounds}): " + "; ".join(parts)


def run_floor(lab: Lab, job: Path) -> Run:
    proc, run = timed(
        lab,
        [sys.executable, __file__, "--floor-worker", str(job)],
        timeout=3600,
        env=python_env(lab.bench.work),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"floor failed: {proc.stdout[-1000:]}{proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    run.summary = f"{res['ok']}/{res['hosts']} hosts, every command's status and the end seen"
    return run


# --------------------------------------------------------------------------- comparison


@dataclass
class Row:
    rtt: float
    measured: Measured
    runs: dict[str, list[Run]] = field(default_factory=lambda: {c: [] for c in CONTENDERS})
    conns: list[int] = field(default_factory=list)
    load: list[str] = field(default_factory=list)

    def med(self, who: str, what: str) -> float:
        values = [getattr(r, what) for r in self.runs[who]]
        if any(v is None for v in values):
            return float("nan")
        return float(statistics.median(values))


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_rtt(
    lab: Lab,
    rtt: float,
    rounds: int,
    playbook: Path,
    job: Path,
    echo: tuple[str, int],
    trace: bool = False,
) -> Row:
    """``rounds`` interleaved runs of the three contenders at one RTT; with ``trace``, the first
    round's connections to the first host are printed as the proxy saw them."""
    lab.proxies.rtt = rtt
    got = measure(lab.proxies, echo)
    print(f"\n== {got.line()} ==", flush=True)
    row = Row(rtt, got)
    first = lab.bench.fleet.hosts[0]
    for r in range(1, rounds + 1):
        row.load.append(loadavg())
        tag = f"{int(rtt * 1000)}-{r}"
        for who in ("e8scan", "floor", "ansible"):
            if who == "e8scan":
                run, conns = run_e8scan(lab, lab.bench.work / f"e8scan-out-{tag}")
                row.conns += conns
            elif who == "floor":
                run = run_floor(lab, job)
            else:
                run = run_ansible(lab, playbook, tag)
            row.runs[who].append(run)
            tc = "n/a" if run.target_cpu is None else f"{run.target_cpu:6.2f} s"
            print(
                f"  round {r} {who:<8} wall {run.wall:7.2f} s  "
                f"controller CPU {run.controller_cpu:6.2f} s  "
                f"target CPU {tc}  ({run.summary}; load {loadavg()})",
                flush=True,
            )
            print(
                f"    {who}: start-up {run.startup:.2f} s, hosts {run.network:.2f} s (client turns "
                f"per connection {run.turns:g}), after the last host byte {run.finish:.2f} s",
                flush=True,
            )
            for conn in lab.proxies.log if trace and r == 1 else []:
                if conn.upstream == (first.address, first.port):
                    print(f"  {who} trace, host {first.name}: " + conn.describe(), flush=True)
    return row


def verdicts(rows: list[Row]) -> list[str]:
    out = []
    top = max(r.rtt for r in rows)
    for r in rows:
        ms = f"RTT {r.rtt * 1000:.0f} ms"
        e8, fl, an = (r.med(c, "wall") for c in ("e8scan", "floor", "ansible"))
        checks = [
            ("e8scan/floor wall", e8 / fl, "<=", TARGETS["e8/floor wall"]),
            (
                "e8scan/floor target CPU",
                r.med("e8scan", "target_cpu") / r.med("floor", "target_cpu"),
                "<=",
                TARGETS["e8/floor target CPU"],
            ),
            (
                "ansible/e8scan controller CPU",
                r.med("ansible", "controller_cpu") / r.med("e8scan", "controller_cpu"),
                ">=",
                TARGETS["ansible/e8 controller CPU"],
            ),
        ]
        if r.rtt == top:
            checks.append(
                (
                    "ansible/e8scan wall",
                    an / e8,
                    ">=",
                    TARGETS["ansible/e8 wall at the largest RTT"],
                )
            )
        for name, value, op, limit in checks:
            if value != value:  # NaN: no cgroup, so no target CPU
                out.append(f"UNKNOWN {ms}: {name} not measured (no cgroup cpu accounting)")
                continue
            ok = value <= limit if op == "<=" else value >= limit
            out.append(
                f"{'MET   ' if ok else 'MISSED'} {ms}: {name} {value:.2f}x (target {op} {limit:g}x)"
            )
    return out


def markdown(
    info: dict[str, str],
    rows: list[Row],
    forks: int,
    hosts: int,
    commands: int,
    rounds: int,
    cpu_how: str,
) -> str:
    out = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python "
        f"{info['python']}, paramiko {info['paramiko']}, ansible-core {info['ansible-core']}, "
        f"{info['openssh']}; e8scan {info['e8scan']}. {hosts} light loopback sshd hosts behind "
        f"latency proxies, {commands} commands per host, forks {forks}, "
        f"medians of {rounds}; CPU from {cpu_how}.",
        "",
        "| RTT (measured ping-pong / connect+echo) | e8scan | ansible-core `raw` | paramiko floor "
        "| e8scan / floor wall | ansible / e8scan wall | target CPU e8scan / floor "
        "| controller CPU e8scan / ansible | SSH connections/host |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        e8, an, fl = (r.med(c, "wall") for c in ("e8scan", "ansible", "floor"))
        te, tf = r.med("e8scan", "target_cpu"), r.med("floor", "target_cpu")
        ce, ca = r.med("e8scan", "controller_cpu"), r.med("ansible", "controller_cpu")
        pp = statistics.median(r.measured.ping_pong) * 1000
        ce_ms = statistics.median(r.measured.connect_echo) * 1000
        out.append(
            f"| {r.rtt * 1000:.0f} ms ({pp:.0f} / {ce_ms:.0f} ms) | {e8:.2f} s | {an:.2f} s | {fl:.2f} s "
            f"| {e8 / fl:.2f}× | {an / e8:.1f}× | {te:.2f} / {tf:.2f} s = {te / tf:.2f}× "
            f"| {ce:.2f} / {ca:.2f} s = 1/{ca / ce:.0f} | {min(r.conns)}–{max(r.conns)} |"
        )
    out += [
        "",
        "Where the wall goes (medians; start-up = until the first connection, hosts = first "
        "connection to the last byte from a host, after = judging, writing, exit):",
        "",
    ]
    for r in rows:
        parts = []
        for who in CONTENDERS:
            parts.append(
                f"{who} {r.med(who, 'startup'):.2f} + {r.med(who, 'network'):.2f} + "
                f"{r.med(who, 'finish'):.2f} s, {r.med(who, 'turns'):g} client turns/connection"
            )
        out.append(f"- RTT {r.rtt * 1000:.0f} ms: " + "; ".join(parts))
    return "\n".join(out)


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--rtt", type=float, nargs="+", default=[0, 150, 300], help="milliseconds")
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs of each contender per RTT (median)"
    )
    parser.add_argument("--forks", type=int, default=None, help="default: e8scan's default")
    parser.add_argument(
        "--trace", action="store_true", help="print one host's connection timelines"
    )
    parser.add_argument(
        "--target-breakdown",
        action="store_true",
        help="also measure the target CPU of the commands bare, with one sudo per root command, "
        "and in e8scan's framed batch (the floor's connection, RTT 0)",
    )
    parser.add_argument("--floor-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_worker is not None:
        return floor_worker(args.floor_worker)

    bf.load_sshfleet()
    from sshfleet import FleetError, require_root_and_sshd

    try:
        require_root_and_sshd()
    except FleetError as exc:
        print(f"bench_latency: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    bf.raise_fd_limit(8192)
    forks = args.forks or bf.default_forks()
    info = bf.machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    print(f"forks {forks} for e8scan, ansible-core and the floor; load at start {loadavg()}")

    work = Path(tempfile.mkdtemp(prefix="e8bench-lat-"))
    fleet = bf.make_fleet(args.hosts, work, "light")
    proxies = LatencyLab()
    echo = EchoServer()
    target = controller = None
    try:
        fleet.start()
        plain = bf.prepare(fleet, work, forks)
        addresses = {
            h.name: proxies.add((h.address, h.port), listen=h.address) for h in fleet.hosts
        }
        kh, e8_inv, ans_inv = proxied_files(fleet, work, addresses)
        bench = bf.Bench(fleet, work, forks, e8_inv, ans_inv, plain.steps)
        target, controller = open_group("e8bench-target"), open_group("e8bench-controller")
        pids = sshd_pids(fleet)
        if target is not None:
            for pid in pids:
                target.add(pid)
        cpu_how = target.kind if target else "getrusage (no cgroup: target CPU not measured)"
        lab = Lab(bench, proxies, addresses, kh, target, controller, pids, echo.address)
        print(
            f"fleet of {args.hosts} light hosts, {len(plain.steps)} commands each; CPU from {cpu_how}"
        )
        playbook = write_ansible_files(lab)
        job = write_floor_job(lab)
        bf.ansible_sanity(bench)
        echo_addr = proxies.add(echo.address)
        proxies.rtt = 0.0
        warm = run_e8scan(lab, work / "e8scan-warm-up")[0].wall, run_floor(lab, job).wall
        print(
            f"untimed warm-up (byte-code cache, page cache): e8scan {warm[0]:.2f} s, "
            f"floor {warm[1]:.2f} s",
            flush=True,
        )
        top = max(args.rtt)
        rows = [
            run_rtt(lab, ms / 1000, args.rounds, playbook, job, echo_addr, args.trace and ms == top)
            for ms in args.rtt
        ]
        breakdown = target_breakdown(lab, args.rounds) if args.target_breakdown else ""
        print(
            "\n" + markdown(info, rows, forks, args.hosts, len(plain.steps), args.rounds, cpu_how)
        )
        if breakdown:
            print("\n" + breakdown)
        print(
            "\nload (1/5/15 min) before each round: "
            + "; ".join(f"{r.rtt * 1000:.0f} ms: {', '.join(r.load)}" for r in rows)
        )
        print("\n" + "\n".join(verdicts(rows)))
    finally:
        proxies.close()
        echo.close()
        fleet.stop()
        for g in (target, controller):
            if g is not None:
                g.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
