"""WinRS over WS-Management: shells, commands, stdin and the Receive rounds (the protocol half).

Create opens a shell (``WINRS_CODEPAGE`` from the OptionSet, 437 when absent), Command starts a
fake process (:mod:`.powershell`), Send feeds its stdin (``rsp:Send/rsp:Stream[@Name='stdin']``,
base64, ``End="true"`` on the last chunk), Receive returns output in rounds, Signal
(``terminate``/``ctrl_c``) forgets the command, Delete closes the shell.

**Receive** blocks until some output is ready or the process has exited, or until
``w:OperationTimeout`` passes, then answers the ``w:TimedOut`` fault (HTTP 500, code 2150858793),
as Windows does. A round carries at most ``receive_chunk`` bytes of output with
``CommandState/Running``; the last one adds empty ``End="true"`` stdout/stderr streams and
``CommandState/Done`` with ``rsp:ExitCode``. An unknown ShellId or CommandId gets the
``w:InvalidSelectors`` fault (code 2150858843) with the message real hosts send.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from . import soap
from .faults import FaultPlan
from .fixtures import HostFixtures
from .powershell import LaunchError, Program, StdinProgram, interpret


class Stopped(Exception):
    """The server is stopping: the waiting request ends without a reply."""


@dataclass
class CommandRecord:
    """What one command was, for tests: its command line, decoded script/steps, stdin, exit code."""

    shell_id: str
    command_id: str
    command_line: str
    codepage: int
    kind: str = "pending"
    script: str | None = None
    steps: list[str] = field(default_factory=list)
    stdin: bytearray = field(default_factory=bytearray)
    exit_code: int | None = None
    signal: str | None = None


@dataclass
class Stats:
    """Counters of one server (read them through :class:`~wsman.server.WSManServer`)."""

    connections: int = 0
    http_requests: int = 0
    encrypted_requests: int = 0
    auth_failures: int = 0
    shells_opened: int = 0
    commands_run: int = 0
    timeouts: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    codepages: list[int] = field(default_factory=list)
    commands: list[CommandRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)


@dataclass
class Round:
    chunks: list[tuple[str, bytes]]
    done: bool
    exit_code: int


class Command:
    """One fake process and how much of its output the client has received."""

    def __init__(self, record: CommandRecord, launch: Program | StdinProgram, hang: bool) -> None:
        self.record = record
        self.cond = threading.Condition()
        self.program = launch if isinstance(launch, Program) else None
        self.pending = launch if isinstance(launch, StdinProgram) else None
        self.hang = hang
        self.t0 = time.monotonic()
        self.stdin_ended = False
        self.gone = False
        self._piece = 0
        self._offset = 0
        if self.program is not None:
            self._describe(self.program)

    def _describe(self, program: Program) -> None:
        self.record.kind, self.record.script, self.record.steps = (
            program.kind,
            program.script,
            program.steps,
        )

    def send(self, data: bytes, end: bool) -> None:
        with self.cond:
            if self.stdin_ended:
                return  # the pipe is closed: the bytes go nowhere, as on Windows
            self.record.stdin += data
            if end:
                self.stdin_ended = True
                if self.pending is not None:
                    self.program = self.pending.complete(bytes(self.record.stdin))
                    self.t0 = time.monotonic()
                    self._describe(self.program)
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self.gone = True
            self.cond.notify_all()

    def receive(self, timeout: float, max_bytes: int, stopping: threading.Event) -> Round | None:
        """The next round of output, or None when ``timeout`` passes with nothing to say."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                if stopping.is_set() or self.gone:
                    raise Stopped
                now = time.monotonic()
                program = None if self.hang else self.program
                wake = deadline
                if program is not None:
                    elapsed = now - self.t0
                    pieces, exit_at = program.pieces, program.exit_at
                    if self._piece < len(pieces):
                        if pieces[self._piece].at <= elapsed:
                            return self._take(program, elapsed, max_bytes)
                        wake = min(wake, self.t0 + pieces[self._piece].at)
                    elif exit_at is not None:
                        if elapsed >= exit_at:
                            return self._take(program, elapsed, max_bytes)
                        wake = min(wake, self.t0 + exit_at)
                if now >= deadline:
                    return None
                self.cond.wait(max(wake - now, 0.001))

    def _take(self, program: Program, elapsed: float, max_bytes: int) -> Round:
        chunks: list[tuple[str, bytes]] = []
        budget = max_bytes
        pieces = program.pieces
        while budget > 0 and self._piece < len(pieces) and pieces[self._piece].at <= elapsed:
            piece = pieces[self._piece]
            part = piece.data[self._offset : self._offset + budget]
            if chunks and chunks[-1][0] == piece.stream:
                chunks[-1] = (piece.stream, chunks[-1][1] + part)
            else:
                chunks.append((piece.stream, part))
            budget -= len(part)
            self._offset += len(part)
            if self._offset >= len(piece.data):
                self._piece, self._offset = self._piece + 1, 0
        done = (
            self._piece >= len(pieces)
            and program.exit_at is not None
            and elapsed >= program.exit_at
        )
        if done:
            self.record.exit_code = program.exit_code
        return Round(chunks, done, program.exit_code)


@dataclass
class Shell:
    shell_id: str
    codepage: int
    owner: str
    client_ip: str
    input_streams: str
    output_streams: str
    commands: dict[str, Command] = field(default_factory=dict)


@dataclass
class Caller:
    """Who sent the request (for the rsp:Shell reply) and where the listener is."""

    user: str
    client_ip: str
    endpoint: str


class WinRSService:
    """Dispatch one parsed WS-Man request; state is shared by all connections of one server."""

    def __init__(
        self,
        fixtures: HostFixtures,
        faults: FaultPlan,
        stats: Stats,
        machine: str,
        receive_chunk: int,
    ) -> None:
        self.fixtures = fixtures
        self.faults = faults
        self.stats = stats
        self.machine = machine
        self.receive_chunk = receive_chunk
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._shells: dict[str, Shell] = {}

    @property
    def open_shells(self) -> int:
        with self._lock:
            return len(self._shells)

    def start(self) -> None:
        self.stopping.clear()

    def reset(self) -> None:
        """Forget every shell (a stopped host keeps none), ending any waiting Receive."""
        self.stopping.set()
        with self._lock:
            shells, self._shells = list(self._shells.values()), {}
        for shell in shells:
            for command in shell.commands.values():
                command.stop()

    def handle(self, req: soap.Request, caller: Caller) -> tuple[int, bytes]:
        """(HTTP status, reply envelope) for ``req``; raises :class:`Stopped` while stopping."""
        handler = {
            "Create": self._create,
            "Command": self._command,
            "Send": self._send,
            "Receive": self._receive,
            "Signal": self._signal,
            "Delete": self._delete,
        }.get(req.short_action if req.action in soap.ACTIONS else "")
        if handler is None:
            return self.fault(req, soap.action_not_supported(req.action))
        try:
            return handler(req, caller)
        except _FaultReply as reply:
            return self.fault(req, reply.fault)

    def fault(self, req: soap.Request, fault: soap.Fault) -> tuple[int, bytes]:
        return 500, fault.render(req.message_id, self.machine)

    # -- actions ------------------------------------------------------------------------------

    def _create(self, req: soap.Request, caller: Caller) -> tuple[int, bytes]:
        try:
            codepage = int(req.options.get("WINRS_CODEPAGE", "437"))
        except ValueError:
            codepage = 437
        body = req.body
        inputs = (
            body.findtext(f"{{{soap.RSP}}}InputStreams") if body is not None else None
        ) or "stdin"
        outputs = (
            body.findtext(f"{{{soap.RSP}}}OutputStreams") if body is not None else None
        ) or "stdout stderr"
        shell = Shell(soap.new_id(), codepage, caller.user, caller.client_ip, inputs, outputs)
        with self._lock:
            self._shells[shell.shell_id] = shell
        with self.stats.lock:
            self.stats.shells_opened += 1
            self.stats.codepages.append(codepage)
        sid = escape(shell.shell_id)
        reply = (
            f"<x:ResourceCreated><a:Address>{escape(caller.endpoint)}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{soap.CMD_URI}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{sid}</w:Selector></w:SelectorSet>'
            "</a:ReferenceParameters></x:ResourceCreated>"
            f'<rsp:Shell xmlns:rsp="{soap.RSP}"><rsp:ShellId>{sid}</rsp:ShellId>'
            f"<rsp:ResourceUri>{soap.CMD_URI}</rsp:ResourceUri><rsp:Owner>{escape(shell.owner)}</rsp:Owner>"
            f"<rsp:ClientIP>{escape(shell.client_ip)}</rsp:ClientIP><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
            f"<rsp:InputStreams>{escape(inputs)}</rsp:InputStreams>"
            f"<rsp:OutputStreams>{escape(outputs)}</rsp:OutputStreams>"
            "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime><rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
            "</rsp:Shell>"
        )
        return 200, soap.response(req.action, req.message_id, reply)

    def _command(self, req: soap.Request, caller: Caller) -> tuple[int, bytes]:
        shell = self._shell(req)
        body = req.body
        if body is None or body.tag != f"{{{soap.RSP}}}CommandLine":
            raise _FaultReply(soap.schema_error("Command needs an rsp:CommandLine body."))
        parts = [(body.findtext(f"{{{soap.RSP}}}Command") or "").strip()]
        parts += [(arg.text or "") for arg in body.iterfind(f"{{{soap.RSP}}}Arguments")]
        command_line = " ".join(p for p in parts if p)
        skip_cmd = req.options.get("WINRS_SKIP_CMD_SHELL", "FALSE").upper() == "TRUE"
        try:
            launch = interpret(command_line, self.fixtures, shell.codepage, skip_cmd)
        except LaunchError as exc:
            raise _FaultReply(soap.process_failed(exc.win32_code, exc.message)) from None
        hang = self.faults.take({"hang"}, "Command") is not None
        record = CommandRecord(shell.shell_id, soap.new_id(), command_line, shell.codepage)
        command = Command(record, launch, hang)
        with self._lock:
            shell.commands[record.command_id] = command
        with self.stats.lock:
            self.stats.commands_run += 1
            self.stats.commands.append(record)
        reply = f"<rsp:CommandResponse><rsp:CommandId>{record.command_id}</rsp:CommandId></rsp:CommandResponse>"
        return 200, soap.response(req.action, req.message_id, reply)

    def _send(self, req: soap.Request, caller: Caller) -> tuple[int, bytes]:
        shell = self._shell(req)
        streams = list(req.body.iterfind(f"{{{soap.RSP}}}Stream")) if req.body is not None else []
        if not streams:
            raise _FaultReply(soap.schema_error("Send needs rsp:Stream elements."))
        for stream in streams:
            command = self._command_of(shell, stream.get("CommandId"))
            try:
                data = base64.b64decode((stream.text or "").strip(), validate=True)
            except (binascii.Error, ValueError):
                raise _FaultReply(soap.schema_error("The stdin stream is not base64.")) from None
            if stream.get("Name", "stdin") == "stdin":
                command.send(data, stream.get("End", "false").lower() == "true")
        return 200, soap.response(req.action, req.message_id, "<rsp:SendResponse/>")

    def _receive(self, req: soap.Request, caller: Caller) -> tuple[int, bytes]:
        shell = self._shell(req)
        desired = req.body.find(f"{{{soap.RSP}}}DesiredStream") if req.body is not None else None
        if desired is None:
            raise _FaultReply(soap.schema_error("Receive needs rsp:DesiredStream."))
        command = self._command_of(shell, desired.get("CommandId"))
        if self.faults.take({"timed_out_forever"}, "Receive") is not None:
            self.stats.add("timeouts")
            raise _FaultReply(soap.timed_out())
        timeout = req.operation_timeout if req.operation_timeout is not None else 60.0
        round_ = command.receive(timeout, self.receive_chunk, self.stopping)
        if round_ is None:
            self.stats.add("timeouts")
            raise _FaultReply(soap.timed_out())
        cid = escape(command.record.command_id)
        parts = [
            f'<rsp:Stream Name="{name}" CommandId="{cid}">{base64.b64encode(data).decode()}</rsp:Stream>'
            for name, data in round_.chunks
            if data
        ]
        if round_.done:
            parts.append(f'<rsp:Stream Name="stdout" CommandId="{cid}" End="true"></rsp:Stream>')
            parts.append(f'<rsp:Stream Name="stderr" CommandId="{cid}" End="true"></rsp:Stream>')
            exit_code = f"<rsp:ExitCode>{round_.exit_code}</rsp:ExitCode>"
            if self.faults.take({"no_exit_code"}, "Receive") is not None:
                exit_code = ""
            state = f'<rsp:CommandState CommandId="{cid}" State="{soap.STATE_DONE}">'
            parts.append(f"{state}{exit_code}</rsp:CommandState>")
        else:
            parts.append(f'<rsp:CommandState CommandId="{cid}" State="{soap.STATE_RUNNING}"/>')
        reply = f"<rsp:ReceiveResponse>{''.join(parts)}</rsp:ReceiveResponse>"
        return 200, soap.response(req.action, req.message_id, reply)

    def _signal(self, req: soap.Request, caller: Caller) -> tuple[int, bytes]:
        shell = self._shell(req)
        signal = req.body
        if signal is None or signal.tag != f"{{{soap.RSP}}}Signal":
            raise _FaultReply(soap.schema_error("Signal needs an rsp:Signal body."))
        command = self._command_of(shell, signal.get("CommandId"))
        code = (signal.findtext(f"{{{soap.RSP}}}Code") or "").strip()
        command.record.signal = code.rsplit("/", 1)[-1]
        if code.endswith(("/terminate", "/ctrl_c", "/ctrl_break")):
            with self._lock:
                shell.commands.pop(command.record.command_id, None)
            command.stop()
        return 200, soap.response(req.action, req.message_id, "<rsp:SignalResponse/>")

    def _delete(self, req: soap.Request, caller: Caller) -> tuple[int, bytes]:
        shell = self._shell(req)
        with self._lock:
            self._shells.pop(shell.shell_id, None)
        for command in shell.commands.values():
            command.stop()
        return 200, soap.response(req.action, req.message_id, "")

    # -- lookups ------------------------------------------------------------------------------

    def _shell(self, req: soap.Request) -> Shell:
        with self._lock:
            shell = self._shells.get((req.shell_id or "").upper())
        if shell is None:
            raise _FaultReply(soap.unknown_shell(req.shell_id))
        return shell

    def _command_of(self, shell: Shell, command_id: str | None) -> Command:
        with self._lock:
            command = shell.commands.get((command_id or "").upper())
        if command is None:
            raise _FaultReply(soap.unknown_command())
        return command


class _FaultReply(Exception):
    def __init__(self, fault: soap.Fault) -> None:
        super().__init__(fault.reason)
        self.fault = fault
