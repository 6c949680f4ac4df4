"""Fleet speed benchmark: e8scan vs ansible-core vs a minimal paramiko floor, same run, same hosts.

Starts N loopback sshd hosts (``tests/sshfleet.py``, needs root), writes one INI inventory and
runs the Linux catalogue's commands on every host three ways, with equal parallelism (``forks``
= e8scan's default, passed explicitly to all three):

* **e8scan**: ``e8scan scan`` end to end as a subprocess (raw.json, results.json, workbook).
* **ansible-core**: ``ansible-playbook`` with one ``raw`` task per distinct command e8scan runs
  on such a host (root ones with ``become: true``, sudo), pipelining on, default ssh plugin.
* **floor**: this file run as ``--floor-worker``: a paramiko thread pool, per host one
  connection, key auth, one exec channel running e8scan's batched script on ``sh -s``; nothing
  judged or written.

Each measurement runs ``--rounds`` times (interleaved) and the best is compared. SSH connections
per host of every e8scan run are counted from the sshd logs. ``--sweep-rss M`` scans an M-host
inventory whose addresses repeat over the fleet and prints e8scan's peak RSS; ``--profile FILE``
runs e8scan once more under cProfile and prints its top costs. ``--host-profile light`` (the
default) gives the hosts no package sources, so ``apt-get -s dist-upgrade`` does not cost seconds
of this machine's CPU per host (see ``LIGHT_OVERLAY``). Numbers are printed, never asserted.

    .venv/bin/python tests/bench/bench_fleet.py --hosts 50 200
    .venv/bin/python tests/bench/bench_fleet.py --sweep-rss 2000
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sshfleet import SSHFleet

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's bin (run with .venv/bin/python)
E8SCAN = BIN / "e8scan"
ANSIBLE_PLAYBOOK = BIN / "ansible-playbook"
ANSIBLE = BIN / "ansible"
TIME = Path("/usr/bin/time")
COMMAND_TIMEOUT = 60  # e8scan's default --command-timeout
MAX_OUTPUT = 1 << 20  # e8scan's default per-command output cap
_RECAP = re.compile(
    r"^(\S+)\s+:\s+ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE
)


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    """CPU, cores, RAM and the versions of everything measured."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    ssh = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "paramiko": metadata.version("paramiko"),
        "ansible-core": metadata.version("ansible-core"),
        "openssh": (ssh.stderr or ssh.stdout).strip().split(",")[0],
        "e8scan": metadata.version("e8scan"),
    }


def load_sshfleet() -> None:
    """Import tests/sshfleet.py as ``sshfleet`` without putting tests/ on sys.path (its
    ``checks`` folder would shadow the catalogue package of the same name)."""
    spec = importlib.util.spec_from_file_location("sshfleet", REPO / "tests" / "sshfleet.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sshfleet"] = module
    spec.loader.exec_module(module)


def default_forks() -> int:
    """e8scan scan's default ``--forks``, read from its CLI definition."""
    from scanner.cli.main import scan_cmd

    for p in scan_cmd.params:
        if p.name == "forks":
            return int(p.default)  # type: ignore[arg-type]
    raise RuntimeError("e8scan scan has no --forks option")


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        if want < needed:
            print(f"warning: open-file limit {want} < {needed}; raise `ulimit -n`", flush=True)


# --------------------------------------------------------------------------- the fleet


@dataclass
class Bench:
    """One started fleet and the files the three contenders share."""

    fleet: SSHFleet
    work: Path
    forks: int
    inventory: Path  # e8scan's (ansible_become=true under all:vars)
    ansible_inventory: Path  # the same hosts without ansible_become (become is per task there)
    steps: list[Any] = field(
        default_factory=list
    )  # scanner.collect.posix_batch.Step of one host's plan


# "light" hosts have no package sources configured (an air-gapped host): the catalogue's
# `apt-get -s dist-upgrade` then costs ~0.05 s of CPU instead of 1.5-3.5 s with this machine's
# package lists. On loopback every host's commands share the benchmark machine's cores, so with
# "machine" hosts the host-side apt work, not the client, bounds all three contenders.
LIGHT_OVERLAY: dict[str, str | bytes] = {
    "/etc/apt/apt.conf.d/zz-e8bench": 'Dir::Etc::SourceList "/etc/apt/e8bench.list";\n'
    'Dir::Etc::SourceParts "/etc/apt/e8bench.list.d";\n',
    "/etc/apt/e8bench.list": "",
    "/etc/apt/e8bench.list.d/none.list": "",
}


PROFILES = {
    "light": "fleet hosts show no package sources (apt-get -s dist-upgrade is cheap)",
    "machine": "fleet hosts show this machine's apt sources and lists",
}


def make_fleet(n: int, work: Path, profile: str) -> SSHFleet:
    """N equal hosts whose login user may sudo (so e8scan's root reads go through ``sudo -n``)."""
    import sshfleet
    from sshfleet import HostSpec, SSHFleet

    # 200 banners probed one after another on a busy 2-core machine can exceed 10 s.
    sshfleet._START_TIMEOUT = max(sshfleet._START_TIMEOUT, 0.15 * n)
    overlay = dict(LIGHT_OVERLAY) if profile == "light" else {}
    hosts = [
        HostSpec(f"bench{i:03d}", overlay=dict(overlay), sudo_nopasswd=True)
        for i in range(1, n + 1)
    ]
    return SSHFleet(work / "fleet", hosts)


def prepare(fleet: SSHFleet, work: Path, forks: int) -> Bench:
    from scanner.checking.loader import load_checks
    from scanner.collect.plan import make_plan
    from scanner.inventory.load import load_inventory

    inv = fleet.inventory_ini(work / "fleet.ini", {"ansible_become": "true"})
    ans_inv = fleet.inventory_ini(work / "ansible" / "fleet.ini")
    plans = make_plan(load_inventory([inv]).select(None), load_checks())
    steps = [pc.step for pc in plans[0].commands]
    if not steps:
        raise RuntimeError("the plan has no commands for a Linux host (wrong `checks` package?)")
    if any([pc.step for pc in p.commands] != steps for p in plans):
        raise RuntimeError("fleet hosts got different plans; the benchmark assumes equal hosts")
    return Bench(fleet, work, forks, inv, ans_inv, steps)


def connections(fleet: SSHFleet) -> dict[str, int]:
    return {h.name: fleet.connections(h.name) for h in fleet.hosts}


def run_timed(
    args: list[str], **kwargs: Any
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run a child to completion: the result, wall seconds and the CPU seconds (user + system)
    of the child and every descendant it waited for (ansible's workers and ssh clients)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return proc, wall, cpu


@dataclass
class Run:
    wall: float
    cpu: float  # client-side CPU seconds
    summary: str


# --------------------------------------------------------------------------- (a) e8scan


def e8scan_args(inv: Path, known_hosts: Path, out: Path, forks: int) -> list[str]:
    return [
        str(E8SCAN),
        "scan",
        "-i",
        str(inv),
        "--known-hosts",
        str(known_hosts),
        "--out",
        str(out),
        "-f",
        str(forks),
        "--no-history",
        "-q",
    ]


def check_e8scan_output(proc: subprocess.CompletedProcess[str], out: Path, hosts: int) -> str:
    """Exit 0 or 3 (below target), every host reached, every command ran; a short summary."""
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"e8scan exited {proc.returncode}: {proc.stderr[-2000:]}")
    for name in ("raw.json", "results.json", "e8-report.xlsx"):
        if not (out / name).is_file():
            raise RuntimeError(f"e8scan wrote no {name}")
    raw = json.loads((out / "raw.json").read_bytes())
    bad = [h["name"] for h in raw["hosts"] if h["reach"] != "ok"]
    if len(raw["hosts"]) != hosts or bad:
        raise RuntimeError(f"e8scan: {len(raw['hosts'])} hosts, not reached: {bad[:5]}")
    ran = [
        sum(c["ran"] and c["exit_code"] is not None for c in h["commands"]) for h in raw["hosts"]
    ]
    denied = sum(
        "password is required" in str(c.get("stderr", ""))
        for h in raw["hosts"]
        for c in h["commands"]
    )
    if denied:
        raise RuntimeError(f"e8scan: sudo refused {denied} commands")
    return f"{hosts} hosts ok, commands run per host {min(ran)}-{max(ran)}, exit {proc.returncode}"


def run_e8scan(b: Bench, out: Path) -> tuple[Run, list[int]]:
    """The run, and the SSH connections each host's sshd logged during it."""
    shutil.rmtree(out, ignore_errors=True)
    before = connections(b.fleet)
    args = e8scan_args(b.inventory, b.fleet.known_hosts, out, b.forks)
    proc, wall, cpu = run_timed(args, timeout=3600)
    after = connections(b.fleet)
    summary = check_e8scan_output(proc, out, len(b.fleet.hosts))
    return Run(wall, cpu, summary), [after[n] - before[n] for n in after]


# --------------------------------------------------------------------------- (b) ansible-core


def write_ansible_files(b: Bench) -> Path:
    """ansible.cfg and a playbook with one raw task per distinct command; returns the playbook."""
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
        f"ssh_common_args = -o UserKnownHostsFile={b.fleet.known_hosts} "
        "-o StrictHostKeyChecking=yes\n"
    )
    lines = [
        "- hosts: fleet",
        "  gather_facts: false",
        "  strategy: linear",
        "  tasks:",
    ]
    for i, step in enumerate(b.steps):
        # !unsafe: commands are shell, not Jinja ({#, {{ must reach the host untouched).
        lines += [
            f"    - name: cmd{i:02d}",
            f"      raw: !unsafe {json.dumps(step.line)}",
            f"      become: {'true' if step.sudo else 'false'}",
            "      failed_when: false",  # e8scan records a non-zero exit; it does not fail on it
        ]
    playbook = d / "playbook.yml"
    playbook.write_text("\n".join(lines) + "\n")
    return playbook


def ansible_env(b: Bench, control_dir: Path) -> dict[str, str]:
    d = b.work / "ansible"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(d / "ansible.cfg"),
        ANSIBLE_HOME=str(d / "home"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_SSH_CONTROL_PATH_DIR=str(control_dir),  # a fresh one per run: cold start
    )
    return env


def kill_control_masters(control_dir: Path) -> None:
    """Stop the ControlPersist ssh masters of one ansible run (ours: their title names the dir)."""
    mark = f"{control_dir}/".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"ssh") and mark in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry), signal.SIGTERM)


def ansible_sanity(b: Bench) -> None:
    """Before timing: become via sudo works for ansible on every host (``id -u`` gives 0)."""
    control = b.work / "ansible" / "cp-sanity"
    proc = subprocess.run(
        [str(ANSIBLE), "fleet", "-m", "raw", "-b", "-a", "id -u", "-o"],
        capture_output=True,
        text=True,
        env=ansible_env(b, control),
        cwd=b.work / "ansible",
        timeout=1800,
        check=False,
    )
    kill_control_masters(control)
    good = re.findall(r"^\S+ \| CHANGED \| rc=0 \| \(stdout\) 0(?:\\r\\n|\s)", proc.stdout, re.M)
    if proc.returncode != 0 or len(good) != len(b.fleet.hosts):
        raise RuntimeError(f"ansible become check failed ({len(good)} ok): {proc.stdout[-2000:]}")


def run_ansible(b: Bench, playbook: Path, round_no: int) -> Run:
    control = b.work / "ansible" / f"cp{round_no}"
    proc, wall, cpu = run_timed(
        [str(ANSIBLE_PLAYBOOK), str(playbook)],
        env=ansible_env(b, control),
        cwd=b.work / "ansible",
        timeout=7200,
    )
    kill_control_masters(control)
    recap = {m.group(1): m.groups()[1:] for m in _RECAP.finditer(proc.stdout)}
    tasks = len(b.steps)
    good = [
        n
        for n, (ok, unreach, failed) in recap.items()
        if (ok, unreach, failed) == (str(tasks), "0", "0")
    ]
    if proc.returncode != 0 or len(good) != len(b.fleet.hosts):
        raise RuntimeError(
            f"ansible-playbook exited {proc.returncode}, {len(good)}/{len(b.fleet.hosts)} hosts "
            f"with ok={tasks} failed=0 unreachable=0: {proc.stdout[-2000:]}{proc.stderr[-1000:]}"
        )
    return Run(wall, cpu, f"{len(good)} hosts ok={tasks} failed=0 unreachable=0")


# --------------------------------------------------------------------------- (c) the floor


def write_floor_job(b: Bench) -> Path:
    """Per host: address, port and its own batched script (scanner.collect.posix_batch.build, as e8scan)."""
    from scanner.collect import posix_batch

    jobs = []
    for h in b.fleet.hosts:
        script, nonce = posix_batch.build(b.steps, COMMAND_TIMEOUT, MAX_OUTPUT)
        jobs.append({"address": h.address, "port": h.port, "script": script, "nonce": nonce})
    job = {
        "user": b.fleet.login_user,
        "key": str(b.fleet.client_key),
        "known_hosts": str(b.fleet.known_hosts),
        "forks": b.forks,
        "steps": len(b.steps),
        "hosts": jobs,
    }
    path = b.work / "floor.json"
    path.write_text(json.dumps(job))
    return path


def floor_worker(job_path: Path) -> int:
    """The floor itself (a separate process, so its wall includes interpreter start-up)."""
    from concurrent.futures import ThreadPoolExecutor

    import paramiko

    job = json.loads(job_path.read_text())
    pkey = paramiko.Ed25519Key.from_private_key_file(job["key"])
    known = {}
    for line in Path(job["known_hosts"]).read_text().splitlines():
        name, _type, b64 = line.split()[:3]
        known[name] = b64

    def one(h: dict[str, Any]) -> bool:
        sock = socket.create_connection((h["address"], h["port"]), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = paramiko.Transport(sock)
        try:
            t.start_client(timeout=10)
            if t.get_remote_server_key().get_base64() != known[f"[{h['address']}]:{h['port']}"]:
                return False
            t.auth_publickey(job["user"], pkey)
            chan = t.open_session()
            chan.exec_command("sh -s")
            chan.sendall(h["script"].encode())
            chan.shutdown_write()
            out = chan.makefile("rb").read()
            chan.makefile_stderr("rb").read()
            code = chan.recv_exit_status()
            last = f"{h['nonce']} E {job['steps'] - 1} ".encode()
            return code == 0 and last in out
        finally:
            t.close()

    with ThreadPoolExecutor(max_workers=job["forks"]) as pool:
        ok = list(pool.map(one, job["hosts"]))
    print(json.dumps({"ok": sum(ok), "hosts": len(ok)}))
    return 0 if all(ok) else 1


def run_floor(b: Bench, job: Path) -> Run:
    proc, wall, cpu = run_timed(
        [sys.executable, __file__, "--floor-worker", str(job)], timeout=3600
    )
    if proc.returncode != 0:
        raise RuntimeError(f"floor failed: {proc.stdout[-1000:]}{proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    return Run(wall, cpu, f"{res['ok']}/{res['hosts']} hosts, every step's end marker seen")


# --------------------------------------------------------------------------- comparison


@dataclass
class Row:
    hosts: int
    commands: int
    runs: dict[str, list[Run]] = field(default_factory=dict)  # contender -> its runs
    conns: list[int] = field(default_factory=list)  # per host, per e8scan run

    def best(self, who: str) -> Run:
        return min(self.runs[who], key=lambda r: r.wall)


def fmt_runs(runs: list[Run]) -> str:
    walls = ", ".join(f"{r.wall:.2f}" for r in runs)
    cpus = ", ".join(f"{r.cpu:.1f}" for r in runs)
    return f"best {min(r.wall for r in runs):.2f} s (wall: {walls} s; client CPU: {cpus} s)"


def compare(b: Bench, rounds: int) -> Row:
    """Every contender ``rounds`` times, interleaved, so drifting machine load hits all three."""
    n = len(b.fleet.hosts)
    playbook = write_ansible_files(b)
    job = write_floor_job(b)
    print(f"\n== N={n}: {len(b.steps)} commands per host, forks {b.forks} ==", flush=True)
    ansible_sanity(b)
    row = Row(n, len(b.steps), {"e8scan": [], "floor": [], "ansible": []})
    for r in range(1, rounds + 1):
        run, conns = run_e8scan(b, b.work / f"e8scan-out-{r}")
        row.conns += conns
        for who, got in (
            ("e8scan", run),
            ("floor", run_floor(b, job)),
            ("ansible", run_ansible(b, playbook, r)),
        ):
            row.runs[who].append(got)
            print(
                f"  round {r} {who:<8} {got.wall:8.2f} s  client CPU {got.cpu:6.1f} s  "
                f"({got.summary})",
                flush=True,
            )
    e8, an, fl = (row.best(w).wall for w in ("e8scan", "ansible", "floor"))
    print(f"N={n} e8scan:       {fmt_runs(row.runs['e8scan'])}")
    print(f"N={n} ansible-core: {fmt_runs(row.runs['ansible'])}")
    print(f"N={n} floor:        {fmt_runs(row.runs['floor'])}")
    print(f"N={n} ansible/e8scan = {an / e8:.1f}x (target >= 10x at N=200)")
    print(f"N={n} e8scan/floor   = {e8 / fl:.2f}x (target <= 1.25x at N=200)")
    print(f"N={n} connections per host: {min(row.conns)}/{max(row.conns)} (over e8scan runs)")
    return row


# --------------------------------------------------------------------------- RSS sweep


@dataclass
class Sweep:
    hosts: int
    fleet_hosts: int
    wall: float
    rss_mb: float
    how: str


def sweep_rss(fleet: SSHFleet, work: Path, count: int, forks: int) -> Sweep:
    """Scan ``count`` inventory hosts whose addresses repeat over the fleet; peak RSS and wall."""
    lines = ["[fleet]"]
    for i in range(count):
        h = fleet.hosts[i % len(fleet.hosts)]
        lines.append(
            f"sweep{i:05d} ansible_host={h.address} ansible_port={h.port} "
            f"ansible_user={fleet.login_user} ansible_ssh_private_key_file={fleet.client_key}"
        )
    lines += ["", "[all:vars]", "ansible_become=true"]
    inv = work / "sweep.ini"
    inv.write_text("\n".join(lines) + "\n")
    out = work / "sweep-out"
    args = e8scan_args(inv, fleet.known_hosts, out, forks)
    time_file = work / "time.txt"
    use_time = TIME.is_file()
    if use_time:
        args = [str(TIME), "-v", "-o", str(time_file), *args]
    print(f"\n== RSS sweep: {count} hosts over {len(fleet.hosts)} sshds, forks {forks} ==")
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=7200, check=False)
    wall = time.perf_counter() - t0
    summary = check_e8scan_output(proc, out, count)
    if use_time:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_file.read_text())
        if m is None:
            raise RuntimeError(f"no peak RSS in {time_file.read_text()[-500:]}")
        rss_kb, how = int(m.group(1)), "/usr/bin/time -v"
    else:
        rss_kb, how = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "getrusage(CHILDREN)"
    sizes = {p.name: p.stat().st_size / 1e6 for p in sorted(out.iterdir()) if p.is_file()}
    print(f"  {summary}")
    print(f"  outputs: {', '.join(f'{k} {v:.1f} MB' for k, v in sizes.items())}")
    print(f"  wall {wall:.2f} s, peak RSS {rss_kb / 1024:.0f} MB ({how}; target <= 400 MB)")
    return Sweep(count, len(fleet.hosts), wall, rss_kb / 1024, how)


# --------------------------------------------------------------------------- profile


def profile_e8scan(b: Bench, dest: Path) -> None:
    """One more e8scan run under cProfile (main thread: start-up, plan, the wait for the
    collection, judging, writers); prints where its time went, keeps the stats in ``dest``."""
    import pstats

    out = b.work / "e8scan-profiled"
    args = e8scan_args(b.inventory, b.fleet.known_hosts, out, b.forks)
    args = [sys.executable, "-m", "cProfile", "-o", str(dest), *args]
    proc, wall, cpu = run_timed(args, timeout=3600)
    check_e8scan_output(proc, out, len(b.fleet.hosts))
    print(
        f"\n== e8scan under cProfile, N={len(b.fleet.hosts)}: wall {wall:.2f} s, CPU {cpu:.1f} s =="
    )
    stats = pstats.Stats(str(dest))
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(20)
    sys.stdout.flush()


# --------------------------------------------------------------------------- report


def markdown(
    info: dict[str, str], rows: list[Row], sweeps: list[Sweep], forks: int, profile: str
) -> str:
    out = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python "
        f"{info['python']}, paramiko {info['paramiko']}, ansible-core {info['ansible-core']}, "
        f"{info['openssh']}; e8scan {info['e8scan']}. Loopback sshd fleet ({PROFILES[profile]}), "
        f"forks {forks} for all three, best of the runs; client CPU = the contender's processes.",
        "",
    ]
    if rows:
        out += [
            "| hosts | commands/host | e8scan | ansible-core `raw` | paramiko floor "
            "| ansible / e8scan | e8scan / floor | client CPU e8scan / ansible / floor "
            "| SSH connections/host |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            e8, an, fl = (r.best(w) for w in ("e8scan", "ansible", "floor"))
            out.append(
                f"| {r.hosts} | {r.commands} | {e8.wall:.2f} s | {an.wall:.2f} s "
                f"| {fl.wall:.2f} s | {an.wall / e8.wall:.1f}× | {e8.wall / fl.wall:.2f}× "
                f"| {e8.cpu:.1f} / {an.cpu:.1f} / {fl.cpu:.1f} s "
                f"| {min(r.conns)}–{max(r.conns)} |"
            )
        out.append("")
    if sweeps:
        out += ["| sweep hosts (distinct addresses) | wall | peak RSS |", "|---:|---:|---:|"]
        for s in sweeps:
            out.append(f"| {s.hosts} ({s.fleet_hosts}) | {s.wall:.1f} s | {s.rss_mb:.0f} MB |")
    return "\n".join(out)


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, nargs="+", help="fleet sizes (default 50 200)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each contender (best wins)")
    parser.add_argument("--forks", type=int, default=None, help="default: e8scan's default")
    parser.add_argument(
        "--sweep-rss",
        type=int,
        default=0,
        metavar="M",
        help="also scan M inventory hosts over the largest fleet and print peak RSS; "
        "alone (without --hosts) it only does this, over a 200-host fleet",
    )
    parser.add_argument(
        "--host-profile",
        choices=["light", "machine"],
        default="light",
        help="light: hosts have no package sources (cheap apt-get -s); machine: this machine's",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="after the comparison at the largest N, run e8scan once more under cProfile "
        "(stats saved to FILE) and print its top costs",
    )
    parser.add_argument("--floor-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_worker is not None:
        return floor_worker(args.floor_worker)

    load_sshfleet()
    from sshfleet import FleetError, require_root_and_sshd

    try:
        require_root_and_sshd()
    except FleetError as exc:
        print(f"bench_fleet: {exc}", file=sys.stderr)
        return 2
    compare_sizes = args.hosts if args.hosts else ([] if args.sweep_rss else [50, 200])
    sweep_fleet = max(args.hosts) if args.hosts else 200
    forks = args.forks or default_forks()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    raise_fd_limit(8192)

    info = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    print(f"forks {forks} (e8scan's default --forks) for e8scan, ansible-core and the floor")
    print(f"host profile {args.host_profile}: " + PROFILES[args.host_profile])
    sizes = sorted(set(compare_sizes))
    if args.sweep_rss and sweep_fleet not in sizes:
        sizes.append(sweep_fleet)
    rows: list[Row] = []
    sweeps: list[Sweep] = []
    for n in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"e8bench-{n}-"))
        fleet = make_fleet(n, work, args.host_profile)
        try:
            t0 = time.perf_counter()
            fleet.start()
            print(f"\nfleet of {n} sshd hosts up in {time.perf_counter() - t0:.1f} s", flush=True)
            if n in compare_sizes:
                bench = prepare(fleet, work, forks)
                rows.append(compare(bench, args.rounds))
                if args.profile is not None and n == max(compare_sizes):
                    profile_e8scan(bench, args.profile.resolve())
            if args.sweep_rss and n == sweep_fleet:
                sweeps.append(sweep_rss(fleet, work, args.sweep_rss, forks))
        finally:
            fleet.stop()
            shutil.rmtree(work, ignore_errors=True)
    print("\n" + markdown(info, rows, sweeps, forks, args.host_profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
