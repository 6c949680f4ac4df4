"""Host values that cannot be what they claim, and host/file text on the terminal.

A host's clock may print ``1e300``, ``nan`` or ``-99999999999``, a hostile shell may frame any exit
code or step number; a results file or a history may carry terminal escapes in a run id or host
name. Each number is checked where it enters the raw record (kept as text when impossible, the
host flagged); each terminal line built from such data is escaped. The sshd end of both is
tests/e2e/test_hostile_hosts.py; these are the pieces and the file paths (``rescore`` of a
hand-made raw.json, ``history``, ``diff``, ``plan``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from builders import T0, linux_host
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.collect import posix_batch, ps_batch
from scanner.model.terminal import printable, printable_lines
from scanner.model.vocabulary import Reach
from scanner.record import hostvalues
from scanner.record.raw import CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.report.files import write_json_atomic

REPO = Path(__file__).resolve().parents[2]
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e]")


def e8(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("E8_TEST")}
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


# -- the checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("1763600000.123456789", (1763600000.123456789, None)),
        ("1763600000.N", (1763600000.0, None)),  # date(1) without %N
        ("0", (0.0, None)),  # an RTC reset to the epoch is a (wrong) time, not an impossible one
        ("", (None, None)),
        ("1e300", (None, "1e300")),
        ("nan", (None, "nan")),
        ("inf", (None, "inf")),
        ("-99999999999", (None, "-99999999999")),
        ("253402300800", (None, "253402300800")),  # year 10000
        ("Thu Jan  1 00:00:00 UTC 1970", (None, "Thu Jan  1 00:00:00 UTC 1970")),
    ],
)
def test_clock_readings(printed: str, expected: tuple[float | None, str | None]) -> None:
    assert hostvalues.clock(printed.encode()) == expected


def test_a_long_impossible_value_is_kept_short_and_never_parsed() -> None:
    value, text = hostvalues.clock("9" * 50_000)  # int() of it would raise past 4,300 digits
    assert value is None and text is not None and len(text) == hostvalues.TEXT_MAX
    code, text = hostvalues.exit_code("9" * 50_000)
    assert code is None and text is not None and len(text) == hostvalues.TEXT_MAX


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("0", (0, None)),
        ("255", (255, None)),
        ("-1073741819", (-1073741819, None)),  # a Windows NTSTATUS, signed
        ("3221225477", (3221225477, None)),  # the same, unsigned
        ("99999999999999999999", (None, "99999999999999999999")),
        ("1.5", (None, "1.5")),
        ("abc", (None, "abc")),
    ],
)
def test_exit_codes(printed: str, expected: tuple[int | None, str | None]) -> None:
    assert hostvalues.exit_code(printed) == expected


@settings(derandomize=True, max_examples=300)
@given(st.one_of(st.floats(), st.integers(), st.text(max_size=80), st.binary(max_size=80)))
def test_whatever_a_host_prints_is_a_usable_time_or_kept_text(value: object) -> None:
    t, text = hostvalues.clock(value)
    if t is not None:
        assert text is None
        datetime.fromtimestamp(t, UTC).isoformat()  # what the writers do with it
    if text is not None:
        assert t is None and len(text) <= hostvalues.TEXT_MAX


# -- the collector's parse -----------------------------------------------------------------------


def _frames(nonce: str, rc: str, clock: str) -> tuple[bytes, bytes]:
    n = nonce.encode()
    out = b"%s B 0 %s\nhello\n%s E 0 %s %s\n" % (n, clock.encode(), n, rc.encode(), clock.encode())
    err = b"%s B 0\n%s%s E 0\n" % (n, b"e" * 5000, n)
    return out, err


def test_a_hostile_batch_frame_becomes_text_not_a_crash() -> None:
    nonce = "ab" * 16
    out, err = _frames(nonce, "9" * 5000, "1e300")
    # A step number with thousands of digits is no step of ours: ignored, never int()-ed.
    out += b"%s B %s x\n" % (nonce.encode(), b"7" * 5000)
    [step] = posix_batch.parse(out, err, nonce, 1, cap=1000)
    assert step.stdout == b"hello\n" and step.exit_code is None and step.started is None
    assert step.invalid == {"started": "1e300", "finished": "1e300", "exit_code": "9" * 63 + "…"}
    assert step.stderr == b"e" * 1000 and step.stderr_truncated and not step.truncated


_NONCE = "ef" * 16
_PIECES = st.sampled_from(
    [f"{_NONCE} B 0 ", f"{_NONCE} E 0 ", f"{_NONCE} B 1\n", f"{_NONCE} E 1 ", "\n", "\r\n", " "]
).map(str.encode)
_STREAM = st.lists(st.one_of(_PIECES, st.binary(max_size=12)), max_size=12).map(b"".join)


@settings(derandomize=True, max_examples=300)
@given(_STREAM, _STREAM)
def test_no_batch_output_a_host_can_send_breaks_the_parse(stdout: bytes, stderr: bytes) -> None:
    for r in posix_batch.parse(stdout, stderr, _NONCE, 2, cap=8):
        c = CommandRecord(
            command="x",
            as_run="x",
            checks=[],
            stdout=r.stdout,
            stderr=r.stderr,
            exit_code=r.exit_code,
            started=r.started,
            finished=r.finished,
            invalid=r.invalid,
        )
        for t in (c.started, c.finished):
            assert t is None or datetime.fromtimestamp(t, UTC)
    for r in ps_batch.parse(stdout, _NONCE, 2, cap=8):
        assert len(r.stdout) <= 8 and len(r.stderr) <= 8


def test_powershell_frames_are_checked_and_capped_too() -> None:
    nonce = "cd" * 16
    b64 = ps_batch.base64.b64encode
    out = b"%s B 0\r\n%s\r\n%s E 0 %s %s\r\n" % (
        nonce.encode(),
        b64(b"ok"),
        nonce.encode(),
        b"1" * 40,
        b64(b"E" * 3000),
    )
    [step] = ps_batch.parse(out, nonce, 1, cap=1000)
    assert (
        step.stdout == b"ok" and step.exit_code is None and step.invalid == {"exit_code": "1" * 40}
    )
    assert step.stderr == b"E" * 1000 and step.stderr_truncated
    script, _ = ps_batch.build(["Get-Date"], 30, cap=4096)
    assert "$C = 4096" in script and "E8Cap" in script


# -- the raw record ------------------------------------------------------------------------------


def test_a_command_record_keeps_impossible_values_as_text() -> None:
    c = CommandRecord(
        command="date",
        as_run="sh -c date",
        checks=[],
        started=float("nan"),
        finished=1e300,
        exit_code=10**40,
    )
    assert (c.started, c.finished, c.exit_code) == (None, None, None)
    assert c.invalid == {"started": "nan", "finished": "1e+300", "exit_code": str(10**40)}
    ok = CommandRecord(command="date", as_run="sh -c date", checks=[], started=1.5, exit_code=0)
    assert ok.started == 1.5 and ok.invalid == {}
    host = linux_host("hmi1", Reach.OK).model_copy(update={"commands": [c, ok]})
    again = HostRecord.model_validate_json(host.model_dump_json())  # as raw.json is read
    assert again.commands[0].invalid == c.invalid
    assert len([n for n in again.notes if "impossible values" in n]) == 1


def _hand_made_raw(path: Path) -> Path:
    """A raw.json as an older e8scan wrote it for a host with a broken clock (and a hostile
    reach detail on another), plus a healthy host."""
    good = CommandRecord(command="true", as_run="sh -c true", checks=[], started=1.7e9, exit_code=0)
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id="r1", started=T0, finished=T0, inventory=[], target_level=1, checks=[]),
        hosts=[
            linux_host("hmi1", Reach.OK).model_copy(update={"commands": [good]}),
            linux_host("ok1", Reach.OK).model_copy(update={"commands": [good]}),
            linux_host("gone", Reach.ERROR, detail="\x1b]0;pwned\x07\x1b[2Jfake"),
        ],
    )
    write_json_atomic(path, raw, "hosts")
    doc = json.loads(path.read_text())
    cmd = doc["hosts"][0]["commands"][0]
    cmd.update(started=1e300, finished=-99999999999, exit_code=10**30)
    path.write_text(json.dumps(doc))
    return path


def test_rescore_of_a_raw_record_with_an_impossible_clock_writes_every_report(
    tmp_path: Path,
) -> None:
    raw = _hand_made_raw(tmp_path / "raw.json")
    out = tmp_path / "out"
    proc = e8("rescore", str(raw), "--out", str(out))
    assert proc.returncode == 4, proc.stderr  # "gone" has no visibility; never 1
    assert (out / "e8-report.xlsx").is_file()
    results = {h["name"]: h for h in json.loads((out / "results.json").read_text())["hosts"]}
    assert any("impossible values" in n for n in results["hmi1"]["notes"])
    assert not any("impossible values" in n for n in results["ok1"]["notes"])
    # The summary printed the hostile reach detail escaped, never raw.
    assert "\\x1b]0;pwned\\x07\\x1b[2Jfake" in proc.stdout
    assert not RAW_CONTROL.search(proc.stdout + proc.stderr)


# -- the terminal --------------------------------------------------------------------------------


def test_printable_escapes_every_control_and_keeps_text() -> None:
    assert printable("web01 (Zoë, 東京)") == "web01 (Zoë, 東京)"
    assert printable("\x1b]0;t\x07\x1b[2J\r\x9b\u202e\ud800\x7f") == (
        "\\x1b]0;t\\x07\\x1b[2J\\x0d\\u009b\\u202e\\ud800\\u007f"
    )
    assert printable("a\tb") == "a\\x09b" and printable("a\tb", tabs=True) == "a\tb"
    assert printable_lines("one\x1b\ntwo\tcols") == "one\\x1b\ntwo\tcols"
    assert printable(printable("\x1b")) == printable("\x1b")  # idempotent


@settings(derandomize=True, max_examples=300)
@given(st.text())
def test_escaped_json_is_still_the_same_json(text: str) -> None:
    """``diff --json`` goes through the same filter: JSON with raw DEL, C1 or format characters
    (pydantic writes them unescaped) stays valid JSON with the same value."""
    doc = json.dumps({"v": text}, ensure_ascii=False)
    shown = printable_lines(doc)
    assert all(c.isprintable() or c == "\n" for c in shown)
    assert json.loads(shown) == {"v": text}


def test_history_and_diff_escape_run_ids_and_host_names(tmp_path: Path) -> None:
    from builders import scored

    from scanner.runs.history import History

    hostile = "web\x1b[2J\x1b]0;pwned\x07"
    first = scored([linux_host(hostile, Reach.OK)], [])
    first = first.model_copy(update={"run": first.run.model_copy(update={"id": "r1\x1b[31m"})})
    second = scored([linux_host(hostile, Reach.ERROR, detail="down \x1b[2J")], [])
    second = second.model_copy(update={"run": second.run.model_copy(update={"id": "r2\u202e"})})
    hist = tmp_path / "h.sqlite"
    with History.open(hist) as h:
        h.add(first)
        h.add(second)
    listing = e8("history", "--history", str(hist))
    trend = e8("history", "--history", str(hist), "--host", hostile)
    diff = e8("diff", "r1\x1b[31m", "r2\u202e", "--history", str(hist))
    for proc in (listing, trend, diff):
        assert proc.returncode in (0, 5), proc.stderr
        assert not RAW_CONTROL.search(proc.stdout + proc.stderr), proc.stdout
    assert "r1\\x1b[31m" in listing.stdout and "r2\\u202e" in listing.stdout
    assert "web\\x1b[2J" in trend.stdout and "web\\x1b[2J" in diff.stdout
    assert diff.returncode == 5 and "down \\x1b[2J" in diff.stdout


def test_inventory_names_are_escaped_in_plan_inventory_and_errors(tmp_path: Path) -> None:
    def inventory(name: str) -> Path:
        inv = tmp_path / "site.yml"
        hosts = {"all": {"hosts": {name: {"ansible_connection": "local"}}}}
        inv.write_text(json.dumps(hosts))  # JSON is YAML; the escapes are YAML escapes
        return inv

    inv = inventory("hmi\x1b]0;x\x07\x1bc")  # window title, then ESC c: reset the terminal
    for args in (["plan", "-i", str(inv)], ["inventory", "-i", str(inv)]):
        proc = e8(*args)
        assert proc.returncode == 0, proc.stderr
        assert "hmi\\x1b]0;x\\x07\\x1bc" in proc.stdout
        assert not RAW_CONTROL.search(proc.stdout.replace("\t", " ") + proc.stderr), proc.stdout
    # An error message quoting the file's text is escaped the same way.
    proc = e8("plan", "-i", str(inventory("hmi\x1b[2J")))
    assert proc.returncode == 1 and "hmi\\x1b[2J" in proc.stderr
    assert not RAW_CONTROL.search(proc.stdout + proc.stderr), proc.stderr
