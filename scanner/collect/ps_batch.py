"""One PowerShell batch per Windows host: every planned command, framed so each result can be cut out.

The batch goes to the host over the single WinRM shell as **stdin** of one ``powershell.exe``,
whose command line is only a short fixed bootstrap (``$input | Out-String``, then run it), so a
batch of any length never meets cmd.exe's 8,191-character command-line limit.

Each command (a PowerShell snippet, declared by a check) is carried base64-encoded (UTF-8) and run
by ``E8Step`` in its **own PowerShell instance** inside the same process, with a per-command
timeout (``BeginInvoke`` + ``WaitOne``; works on PowerShell 2.0). Output is framed on stdout, all
ASCII whatever the shell's code page::

    <nonce> B <i>
    <base64 of the step's output as UTF-8>
    <nonce> E <i> <rc> <base64 of the step's error records as UTF-8>

``rc`` is 0 when the step raised no error, 1 when it wrote error records or threw, 124 when it
timed out. Both texts are capped on the host (``$C``: the per-command cap plus one byte, so a cut
is visible) before they are encoded and sent. Non-ASCII text (user names, paths) survives any
code page because it travels as base64 of UTF-8. The WS-Man test server emulates this contract (tests/wsman/), since no
PowerShell runs on this project's machines.
"""

from __future__ import annotations

import base64
import re
import secrets

from scanner.collect.posix_batch import Frame, StepResult
from scanner.record import hostvalues

# Short on purpose: it is the only thing on the command line (UTF-16LE + base64 ≈ 2.7× longer).
BOOTSTRAP = "$s = $input | Out-String; & ([scriptblock]::Create($s))"

PREAMBLE = """\
$ProgressPreference = 'SilentlyContinue'
$ErrorActionPreference = 'Continue'
$N = '{nonce}'
$T = {timeout}
$C = {cap}
{priority}function E8Cap([string]$s) {{
  $b = [Text.Encoding]::UTF8.GetBytes($s)
  if ($b.Length -gt $C + 1) {{ $t = New-Object byte[] ($C + 1); [Array]::Copy($b, $t, $C + 1); $b = $t }}
  [Convert]::ToBase64String($b)
}}
function E8Step([int]$i, [string]$b64) {{
  [Console]::Out.Write("$N B $i`r`n")
  $out = ''; $err = ''; $rc = 0
  $ps = [PowerShell]::Create()
  try {{
    $code = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($b64))
    [void]$ps.AddScript("`$ProgressPreference = 'SilentlyContinue'`r`n" + $code)
    $h = $ps.BeginInvoke()
    if ($h.AsyncWaitHandle.WaitOne($T * 1000)) {{
      $out = ($ps.EndInvoke($h) | Out-String -Width 4096)
      if ($ps.Streams.Error.Count -gt 0) {{ $rc = 1; $err = ($ps.Streams.Error | Out-String -Width 4096) }}
    }} else {{
      [void]$ps.BeginStop($null, $null); $rc = 124; $err = "timed out after $T s"
    }}
  }} catch {{ $rc = 1; $err = $_.Exception.Message }}
  finally {{ $ps.Dispose() }}
  $ob = E8Cap ([string]$out)
  $eb = E8Cap ([string]$err)
  [Console]::Out.Write("$ob`r`n$N E $i $rc $eb`r`n")
}}
"""


# ``e8_target_priority: low`` (the default): the batch's powershell.exe (every step runs in it)
# lowers its own priority class first; the host reports what it holds on a ``<nonce> P …`` line.
PRIORITY = """\
try {{ [System.Diagnostics.Process]::GetCurrentProcess().PriorityClass = \
[System.Diagnostics.ProcessPriorityClass]::BelowNormal }} catch {{ }}
[Console]::Out.Write("$N P priority class " + \
[System.Diagnostics.Process]::GetCurrentProcess().PriorityClass + "`r`n")
"""
LOWER_PRIORITY = (
    "[System.Diagnostics.Process]::GetCurrentProcess().PriorityClass = 'BelowNormal'",
)


def command_line() -> str:
    """The fixed powershell.exe command line that reads the batch from stdin."""
    encoded = base64.b64encode(BOOTSTRAP.encode("utf-16-le")).decode("ascii")
    return f"powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand {encoded}"


def build(
    commands: list[str],
    timeout: int,
    cap: int = 1 << 20,
    low_priority: bool = True,
    frame: Frame | None = None,
) -> tuple[str, str]:
    """The stdin script for ``commands`` and its nonce; each step's output and error text are
    cut on the host after ``cap`` + 1 bytes; ``low_priority`` lowers the process's priority
    class to BelowNormal first. ``frame`` (the field kit's) wraps each step."""
    nonce = secrets.token_hex(16)
    priority = PRIORITY.format() if low_priority else ""
    parts = [PREAMBLE.format(nonce=nonce, timeout=int(timeout), cap=int(cap), priority=priority)]
    for i, cmd in enumerate(commands):
        b64 = base64.b64encode(cmd.encode("utf-8")).decode("ascii")
        text = f"E8Step {i} '{b64}'\r\n"
        parts.append(frame(i, text) if frame is not None else text)
    return "".join(parts), nonce


def _b64(text: bytes) -> bytes:
    try:
        return base64.b64decode(re.sub(rb"\s+", b"", text), validate=True)
    except ValueError:
        return text  # not what E8Step writes: keep the raw bytes as evidence


def parse(
    stdout: bytes, nonce: str, count: int, cap: int, batch_timed_out: bool = False
) -> list[StepResult]:
    """Cut the framed stdout back into one result per step (same shape as the POSIX batch).

    The exit code is checked like the POSIX batch's: an impossible one is kept as text."""
    nb = re.escape(nonce.encode())
    begins = {int(m.group(1)): m for m in re.finditer(nb + rb" B (\d{1,9})\r?\n", stdout)}
    ends = {
        int(m.group(1)): m for m in re.finditer(nb + rb" E (\d{1,9}) (\S+) ?(\S*)\r?\n", stdout)
    }
    results = []
    for i in range(count):
        b, e = begins.get(i), ends.get(i)
        if b is None:
            results.append(StepResult(b"", b"", None, None, None, False, batch_timed_out, False))
            continue
        if e is None:
            results.append(StepResult(b"", b"", None, None, None, False, batch_timed_out, True))
            continue
        out = _b64(stdout[b.end() : e.start()])
        err = _b64(e.group(3))
        code, bad = hostvalues.exit_code(e.group(2))
        timed_out = code == 124
        results.append(
            StepResult(
                stdout=out[:cap],
                stderr=err[:cap],
                exit_code=None if timed_out else code,
                started=None,
                finished=None,
                truncated=len(out) > cap,
                timed_out=timed_out,
                ran=True,
                stderr_truncated=len(err) > cap,
                invalid={} if bad is None else {"exit_code": bad},
            )
        )
    return results
