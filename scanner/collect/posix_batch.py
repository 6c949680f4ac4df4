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

Light on the host (issue 15): the batch first lowers its own scheduling priority
(:data:`PRIORITY`); the root steps run after the others in one ``sudo -n sh -s`` (:data:`ROOT`),
framed the same way; a step's clock is the kernel's uptime read by the shell's ``read`` builtin
(:data:`CLOCK`), so timing a step starts no process. Markers, on the batch's stdout::

    <nonce> P <what the host applied>       once, when the priority is lowered
    <nonce> T <epoch> <uptime>              once: the clock's anchor
    <nonce> B <i> <uptime>                  step i begins (plan index; root steps come last)
    <nonce> E <i> <rc> <uptime>             step i ended with exit status rc

and ``<nonce> B <i>`` / ``<nonce> E <i>`` around the step's stderr on the batch's stderr.
"""

from __future__ import annotations

import bisect
import re
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from scanner.record import hostvalues
from scanner.record.raw import CommandRecord

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
PRIORITY = """\
E8P=
if command -v renice >/dev/null 2>&1 && renice -n 19 -p $$ >/dev/null 2>&1; then E8P='nice 19'; \\
else E8P='nice unchanged (no renice)'; fi
if command -v ionice >/dev/null 2>&1 && ionice -c3 -p $$ >/dev/null 2>&1; then \\
E8P="$E8P, ionice idle"; else E8P="$E8P, io priority unchanged (no ionice)"; fi
printf '%s P %s\\n' "$N" "$E8P"
"""

# The clock without a fork: ``e8c`` reads the kernel's uptime with the shell's own ``read``
# (a builtin: no process is started), once at each step's start and end. One ``date`` per batch
# anchors it to the wall clock on a ``<nonce> T <epoch> <uptime>`` line (BusyBox ``date`` has no
# %N: the anchor is then whole seconds, the steps' durations still 1/100 s). Without
# /proc/uptime each reading is a ``date`` of its own, and the markers carry the epoch directly.
CLOCK = """\
if [ -r /proc/uptime ] && read -r E8U _ </proc/uptime; then
e8c() {{ read -r E8U _ </proc/uptime || E8U=; }}
{anchor}else
e8c() {{ E8U=$(date +%s.%N 2>/dev/null); }}
fi
"""
ANCHOR = """printf '%s T %s %s\\n' "$N" "$(date +%s.%N 2>/dev/null)" "$E8U"
"""

# The command's stdout (fd 5 → head → fd 3) and stderr (→ head → fd 2) are capped on the host;
# past the stderr cap the rest is drained (cat >/dev/null), so the command runs to its end. Its
# exit status comes back on fd 4; the command itself gets neither fd 3 nor fd 4.
STEP = """\
e8c; printf '%s B {i} %s\\n' "$N" "$E8U"; printf '%s B {i}\\n' "$N" >&2
rc=$( {{ {{ {{ $E8T {run} </dev/null 2>&1 >&5 5>&- 3>&- 4>&-; echo $? >&4; }} |
  {{ head -c {cap1} >&2; cat >/dev/null; }}; }} 5>&1 | head -c {cap1} >&3; }} 4>&1 )
e8c; printf '%s E {i} %s %s\\n' "$N" "${{rc:-255}}" "$E8U"; printf '%s E {i}\\n' "$N" >&2
"""

# The root steps: one ``sudo -n sh -s`` per host whose script (a quoted here-document: sudo logs
# one ``sh -s``, and no script text reaches a command line) frames them exactly like the others.
# Its first act is a ``<nonce> S`` line on stderr. ``e8root`` reads sudo's stderr up to that line:
# once it is seen the shell runs, and the rest is passed on as is (``cat``); if it never comes,
# sudo refused (or is missing), and every root step gets what sudo said and its exit status, as
# one sudo per step used to. The root shell's whole life is bounded by ``timeout`` too.
ROOT = """\
e8root() {{
E8M=; E8RC=1
while IFS= read -r E8L; do
case "$E8L" in
"$N S") if [ -n "$E8M" ]; then printf '%s\\n' "$E8M" >&2; fi; exec cat >&2 ;;
"$N R "*) E8RC=${{E8L#"$N R "}} ;;
*) E8M="${{E8M:+$E8M
}}$E8L" ;;
esac
done
for i in {indices}; do
e8c; printf '%s B %s %s\\n' "$N" "$i" "$E8U"; printf '%s B %s\\n' "$N" "$i" >&2
if [ -n "$E8M" ]; then printf '%s\\n' "$E8M" >&2; fi
e8c; printf '%s E %s %s %s\\n' "$N" "$i" "$E8RC" "$E8U"; printf '%s E %s\\n' "$N" "$i" >&2
done
}}
if command -v timeout >/dev/null 2>&1; then E8TR="timeout -k 2 {life}"; else E8TR=; fi
{{ $E8TR sudo -n sh -s <<'{eof}' || printf '%s R %s\\n' "$N" "$?" >&2
N={nonce}
printf '%s S\\n' "$N" >&2
{inner}exit 0
{eof}
}} 2>&1 >&3 3>&- | e8root
"""


ROOT_SHELL = "sudo -n sh -s"


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
    def shell(self) -> str:
        """The step as its shell runs it: ``sh -c '<line>'``."""
        return f"sh -c {shlex.quote(self.line)}"

    @property
    def as_run(self) -> str:
        """What ran: a root step runs in the host's one root shell (``sudo -n sh -s``)."""
        if self.verbatim:
            return self.line
        return f"{ROOT_SHELL}: {self.shell}" if self.sudo else self.shell


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

    def record(self, command: str, as_run: str, checks: list[str]) -> CommandRecord:
        """This result as the raw record keeps it, for the step declared as ``command``."""
        return CommandRecord(
            command=command,
            as_run=as_run,
            checks=checks,
            stdout=self.stdout,
            stderr=self.stderr,
            exit_code=self.exit_code,
            started=self.started,
            finished=self.finished,
            truncated=self.truncated,
            stderr_truncated=self.stderr_truncated,
            timed_out=self.timed_out,
            ran=self.ran,
            invalid=self.invalid,
        )


Frame = Callable[[int, str], str]
"""Wraps step ``i``'s framed text in more script (the field kit seals each step's output)."""


def build(
    steps: list[Step],
    timeout: int,
    cap: int,
    low_priority: bool = True,
    frame: Frame | None = None,
) -> tuple[str, str]:
    """The script for ``steps`` and its nonce; ``low_priority`` lowers the batch's scheduling
    priority on the host first (see :data:`PRIORITY`).

    The steps that need no root run first, in plan order, then the root ones in the one root
    shell; every marker carries the step's plan index, so the order does not matter to
    :func:`parse`. ``frame`` (the field kit's) wraps each step; a kit runs its steps in plan
    order, each root one through its own ``sudo -n`` (an operator at the console, not a sweep)."""
    nonce = secrets.token_hex(16)
    parts = [f"N={nonce}\n", PREAMBLE.format(timeout=int(timeout))]
    if low_priority:
        parts.append(PRIORITY)
    parts.append(CLOCK.format(anchor=ANCHOR))
    root = [i for i, s in enumerate(steps) if s.sudo]
    for i, step in enumerate(steps):
        if frame is not None:
            run = step.line if step.verbatim else step.shell
            run = f"sudo -n {run}" if step.sudo else run
            parts.append(frame(i, STEP.format(i=i, run=run, cap1=cap + 1)))
        elif not step.sudo:
            parts.append(
                STEP.format(i=i, run=step.shell if not step.verbatim else step.line, cap1=cap + 1)
            )
    if root and frame is None:
        inner = [PREAMBLE.format(timeout=int(timeout)), CLOCK.format(anchor="")]
        inner += [STEP.format(i=i, run=steps[i].shell, cap1=cap + 1) for i in root]
        parts.append(
            ROOT.format(
                indices=" ".join(map(str, root)),
                life=len(root) * (int(timeout) + 3) + 30,
                eof=f"E8ROOT_{nonce}",
                nonce=nonce,
                inner="".join(inner),
            )
        )
    return "".join(parts), nonce


_PRIORITY_LINE = re.compile(rb" P ([ -~]{1,120})\r?\n")


def applied_priority(stdout: bytes, nonce: str) -> str | None:
    """What the host says it applied (``nice 19, ionice idle``), or None when it said nothing."""
    m = re.search(re.escape(nonce.encode()) + _PRIORITY_LINE.pattern, stdout)
    return m.group(1).decode("ascii") if m else None


_UPTIME = re.compile(rb"\d{1,12}(?:\.\d{1,9})?")


class _Clock:
    """Turns the clock reading in a marker into epoch seconds.

    With the batch's anchor line (``<nonce> T <epoch> <uptime>``) a reading is the kernel's
    uptime, and the step's time is the anchor's epoch plus the uptime since. Without it (no
    /proc/uptime, or a parse of an older batch) a reading is the epoch itself. An anchor whose
    epoch is impossible makes every reading impossible, kept as that text (hostvalues)."""

    def __init__(self, stdout: bytes, nonce: str) -> None:
        m = re.search(re.escape(nonce.encode()) + rb" T ([^ \n]*) ([^ \n]*)\n", stdout)
        self.anchored = m is not None
        self.wall: float | None = None
        self.bad: str | None = None
        self.up0: float | None = None
        if m is not None:
            self.wall, self.bad = hostvalues.clock(m.group(1))
            self.up0 = _uptime(m.group(2))
            if self.bad is None and self.up0 is None and self.wall is not None:
                self.bad = hostvalues.as_text(m.group(2))

    def read(self, value: bytes) -> tuple[float | None, str | None]:
        if not self.anchored:
            return hostvalues.clock(value)
        if not value.strip():
            return None, None
        if self.bad is not None:
            return None, self.bad
        up = _uptime(value)
        if up is None:
            return None, hostvalues.as_text(value)
        if self.wall is None or self.up0 is None:
            return None, None  # the host printed no wall clock (no date): no time to give
        return hostvalues.clock(self.wall + (up - self.up0))


def _uptime(value: bytes) -> float | None:
    text = value.strip()
    return float(text) if _UPTIME.fullmatch(text) else None


def _next_start(starts: list[int], after: int) -> int | None:
    """The first marker position past ``after`` (steps may run out of plan order)."""
    k = bisect.bisect_right(starts, after)
    return starts[k] if k < len(starts) else None


def parse(
    stdout: bytes, stderr: bytes, nonce: str, count: int, cap: int, batch_timed_out: bool = False
) -> list[StepResult]:
    """Cut the batch's streams back into one result per step.

    A step whose end marker never arrived (the batch timed out or the connection dropped)
    gets ``exit_code=None`` and what it printed up to the next step's begin marker; one whose
    begin marker never arrived gets ``ran=False``. Step numbers, exit codes and clock readings
    are checked: an impossible one is kept as text in ``invalid`` (the field is None), never
    turned into a number a writer would choke on.
    """
    nb = re.escape(nonce.encode())
    clock = _Clock(stdout, nonce)
    begins = {int(m.group(1)): m for m in re.finditer(nb + rb" B (\d{1,9}) ?([^\n]*)\n", stdout)}
    ends = {
        int(m.group(1)): m for m in re.finditer(nb + rb" E (\d{1,9}) (\S+) ?([^\n]*)\n", stdout)
    }
    ebegins = {int(m.group(1)): m for m in re.finditer(nb + rb" B (\d{1,9})\n", stderr)}
    eends = {int(m.group(1)): m for m in re.finditer(nb + rb" E (\d{1,9})\n", stderr)}
    starts = sorted(m.start() for m in begins.values())
    estarts = sorted(m.start() for m in ebegins.values())
    results = []
    for i in range(count):
        b, e = begins.get(i), ends.get(i)
        if b is None:
            results.append(StepResult(b"", b"", None, None, None, False, batch_timed_out, False))
            continue
        if e is not None:
            out = stdout[b.end() : e.start()]
        else:
            nxt = _next_start(starts, b.start())
            out = stdout[b.end() : nxt] if nxt is not None else stdout[b.end() :]
        eb, ee = ebegins.get(i), eends.get(i)
        err = b""
        if eb is not None:
            if ee is not None:
                err = stderr[eb.end() : ee.start()]
            else:
                enxt = _next_start(estarts, eb.start())
                err = stderr[eb.end() : enxt] if enxt is not None else stderr[eb.end() :]
        truncated = len(out) > cap
        invalid: dict[str, str] = {}
        started, bad = clock.read(b.group(2))
        if bad is not None:
            invalid["started"] = bad
        finished, code = None, None
        if e is not None:
            finished, bad = clock.read(e.group(3))
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
