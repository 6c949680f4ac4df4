"""One POSIX shell script per host: every planned command, framed so each result can be cut out.

Sending a host's commands as one script costs one round trip instead of one per command
(reference/test-hosts.md measured ~30 % less sweep time). The script is sent on stdin to ``sh -s``
so it works whatever the login shell is and never shows up in a process listing. Each command
runs in its own ``sh -c`` (a syntax error in one cannot break the others) with stdin closed,
under ``timeout`` where the host has it, and with its stdout capped on the host by ``head -c`` (a
runaway command is stopped by SIGPIPE instead of streaming gigabytes). Its stderr is capped on the
host too: the first bytes pass, the rest is read and dropped there (a command is never killed for
what it says on stderr, and its stdout stays whole). The command gets neither the batch's stdout
(fd 3) nor the exit-status pipe (fd 4), so it can bypass neither the cap nor the framing. Markers
carry a random nonce that host output cannot predict; every number the host prints in them is
checked (``scanner.record.hostvalues``) before it enters the raw record.
"""

from __future__ import annotations

import re
import secrets
import shlex
from dataclasses import dataclass, field

from scanner.record import hostvalues

PREAMBLE = """\
export LC_ALL=C LANG=C COLUMNS=512 PAGER=cat SYSTEMD_PAGER='' SYSTEMD_COLORS=0 TERM=dumb
if command -v timeout >/dev/null 2>&1; then E8T="timeout -k 2 {timeout}"; else E8T=; fi
exec 3>&1
"""

# The whole batch at the lowest scheduling priority (``e8_target_priority: low``, the default):
# the batch shell lowers itself once, so every step, and the root shell, inherit it. Each tool
# is used only where the host has it (BusyBox hosts may lack ionice); the host reports what it
# applied on a ``<nonce> P …`` line, which becomes a connection note.
LOWER_PRIORITY = (
    "renice -n 19 -p $$",
    "ionice -c3 -p $$",
)
PRIORITY = """E8P=
if command -v renice >/dev/null 2>&1 && renice -n 19 -p $$ >/dev/null 2>&1; then E8P='nice 19'; \
else E8P='nice unchanged (no renice)'; fi
if command -v ionice >/dev/null 2>&1 && ionice -c3 -p $$ >/dev/null 2>&1; then \
E8P="$E8P, ionice idle"; else E8P="$E8P, io priority unchanged (no ionice)"; fi
printf '%s P %s\n' "$N" "$E8P"
"""

# The command's stdout (fd 5 → head → fd 3) and stderr (→ head → fd 2) are capped on the host;
# past the stderr cap the rest is drained (cat >/dev/null), so the command runs to its end. Its
# exit status comes back on fd 4; the command itself gets neither fd 3 nor fd 4.
STEP = """\
printf '%s B {i} %s\\n' {n} "$(date +%s.%N 2>/dev/null)"; printf '%s B {i}\\n' {n} >&2
rc=$( {{ {{ {{ $E8T {run} </dev/null 2>&1 >&5 5>&- 3>&- 4>&-; echo $? >&4; }} |
  {{ head -c {cap1} >&2; cat >/dev/null; }}; }} 5>&1 | head -c {cap1} >&3; }} 4>&1 )
printf '%s E {i} %s %s\\n' {n} "${{rc:-255}}" "$(date +%s.%N 2>/dev/null)"; printf '%s E {i}\\n' {n} >&2
"""


@dataclass(frozen=True)
class Step:
    """One command in a batch: the line as declared and whether it runs through ``sudo -n``.

    ``verbatim`` steps run as they are declared: a Windows step inside the host's PowerShell
    batch, a directory search on the LDAP connection.
    """

    line: str
    sudo: bool = False
    verbatim: bool = False

    @property
    def as_run(self) -> str:
        if self.verbatim:
            return self.line
        inner = f"sh -c {shlex.quote(self.line)}"
        return f"sudo -n {inner}" if self.sudo else inner


@dataclass(frozen=True)
class StepResult:
    stdout: bytes
    stderr: bytes
    exit_code: int | None
    started: float | None  # host clock, epoch seconds, when the host's date prints it
    finished: float | None
    truncated: bool
    timed_out: bool
    ran: bool
    stderr_truncated: bool = False
    invalid: dict[str, str] = field(default_factory=dict)
    """Numbers the host printed that cannot be what they claim, as its text (see hostvalues)."""


def build(steps: list[Step], timeout: int, cap: int, low_priority: bool = True) -> tuple[str, str]:
    """The script for ``steps`` and its nonce; ``low_priority`` lowers the batch's scheduling
    priority on the host first (see :data:`PRIORITY`)."""
    nonce = secrets.token_hex(16)
    parts = [f"N={nonce}\n", PREAMBLE.format(timeout=int(timeout))]
    if low_priority:
        parts.append(PRIORITY)
    for i, step in enumerate(steps):
        parts.append(STEP.format(i=i, n='"$N"', run=step.as_run, cap1=cap + 1))
    return "".join(parts), nonce


_PRIORITY_LINE = re.compile(rb" P ([ -~]{1,120})\r?\n")


def applied_priority(stdout: bytes, nonce: str) -> str | None:
    """What the host says it applied (``nice 19, ionice idle``), or None when it said nothing."""
    m = re.search(re.escape(nonce.encode()) + _PRIORITY_LINE.pattern, stdout)
    return m.group(1).decode("ascii") if m else None


def parse(
    stdout: bytes, stderr: bytes, nonce: str, count: int, cap: int, batch_timed_out: bool = False
) -> list[StepResult]:
    """Cut the batch's streams back into one result per step.

    A step whose end marker never arrived (the batch timed out or the connection dropped)
    gets ``exit_code=None``; one whose begin marker never arrived gets ``ran=False``. Step
    numbers, exit codes and clock readings are checked: an impossible one is kept as text in
    ``invalid`` (the field is None), never turned into a number a writer would choke on.
    """
    nb = re.escape(nonce.encode())
    begins = {int(m.group(1)): m for m in re.finditer(nb + rb" B (\d{1,9}) ?([^\n]*)\n", stdout)}
    ends = {
        int(m.group(1)): m for m in re.finditer(nb + rb" E (\d{1,9}) (\S+) ?([^\n]*)\n", stdout)
    }
    ebegins = {int(m.group(1)): m for m in re.finditer(nb + rb" B (\d{1,9})\n", stderr)}
    eends = {int(m.group(1)): m for m in re.finditer(nb + rb" E (\d{1,9})\n", stderr)}
    results = []
    for i in range(count):
        b, e = begins.get(i), ends.get(i)
        if b is None:
            results.append(StepResult(b"", b"", None, None, None, False, batch_timed_out, False))
            continue
        out = stdout[b.end() : e.start()] if e else stdout[b.end() :]
        if e is None:
            nxt = begins.get(i + 1)
            out = stdout[b.end() : nxt.start()] if nxt else out
        eb, ee = ebegins.get(i), eends.get(i)
        err = b""
        if eb is not None:
            err = stderr[eb.end() : ee.start()] if ee else stderr[eb.end() :]
            if ee is None and (enxt := ebegins.get(i + 1)) is not None:
                err = stderr[eb.end() : enxt.start()]
        truncated = len(out) > cap
        invalid: dict[str, str] = {}
        started, bad = hostvalues.clock(b.group(2))
        if bad is not None:
            invalid["started"] = bad
        finished, code = None, None
        if e is not None:
            finished, bad = hostvalues.clock(e.group(3))
            if bad is not None:
                invalid["finished"] = bad
            code, bad = hostvalues.exit_code(e.group(2))
            if bad is not None:
                invalid["exit_code"] = bad
        # 124 is timeout(1)'s "timed out"; 137 when -k had to kill it.
        timed_out = (e is None and batch_timed_out) or (code in (124, 137) and not truncated)
        results.append(
            StepResult(
                stdout=out[:cap],
                stderr=err[:cap],
                exit_code=None if timed_out else code,
                started=started,
                finished=finished,
                truncated=truncated,
                timed_out=timed_out,
                ran=True,
                stderr_truncated=len(err) > cap,
                invalid=invalid,
            )
        )
    return results
