"""Shell completion (issue 16 "The CLI"): check ids for --checks (the last item of a
comma-separated list), host and group names for --limit from the -i inventory on the same
command line (else the run history), history --host from the history. Driven through click's
real completion machinery: e8scan run with _E8SCAN_COMPLETE as bash runs it, and click's
BashComplete in process for the finer cases. Completion never runs an inventory script, never
prints an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import linux_host, scored
from click.shell_completion import BashComplete

from scanner.checking.loader import load_checks
from scanner.cli.main import main
from scanner.model.vocabulary import Reach
from scanner.runs.history import History

ROOT = Path(__file__).resolve().parents[2]
INI = "[web]\nweb01 ansible_host=192.0.2.1\nweb02 ansible_host=192.0.2.2\n[db]\ndb01\n"


def bash(words: str, cwd: Path) -> tuple[list[str], str]:
    """Complete the last word of ``words`` as bash would ask e8scan to: (values, stderr)."""
    env = {
        **os.environ,
        "_E8SCAN_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "scanner.cli.main"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln]
    assert all(ln.startswith("plain,") for ln in lines), lines
    return [ln.split(",", 1)[1] for ln in lines], proc.stderr


def complete(args: list[str], incomplete: str) -> list[str]:
    comp = BashComplete(main, {}, "e8scan", "_E8SCAN_COMPLETE")
    return [item.value for item in comp.get_completions(args, incomplete)]


def test_bash_completes_check_ids(tmp_path: Path) -> None:
    values, err = bash("e8scan scan --checks patch_", ROOT)
    real = {c.id for c in load_checks()}
    assert {i for i in real if i.startswith("patch_")} <= set(values)
    assert "patch_os" in values and "patch_applications" in values  # prefixes select too
    assert all(v.startswith("patch_") for v in values) and err == ""


def test_bash_completes_host_names_from_the_inventory_on_the_line(tmp_path: Path) -> None:
    (tmp_path / "site.ini").write_text(INI)
    values, err = bash("e8scan plan -i site.ini --limit web", tmp_path)
    assert values == ["web", "web01", "web02"] and err == ""


def test_a_comma_separated_check_list_completes_its_last_item() -> None:
    values = complete(["plan", "--checks"], "mfa.linux_ssh_mfa,patch_os.linux_pe")
    assert values == ["mfa.linux_ssh_mfa,patch_os.linux_pending_updates"]
    assert complete(["kit", "--checks"], "no_such_") == []
    assert "mfa.windows_logon_mfa" in complete(["checks", "show"], "mfa.w")


def test_limit_patterns_complete_their_last_term(tmp_path: Path) -> None:
    inv = str(tmp_path / "site.ini")
    Path(inv).write_text(INI)
    assert complete(["scan", "-i", inv, "-l"], "web:!web0") == ["web:!web01", "web:!web02"]
    assert complete(["inventory", "-i", inv, "--limit"], "web01,d") == ["web01,db", "web01,db01"]
    assert complete(["scan", "-i", inv, "-l"], "web:&d") == ["web:&db", "web:&db01"]


def test_without_an_inventory_hosts_come_from_the_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert complete(["history", "--host"], "") == []  # no reports/history.sqlite here
    hist = tmp_path / "reports" / "history.sqlite"
    with History.open(hist) as h:
        h.add(scored([linux_host("app01", Reach.OK), linux_host("db09", Reach.OK)], []))
    assert complete(["history", "--history", str(hist), "--host"], "") == ["app01", "db09"]
    assert complete(["scan", "--history", str(hist), "--limit"], "a") == ["app01"]
    assert complete(["history", "--history", str(tmp_path / "none"), "--host"], "") == []
    assert not (tmp_path / "none").exists()
    assert complete(["history", "--host"], "d") == ["db09"]  # the default history


def test_completion_runs_no_inventory_script_and_prints_no_error(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    script = tmp_path / "dyn.sh"
    script.write_text(f'#!/bin/sh\ntouch {marker}\necho \'{{"web": ["web01"]}}\'\n')
    script.chmod(0o755)
    assert complete(["plan", "-i", str(script), "-l"], "web") == []
    folder = tmp_path / "inv"
    folder.mkdir()
    (folder / "dyn.sh").symlink_to(script)
    assert complete(["plan", "-i", str(folder), "-l"], "web") == []
    assert not marker.exists()
    (tmp_path / "bad.ini").write_text("[web\nweb01\n")
    values, err = bash("e8scan plan -i bad.ini -i nosuch.yml --limit w", tmp_path)
    assert values == [] and err == ""


def test_completion_runs_no_vault_password_script_and_asks_nothing(tmp_path: Path) -> None:
    inv = str(tmp_path / "site.ini")
    Path(inv).write_text(INI)
    marker = tmp_path / "ran"
    script = tmp_path / "pw.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho secret\n")
    script.chmod(0o755)
    plain = tmp_path / "pw"
    plain.write_text("secret\n")
    assert complete(["plan", "-i", inv, "--vault-password-file", str(plain), "-l"], "db") == [
        "db",
        "db01",
    ]
    for vault in (
        ["--vault-password-file", str(script)],
        ["--vault-id", f"dev@{script}"],
        ["--vault-id", "dev@prompt"],
        ["--ask-vault-pass"],
    ):
        assert complete(["plan", "-i", inv, *vault, "-l"], "db") == [], vault
    assert not marker.exists()
