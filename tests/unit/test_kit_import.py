"""Field-kit outputs are checked record by record before import: a changed record, a cut file,
another nonce or format, a missing or extra record is refused with one line naming the file and
the record; nothing bad ever becomes a traceback.

The output examined is real: the Linux kit for one check, run here with ``sh`` (it reads
``/etc/os-release`` and the role probe's files, as on any host).
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_cli_errors import e8, one_line_error

from scanner.checking.loader import load_checks
from scanner.collect.kit import kit_plan, platform_host, write_kit
from scanner.collect.offline import host_record, read_kit_output
from scanner.model.errors import InputError
from scanner.model.vocabulary import OFFLINE, Platform, Reach


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    work = tmp_path_factory.mktemp("kitout")
    checks = [c for c in load_checks() if c.id == "patch_os.linux_os_support"]
    plan = kit_plan(platform_host(Platform.LINUX), checks)
    kit = write_kit(plan, work, False, datetime.now(UTC), timeout=20)
    run = subprocess.run(
        ["sh", str(kit), "-o", str(work / "out.txt"), "-n", "A. Operator"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=work,
    )
    assert run.returncode == 0, run.stderr
    assert "e8kit: wrote" in run.stderr
    again = subprocess.run(
        ["sh", str(kit), "-o", str(work / "out.txt")], capture_output=True, text=True, check=False
    )
    assert again.returncode == 1 and "cannot create" in again.stderr  # never overwrites
    return (work / "out.txt").read_bytes()


def _file(tmp_path: Path, data: bytes) -> Path:
    p = tmp_path / "host.txt"
    p.write_bytes(data)
    return p


def _refused(tmp_path: Path, data: bytes, *needles: str) -> str:
    p = _file(tmp_path, data)
    with pytest.raises(InputError) as exc:
        host_record(read_kit_output(p), datetime.now(UTC))
    text = str(exc.value)
    assert "\n" not in text
    assert text.startswith(str(p))
    for n in needles:
        assert n in text, (n, text)
    return text


def _seal(data: bytes, name: str) -> re.Match[bytes]:
    m = re.search(
        rb"\n[0-9a-f]{32} S " + re.escape(name.encode()) + rb" (\d+) [0-9a-f]{64}\n", data
    )
    assert m is not None
    return m


def test_a_real_kit_output_imports(tmp_path: Path, good: bytes) -> None:
    kit = read_kit_output(_file(tmp_path, good))
    rec = host_record(kit, datetime.now(UTC))
    assert rec.connection == OFFLINE and rec.reach is Reach.OK
    assert rec.platform is Platform.LINUX
    assert [c.command for c in rec.commands] == [s.command for s in kit.manifest.steps]
    assert all(c.ran and c.exit_code is not None for c in rec.commands)
    os_release = next(c for c in rec.commands if "os-release" in c.command)
    assert b"ID=" in os_release.stdout
    assert "run by A. Operator (account " in rec.notes[0]


def test_a_changed_byte_in_a_step_names_that_record(tmp_path: Path, good: bytes) -> None:
    seal = _seal(good, "out.1")
    at = seal.start() - 5  # inside step 1's stdout frame
    bad = good[:at] + bytes([good[at] ^ 1]) + good[at + 1 :]
    _refused(tmp_path, bad, "record out.1 (step 1: `", "does not match its sha256")


def test_a_changed_host_record_is_refused(tmp_path: Path, good: bytes) -> None:
    bad = good.replace(b"operator=A. Operator", b"operator=B. Operator", 1)
    _refused(tmp_path, bad, "record host", "sha256")


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_a_cut_file_is_refused(tmp_path: Path, good: bytes, keep: float) -> None:
    _refused(tmp_path, good[: int(len(good) * keep)], "missing or not sealed")


def test_another_nonce_is_refused(tmp_path: Path, good: bytes) -> None:
    head, rest = good.split(b"\n", 1)
    other = head[:-32] + b"0" * 32
    _refused(tmp_path, other + b"\n" + rest, "record manifest", "nonce", "0" * 32)


def test_a_resealed_manifest_with_another_nonce_is_refused(tmp_path: Path, good: bytes) -> None:
    import hashlib

    nonce = good.split(b"\n", 1)[0][-32:]
    first = good.index(b"\n") + 1
    seal = _seal(good, "manifest")
    body = good[first : seal.start()].replace(nonce, b"f" * 32)
    line = (
        b"\n" + nonce + b" S manifest %d " % len(body) + hashlib.sha256(body).hexdigest().encode()
    )
    bad = good[:first] + body + line + b"\n" + good[seal.end() :]
    _refused(tmp_path, bad, "record manifest: nonce", "differs from the file's")


def test_a_missing_record_is_refused(tmp_path: Path, good: bytes) -> None:
    start = _seal(good, "err.0").end()
    end = _seal(good, "out.1").end()
    _refused(tmp_path, good[:start] + good[end:], "record 'err.1' where record out.1")


def test_data_after_the_end_is_refused(tmp_path: Path, good: bytes) -> None:
    _refused(tmp_path, good + b"more\n", "5 bytes after the end record")


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "not an e8scan kit output"),
        (b"\x00\xff" * 100, "not an e8scan kit output"),
        (b"hostname,os\nhmi01,linux\n", "not an e8scan kit output"),
        (b"e8scan-kit 2 linux " + b"a" * 32 + b"\n", "format 2; this e8scan reads format 1"),
    ],
)
def test_not_a_kit_output(tmp_path: Path, data: bytes, needle: str) -> None:
    _refused(tmp_path, data, needle)


def test_the_cli_refuses_in_one_line(tmp_path: Path, good: bytes) -> None:
    seal = _seal(good, "err.0")
    bad = good[: seal.start() - 1] + b"?" + good[seal.start() :]
    p = _file(tmp_path, bad)
    one_line_error(e8("import", str(p), "--out", str(tmp_path / "o")), str(p), "record err.0")
    assert not (tmp_path / "o").exists()  # nothing written for a refused file


def test_a_folder_is_not_a_kit_output(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder; expected a kit output file"):
        read_kit_output(tmp_path)


def test_an_end_record_for_another_step_count_is_refused(tmp_path: Path, good: bytes) -> None:
    import hashlib

    last = _seal(good, "err." + str(good.count(b" S err.") - 1))
    end = _seal(good, "end")
    body = re.sub(rb"steps=\d+", b"steps=99", good[last.end() : end.start()])
    nonce = good.split(b"\n", 1)[0][-32:]
    line = b"\n" + nonce + b" S end %d " % len(body) + hashlib.sha256(body).hexdigest().encode()
    _refused(tmp_path, good[: last.end()] + body + line + b"\n", "record end: steps='99'")


def test_one_host_twice_is_refused(tmp_path: Path, good: bytes) -> None:
    from click.testing import CliRunner

    from scanner.cli.main import main

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(good)
    b.write_bytes(good)
    out = CliRunner().invoke(main, ["import", str(a), str(b), "--out", str(tmp_path / "o")])
    assert out.exit_code == 1
    assert f"e8scan: error: {b}: host " in out.output
    assert "is in more than one file" in out.output
