"""Run commands on this machine (``ansible_connection: local``), as ``make demo`` does."""

from __future__ import annotations

import getpass
import subprocess
import time

from scanner.collect.transports.base import Progress, RunResult


class LocalTransport:
    name = "local"

    @property
    def host_key(self) -> str | None:
        return None

    @property
    def user(self) -> str:
        return getpass.getuser()

    def connect(self) -> None:
        return None

    def run(
        self,
        command: str,
        timeout: float,
        max_output: int,
        stdin: bytes | None = None,
        max_stderr: int | None = None,
        progress: Progress | None = None,
    ) -> RunResult:
        """``progress`` is not watched here: this machine's own ``timeout(1)`` ends each step."""
        start = time.monotonic()
        max_err = max_output if max_stderr is None else max_stderr
        try:
            proc = subprocess.run(
                command,
                shell=True,
                input=stdin if stdin is not None else b"",
                capture_output=True,
                timeout=timeout,
                check=False,
                # Its own process group: a Ctrl-C at the terminal is the scan's to handle (stop
                # gracefully); it must not kill the host's commands, which would be recorded.
                process_group=0,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout or b""
            err = exc.stderr or b""
            return RunResult(
                out[:max_output], err[:max_err], None, time.monotonic() - start, timed_out=True
            )
        return RunResult(
            proc.stdout[:max_output],
            proc.stderr[:max_err],
            proc.returncode,
            time.monotonic() - start,
            truncated=len(proc.stdout) > max_output or len(proc.stderr) > max_err,
        )

    def close(self) -> None:
        return None
