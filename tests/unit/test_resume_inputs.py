"""``--resume`` refuses a journal when any file the inventory read has changed since.

Before, only the ``-i`` files were hashed: a host's role, OT zone or internet-facing flag changed
in ``group_vars/`` or ``host_vars/`` was silently mixed into one run. The scans here run the real
CLI against a host that refuses connections (nothing to wait for).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_errors import e8, one_line_error, write

from scanner.inventory.load import load_inventory

CHECKS = "patch_os.linux_os_support"


def _scan(inv: str, out: Path, *extra: str) -> list[str]:
    return ["scan", "-i", inv, "--out", str(out), "--no-history", "-q", "--checks", CHECKS, *extra]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    inv = write(tmp_path / "site.ini", "[fleet]\nx1 ansible_host=127.0.0.250 ansible_port=1\n")
    write(tmp_path / "group_vars" / "fleet.yml", "e8_role: server\n")
    write(tmp_path / "host_vars" / "x1.yml", "e8_ot_zone: level2\n")
    return inv


def test_the_inventory_lists_every_file_it_read(site: Path) -> None:
    inv = load_inventory([site])
    names = [p.relative_to(site.parent).as_posix() for p, _ in inv.files_read]
    assert names == ["site.ini", "group_vars/fleet.yml", "host_vars/x1.yml"]
    assert all(len(digest) == 64 for _, digest in inv.files_read)


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (("group_vars/fleet.yml", "e8_role: workstation\n"), "group_vars/fleet.yml changed"),
        (("host_vars/x1.yml", "e8_ot_zone: level3\n"), "host_vars/x1.yml changed"),
        (("group_vars/all.yml", "e8_internet_facing: true\n"), "all.yml is read now, not then"),
    ],
)
def test_a_changed_vars_file_refuses_the_resume(
    site: Path, tmp_path: Path, edit: tuple[str, str], says: str
) -> None:
    out = tmp_path / "out"
    first = e8(*_scan(str(site), out))
    assert first.returncode == 4, first.stderr  # x1 unreachable: no visibility
    header = json.loads((out / "journal.jsonl").read_bytes().split(b"\n")[0])
    assert any(f["path"].endswith("host_vars/x1.yml") for f in header["inventory"])
    raw = (out / "raw.json").read_bytes()

    name, text = edit
    write(tmp_path / name, text)
    one_line_error(e8(*_scan(str(site), out, "--resume")), "different inventory", says)
    assert (out / "raw.json").read_bytes() == raw  # nothing rewritten


def test_an_unchanged_inventory_resumes(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert e8(*_scan(str(site), out)).returncode == 4
    again = e8(*_scan(str(site), out, "--resume"))
    assert again.returncode == 4, again.stderr
    recorded = json.loads((out / "raw.json").read_text())["run"]["inventory"]
    assert [Path(f["path"]).name for f in recorded] == ["site.ini", "fleet.yml", "x1.yml"]


def test_a_host_list_inventory_scans_and_resumes(tmp_path: Path) -> None:
    # `-i host,` is no file: it used to fail with an internal FileNotFoundError when hashed.
    out = tmp_path / "out"
    first = e8(*_scan("127.0.0.250:1,", out))
    assert first.returncode == 4, first.stderr
    assert e8(*_scan("127.0.0.250:1,", out, "--resume")).returncode == 4
    other = e8(*_scan("127.0.0.250:1,127.0.0.251:1", out, "--resume"))
    one_line_error(other, "different inventory")
