"""WinRM per-command cost: e8scan's one shell + one batch per host vs pywinrm's naive ``run_ps``.

Run: ``.venv/bin/python tests/bench/bench_winrm.py [--hosts 20] [--repeat 3]``. Numbers are
printed, never asserted.

**Setup.** One child process runs ``--hosts`` WS-Man test servers (``tests/wsman/``, one
``WSManServer`` per simulated host, each on its own loopback address ``127.0.9.k``), NTLM only,
``allow_unencrypted=False`` like Windows' default, so every request of both modes travels over
plain ``http://`` with NTLM **message encryption** (the server refuses anything else). Every host
answers each of the 43 distinct PowerShell commands of the 35 Windows checks with a recorded
output from ``tests/checks/<check>/*.json`` (the first case file that has the command; about
37 KB of stdout per host). The client (this process) uses the real pywinrm, never mocked:

* **e8scan**: ``scanner.collect.plan.plan_host`` + ``scanner.collect.runner.collect_host`` for each host, exactly
  the runner's code path: one TCP connection, one shell, one ``powershell.exe`` whose stdin is
  the ``scanner.collect.ps_batch`` batch of all 43 commands.
* **naive**: for each host one ``winrm.Session(url, transport="ntlm")`` (message encryption
  ``auto``, i.e. on), then ``Session.run_ps(command)`` for each of the same 43 commands, in the
  same order. Each ``run_ps`` opens a shell, runs ``powershell -encodedcommand <base64 UTF-16LE>``
  through cmd.exe, receives, signals, deletes the shell — and, because pywinrm's ``close_shell``
  closes the HTTP session by default, also opens a new TCP connection and authenticates anew.

Hosts are done one after another and the commands of a host one after another (concurrency 1)
in both modes. Each repetition runs both modes; the best wall time of each mode is kept.

**What the numbers include**: HTTP, NTLM authentication and RC4 sealing on both sides, XML
building and parsing, the WinRS round trips (Create, Command, Send, Receive, Signal, Delete),
the batch framing, base64, and the server's fixture lookup, all on loopback with client and
server sharing this machine's cores. **What they do not include**: PowerShell itself, the
network, and Windows' own WinRM service cost. On a real host every ``powershell.exe`` start
costs roughly 0.3-1 s, paid once per host by e8scan and once per command by the naive way, so
on real Windows the naive way is far worse than measured here; that is a boundary from
experience, not a number measured by this script. Two of the 43 commands are longer than
cmd.exe's 8,191-character limit once ``run_ps`` has encoded them, so the naive way gets ``The
command line is too long.`` for them, as a real host answers (pywinrm #184); they still cost the
same round trips (shell, command, receive, signal, delete) and are counted.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The repo root first: tests/checks (case files) would otherwise shadow the `checks` package.
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import winrm  # noqa: E402

from scanner.checking.api import Check  # noqa: E402
from scanner.checking.loader import load_checks  # noqa: E402
from scanner.collect.plan import plan_host  # noqa: E402
from scanner.collect.runner import RunOptions, collect_host  # noqa: E402
from scanner.inventory.load import InventoryHost  # noqa: E402
from scanner.model.vocabulary import Platform, Reach  # noqa: E402

USER, PW, PW_ENV = "e8bench", "Bench-Ntlm-pw-7", "E8_BENCH_WINRM_PW"
CASES = ROOT / "tests" / "checks"


def windows_checks() -> list[Check]:
    return [c for c in load_checks() if Platform.WINDOWS in c.platforms]


def recorded_outputs(checks: list[Check]) -> dict[str, dict[str, Any]]:
    """Command text → a recorded output record (first case file, in sorted order, that has it)."""
    found: dict[str, dict[str, Any]] = {}
    for check in checks:
        for path in sorted((CASES / check.id).glob("*.json")):
            for rec in json.loads(path.read_text(encoding="utf-8"))["outputs"].values():
                found.setdefault(rec["command"], rec)
    return found


# -- the server process ---------------------------------------------------------------------


def serve(hosts: int) -> None:
    """Child process: start the servers, print their URLs, answer ``stats``/``reset``/``stop``."""
    from wsman.fixtures import FixtureOutput, HostFixtures
    from wsman.server import WSManServer

    fixtures = HostFixtures()
    for command, rec in recorded_outputs(windows_checks()).items():
        out: str | bytes = (
            base64.b64decode(rec["stdout_b64"]) if "stdout_b64" in rec else rec.get("stdout", "")
        )
        fixtures.add(
            command,
            FixtureOutput(stdout=out, stderr=rec.get("stderr", ""), rc=rec.get("exit_code") or 0),
        )
    servers = [
        WSManServer(
            f"127.0.9.{k + 1}",
            auth=("ntlm",),
            users={USER: PW},
            allow_unencrypted=False,
            fixtures=fixtures,
            name=f"WIN{k + 1:02d}",
        ).start()
        for k in range(hosts)
    ]
    print(json.dumps([s.url for s in servers]), flush=True)
    try:
        for line in sys.stdin:
            word = line.strip()
            if word == "reset":
                for s in servers:
                    s.reset_counters()
                answer: Any = {"cpu": time.process_time()}
            elif word == "stats":
                answer = {
                    "cpu": time.process_time(),
                    "hosts": [
                        {
                            "connections": s.connections,
                            "http_requests": s.http_requests,
                            "encrypted_requests": s.encrypted_requests,
                            "shells": s.shells_opened,
                            "commands": s.commands_run,
                            "auth_failures": s.auth_failures,
                            "requests": dict(s.requests),
                            "errors": len(s.errors),
                            "open_shells": s.open_shells,
                        }
                        for s in servers
                    ],
                }
            else:
                break
            print(json.dumps(answer), flush=True)
    finally:
        for s in servers:
            s.stop()


class ServerProcess:
    def __init__(self, hosts: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(hosts)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.urls: list[str] = json.loads(self._line())

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the server process ended (exit code {self.proc.wait()})")
        return line

    def ask(self, word: str) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- the two clients -----------------------------------------------------------------------


def inventory_host(index: int, url: str) -> InventoryHost:
    address, port = url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    return InventoryHost(
        name=f"win{index + 1:02d}",
        vars={
            "ansible_connection": "winrm",
            "ansible_host": address,
            "ansible_port": int(port),
            "ansible_user": USER,
            "e8_password_env": PW_ENV,
            "ansible_winrm_transport": "ntlm",
            "ansible_winrm_scheme": "http",
        },
        groups=("windows",),
    )


def run_e8scan(urls: list[str], checks: list[Check]) -> dict[str, int]:
    """The runner's path, host after host; counts the steps that ran and exited 0."""
    counts = {"commands": 0, "rc0": 0, "other": 0}
    opts = RunOptions()
    for i, url in enumerate(urls):
        plan = plan_host(inventory_host(i, url), checks, environ={PW_ENV: PW})
        rec = collect_host(plan, opts)
        if rec.reach is not Reach.OK:
            raise RuntimeError(f"e8scan: {rec.name}: {rec.reach.value}: {rec.reach_detail}")
        for c in rec.commands:
            counts["commands"] += 1
            counts["rc0" if c.ran and c.exit_code == 0 else "other"] += 1
    return counts


def run_naive(urls: list[str], commands: list[str]) -> dict[str, int]:
    """``Session.run_ps`` once per command, host after host."""
    counts = {"commands": 0, "rc0": 0, "other": 0, "too_long": 0}
    for url in urls:
        session = winrm.Session(url, auth=(USER, PW), transport="ntlm")
        for command in commands:
            r = session.run_ps(command)
            counts["commands"] += 1
            counts["rc0" if r.status_code == 0 else "other"] += 1
            if b"command line is too long" in r.std_err:
                counts["too_long"] += 1
    return counts


# -- the benchmark --------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"pywinrm {version('pywinrm')}, pyspnego {version('pyspnego')}"
    )


def per_host(stats: dict[str, Any], key: str) -> str:
    values = [h[key] for h in stats["hosts"]]
    low, high = min(values), max(values)
    return f"{low}" if low == high else f"{low}-{high}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.repeat < 2:
        ap.error("--repeat must be at least 2 (the best of the runs is kept)")

    checks = windows_checks()
    check_cmds = [cmd.render({}, powershell=True) for c in checks for cmd in c.collect.values()]
    print(f"machine: {machine()}")
    server = ServerProcess(args.hosts)
    try:
        urls = server.urls
        # The same distinct commands, in the same order, as the runner's plan for these hosts.
        commands = [
            pc.step.line
            for pc in plan_host(inventory_host(0, urls[0]), checks, {PW_ENV: PW}).commands
        ]
        missing = set(commands) - set(recorded_outputs(checks))
        print(
            f"{args.hosts} simulated Windows hosts (one WSManServer each, 127.0.9.1-{args.hosts}, "
            f"one server process), NTLM + message encryption over http://, AllowUnencrypted=false"
        )
        print(
            f"catalogue: {len(checks)} Windows checks, {len(check_cmds)} check commands, "
            f"{len(commands)} distinct (run by both modes); commands without a recorded "
            f"output: {len(missing)}"
        )
        print("concurrency: 1 (hosts one after another, commands one after another)")
        best: dict[str, dict[str, Any]] = {}
        runners: dict[str, Callable[[], dict[str, int]]] = {
            "e8scan": lambda: run_e8scan(urls, checks),
            "naive": lambda: run_naive(urls, commands),
        }
        for rep in range(args.repeat):
            for mode, runner in runners.items():
                cpu0 = server.ask("reset")["cpu"]
                own0 = resource.getrusage(resource.RUSAGE_SELF)
                t0 = time.perf_counter()
                counts = runner()
                wall = time.perf_counter() - t0
                own1 = resource.getrusage(resource.RUSAGE_SELF)
                stats = server.ask("stats")
                result = {
                    "wall": wall,
                    "client_cpu": (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime),
                    "server_cpu": stats["cpu"] - cpu0,
                    "counts": counts,
                    "stats": stats,
                }
                print(
                    f"  run {rep + 1} {mode:7} {wall:7.2f} s  "
                    f"({1000 * wall / (args.hosts * len(commands)):.2f} ms/command)  {counts}"
                )
                if mode not in best or wall < best[mode]["wall"]:
                    best[mode] = result
    finally:
        server.stop()

    n_cmd = args.hosts * len(commands)
    n_chk = args.hosts * len(checks)
    print()
    print(f"best of {args.repeat} runs, {args.hosts} hosts x {len(commands)} commands:")
    header = (
        f"{'':8}{'wall s':>8}{'ms/command':>12}{'ms/check':>10}"
        f"{'client CPU ms/cmd':>19}{'server CPU ms/cmd':>19}"
    )
    print(header)
    for mode in ("e8scan", "naive"):
        r = best[mode]
        print(
            f"{mode:8}{r['wall']:>8.2f}{1000 * r['wall'] / n_cmd:>12.2f}"
            f"{1000 * r['wall'] / n_chk:>10.2f}{1000 * r['client_cpu'] / n_cmd:>19.2f}"
            f"{1000 * r['server_cpu'] / n_cmd:>19.2f}"
        )
    print()
    print("per host, counted by the server (best run of each mode):")
    keys = ("connections", "http_requests", "encrypted_requests", "shells", "commands")
    print(f"{'':8}" + "".join(f"{k:>20}" for k in keys) + "   WS-Man requests")
    for mode in ("e8scan", "naive"):
        st = best[mode]["stats"]
        by_action = st["hosts"][0]["requests"]
        print(
            f"{mode:8}"
            + "".join(f"{per_host(st, k):>20}" for k in keys)
            + "   "
            + ", ".join(f"{a} {n}" for a, n in sorted(by_action.items()))
        )
        errors = sum(h["errors"] + h["auth_failures"] + h["open_shells"] for h in st["hosts"])
        if errors:
            print(f"  WARNING: {mode}: server errors / auth failures / shells left open: {errors}")
    e8, naive = best["e8scan"], best["naive"]
    print(
        f"results per run: e8scan {e8['counts']}; naive {naive['counts']} (non-zero rc: the "
        "recorded outputs that are errors, in both modes; too_long: run_ps's command line is "
        "over cmd.exe's 8,191 characters, naive only)"
    )
    ratio = naive["wall"] / e8["wall"]
    print()
    print(f"ratio naive / e8scan (wall, best of {args.repeat}): {ratio:.1f}x")
    print(
        "not measured: PowerShell start-up (~0.3-1 s per powershell.exe on a real host: "
        f"e8scan pays it once per host, the naive way {len(commands)} times per host)"
    )
    print()
    st_e, st_n = e8["stats"], naive["stats"]
    print(
        "| WinRM, per command (NTLM + encryption, http, loopback test server, "
        f"{args.hosts} hosts x {len(commands)} commands, serial) "
        f"| e8scan: {1000 * e8['wall'] / n_cmd:.2f} ms, {per_host(st_e, 'connections')} TCP / "
        f"{per_host(st_e, 'shells')} shell / {per_host(st_e, 'http_requests')} HTTP req per host "
        f"| naive run_ps: {1000 * naive['wall'] / n_cmd:.2f} ms, "
        f"{per_host(st_n, 'connections')} TCP / {per_host(st_n, 'shells')} shells / "
        f"{per_host(st_n, 'http_requests')} HTTP req per host "
        f"| {ratio:.1f}x |"
    )


if __name__ == "__main__":
    main()
