"""The fake Windows process behind each WinRS command: fixture lookup instead of PowerShell.

No PowerShell (and no Windows) runs on this project's machines, so the WS-Man test server turns
a command line into a :class:`Program` — output pieces over time, then an exit code — like this:

1. **cmd.exe's limit.** Unless the client asked for ``WINRS_SKIP_CMD_SHELL=TRUE``, WinRS runs the
   command line through cmd.exe, which refuses more than 8,191 characters with
   ``The command line is too long.`` and exit code 1 (pywinrm #184, WinRb/WinRM #41/#55).
2. **The winbatch bootstrap.** ``powershell.exe ... -EncodedCommand <b64>`` whose UTF-16LE script is
   exactly ``scanner.collect.ps_batch.BOOTSTRAP`` reads its stdin: the program waits for the Send stream
   with ``End="true"``, then treats stdin as a winbatch script — ``$N = '<nonce>'``, ``$T = <s>``
   and one ``E8Step <i> '<base64 UTF-8 command>'`` per step — and writes exactly the framing of
   ``scanner/collect/ps_batch.py`` (``<nonce> B <i>``, base64 of the UTF-8 output, ``<nonce> E <i> <rc>
   <base64 of the UTF-8 error text>``), each step after its fixture's ``delay``. A step reports
   what ``E8Step`` can report: rc 0 (no error records), 1 (a non-zero fixture rc or any fixture
   stderr; the stderr text is the error text) or 124 (the fixture's delay exceeds ``$T``: it
   takes ``$T`` seconds and says ``timed out after T s``; a fixture rc of 124 is passed through).
   With ``ps_batch.PRIORITY`` in the script, the line ``<nonce> P priority class BelowNormal``
   comes first, as the lowered process reports it. With ``$C = <bytes>`` in the script, output
   and error text are cut after ``$C`` + 1 bytes of UTF-8, as ``E8Cap`` does.
   A step whose fixture says ``hang`` never returns (a hung WMI provider ignores ``BeginStop``):
   its begin marker is the last output, and the process never exits.
   A step with no fixture behaves like a command that does not exist: rc 1 and PowerShell's
   ``CommandNotFoundException`` record as ``Out-String -Width 4096`` renders it (``At line:2``
   because E8Step prepends one line).
3. **Any other ``-EncodedCommand`` script** (``Session.run_ps``): the decoded script is looked up
   and its stdout/stderr are returned as raw bytes in the shell's code page (``WINRS_CODEPAGE``:
   437 by default, so ``José`` arrives as ``b'Jos\\x82'``; 65001 gives UTF-8), the fixture's rc as
   the exit code. An unknown script gives the CLIXML error record powershell.exe writes to a
   redirected stderr (shape of the corpus row ``windows/clixml_stderr_error.txt``, with the
   full "name of a cmdlet, function, script file, or operable program" wording) and exit code 1.
   PowerShell accepts any prefix of ``-EncodedCommand`` (``-e``, ``-en``, ``-enc``, …) and ``-ec``,
   case-insensitively, with ``-`` or ``/``.
   ``-Command <script>`` is treated the same way.
4. **Anything else** is looked up by its whole command line; an unknown one gets cmd.exe's
   ``'X' is not recognized as an internal or external command`` and exit code 9009 (or, with
   ``WINRS_SKIP_CMD_SHELL=TRUE``, where no cmd.exe is involved, CreateProcess fails:
   :class:`LaunchError` → a WS-Man fault, code 2).

What is *not* emulated: real cmdlets, pipelines, variables, the console width wrapping of error
records, the "Preparing modules for first use." progress record (record it in a fixture's stderr
when a test needs it), and the 32,767-character CreateProcess limit's exact fault.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass, field

from scanner.collect.ps_batch import BOOTSTRAP

from .fixtures import FixtureOutput, HostFixtures

CMD_MAX = 8191  # cmd.exe's longest command line
CREATEPROCESS_MAX = 32767
CLIXML_HEADER = b"#< CLIXML\r\n"
CLIXML_NS = "http://schemas.microsoft.com/powershell/2004/04"
POWERSHELL_NAMES = {"powershell", "powershell.exe", "pwsh", "pwsh.exe"}
# powershell.exe parameters that take a value (so the value is not mistaken for a parameter).
VALUE_PARAMS = (
    "executionpolicy",
    "ep",
    "inputformat",
    "outputformat",
    "windowstyle",
    "version",
    "psconsolefile",
    "configurationname",
    "workingdirectory",
    "encodedarguments",
)


@dataclass(frozen=True)
class Piece:
    at: float  # seconds after the program started (for a batch: after stdin ended)
    stream: str  # "stdout" | "stderr"
    data: bytes


@dataclass
class Program:
    """What one command does: output pieces over time, then (unless ``exit_at`` is None) exit."""

    pieces: list[Piece]
    exit_at: float | None
    exit_code: int
    kind: str  # batch | script | cmd | too_long | bad_encoding
    script: str | None = None  # the decoded PowerShell script, when there is one
    steps: list[str] = field(default_factory=list)  # the decoded batch commands


@dataclass
class StdinProgram:
    """A program that first reads all of stdin: ``complete(stdin)`` gives the real Program."""

    fixtures: HostFixtures
    codepage: int
    script: str

    def complete(self, stdin: bytes) -> Program:
        encoding = codec(self.codepage)
        return run_batch(stdin.decode(encoding, errors="replace"), self.fixtures, encoding)


class LaunchError(Exception):
    """CreateProcess failed (only without cmd.exe): the server answers a WS-Man fault."""

    def __init__(self, win32_code: int, message: str) -> None:
        super().__init__(message)
        self.win32_code = win32_code
        self.message = message


def codec(codepage: int) -> str:
    """The Python codec for a Windows code page (437 when Python has no such codec)."""
    name = "utf-8" if codepage == 65001 else f"cp{codepage}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp437"


def split_command_line(line: str) -> list[str]:
    """Split like CommandLineToArgvW for the simple cases: whitespace, double quotes."""
    tokens = re.findall(r'"(?:[^"]*)"|[^\s"]+(?:"[^"]*"[^\s"]*)*', line)
    return [t[1:-1] if len(t) >= 2 and t[0] == t[-1] == '"' else t for t in tokens]


def _encoded_script(tokens: list[str]) -> tuple[str | None, str | None]:
    """(base64 after -EncodedCommand, script after -Command) from powershell.exe's arguments."""
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        name = tok[1:].lower() if tok[:1] in "-/" and len(tok) > 1 else None
        if name is None:
            i += 1
        elif name == "ec" or (name.startswith("e") and "encodedcommand".startswith(name)):
            return (tokens[i + 1] if i + 1 < len(tokens) else ""), None
        elif "command".startswith(name):
            return None, " ".join(tokens[i + 1 :])
        elif any(p.startswith(name) for p in VALUE_PARAMS):
            i += 2
        else:
            i += 1
    return None, None


def interpret(
    command_line: str, fixtures: HostFixtures, codepage: int, skip_cmd_shell: bool
) -> Program | StdinProgram:
    """Decide what the fake host does for ``command_line`` (see the module docstring)."""
    enc = codec(codepage)
    if not skip_cmd_shell and len(command_line) > CMD_MAX:
        return _done(b"", b"The command line is too long.\r\n", 1, "too_long")
    if skip_cmd_shell and len(command_line) > CREATEPROCESS_MAX:
        raise LaunchError(206, "The filename or extension is too long. ")
    tokens = split_command_line(command_line)
    exe = tokens[0].replace("/", "\\").rsplit("\\", 1)[-1].lower() if tokens else ""
    if exe in POWERSHELL_NAMES:
        b64, command = _encoded_script(tokens)
        if b64 is not None:
            try:
                script = base64.b64decode(b64, validate=True).decode("utf-16-le")
            except (binascii.Error, ValueError):
                message = (
                    "Cannot process the command because the value specified with -EncodedCommand is "
                    "not properly encoded. The value must be Base64 encoded.\r\n"
                )
                # -196608 (0xFFFD0000): powershell.exe's exit code for bad arguments (not verified here)
                return _done(b"", message.encode(enc), -196608, "bad_encoding")
            if script == BOOTSTRAP:
                return StdinProgram(fixtures, codepage, script)
            return run_script(script, fixtures, enc)
        if command is not None:
            return run_script(command, fixtures, enc)
    found = fixtures.lookup(command_line)
    if found is not None:
        return _timed(
            found.stdout_bytes(enc), found.stderr_bytes(enc), found.rc, found.delay, "cmd"
        )
    if exe in POWERSHELL_NAMES:  # e.g. -File, or no script at all: an unknown script
        return run_script(" ".join(tokens[1:]), fixtures, enc)
    if skip_cmd_shell:
        raise LaunchError(2, "The system cannot find the file specified. ")
    name = tokens[0] if tokens else command_line
    message = f"'{name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"
    return _done(b"", message.encode(enc, errors="replace"), 9009, "cmd")


def run_script(script: str, fixtures: HostFixtures, encoding: str) -> Program:
    """``powershell -EncodedCommand <script>``: the fixture's raw output in the shell's code page."""
    found = fixtures.lookup(script)
    if found is None:
        program = _done(b"", clixml_error(not_recognized(script, first_line=1)), 1, "script")
    else:
        program = _timed(
            found.stdout_bytes(encoding),
            found.stderr_bytes(encoding),
            found.rc,
            found.delay,
            "script",
        )
    program.script = script
    return program


def run_batch(text: str, fixtures: HostFixtures, encoding: str = "utf-8") -> Program:
    """The winbatch script on stdin → the framed output of ``scanner/collect/ps_batch.py``."""
    nonce = re.search(r"^\$N = '([^']*)'", text, re.MULTILINE)
    limit = re.search(r"^\$T = (\d+)", text, re.MULTILINE)
    cap = re.search(r"^\$C = (\d+)", text, re.MULTILINE)
    keep = int(cap.group(1)) + 1 if cap else None
    if nonce is None or "function E8Step(" not in text:
        # Not a winbatch script: PowerShell runs whatever arrived; we look the script up.
        return run_script(text, fixtures, encoding)
    n, timeout = nonce.group(1), float(limit.group(1)) if limit else 30.0
    pieces: list[Piece] = []
    steps: list[str] = []
    clock: float | None = 0.0
    if "PriorityClass = [System.Diagnostics.ProcessPriorityClass]::BelowNormal" in text:
        # ps_batch.PRIORITY: the process lowers its priority class and says what it now holds.
        pieces.append(Piece(0.0, "stdout", f"{n} P priority class BelowNormal\r\n".encode()))
    for index, b64 in re.findall(r"^E8Step (\d+) '([A-Za-z0-9+/=]*)'", text, re.MULTILINE):
        command = base64.b64decode(b64).decode("utf-8", errors="replace")
        steps.append(command)
        if clock is None:
            continue  # after a hung step: never reached
        pieces.append(Piece(clock, "stdout", f"{n} B {index}\r\n".encode()))
        found = fixtures.lookup(command)
        if found is not None and found.hang:
            clock = None
            continue
        out, err, rc, delay = _step(command, found)
        if delay > timeout:
            clock += timeout
            out, err, rc = b"", f"timed out after {int(timeout)} s".encode(), 124
        else:
            clock += delay
        if keep is not None:
            out, err = out[:keep], err[:keep]
        frame = b"%s\r\n%s E %s %d %s\r\n" % (_b64(out), n.encode(), index.encode(), rc, _b64(err))
        pieces.append(Piece(clock, "stdout", frame))
    return Program(pieces, clock, 0, "batch", script=text, steps=steps)


def _step(command: str, found: FixtureOutput | None) -> tuple[bytes, bytes, int, float]:
    """E8Step's (output, error text, rc, duration) for one command."""
    if found is None:
        return b"", not_recognized(command, first_line=2).encode("utf-8"), 1, 0.0
    out, err = found.stdout_bytes("utf-8"), found.stderr_bytes("utf-8")
    if found.rc == 124:
        return out, err, 124, found.delay
    rc = 1 if found.rc != 0 or err else 0
    return out, (err if rc else b""), rc, found.delay


def not_recognized(script: str, first_line: int) -> str:
    """PowerShell's CommandNotFoundException for the first command of ``script``, as Out-String renders it."""
    lines = script.splitlines() or [""]
    number, text = next(((i, ln) for i, ln in enumerate(lines) if ln.strip()), (0, lines[0]))
    column = len(text) - len(text.lstrip())
    name = text.split()[0] if text.split() else text
    return (
        f"{name} : The term '{name}' is not recognized as the name of a cmdlet, function, script file, "
        "or operable program. Check the spelling of the name, or if a path was included, verify that "
        "the path is correct and try again.\r\n"
        f"At line:{first_line + number} char:{column + 1}\r\n"
        f"+ {text}\r\n"
        f"+ {' ' * column}{'~' * len(name)}\r\n"
        f"    + CategoryInfo          : ObjectNotFound: ({name}:String) [], CommandNotFoundException\r\n"
        "    + FullyQualifiedErrorId : CommandNotFoundException\r\n"
        " \r\n"
    )


def clixml_error(text: str) -> bytes:
    """``text`` as powershell.exe writes error records to a redirected stderr (one <S> per line)."""
    parts = []
    for line in text.split("\r\n")[:-1]:
        escaped = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts.append(f'<S S="Error">{escaped}_x000D__x000A_</S>')
    body = f'<Objs Version="1.1.0.1" xmlns="{CLIXML_NS}">{"".join(parts)}</Objs>'
    return CLIXML_HEADER + body.encode("utf-8")


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def _done(stdout: bytes, stderr: bytes, rc: int, kind: str) -> Program:
    return _timed(stdout, stderr, rc, 0.0, kind)


def _timed(stdout: bytes, stderr: bytes, rc: int, delay: float, kind: str) -> Program:
    pieces = [
        Piece(delay, name, data) for name, data in (("stdout", stdout), ("stderr", stderr)) if data
    ]
    return Program(pieces, delay, rc, kind)
