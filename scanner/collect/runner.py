"""Collect: run each host's planned commands over one connection, many hosts at once.

The runner is the only code that touches the network. Hosts run on a thread pool (``--forks``);
groups that set ``e8_max_concurrency`` never have more than that many hosts in flight, whatever
the fork count. Anything that goes wrong on a host (refused, auth failure, host key, timeout, a
bug) becomes that host's ``reach`` in the raw record; it never stops the sweep.

No host holds the sweep: each has a time budget (:mod:`scanner.collect.budget`, derived from its
plan unless ``--host-timeout`` is given), its batch is watched step by step by the client
(:class:`~scanner.collect.transports.base.Progress`: a step with no end marker after
``command_timeout + command_grace`` ends the host as ``timeout``, what finished kept), and a
host still busy ``abandon_after`` seconds past its budget is recorded as ``timeout`` and left.

A sweep can be asked to stop (:class:`Stop`, set by the CLI on Ctrl-C or SIGTERM): no host is
started after that, hosts in flight get ``stop_grace`` seconds to finish, and the rest are
abandoned — their daemon threads die with the process, and they are left out of the result.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from scanner.collect import posix_batch, ps_batch
from scanner.collect.budget import COMMAND_GRACE, host_budget
from scanner.collect.plan import HostPlan
from scanner.collect.transports.base import Progress, Transport, TransportError
from scanner.collect.transports.jump import JumpPool
from scanner.collect.transports.local import LocalTransport
from scanner.collect.transports.ssh import SSHOptions, SSHTransport
from scanner.collect.transports.winrm_options import WinRMOptions
from scanner.model.terminal import printable
from scanner.model.vocabulary import Platform, Reach
from scanner.record.raw import CommandRecord, HostRecord, SSHAlgorithms, safe_vars

_POLL = 0.1  # seconds between looks at a stop request while hosts are in flight

DIRECTORY_OUTPUT_FACTOR = 64
"""A directory search (every user of a domain) is one "command": it may keep this many times
``max_output`` (64 MiB by default) before it is cut and marked truncated."""


class Stop:
    """A request to stop a sweep early. Safe to make from a signal handler (it only sets a flag
    and an event nobody in the handler's thread waits on); the first reason given is kept."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def request(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class RunOptions:
    forks: int = 20
    command_timeout: int = 60  # seconds, per command (enforced on the host by timeout(1))
    host_budget: float | None = None
    """Seconds per host, connect included; None: derived from each host's plan (budget.py)."""
    command_grace: float = COMMAND_GRACE
    """Seconds a step may run past ``command_timeout`` before the client ends the host."""
    max_output: int = 1 << 20  # bytes kept per command and stream
    ssh: SSHOptions = field(default_factory=SSHOptions)
    winrm: WinRMOptions = field(default_factory=WinRMOptions)
    group_caps: Mapping[str, int] = field(default_factory=dict)  # group -> e8_max_concurrency
    jump_pool: JumpPool = field(default_factory=JumpPool, compare=False)
    """Bastion (ProxyJump) connections shared by this sweep's hosts; close it after the sweep."""
    stop: Stop = field(default_factory=Stop, compare=False)
    """Set it to stop the sweep: no new host starts; hosts in flight get ``stop_grace`` seconds."""
    stop_grace: float = 5.0
    abandon_after: float = 5.0
    """Seconds past its budget after which a host still in flight (a connect or a close that
    will not return) is recorded as ``timeout`` and left behind: no host holds a sweep longer."""

    def budget(self, plan: HostPlan) -> float:
        """Seconds ``plan``'s host may take, connect included."""
        return host_budget(
            len(plan.commands),
            self.command_timeout,
            self.ssh.connect_timeout,
            self.host_budget,
            self.command_grace,
        )


def open_transport(plan: HostPlan, opts: RunOptions) -> Transport:
    conn = plan.spec.connection
    if conn == "local":
        return LocalTransport()
    if conn == "ldap":
        from scanner.collect.transports.ldap import LdapTransport  # ldap3: only for directories

        return LdapTransport(plan.spec, connect_timeout=opts.ssh.connect_timeout)
    # Retries of a throttling sshd (resets before the banner) stay within the host's budget;
    # the same holds for a WinRM host's bastion.
    ssh = replace(opts.ssh, connect_budget=opts.budget(plan))
    if conn == "ssh":
        return SSHTransport(plan.spec, ssh, jump_pool=opts.jump_pool, legacy=plan.ssh_legacy)
    # pywinrm, requests, spnego and gssapi are imported only for a sweep with a WinRM host
    from scanner.collect.transports.winrm import WinRMTransport

    return WinRMTransport(plan.spec, opts.winrm, jump_pool=opts.jump_pool, ssh=ssh)


def _now() -> datetime:
    return datetime.now(UTC)


def collect_host(plan: HostPlan, opts: RunOptions) -> HostRecord:
    """Connect once, run the host's batch, cut the results apart. Never raises."""
    started = _now()
    t0 = time.monotonic()
    reach, detail, host_key, user = Reach.OK, "", None, plan.login
    commands: list[CommandRecord] = []
    batch_notes: list[str] = []
    transport: Transport | None = None
    try:
        if plan.problem is not None:  # missing credentials: nothing is sent to this host
            raise TransportError(Reach.ERROR, f"input error: {plan.problem}")
        transport = open_transport(plan, opts)
        transport.connect()
        host_key, user = transport.host_key, transport.user
        if plan.platform is Platform.DIRECTORY:
            reach, detail = _searches(transport, plan, opts, t0, commands)
        else:
            reach, detail = _batch(transport, plan, opts, t0, commands, batch_notes)
    except TransportError as exc:
        reach, detail = exc.reach, exc.detail
        if transport is not None and host_key is None:
            host_key = transport.host_key
    except Exception as exc:
        reach, detail = Reach.ERROR, f"{type(exc).__name__}: {_first_line(str(exc).encode())}"
    finally:
        if transport is not None:
            transport.close()
    notes = [*getattr(transport, "notes", []), *batch_notes]
    algorithms = getattr(transport, "algorithms", None)  # SSH only
    return _record(plan, reach, detail, host_key, user, notes, started, commands, algorithms)


def _record(
    plan: HostPlan,
    reach: Reach,
    detail: str,
    host_key: str | None,
    user: str,
    notes: list[str],
    started: datetime,
    commands: list[CommandRecord],
    ssh_algorithms: SSHAlgorithms | None = None,
) -> HostRecord:
    return HostRecord(
        name=plan.host.name,
        address=plan.spec.address,
        port=plan.spec.port,
        connection=plan.spec.connection,
        user=user,
        become=plan.spec.become,
        platform=plan.platform,
        groups=list(plan.host.groups),
        vars=safe_vars(dict(plan.host.vars), also=_password(plan)),
        reach=reach,
        reach_detail=printable(detail),  # host text: no control character reaches a terminal
        host_key=host_key,
        notes=notes,
        ssh_algorithms=ssh_algorithms,
        started=started,
        finished=_now(),
        commands=commands,
    )


def _abandoned(plan: HostPlan, budget: float, after: float, started: datetime) -> HostRecord:
    """The record of a host still busy past its budget (a connect or a close that would not
    return): ``timeout``, every planned command not run. Its thread is left to end on its own."""
    detail = (
        f"host time budget of {budget:.0f}s ran out and the host was still busy "
        f"{after:g}s later (connecting or closing): abandoned"
    )
    commands = [
        CommandRecord(command=pc.step.line, as_run=pc.step.as_run, checks=pc.checks, ran=False)
        for pc in plan.commands
    ]
    return _record(plan, Reach.TIMEOUT, detail, None, plan.login, [], started, commands)


def _batch(
    transport: Transport,
    plan: HostPlan,
    opts: RunOptions,
    t0: float,
    commands: list[CommandRecord],
    notes: list[str],
) -> tuple[Reach, str]:
    """A Linux or Windows host: every planned command in one batch, cut apart into ``commands``;
    what the host reports about the batch itself (its priority) goes to ``notes``."""
    reach, detail = Reach.OK, ""
    steps = [pc.step for pc in plan.commands]
    allowed = opts.budget(plan)
    budget = max(1.0, allowed - (time.monotonic() - t0))
    # Windows output travels base64-encoded (4/3 larger) and carries stderr in its frames;
    # a POSIX step's stderr is capped on the host (plus its two markers). What a host sends
    # beyond that is not ours: the transport keeps no more.
    room = (opts.max_output * 3 + 1024) * max(1, len(steps)) + 65536
    err_room = (opts.max_output + 1024) * max(1, len(steps)) + 65536
    if plan.platform is Platform.WINDOWS:
        script, nonce = ps_batch.build(
            [s.line for s in steps], opts.command_timeout, opts.max_output, plan.low_priority
        )
        progress = Progress(nonce, opts.command_timeout + opts.command_grace)
        res = transport.run(
            ps_batch.command_line(),
            budget,
            room,
            stdin=script.encode(),
            max_stderr=65536,
            progress=progress,
        )
        parsed = ps_batch.parse(res.stdout, nonce, len(steps), opts.max_output, res.timed_out)
    else:
        script, nonce = posix_batch.build(
            steps, opts.command_timeout, opts.max_output, plan.low_priority
        )
        progress = Progress(nonce, opts.command_timeout + opts.command_grace)
        res = transport.run(
            "sh -s", budget, room, stdin=script.encode(), max_stderr=err_room, progress=progress
        )
        parsed = posix_batch.parse(
            res.stdout, res.stderr, nonce, len(steps), opts.max_output, res.timed_out
        )
    notes.append(_priority_note(plan, posix_batch.applied_priority(res.stdout, nonce)))
    if res.timed_out and progress.stalled:
        reach, detail = Reach.TIMEOUT, _stalled(parsed, progress, opts)
    elif res.timed_out:
        reach, detail = Reach.TIMEOUT, f"host time budget of {allowed:.0f}s ran out"
    elif res.exit_code not in (0, None) and not any(p.ran for p in parsed):
        reach, detail = Reach.ERROR, _first_line(res.stderr) or f"sh exited {res.exit_code}"
    for pc, r in zip(plan.commands, parsed, strict=True):
        commands.append(r.record(pc.step.line, pc.step.as_run, pc.checks))
    return reach, detail


def _stalled(parsed: list[posix_batch.StepResult], progress: Progress, opts: RunOptions) -> str:
    """Why a batch was ended for want of progress: which step hung, what was kept."""
    done = sum(1 for p in parsed if p.ran and not p.timed_out)
    hung = next((i for i, p in enumerate(parsed) if p.ran and p.timed_out), None)
    where = f"step {hung + 1} of {len(parsed)}" if hung is not None else "the batch's first step"
    return (
        f"{where} made no progress for {progress.limit:g} s (--command-timeout "
        f"{opts.command_timeout} s + {opts.command_grace:g} s grace; the host's own timeout did "
        f"not end it): the client ended the batch; {done} step(s) finished and were kept, "
        f"{sum(1 for p in parsed if not p.ran)} not run"
    )


def _priority_note(plan: HostPlan, applied: str | None) -> str:
    """The connection note on the batch's scheduling priority: what the host reported."""
    if not plan.low_priority:
        return "target priority: normal (e8_target_priority: normal)"
    if applied is None:
        return "target priority: low asked; the host did not report what it applied"
    return f"target priority: low ({applied})"


def _searches(
    transport: Transport,
    plan: HostPlan,
    opts: RunOptions,
    t0: float,
    commands: list[CommandRecord],
) -> tuple[Reach, str]:
    """A directory target: each planned search on the one connection, in plan order, within
    the host's budget (a search left when it has run out is recorded as not run)."""
    cap = opts.max_output * DIRECTORY_OUTPUT_FACTOR
    budget = opts.budget(plan)
    for pc in plan.commands:
        left = budget - (time.monotonic() - t0)
        if left <= 0:
            commands.append(
                CommandRecord(
                    command=pc.step.line, as_run=pc.step.as_run, checks=pc.checks, ran=False
                )
            )
            continue
        began = time.time()
        r = transport.run(pc.step.line, min(float(opts.command_timeout), left), cap)
        commands.append(
            CommandRecord(
                command=pc.step.line,
                as_run=pc.step.as_run,
                checks=pc.checks,
                stdout=r.stdout,
                stderr=r.stderr,
                exit_code=r.exit_code,
                started=began,
                finished=time.time(),
                truncated=r.truncated,
                timed_out=r.timed_out,
            )
        )
    if any(not c.ran for c in commands):
        return Reach.TIMEOUT, f"host time budget of {budget:.0f}s ran out"
    return Reach.OK, ""


def _password(plan: HostPlan) -> list[str]:
    """The host's password (from the environment or the inventory) and every secret its
    inventory layers hold, to keep out of its recorded vars."""
    password = [plan.spec.password.get_secret_value()] if plan.spec.password else []
    return [*password, *plan.host.secrets]


def _first_line(b: bytes) -> str:
    text = b.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0][:300] if text else ""


def _start(plan: HostPlan, opts: RunOptions) -> Future[HostRecord]:
    """Collect one host on its own daemon thread (a host abandoned at a stop never holds up the
    process's exit, as a thread-pool worker would)."""
    fut: Future[HostRecord] = Future()
    fut.set_running_or_notify_cancel()

    def run() -> None:
        try:
            fut.set_result(collect_host(plan, opts))
        except BaseException as exc:  # collect_host never raises; keep the thread quiet anyway
            fut.set_exception(exc)

    threading.Thread(target=run, name=f"e8host-{plan.host.name}", daemon=True).start()
    return fut


def collect(
    plans: Sequence[HostPlan],
    opts: RunOptions,
    on_done: Callable[[HostRecord], None] | None = None,
    skip: set[str] | None = None,
) -> list[HostRecord]:
    """Collect from every host, honouring ``forks`` and per-group caps. Results keep plan order.

    Hosts named in ``skip`` (already collected, e.g. by a resumed scan's journal) are never
    contacted and are left out of the result. After ``opts.stop`` is set no host is started;
    hosts in flight get ``opts.stop_grace`` seconds, and hosts not finished by then are left out
    (``on_done`` is called for every host that did finish, in the grace too). A host still
    in flight ``opts.abandon_after`` seconds past its budget gets a ``timeout`` record and its
    fork slot back; its thread is left to end on its own.
    """
    results: dict[int, HostRecord] = {}
    skip = skip or set()
    pending = [i for i in range(len(plans)) if plans[i].host.name not in skip]
    in_flight: dict[Future[HostRecord], int] = {}
    since: dict[Future[HostRecord], tuple[float, datetime]] = {}  # started (monotonic, UTC)
    load: Counter[str] = Counter()
    forks = max(1, opts.forks)

    def capped(i: int) -> list[str]:
        return [g for g in plans[i].host.groups if g in opts.group_caps]

    def fits(i: int) -> bool:
        return all(load[g] < opts.group_caps[g] for g in capped(i))

    def finish(done: set[Future[HostRecord]]) -> None:
        for fut in done:
            i = in_flight.pop(fut)
            since.pop(fut, None)
            load.subtract(capped(i))
            results[i] = fut.result()
            if on_done is not None:
                on_done(results[i])

    def abandon_overdue() -> None:
        now = time.monotonic()
        for fut, (t0, began) in list(since.items()):
            budget = opts.budget(plans[in_flight[fut]])
            if not fut.done() and now - t0 > budget + opts.abandon_after:
                overdue: Future[HostRecord] = Future()
                overdue.set_result(
                    _abandoned(plans[in_flight[fut]], budget, opts.abandon_after, began)
                )
                in_flight[overdue] = in_flight[fut]
                del in_flight[fut], since[fut]
                finish({overdue})

    while (pending or in_flight) and not opts.stop.is_set():
        for i in list(pending):
            if len(in_flight) >= forks or opts.stop.is_set():
                break
            if fits(i):
                pending.remove(i)
                load.update(capped(i))
                fut = _start(plans[i], opts)
                in_flight[fut], since[fut] = i, (time.monotonic(), _now())
        # Polled, so that a stop request (from a signal handler) is seen while hosts run.
        done, _ = wait(list(in_flight), timeout=_POLL, return_when=FIRST_COMPLETED)
        finish(done)
        abandon_overdue()
    deadline = time.monotonic() + opts.stop_grace
    while in_flight and (left := deadline - time.monotonic()) > 0:
        done, _ = wait(list(in_flight), timeout=left, return_when=FIRST_COMPLETED)
        finish(done)
    return [results[i] for i in sorted(results)]
