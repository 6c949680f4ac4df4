"""CPU time of a process tree, daemons included, from a kernel cgroup (for the benchmarks).

``getrusage(RUSAGE_CHILDREN)`` misses processes that detach (ansible's ControlPersist ssh
masters, which do the encryption of every task) and everything on the far side of an SSH
connection. A cgroup does not: a process put in one stays there with every descendant, however
it detaches, and the kernel counts their CPU time — running or exited. The bench puts each
fleet sshd in a "target" group (so every session, shell, sudo and command a contender causes on
the hosts is counted) and each contender in a "controller" group.

Works with cgroup v1's ``cpuacct`` controller (``cpuacct.usage``, ns) or cgroup v2 (``cpu.stat``
``usage_usec``); needs root. Under ``ip netns exec`` (which mounts a fresh ``/sys`` without
the cgroup file systems) the hierarchy is mounted on a temporary folder for the bench's life.
:func:`open_group` returns None where neither can be had.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

_V1 = (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/cpu,cpuacct"))
_V2 = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))


class CPUGroup:
    """One cgroup made for the bench; :meth:`close` moves what is left out and removes it."""

    def __init__(self, path: Path, v2: bool, mounted: Path | None = None) -> None:
        self.path = path
        self._v2 = v2
        self._mounted = mounted
        self._parent_procs = path.parent / "cgroup.procs"

    @property
    def kind(self) -> str:
        return "cgroup v2 cpu.stat" if self._v2 else "cgroup v1 cpuacct"

    def add(self, pid: int) -> None:
        """Move ``pid`` (and the children it forks from now on) into this group."""
        (self.path / "cgroup.procs").write_text(f"{pid}\n")

    def pids(self) -> set[int]:
        text = (self.path / "cgroup.procs").read_text()
        return {int(x) for x in text.split()}

    def seconds(self) -> float:
        """CPU seconds (user + system) of everything that ever ran in the group."""
        if self._v2:
            for line in (self.path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
            raise RuntimeError(f"no usage_usec in {self.path / 'cpu.stat'}")
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def settle(self, keep: set[int], timeout: float = 15.0) -> bool:
        """Wait until only ``keep`` is left in the group (sessions ended); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pids() - keep:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            for pid in self.pids():
                with contextlib.suppress(OSError):
                    self._parent_procs.write_text(f"{pid}\n")
        with contextlib.suppress(OSError):
            self.path.rmdir()
        if self._mounted is not None:
            subprocess.run(["umount", str(self._mounted)], check=False, capture_output=True)
            with contextlib.suppress(OSError):
                self._mounted.rmdir()


def open_group(name: str) -> CPUGroup | None:
    """A fresh group ``name``-PID under the first writable cpu accounting hierarchy, or None."""
    leaf = f"{name}-{os.getpid()}"
    for root in _V1:
        if (root / "cpuacct.usage").is_file():
            with contextlib.suppress(OSError):
                (root / leaf).mkdir()
                return CPUGroup(root / leaf, v2=False)
    for root in _V2:
        if (root / "cgroup.controllers").is_file():
            with contextlib.suppress(OSError):
                (root / leaf).mkdir()
                if (root / leaf / "cpu.stat").is_file():
                    return CPUGroup(root / leaf, v2=True)
                (root / leaf).rmdir()
    for fstype, opts, v2 in (("cgroup", ["-o", "cpuacct"], False), ("cgroup2", [], True)):
        mnt = Path(tempfile.mkdtemp(prefix="e8bench-cg-"))
        done = subprocess.run(
            ["mount", "-t", fstype, *opts, "e8bench", str(mnt)], check=False, capture_output=True
        )
        if done.returncode == 0:
            with contextlib.suppress(OSError):
                (mnt / leaf).mkdir()
                if (mnt / leaf / ("cpu.stat" if v2 else "cpuacct.usage")).is_file():
                    return CPUGroup(mnt / leaf, v2=v2, mounted=mnt)
                (mnt / leaf).rmdir()
            subprocess.run(["umount", str(mnt)], check=False, capture_output=True)
        with contextlib.suppress(OSError):
            mnt.rmdir()
    return None
