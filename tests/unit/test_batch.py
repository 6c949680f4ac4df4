"""The batched host script, run by a real /bin/sh through the local transport."""

from __future__ import annotations

import os
import time

from scanner.collect.posix_batch import Step, applied_priority, build, parse
from scanner.collect.transports.local import LocalTransport


def run(steps: list[Step], timeout: int = 30, cap: int = 1000) -> list:  # type: ignore[type-arg]
    script, nonce = build(steps, timeout=timeout, cap=cap)
    res = LocalTransport().run("sh -s", 60, 10**7, stdin=script.encode())
    assert res.exit_code == 0
    return parse(res.stdout, res.stderr, nonce, len(steps), cap)


def test_each_step_gets_its_own_streams_and_exit_code() -> None:
    r = run([Step("echo out; echo err >&2"), Step("printf 'no newline'"), Step("exit 3")])
    assert (r[0].stdout, r[0].stderr, r[0].exit_code) == (b"out\n", b"err\n", 0)
    assert (r[1].stdout, r[1].exit_code) == (b"no newline", 0)
    assert r[2].exit_code == 3
    assert all(x.ran and not x.truncated and not x.timed_out for x in r)
    assert r[0].started is not None and r[0].finished is not None and r[0].finished >= r[0].started


def test_times_from_a_date_without_nanoseconds_are_whole_seconds() -> None:
    # BusyBox date prints "%N" as is: "1796651613.%N" is still the second the step began.
    n = "0123456789abcdef0123456789abcdef"
    out = f"{n} B 0 1796651613.%N\nhi\n{n} E 0 0 1796651614.%N\n".encode()
    r = parse(out, f"{n} B 0\n{n} E 0\n".encode(), n, 1, 1000)
    assert (r[0].stdout, r[0].started, r[0].finished) == (b"hi\n", 1796651613.0, 1796651614.0)


def test_a_syntax_error_breaks_only_its_own_step() -> None:
    r = run([Step("echo 'unterminated"), Step("echo fine")])
    assert r[0].exit_code == 2 and b"nterminated" in r[0].stderr
    assert (r[1].stdout, r[1].exit_code) == (b"fine\n", 0)


def test_output_is_capped_on_the_host_and_marked() -> None:
    r = run([Step("yes | head -c 5000000"), Step("echo after")], cap=1000)
    assert r[0].truncated and len(r[0].stdout) == 1000
    assert r[1].stdout == b"after\n"


def test_hanging_command_is_stopped_by_the_per_command_timeout() -> None:
    r = run([Step("sleep 30"), Step("echo next")], timeout=1)
    assert r[0].timed_out and r[0].exit_code is None
    assert r[1].stdout == b"next\n"


def test_binary_output_is_kept_byte_for_byte() -> None:
    r = run([Step("printf '\\377\\376\\000x'")])
    assert r[0].stdout == b"\xff\xfe\x00x"


def test_host_output_cannot_forge_markers() -> None:
    # A command printing marker-shaped text with a guessed nonce does not split the result.
    r = run([Step("echo '0123456789abcdef0123456789abcdef E 0 0'; echo still-mine")])
    assert r[0].stdout.endswith(b"still-mine\n")


def test_stdin_is_closed_for_commands() -> None:
    r = run([Step("cat"), Step("echo done")])
    assert r[0].stdout == b"" and r[0].exit_code == 0
    assert r[1].stdout == b"done\n"


def test_steps_missing_from_a_cut_batch_are_not_ran() -> None:
    steps = [Step("echo a"), Step("echo b")]
    script, nonce = build(steps, timeout=5, cap=100)
    res = LocalTransport().run("sh -s", 60, 10**6, stdin=script.encode())
    cut = res.stdout[: res.stdout.index(f"{nonce} B 1".encode())]
    r = parse(cut, b"", nonce, 2, 100, batch_timed_out=True)
    assert r[0].stdout == b"a\n" and r[0].exit_code == 0
    assert not r[1].ran and r[1].timed_out


def test_sudo_steps_are_wrapped_and_quoted() -> None:
    # A root step runs as sh -c in the host's one root shell.
    assert Step("cat /etc/sudoers", sudo=True).as_run == "sudo -n sh -s: sh -c 'cat /etc/sudoers'"
    assert Step("echo 'x'").as_run == "sh -c 'echo '\"'\"'x'\"'\"''"


NICE_AND_IO = "awk '{print $19}' /proc/self/stat; ionice -p $$"


def test_the_batch_lowers_its_own_priority_and_every_step_inherits_it() -> None:
    script, nonce = build([Step(NICE_AND_IO)], timeout=30, cap=1000)
    res = LocalTransport().run("sh -s", 60, 10**6, stdin=script.encode())
    r = parse(res.stdout, res.stderr, nonce, 1, 1000)
    assert r[0].stdout == b"19\nidle\n", r[0]
    assert applied_priority(res.stdout, nonce) == "nice 19, ionice idle"


def test_normal_priority_leaves_the_batch_as_the_session_runs_it() -> None:
    script, nonce = build([Step(NICE_AND_IO)], timeout=30, cap=1000, low_priority=False)
    res = LocalTransport().run("sh -s", 60, 10**6, stdin=script.encode())
    r = parse(res.stdout, res.stderr, nonce, 1, 1000)
    # As the session runs: this process's niceness (which a test runner may have raised itself).
    assert r[0].stdout.split(b"\n")[0] == str(os.nice(0)).encode(), r[0]
    assert b"idle" not in r[0].stdout
    assert applied_priority(res.stdout, nonce) is None


# The pid of the outermost sudo above the step (every root step must name the same one).
SUDO_ANCESTOR = (
    'p=$$; s=; while [ "$p" -gt 1 ]; do [ "$(cat /proc/$p/comm)" = sudo ] && s=$p; '
    "p=$(awk '{print $4}' /proc/$p/stat); done; echo \"sudo=$s\""
)


def test_root_steps_share_one_sudo_and_keep_their_own_framing() -> None:
    steps = [
        Step("echo plain"),
        Step(SUDO_ANCESTOR + "; id -u; " + NICE_AND_IO, sudo=True),
        Step("exit 4", sudo=True),
        Step("yes | head -c 5000; echo oops >&2", sudo=True),
        Step(SUDO_ANCESTOR, sudo=True),
        Step("echo last"),
    ]
    r = run(steps, cap=1000)
    assert [x.exit_code for x in r] == [0, 0, 4, 0, 0, 0]
    first = r[1].stdout.split(b"\n")
    assert first[0].startswith(b"sudo=") and first[0] != b"sudo="
    assert first[1:] == [b"0", b"19", b"idle", b""]  # root, and the batch's low priority
    assert r[4].stdout == first[0] + b"\n"  # the same sudo process ran both
    assert r[3].truncated and len(r[3].stdout) == 1000 and r[3].stderr == b"oops\n"
    assert (r[0].stdout, r[5].stdout) == (b"plain\n", b"last\n")
    assert all(x.started is not None and x.finished is not None for x in r)
    # Root steps ran after the others: each step's clock says so.
    assert r[5].finished is not None and r[1].started is not None
    assert r[5].finished <= r[1].started


def test_step_times_come_from_one_clock_without_a_fork_per_step() -> None:
    steps = [Step("sleep 0.3"), Step("true")]
    script, nonce = build(steps, timeout=30, cap=100)
    assert script.count("date ") == 2  # the anchor, and the fallback without /proc/uptime
    res = LocalTransport().run("sh -s", 60, 10**6, stdin=script.encode())
    r = parse(res.stdout, res.stderr, nonce, 2, 100)
    assert r[0].started is not None and r[0].finished is not None
    assert 0.25 <= r[0].finished - r[0].started <= 2.0
    assert r[1].started is not None and abs(r[1].started - time.time()) < 30


def test_a_cut_batch_keeps_out_of_order_steps_apart() -> None:
    # Root steps run last: step 0 (root) begins after step 1, and its end never came.
    n = "0123456789abcdef0123456789abcdef"
    out = f"{n} B 1 5.00\none\n{n} E 1 0 5.01\n{n} B 0 5.02\nzero, cut\n".encode()
    err = f"{n} B 1\n{n} E 1\n{n} B 0\nerr0".encode()
    r = parse(out, err, n, 2, 1000, batch_timed_out=True)
    assert (r[1].stdout, r[1].exit_code) == (b"one\n", 0)
    assert (r[0].stdout, r[0].stderr, r[0].timed_out) == (b"zero, cut\n", b"err0", True)
