"""Ansible Vault: inline ``!vault`` values and vault-encrypted vars files, made by ansible-core's
own ``ansible-vault`` (the oracle) in the test, read with --vault-password-file / --vault-id /
ANSIBLE_VAULT_PASSWORD_FILE; ``ansible-inventory --list`` prints the same JSON. Without a
password (or with a wrong one) the error is one line naming the file, line and variable, and
the decrypted secret never reaches an output or error.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_cli_errors import e8, one_line_error
from test_inventory import ansible_env

from scanner.cli.main import main
from scanner.inventory import vault
from scanner.inventory.connection import spec_for
from scanner.inventory.load import load_inventory
from scanner.inventory.vault import VaultedText, vault_keys
from scanner.model.errors import InputError

BIN = Path(sys.executable).parent
SECRET = "e8canary-vault-Zq7x"  # the decrypted password: must never be printed
FILE_SECRET = "e8canary-vaultfile-Kp3w"
INI_SECRET = "e8canary-vaultini-Wm4r"  # ansible_password inside the vault-encrypted INI


def _vault(home: Path, *args: str) -> str:
    proc = subprocess.run(
        [str(BIN / "ansible-vault"), *args],
        capture_output=True,
        text=True,
        env=ansible_env(home),
        cwd=home,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """inv.yml (h1: inline 1.1 vault, h2: inline 1.2 vault with id 'dev'), a vault-encrypted
    group_vars/all.yml, and the passwords: pw (default), devpw (label dev), bad."""
    root = tmp_path_factory.mktemp("vault")
    home = root / "home"
    home.mkdir()
    (root / "pw").write_text("correct horse\n")
    (root / "devpw").write_text("dev battery\n")
    (root / "bad").write_text("wrong\n")
    inline = _vault(
        home, "encrypt_string", "--vault-password-file", str(root / "pw"), SECRET,
        "--name", "ansible_password",
    )  # fmt: skip
    dev = _vault(
        home, "encrypt_string", "--vault-id", f"dev@{root / 'devpw'}", SECRET + "-dev",
        "--name", "ansible_password",
    )  # fmt: skip
    assert "$ANSIBLE_VAULT;1.2;AES256;dev" in dev

    def indent(text: str) -> str:
        return "".join(f"      {line}\n" for line in text.splitlines())

    (root / "inv.yml").write_text(
        "all:\n  hosts:\n    h1:\n      ansible_host: 192.0.2.1\n"
        + indent(inline)
        + "    h2:\n      ansible_host: 192.0.2.2\n"
        + indent(dev)
    )
    (root / "group_vars").mkdir()
    all_vars = root / "group_vars" / "all.yml"
    all_vars.write_text(f"ansible_user: scan\nvault_db_password: {FILE_SECRET}\n")
    ini = root / "site.ini"  # a whole INI inventory, vault-encrypted
    ini.write_text(
        f"[ot]\nhmi01 ansible_host=192.0.2.5 ansible_password={INI_SECRET}\n"
        "[ot:vars]\ne8_role=server\n"
    )
    _vault(home, "encrypt", "--vault-id", f"dev@{root / 'devpw'}", str(all_vars), str(ini))
    assert all_vars.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;dev")
    assert ini.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;dev")
    return root


def _keys(site: Path) -> Any:
    return vault_keys([site / "pw"], [f"dev@{site / 'devpw'}"], environ={})


def test_list_equals_ansible_inventory_with_vault_passwords(site: Path) -> None:
    home = site / "home"
    args = ["--vault-password-file", str(site / "pw"), "--vault-id", f"dev@{site / 'devpw'}"]
    sources = ["-i", str(site / "inv.yml"), "-i", str(site / "site.ini")]
    theirs = subprocess.run(
        [str(BIN / "ansible-inventory"), "--list", *sources, *args],
        capture_output=True, text=True, env=ansible_env(home), cwd=home, timeout=120,
    )  # fmt: skip
    assert theirs.returncode == 0, theirs.stderr
    ours = e8("inventory", "--list", *sources, *args)
    assert ours.returncode == 0, ours.stderr
    assert json.loads(ours.stdout) == json.loads(theirs.stdout)
    # the vault-encrypted INI inventory was decrypted and read as INI, as Ansible reads it
    assert json.loads(ours.stdout)["ot"]["hosts"] == ["hmi01"]
    assert json.loads(ours.stdout)["_meta"]["hostvars"]["hmi01"]["e8_role"] == "server"
    # the vaulted file was decrypted; inline values print as their envelope, as Ansible does
    assert json.loads(ours.stdout)["_meta"]["hostvars"]["h1"]["ansible_user"] == "scan"
    assert SECRET not in ours.stdout + ours.stderr
    assert FILE_SECRET in ours.stdout  # not a secret-named key? it is: Ansible prints it


def test_inline_vault_becomes_the_password_not_its_text(site: Path) -> None:
    inv = load_inventory([site / "inv.yml"], _keys(site))
    h1, h2 = inv.hosts["h1"], inv.hosts["h2"]
    assert isinstance(h1.vars["ansible_password"], VaultedText)
    spec = spec_for("h1", h1.vars, environ={})
    spec2 = spec_for("h2", h2.vars, environ={})  # 1.2 with id dev: the dev password opens it
    assert spec.password is not None and spec.password.get_secret_value() == SECRET
    assert spec2.password is not None and spec2.password.get_secret_value() == SECRET + "-dev"
    assert h1.secrets >= {SECRET, FILE_SECRET} and VaultedText.PLACEHOLDER not in h1.secrets
    assert SECRET + "-dev" in h2.secrets
    assert SECRET not in repr(h1) + str(h1.vars) + repr(spec)


def test_password_file_from_the_environment(site: Path) -> None:
    keys = vault_keys(environ={"ANSIBLE_VAULT_PASSWORD_FILE": str(site / "devpw")})
    inv = load_inventory([site / "inv.yml"], keys)  # the file needs only dev
    assert inv.hosts["h1"].vars["ansible_user"] == "scan"
    # h1's inline value is under the other password: an error where it is used, not before
    with pytest.raises(InputError) as err:
        spec_for("h1", inv.hosts["h1"].vars, environ={})
    assert err.value.where.endswith("inv.yml:5 (ansible_password)")
    assert "HMAC mismatch" in str(err.value) and SECRET not in str(err.value)
    problems: list[InputError] = []
    spec_for("h1", inv.hosts["h1"].vars, environ={}, secrets=False, problems=problems)
    assert [p.where for p in problems] == [err.value.where]  # plan reports it too


def test_without_a_password_a_vaulted_file_is_a_one_line_error(site: Path) -> None:
    proc = e8("plan", "-i", str(site / "inv.yml"))
    line = one_line_error(proc, "group_vars/all.yml:1")
    assert "no vault password was given" in line and "--vault-password-file" in line


def test_without_a_password_an_inline_vault_names_file_line_and_variable(tmp_path: Path) -> None:
    inv = tmp_path / "inv.yml"
    inv.write_text(
        "all:\n  hosts:\n    h1:\n      ansible_password: !vault |\n"
        "        $ANSIBLE_VAULT;1.1;AES256\n        6162\n"
    )
    loaded = load_inventory([inv])  # as Ansible: an unused vault needs no password
    with pytest.raises(InputError) as err:
        spec_for("h1", loaded.hosts["h1"].vars, environ={})
    assert err.value.where == f"{inv}:4 (ansible_password)"
    assert "no vault password was given" in str(err.value)


def test_a_wrong_password_is_a_one_line_error_without_the_secret(site: Path) -> None:
    proc = e8("inventory", "--list", "-i", str(site / "inv.yml"), "--vault-id", f"{site / 'pw'}")
    line = one_line_error(proc, "group_vars/all.yml:1")
    assert "HMAC mismatch" in line
    assert SECRET not in proc.stdout + proc.stderr
    assert FILE_SECRET not in proc.stdout + proc.stderr


def test_bad_password_options_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    for files, ids, expected in (
        ([tmp_path / "nosuch"], [], "cannot read"),
        ([tmp_path / "empty"], [], "is empty"),
        ([], ["x@prompt"], "needs a terminal"),
    ):
        with pytest.raises(InputError, match=expected):
            vault_keys(files, ids, environ={})
    proc = e8("plan", "-i", "h1,", "--vault-password-file", str(tmp_path / "nosuch"))
    assert proc.returncode == 2  # a missing file is a usage error naming the option
    assert "Invalid value for '--vault-password-file'" in proc.stderr and "nosuch" in proc.stderr
    proc = e8("plan", "-i", "h1,", "--vault-password-file", str(tmp_path / "empty"))
    assert "is empty" in one_line_error(proc, "--vault-password-file")


def test_a_vaulted_variable_other_than_a_password_is_refused_where_it_is_set(
    tmp_path: Path,
) -> None:
    # Only the passwords are opened from a vault; a vaulted ansible_user or e8_* value would
    # otherwise become the text "<vault-encrypted>" and be used as it.
    inv = tmp_path / "inv.yml"
    inv.write_text(
        "all:\n  hosts:\n    h1:\n      ansible_host: 192.0.2.1\n      ansible_user: !vault |\n"
        "        $ANSIBLE_VAULT;1.1;AES256\n        6162\n      app_secret: !vault |\n"
        "        $ANSIBLE_VAULT;1.1;AES256\n        6364\n"
    )
    with pytest.raises(InputError) as err:
        load_inventory([inv])
    assert err.value.where == f"{inv}:5"
    assert "ansible_user is vault-encrypted" in str(err.value)
    # a vaulted variable e8scan never reads (app_secret) is left alone, as Ansible leaves it
    inv.write_text(inv.read_text().replace("ansible_user: !vault |", "other: !vault |"))
    assert "h1" in load_inventory([inv]).hosts


def test_completion_opens_the_vault_with_the_options_on_the_line(site: Path) -> None:
    # `e8scan plan -i inv.yml --vault-… -l <Tab>`: the vault options given are used; without
    # them the vaulted group_vars cannot be read and completion offers nothing (and says nothing)
    from click.shell_completion import BashComplete

    from scanner.cli.main import main

    def complete(*args: str) -> list[str]:
        comp = BashComplete(main, {}, "e8scan", "_E8SCAN_COMPLETE")
        return [
            i.value for i in comp.get_completions(["plan", "-i", str(site / "inv.yml"), *args], "h")
        ]

    vault = ["--vault-password-file", str(site / "pw"), "--vault-id", f"dev@{site / 'devpw'}"]
    assert complete(*vault, "-l") == ["h1", "h2"]
    assert complete("-l") == []


# --- vault-encrypted INI inventories, password scripts, the terminal prompt ---------------------


def test_vaulted_ini_inventory_needs_a_password_and_never_shows_its_secret(site: Path) -> None:
    ini = str(site / "site.ini")
    with pytest.raises(InputError, match="no vault password was given") as err:
        load_inventory([ini])
    assert err.value.where == f"{ini}:1"
    with pytest.raises(InputError, match="HMAC mismatch") as err:
        load_inventory([ini], vault_keys([site / "pw"], environ={}))
    assert err.value.where == f"{ini}:1" and INI_SECRET not in str(err.value)
    planned = cli("plan", "-i", ini, "--vault-id", f"dev@{site / 'devpw'}")
    assert planned.exit_code == 0, planned.output
    assert "hmi01" in planned.stdout and "192.0.2.5" in planned.stdout
    assert INI_SECRET not in planned.stdout + planned.stderr
    host = load_inventory([ini], _keys(site)).hosts["hmi01"]
    assert INI_SECRET in host.secrets  # a secret of the host: redacted wherever it is recorded


def cli(*args: str, stdin: str | None = None) -> Result:
    """e8scan in this process (stdin is never a terminal here)."""
    env: dict[str, str | None] = {"ANSIBLE_VAULT_PASSWORD_FILE": None}
    return CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_an_executable_password_file_is_run_and_prints_the_password(
    site: Path, tmp_path: Path
) -> None:
    plain = _script(tmp_path / "pw.sh", "echo 'dev battery'\n")
    keys = vault_keys([plain], environ={})
    assert load_inventory([site / "site.ini"], keys).hosts["hmi01"].vars["e8_role"] == "server"
    # a *-client script is asked for its label, as Ansible's client scripts are
    args = tmp_path / "args"
    client = _script(
        tmp_path / "vault-keyring-client.sh",
        f'echo "$@" > {args}\n[ "$2" = dev ] && {{ echo \'dev battery\'; exit 0; }}\n'
        'echo "no secret for vault id $2" >&2\nexit 2\n',
    )
    keys = vault_keys([], [f"dev@{client}"], environ={})
    assert load_inventory([site / "site.ini"], keys).hosts["hmi01"].vars["e8_role"] == "server"
    assert args.read_text() == "--vault-id dev\n"
    with pytest.raises(InputError) as err:
        vault_keys([client], environ={})
    assert err.value.where == "--vault-password-file"
    assert str(err.value) == (
        f"--vault-password-file: vault password client script {client} exited with status 2 for "
        "vault id 'default' (it has no such id): no secret for vault id default"
    )


def test_a_failing_password_script_is_one_line_without_the_password(
    site: Path, tmp_path: Path
) -> None:
    # a shell trace (set -x) and the stdout it printed before failing both hold the password
    bad = _script(
        tmp_path / "bad.sh",
        'set -x\nPW=\'dev battery\'\necho "$PW"\necho "keyring locked, tried $PW" >&2\nexit 3\n',
    )
    result = cli("plan", "-i", str(site / "site.ini"), "--vault-id", f"dev@{bad}")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"e8scan: error: --vault-id: vault password script {bad} exited with status 3: "
        "keyring locked, tried <redacted>\n"
    )
    silent = _script(tmp_path / "silent.sh", "exit 0\n")
    with pytest.raises(InputError, match="printed no password"):
        vault_keys([silent], environ={})


def test_a_password_script_gets_a_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault, "SCRIPT_TIMEOUT", 0.3)
    slow = _script(tmp_path / "slow.sh", "exec sleep 30\n")
    with pytest.raises(InputError, match=r"slow.sh ran past 0.3 s"):
        vault_keys([slow], environ={})


def test_prompt_without_a_terminal_is_a_usage_error(site: Path) -> None:
    for option in (["--ask-vault-pass"], ["--vault-id", "dev@prompt"]):
        result = cli("plan", "-i", str(site / "site.ini"), *option, stdin="dev battery\n")
        assert result.exit_code == 2, result.output  # a pipe is never read for the password
        (error,) = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
        assert "stdin is not one" in error and "--vault-password-file" in error


def test_prompt_on_a_terminal_asks_with_the_input_hidden(site: Path) -> None:
    """A real pseudo-terminal (the child's controlling terminal): the prompt names the label,
    the typed password is not echoed, and it opens the vault."""
    cmd = [sys.executable, "-m", "scanner.cli.main", "inventory", "--list",
           "-i", str(site / "site.ini"), "--vault-id", "dev@prompt"]  # fmt: skip
    pid, fd = pty.fork()
    if pid == 0:  # the child: exec at once, whatever happens
        try:
            os.execv(sys.executable, cmd)
        finally:
            os._exit(127)
    out = _read_pty(fd, until=b"Vault password (dev): ")
    assert out.endswith(b"Vault password (dev): "), out
    os.write(fd, b"dev battery\n")
    out += _read_pty(fd)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert b"dev battery" not in out  # hidden input: never echoed
    listed = json.loads(out.split(b"Vault password (dev): ", 1)[1].decode())
    assert listed["_meta"]["hostvars"]["hmi01"]["e8_role"] == "server"


def _read_pty(fd: int, until: bytes | None = None, timeout: float = 30) -> bytes:
    out = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end and (until is None or not out.endswith(until)):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    return out


def test_prompts_are_worded_as_ansible_words_them(site: Path) -> None:
    asked: list[str] = []

    def answer(text: str) -> str:
        asked.append(text)
        return "dev battery\n"

    keys = vault_keys([], ["dev@prompt"], environ={}, ask=True, prompt=answer)
    assert asked == ["Vault password (dev)", "Vault password"]
    assert [s.label for s in keys.secrets] == ["dev", "default"]
    assert load_inventory([site / "site.ini"], keys).hosts["hmi01"].vars["e8_role"] == "server"
    with pytest.raises(InputError, match="an empty vault password was given"):
        vault_keys(environ={}, ask=True, prompt=lambda _: "  \n")
