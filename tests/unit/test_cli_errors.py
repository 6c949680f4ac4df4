"""Bad input: one line on stderr naming the file/line/field and what was expected, exit 1, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

E8SCAN = [sys.executable, "-m", "scanner.cli.main"]


def e8(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("E8_TEST")} | (env or {})
    return subprocess.run(
        [*E8SCAN, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in err.splitlines() if not ln.startswith("e8scan: warning:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("e8scan: error: ")
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_inventory_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    inv = write(tmp_path / "bad.ini", "[web]\nweb1\n[db\n")
    one_line_error(e8("plan", "-i", str(inv)), "bad.ini:3")


def test_bad_range_names_file_and_line(tmp_path: Path) -> None:
    inv = write(tmp_path / "r.ini", "[web]\nweb[05:01].example\n")
    one_line_error(e8("inventory", "-i", str(inv), "--list"), "r.ini:2")


def test_unknown_connection_names_host_and_variable(tmp_path: Path) -> None:
    inv = write(tmp_path / "c.ini", "[web]\nweb1 ansible_connection=telnet\n")
    one_line_error(e8("plan", "-i", str(inv)), "web1", "ansible_connection", "telnet")


def test_invalid_group_vars_names_the_file(tmp_path: Path) -> None:
    inv = write(tmp_path / "g.ini", "[web]\nweb1\n")
    write(tmp_path / "group_vars" / "web.yml", "a: [unclosed\n")
    one_line_error(e8("plan", "-i", str(inv)), "web.yml")


def test_missing_inventory_file(tmp_path: Path) -> None:
    one_line_error(e8("plan", "-i", str(tmp_path / "nope.ini")), "nope.ini")


def test_unreadable_key_file(tmp_path: Path) -> None:
    inv = write(
        tmp_path / "k.ini", f"[web]\nweb1 ansible_ssh_private_key_file={tmp_path}/missing_key\n"
    )
    out = str(tmp_path / "out")
    one_line_error(
        e8("scan", "-i", str(inv), "--out", out),
        "web1",
        "ansible_ssh_private_key_file",
        "missing_key",
    )
    assert not (tmp_path / "out" / "raw.json").exists()  # refused before any host was contacted
    # Planning reads no key, but names the one it could not read (issue 15), and still lists
    # the host's commands: the change board can review them on a machine without keys.
    plan = e8("plan", "-i", str(inv))
    assert plan.returncode == 1 and "# web1: ssh to web1:22 as " in plan.stdout
    assert plan.stderr.endswith(f"cannot read key file {tmp_path}/missing_key\n")


def test_password_env_var_unset(tmp_path: Path) -> None:
    inv = write(tmp_path / "p.ini", "[web]\nweb1 e8_password_env=E8_TEST_UNSET_PW\n")
    out = str(tmp_path / "out")
    one_line_error(
        e8("scan", "-i", str(inv), "--out", out), "web1", "e8_password_env", "E8_TEST_UNSET_PW"
    )
    plan = e8("plan", "-i", str(inv))
    assert plan.returncode == 1 and "# web1: ssh to web1:22 as " in plan.stdout
    assert "E8_TEST_UNSET_PW is not set" in plan.stderr


def test_limit_matching_nothing(tmp_path: Path) -> None:
    inv = write(tmp_path / "l.ini", "[web]\nweb1\n")
    one_line_error(e8("plan", "-i", str(inv), "-l", "db*"), "--limit", "db*")


def test_output_folder_not_writable(tmp_path: Path) -> None:
    inv = write(
        tmp_path / "o.yml", "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
    )
    blocker = write(tmp_path / "file-not-dir", "x")
    one_line_error(e8("scan", "-i", str(inv), "--out", str(blocker / "sub"), "-q"), "--out")


def test_bad_policy_field(tmp_path: Path) -> None:
    inv = write(
        tmp_path / "o.yml", "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
    )
    pol = write(tmp_path / "policy.yml", "patch_other_days: -3\n")
    one_line_error(
        e8("scan", "-i", str(inv), "--policy", str(pol), "--out", str(tmp_path / "o")),
        "policy.yml",
        "patch_other_days",
    )


def test_duplicate_host_with_conflicting_vars_warns_with_both_places(tmp_path: Path) -> None:
    inv = write(tmp_path / "d.ini", "[a]\nweb1 e8_role=server\n[b]\nweb1 e8_role=workstation\n")
    proc = e8("inventory", "-i", str(inv), "--list")
    assert proc.returncode == 0
    assert "d.ini:2" in proc.stderr and "d.ini:4" in proc.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    proc = e8("scan", "--forks", "zero", "-i", "x")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("bad", ["{", "- not a mapping\n", "all: [1, 2]\n"])
def test_bad_yaml_inventory(tmp_path: Path, bad: str) -> None:
    inv = write(tmp_path / "bad.yml", bad)
    one_line_error(e8("plan", "-i", str(inv)), "bad.yml")


@pytest.mark.parametrize(
    ("transport", "needle"),
    [
        ("telepathy", "unknown transport 'telepathy'"),
        # kerberos is installed where the tests run (make test installs the kerberos extra)
        ("credssp", "pip install 'pywinrm[credssp]'"),
    ],
)
def test_unusable_winrm_transport_is_refused_before_any_host(
    tmp_path: Path, transport: str, needle: str
) -> None:
    inv = write(
        tmp_path / "w.ini",
        f"[win]\nhmi01 ansible_connection=winrm ansible_winrm_transport={transport}\n",
    )
    one_line_error(e8("plan", "-i", str(inv)), "hmi01", "ansible_winrm_transport", needle)


def test_bad_exception_register_is_refused_before_any_host(tmp_path: Path) -> None:
    inv = write(
        tmp_path / "o.yml", "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
    )
    ex = write(
        tmp_path / "ex.yml",
        "exceptions:\n  - id: X\n    controls: [ISM-1501]\n    approved: 2026-01-01\n"
        "    expires: 2028-01-01\n",
    )
    out = tmp_path / "out"
    one_line_error(
        e8("scan", "-i", str(inv), "--exceptions", str(ex), "--out", str(out)), "ex.yml", "one year"
    )
    assert not out.exists()


def test_example_policy_loads() -> None:
    from scanner.model.policy import load_policy

    root = Path(__file__).resolve().parents[2]
    p = load_policy(str(root / "examples/policy.yml"))
    assert p.version == "mining-2026.2" and p.backup_rpo_hours_by_role["workstation"] == 168


def test_results_from_a_newer_schema_are_refused(tmp_path: Path) -> None:
    import json as _json

    inv = write(
        tmp_path / "o.yml", "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
    )
    out = tmp_path / "o"
    assert e8("scan", "-i", str(inv), "--out", str(out), "--no-history", "-q").returncode in (
        0,
        3,
        4,
    )
    data = _json.loads((out / "results.json").read_text())
    data["schema_version"] = 99
    newer = write(tmp_path / "newer.json", _json.dumps(data))
    one_line_error(
        e8("report", str(newer), "--xlsx", str(tmp_path / "x.xlsx")), "newer.json", "newer e8scan"
    )


def test_a_failed_write_leaves_no_half_written_file(tmp_path: Path) -> None:
    from scanner.report.files import write_atomic

    target = tmp_path / "e8-report.xlsx"
    target.write_bytes(b"previous complete workbook")

    def fill(fh) -> None:  # type: ignore[no-untyped-def]
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, fill)
    assert target.read_bytes() == b"previous complete workbook"
    assert [p.name for p in tmp_path.iterdir()] == ["e8-report.xlsx"]


def test_a_bad_host_in_a_raw_record_is_named_by_line_and_field(tmp_path: Path) -> None:
    inv = write(
        tmp_path / "o.yml", "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
    )
    out = tmp_path / "o"
    assert e8("scan", "-i", str(inv), "--out", str(out), "--no-history", "-q").returncode in (
        0,
        3,
        4,
    )
    lines = (out / "raw.json").read_text().splitlines(keepends=True)
    port = next(i for i, line in enumerate(lines) if line.startswith('   "port":'))
    lines[port] = '   "port": "twenty-two",\n'
    bad = write(tmp_path / "raw.json", "".join(lines))
    one_line_error(
        e8("rescore", str(bad), "--out", str(tmp_path / "r")),
        "raw.json:",
        "field hosts.0.port",
        "not a valid raw record",
    )
