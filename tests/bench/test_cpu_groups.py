"""The bench's CPU accounting (tests/bench/cpu_groups.py) counts a process tree's CPU, a
detached grandchild's included (as ansible's ControlPersist ssh masters detach)."""

from __future__ import annotations

import subprocess
import time

from cpu_groups import open_group

# The child starts a detached, session-leading grandchild that counts to 150,000 in the shell
# (about 0.2 s of CPU here) and exits at once: only the group can still see the grandchild.
SPIN = "setsid sh -c 'i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done' &"


def test_a_detached_grandchild_is_counted() -> None:
    group = open_group("e8test-cpu")
    assert group is not None, "no writable cgroup cpu accounting (needs root)"
    try:
        before = group.seconds()
        started = time.monotonic()
        subprocess.run(
            ["sh", "-c", 'echo $$ > "$0"; ' + SPIN, str(group.path / "cgroup.procs")],
            check=True,
            timeout=10,
        )
        assert time.monotonic() - started < 0.25  # the child did not wait for the spinner
        assert group.settle(set(), timeout=10)
        assert group.seconds() - before >= 0.05
    finally:
        group.close()
    assert not group.path.exists()
