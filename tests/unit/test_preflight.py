"""Every input and output path of a scan is validated before the first connection.

The inventory's one host is a loopback TCP listener that counts the connections it accepts; a
scan with good inputs reaches it (the control), and a scan with any bad input must exit 1 with
one line naming the file, line or option — and leave the count at zero and write nothing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli.main import main
from tests.faultservers import tcp_server
from tests.unit.test_cli_errors import e8, one_line_error, write

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Listener:
    """A host that only counts: every accepted connection is closed at once."""

    port: int = 0
    accepted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, conn: object, _n: int) -> None:
        with self.lock:
            self.accepted += 1
        conn.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    counter = Listener()
    with tcp_server("127.0.0.1", counter.handle) as port:
        counter.port = port
        yield counter


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, listener: Listener) -> Path:
    """An inventory of the listener, and a history holding one run of a good scan (the control:
    the same scan does connect when its inputs are good)."""
    base = tmp_path_factory.mktemp("site")
    write(
        base / "hosts.ini",
        f"[lin]\nh1 ansible_host=127.0.0.1 ansible_port={listener.port} ansible_user=e8\n",
    )
    before = listener.accepted
    proc = scan(base, "--history", base / "history.sqlite", "--out", base / "good")
    assert proc.returncode == 4, proc.stderr  # reached, but no SSH there: no visibility
    assert listener.accepted > before
    return base


def scan(base: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return e8(
        "scan",
        "-i",
        str(base / "hosts.ini"),
        "-q",
        "--connect-timeout",
        "2",
        *map(str, args),
        cwd=ROOT,
    )


def refused_before_any_connection(
    listener: Listener, out: Path, proc: subprocess.CompletedProcess[str], *needles: str
) -> None:
    before = listener.accepted
    one_line_error(proc, *needles)
    assert listener.accepted == before, "a host was contacted before the bad input was found"
    assert not (out / "raw.json").exists() and not (out / "journal.jsonl").exists()


def _foreign_sqlite(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER, owner TEXT)")
    conn.commit()
    conn.close()
    return path


BAD_EXCEPTIONS = (
    "exceptions:\n  - id: EX-1\n    hosts: '~('\n    controls: [ISM-1501]\n"
    "    approved: 2026-01-01\n    expires: 2026-06-01\n"
)
BAD_ATTESTATION = (
    "attestations:\n  - id: AT-1\n    controls: [ISM-1501]\n    owner: CISO\n"
    "    date: 9999-12-31\n    evidence: doc 4\n"
)


def _cases(base: Path) -> dict[str, tuple[list[str | Path], tuple[str, ...]]]:
    """name → (extra scan arguments, what the one error line must name)."""
    blocker = write(base / "a-file", "x")
    evidence = base / "evidence-full"
    write(evidence / "notes.txt", "someone's files")
    return {
        "exception register with a bad ~regex": (
            ["--exceptions", write(base / "ex.yml", BAD_EXCEPTIONS)],
            ("ex.yml:3", "hosts", "regular expression"),
        ),
        "attestation dated 9999-12-31": (
            ["--attestations", write(base / "at.yml", BAD_ATTESTATION)],
            ("at.yml:2", "9999-12-31"),
        ),
        "garbage history": (
            ["--history", write(base / "garbage.sqlite", "not a database at all\n")],
            ("garbage.sqlite", "not an e8scan history"),
        ),
        "foreign SQLite history": (
            ["--history", _foreign_sqlite(base / "foreign.sqlite")],
            ("foreign.sqlite", "not an e8scan history", "accounts"),
        ),
        "folder as history": (["--history", base], (str(base), "is a folder")),
        "baseline file missing": (
            ["--baseline", base / "nope.json", "--history", base / "history.sqlite"],
            ("--baseline", "nope.json", "not found"),
        ),
        "baseline run id unknown": (
            ["--baseline", "r-unknown", "--history", base / "history.sqlite"],
            ("history.sqlite", "no run 'r-unknown'"),
        ),
        "baseline last with --no-history": (
            ["--baseline", "last", "--no-history"],
            ("--baseline last", "--no-history"),
        ),
        "evidence folder not empty": (
            ["--evidence", evidence],
            ("evidence-full", "not empty"),
        ),
        "evidence path is a file": (["--evidence", blocker], ("a-file", "not a folder")),
        "sign key is not a key": (
            ["--evidence", base / "ev-signed", "--sign-key", write(base / "k.pem", "not a key\n")],
            ("k.pem", "not a PEM private key"),
        ),
        # a missing --sign-key (like any missing input file) is a usage error: test_cli_paths
        "sign key without evidence": (
            ["--sign-key", base / "k.pem"],
            ("--sign-key", "--evidence"),
        ),
        "html not writable": (["--html", blocker / "r.html"], ("--html", "r.html")),
        "html is a folder": (["--html", base], ("--html", "is a folder")),
        "prom not writable": (["--prom", blocker / "e8.prom"], ("--prom", "e8.prom")),
        "junit not writable": (["--junit", blocker / "j.xml"], ("--junit", "j.xml")),
    }


def test_every_bad_input_is_refused_before_any_host(site: Path, listener: Listener) -> None:
    history = site / "history.sqlite"
    for name, (extra, needles) in _cases(site).items():
        out = site / "out"
        args = list(extra)
        if "--history" not in args and "--no-history" not in args:
            args += ["--history", history]
        proc = scan(site, "--out", out, *args)
        try:
            refused_before_any_connection(listener, out, proc, *needles)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
    assert not (site / "out").exists()


def test_an_inventory_with_no_hosts_is_an_error(tmp_path: Path, listener: Listener) -> None:
    write(tmp_path / "hosts.ini", "[lin]\n[win]\n")
    out = tmp_path / "out"
    proc = scan(tmp_path, "--out", out, "--no-history")
    refused_before_any_connection(listener, out, proc, "hosts.ini", "no hosts", "nothing to scan")
    assert not out.exists()


def test_a_limit_that_selects_nothing_is_an_error(site: Path, listener: Listener) -> None:
    out = site / "out-limit"
    proc = scan(site, "--out", out, "--no-history", "-l", "db*")
    refused_before_any_connection(listener, out, proc, "--limit", "db*")


def test_report_refuses_an_unwritable_xlsx_with_one_line(site: Path) -> None:
    blocker = write(site / "x-file", "x")
    results = site / "good" / "results.json"
    for option in ("--xlsx", "--html", "--junit"):
        proc = e8("report", str(results), option, str(blocker / "r.out"), cwd=ROOT)
        one_line_error(proc, option, "r.out")


# --- the history on a full or read-only file system --------------------------------------------


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB tmpfs (the suite runs as root, as its sshd fleet needs)."""
    mnt = tmp_path / "fs"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)],
        capture_output=True,
        check=False,
    )
    # Like the sshd fleet, this needs root: a machine where it cannot run fails, never skips.
    assert mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}"
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_read_only_history_is_refused_before_any_host(
    site: Path, listener: Listener, small_fs: Path
) -> None:
    history = small_fs / "history.sqlite"
    assert e8("history", "--history", str(history), cwd=ROOT).returncode == 2  # none yet
    sqlite3.connect(history).close()  # an empty file: a history about to be created
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    out = site / "out-ro"
    proc = scan(site, "--out", out, "--history", history)
    refused_before_any_connection(listener, out, proc, "history.sqlite", "Read-only file system")


def _fill(path: Path) -> None:
    """Write ``path`` until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError, match="No space left"):
            _write_forever(fd)
    finally:
        os.close(fd)


def _write_forever(fd: int) -> None:
    while True:
        os.write(fd, b"\0" * 4096)


def test_a_full_disk_under_the_history_is_one_line(site: Path, small_fs: Path) -> None:
    history = small_fs / "history.sqlite"
    good = str(site / "good" / "results.json")

    def merge() -> subprocess.CompletedProcess[str]:
        out = str(site / "out-merged")
        return e8("merge", good, good, "--out", out, "--history", str(history), "-q", cwd=ROOT)

    assert merge().returncode == 4  # the history now holds one run
    _fill(small_fs / "filler")  # the next run's rows do not fit
    # merge takes the history lock first (an flock on history.sqlite.lock, with the owner's pid
    # written in it), so the full disk may show there or when the run is recorded.
    line = one_line_error(merge(), "history.sqlite")
    assert "No space left on device" in line or "full" in line, line


def test_plan_of_an_inventory_with_no_hosts_is_an_error_too(tmp_path: Path) -> None:
    # plan printed nothing and exited 0, so a cron `plan` check of an emptied inventory passed
    write(tmp_path / "hosts.ini", "[lin]\n[win]\n")
    result = CliRunner().invoke(main, ["plan", "-i", str(tmp_path / "hosts.ini")])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"e8scan: error: {tmp_path / 'hosts.ini'}: the inventory has no hosts; nothing to scan"
    ]
