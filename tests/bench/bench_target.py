"""Target CPU: what a scan costs the scanned host, against the same commands run once by hand.

Starts a few loopback sshd hosts (``tests/sshfleet.py``, needs root) in two profiles: ``light``
(no package sources, as ``bench_fleet.py --host-profile light``) and ``machine`` (this machine's
apt sources and lists, so ``apt-get -s dist-upgrade`` does its real work). For each host the CPU
of its sshd's whole session subtree is read from ``/proc/<sshd>/stat`` (the listener's own time
plus ``cutime``/``cstime``: every session process, shell, command and sudo below it is waited
for and so counted) before and after:

* **e8scan**: ``e8scan scan -l HOST`` end to end (one connection, its one framed batch);
* **bare**: one paramiko connection running the same command list by hand, as an administrator
  would: one ``sh -s`` with each command as it is (``{ …; } </dev/null``) and the root ones in one
  ``sudo -n sh -s``; nothing framed, capped, timed or lowered.

The ratio e8scan / bare is the framing's cost on the host (issue 15's target: ≤ 1.2×). Then
each distinct command is run ``--repeat`` times on its own in one shell (its output to
/dev/null) and its CPU read from the shell's own ``/proc/$$/stat`` (1/100 s ticks, hence the
repeats): the most expensive commands are printed, and ``--write-costs FILE`` stores them per
declared command line for the check catalogue (``checks/command_costs.json``, shown by
``e8scan checks list --format md``). Numbers are printed, never asserted.

    .venv/bin/python tests/bench/bench_target.py            # 2 hosts per profile, 3 rounds
    .venv/bin/python tests/bench/bench_target.py --write-costs checks/command_costs.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fleet import LIGHT_OVERLAY, load_sshfleet, machine

if TYPE_CHECKING:
    from sshfleet import FleetHost, SSHFleet

REPO = Path(__file__).resolve().parents[2]
TICK = os.sysconf("SC_CLK_TCK")
PROFILES = ("light", "machine")


# --------------------------------------------------------------------------- accounting

CPUACCT = Path("/sys/fs/cgroup/cpuacct")  # cgroup v1's cpuacct, as on this machine


def sshd_pid(h: FleetHost) -> int:
    return int(h.pid_file.read_text().split()[0])


class SessionCPU:
    """The CPU of one sshd's sessions: its cgroup's ``cpuacct.usage`` (every process the sshd
    forks after it joined is in the group), or, without cgroup v1 cpuacct, the listener's own
    and reaped children's time from ``/proc/<pid>/stat`` (which loses a session whose process
    the listener has not reaped yet: readings are taken once every session has ended)."""

    def __init__(self, pid: int, name: str, root: Path | None) -> None:
        self.pid = pid
        self.group: Path | None = None
        if root is not None:
            group = root / f"e8bench-sessions-{os.getpid()}-{name}"
            group.mkdir(exist_ok=True)
            (group / "cgroup.procs").write_text(f"{pid}\n")
            self.group = group

    @property
    def how(self) -> str:
        return "cgroup v1 cpuacct.usage" if self.group else "/proc/<sshd>/stat (reaped children)"

    def read(self, timeout: float = 30.0) -> float:
        """CPU seconds so far, once no session of this sshd is left."""
        deadline = time.monotonic() + timeout
        while _children(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.group is not None:
            return int((self.group / "cpuacct.usage").read_text()) / 1e9
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return sum(int(x) for x in fields[11:15]) / TICK

    def remove(self) -> None:
        """Drop the group (call after the sshd and its sessions are gone)."""
        if self.group is not None:
            for _ in range(50):
                try:
                    self.group.rmdir()
                    return
                except OSError:
                    time.sleep(0.1)


def cpuacct_root(work: Path) -> tuple[Path | None, Path | None]:
    """cgroup v1's cpuacct hierarchy: the system's, or (``ip netns exec`` hides /sys/fs/cgroup)
    the same hierarchy mounted again under ``work``; (root, mount point to unmount)."""
    if (CPUACCT / "cpuacct.usage").is_file():
        return CPUACCT, None
    mnt = work / "cpuacct"
    mnt.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "cgroup", "-o", "cpuacct", "e8bench", str(mnt)],
        capture_output=True,
        check=False,
    )
    if done.returncode == 0 and (mnt / "cpuacct.usage").is_file():
        return mnt, mnt
    return None, None


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


# --------------------------------------------------------------------------- contenders


@dataclass
class HostCommands:
    plain: list[str]
    root: list[str]


def plan_of(fleet: SSHFleet, inv: Path) -> dict[str, Any]:
    from scanner.checking.loader import load_checks
    from scanner.collect.plan import make_plan
    from scanner.inventory.load import load_inventory

    return {p.host.name: p for p in make_plan(load_inventory([inv]).select(None), load_checks())}


def e8scan(repo: Path, inv: Path, known_hosts: Path, host: str, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", "scan", "-i", str(inv), "-l", host]
        + ["--known-hosts", str(known_hosts), "--out", str(out), "--no-history", "-q"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 3, 4):
        raise RuntimeError(f"e8scan exited {proc.returncode}: {proc.stderr[-1500:]}")
    raw = json.loads((out / "raw.json").read_text())
    [rec] = raw["hosts"]
    if rec["reach"] != "ok" or not all(c["ran"] for c in rec["commands"]):
        raise RuntimeError(f"e8scan: {host} {rec['reach']} {rec['reach_detail']}")


def session(fleet: SSHFleet, h: FleetHost, script: str) -> bytes:
    """One SSH connection running ``script`` on ``sh -s``; its stdout."""
    import paramiko

    pkey = paramiko.Ed25519Key.from_private_key_file(str(fleet.client_key))
    sock = socket.create_connection((h.address, h.port), timeout=10)
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=10)
        t.auth_publickey(fleet.login_user, pkey)
        chan = t.open_session()
        chan.exec_command("sh -s")
        chan.sendall(script.encode())
        chan.shutdown_write()
        out = chan.makefile("rb").read()
        chan.makefile_stderr("rb").read()
        chan.recv_exit_status()
        return bytes(out)
    finally:
        t.close()


def bare_script(cmds: HostCommands) -> str:
    def block(lines: list[str]) -> str:
        return "".join(f"{{ {line}\n}} </dev/null\n" for line in lines)

    root = f"sudo -n sh -s <<'E8BARE'\n{block(cmds.root)}echo E8ROOT_DONE\nE8BARE\n"
    return block(cmds.plain) + (root if cmds.root else "") + "echo E8BARE_DONE\n"


READ_TICKS = (
    "e8t() { read -r _ _ _ _ _ _ _ _ _ _ _ _ _ u s cu cs _ </proc/$$/stat; E8K=$((u+s+cu+cs)); }\n"
)


def cost_script(cmds: HostCommands, repeat: int) -> str:
    def block(lines: list[str], tag: str) -> str:
        parts = [READ_TICKS]
        for i, line in enumerate(lines):
            body = f"{{ {line}\n}} </dev/null >/dev/null 2>&1\n" * repeat
            parts.append(f'e8t; k0=$E8K\n{body}e8t; echo "E8COST {tag} {i} $((E8K-k0))"\n')
        return "".join(parts)

    root = f"sudo -n sh -s <<'E8COSTS'\n{block(cmds.root, 'root')}E8COSTS\n" if cmds.root else ""
    return block(cmds.plain, "plain") + root


# --------------------------------------------------------------------------- the run


@dataclass
class HostRow:
    host: str
    profile: str
    commands: int
    root: int
    e8scan: list[float]
    bare: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.e8scan) / statistics.median(self.bare)


def measure(
    fleet: SSHFleet, meters: dict[str, SessionCPU], repo: Path, inv: Path, work: Path, rounds: int
) -> list[HostRow]:
    plans = plan_of(fleet, inv)
    rows = []
    for h in fleet.hosts:
        steps = [pc.step for pc in plans[h.name].commands]
        cmds = HostCommands(
            [s.line for s in steps if not s.sudo], [s.line for s in steps if s.sudo]
        )
        cpu = meters[h.name]
        row = HostRow(h.name, h.name.split("-")[0], len(steps), len(cmds.root), [], [])
        for _ in range(rounds):  # interleaved, so drift hits both alike
            c0 = cpu.read()
            e8scan(repo, inv, fleet.known_hosts, h.name, work / "out")
            c1 = cpu.read()
            out = session(fleet, h, bare_script(cmds))
            c2 = cpu.read()
            if not out.endswith(b"E8BARE_DONE\n") or (cmds.root and b"E8ROOT_DONE" not in out):
                raise RuntimeError(f"bare run on {h.name} did not finish: {out[-300:]!r}")
            row.e8scan.append(c1 - c0)
            row.bare.append(c2 - c1)
        print(
            f"{h.name}: {row.commands} commands ({row.root} root): target CPU e8scan "
            f"{statistics.median(row.e8scan):.3f} s, bare {statistics.median(row.bare):.3f} s, "
            f"ratio {row.ratio:.2f}× (runs: e8scan {', '.join(f'{x:.2f}' for x in row.e8scan)}; "
            f"bare {', '.join(f'{x:.2f}' for x in row.bare)})",
            flush=True,
        )
        rows.append(row)
    return rows


def command_costs(
    fleet: SSHFleet, inv: Path, host: str, repeat: int
) -> list[tuple[float, str, bool, list[str]]]:
    """(ms of the host's CPU per run, the command as run, root, check ids), most expensive first."""
    plan = plan_of(fleet, inv)[host]
    plain = [pc for pc in plan.commands if not pc.step.sudo]
    root = [pc for pc in plan.commands if pc.step.sudo]
    cmds = HostCommands([pc.step.line for pc in plain], [pc.step.line for pc in root])
    out = session(fleet, fleet.host(host), cost_script(cmds, repeat)).decode()
    found = []
    for tag, i, ticks in re.findall(r"^E8COST (plain|root) (\d+) (-?\d+)$", out, re.MULTILINE):
        pc = (plain if tag == "plain" else root)[int(i)]
        ms = int(ticks) * 1000 / TICK / repeat
        found.append((ms, pc.step.line, pc.step.sudo, list(pc.checks)))
    if len(found) != len(plan.commands):
        raise RuntimeError(f"cost run on {host}: {len(found)} of {len(plan.commands)} measured")
    return sorted(found, key=lambda x: -x[0])


def declared_lines(host_line: dict[str, float]) -> dict[str, dict[str, Any]]:
    """The measured costs keyed by each check's declared command line (as the catalogue shows)."""
    from scanner.checking.loader import load_checks
    from scanner.inventory.profile import HostProfile
    from scanner.model.vocabulary import Platform

    profile = HostProfile(e8_backup_paths=("/srv/backup",))  # as the bench hosts' inventory
    found: dict[str, dict[str, Any]] = {}
    for check in load_checks():
        if Platform.LINUX not in check.platforms:
            continue
        for cmd in check.collect.values():
            rendered = cmd.render(profile)
            if rendered in host_line:
                found[cmd.line] = {"cpu_ms": round(host_line[rendered], 1), "root": cmd.root}
    return found


def make_fleet(work: Path, per_profile: int) -> SSHFleet:
    from sshfleet import HostSpec, SSHFleet

    hosts = []
    for profile in PROFILES:
        overlay = dict(LIGHT_OVERLAY) if profile == "light" else {}
        hosts += [
            HostSpec(f"{profile}-{i}", overlay=dict(overlay), sudo_nopasswd=True)
            for i in range(1, per_profile + 1)
        ]
    return SSHFleet(work / "fleet", hosts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-profile", type=int, default=2, help="hosts per profile")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each (median kept)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command for its cost")
    parser.add_argument("--top", type=int, default=8, help="most expensive commands to print")
    parser.add_argument("--write-costs", type=Path, help="store the machine host's costs here")
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="the e8scan checkout to scan with (default: this)"
    )
    args = parser.parse_args()
    load_sshfleet()
    from sshfleet import FleetError, require_root_and_sshd

    try:
        require_root_and_sshd()
    except FleetError as exc:
        print(f"bench_target: {exc}", file=sys.stderr)
        return 2
    info = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    work = Path(tempfile.mkdtemp(prefix="e8bench-target-"))
    fleet = make_fleet(work, args.per_profile)
    meters: dict[str, SessionCPU] = {}
    root, mounted = cpuacct_root(work)
    try:
        fleet.start()
        meters = {h.name: SessionCPU(sshd_pid(h), h.name, root) for h in fleet.hosts}
        print(f"target CPU from {next(iter(meters.values())).how}")
        inv = fleet.inventory_ini(
            work / "fleet.ini", {"ansible_become": "true", "e8_backup_paths": "/srv/backup"}
        )
        print(f"\n{len(fleet.hosts)} hosts; e8scan from {args.repo}", flush=True)
        rows = measure(fleet, meters, args.repo.resolve(), inv, work, args.rounds)
        costs = {p: command_costs(fleet, inv, f"{p}-1", args.repeat) for p in PROFILES}
    finally:
        fleet.stop()
        for meter in meters.values():
            meter.remove()
        if mounted is not None:
            subprocess.run(["umount", str(mounted)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    print("\n| host | commands (root) | target CPU e8scan | bare | e8scan / bare |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.host} | {r.commands} ({r.root}) | {statistics.median(r.e8scan):.3f} s "
            f"| {statistics.median(r.bare):.3f} s | {r.ratio:.2f}× |"
        )
    for profile, found in costs.items():
        total = sum(ms for ms, *_ in found)
        print(
            f"\nMost expensive commands, {profile} host (total {total:.0f} ms; {args.repeat} runs each):"
        )
        print("| ms | share | root | checks | command |")
        print("|---:|---:|---|---|---|")
        for ms, line, root, checks in found[: args.top]:
            short = shlex.join([line])[:90].replace("|", "\\|")
            share = ms / total if total else 0.0
            print(
                f"| {ms:.0f} | {share:.0%} | {'yes' if root else ''} | {', '.join(checks)} | `{short}` |"
            )
    if args.write_costs is not None:
        machine_host = {line: ms for ms, line, _root, _c in costs["machine"]}
        doc = {
            "measured": {
                "date": datetime.now(UTC).date().isoformat(),
                "host": "a Debian 12 host (loopback sshd) with the bench machine's apt sources "
                f"and lists; CPU per run, {args.repeat} runs summed in 1/{TICK} s ticks",
                "machine": f"{info['cpu']}, {info['cores']} cores",
                "resolution_ms": round(1000 / TICK / args.repeat, 1),
            },
            "commands": declared_lines(machine_host),
        }
        args.write_costs.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"\nwrote {len(doc['commands'])} command costs to {args.write_costs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
