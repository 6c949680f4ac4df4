"""Ansible Vault: inline ``!vault`` values and vault-encrypted vars files, made by ansible-core's
own ``ansible-vault`` (the oracle) in the test, read with --vault-password-file / --vault-id /
ANSIBLE_VAULT_PASSWORD_FILE; ``ansible-inventory --list`` prints the same JSON. Without a
password (or with a wrong one) the error is one line naming the file, line and variable, and
the decrypted secret never reaches an output or error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_cli_errors import e8, one_line_error
from test_inventory import ansible_env

from scanner.inventory.connection import spec_for
from scanner.inventory.load import load_inventory
from scanner.inventory.vault import VaultedText, vault_keys
from scanner.model.errors import InputError

BIN = Path(sys.executable).parent
SECRET = "e8canary-vault-Zq7x"  # the decrypted password: must never be printed
FILE_SECRET = "e8canary-vaultfile-Kp3w"


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
    _vault(home, "encrypt", "--vault-id", f"dev@{root / 'devpw'}", str(all_vars))
    assert all_vars.read_text().startswith("$ANSIBLE_VAULT;1.2;AES256;dev")
    return root


def _keys(site: Path) -> Any:
    return vault_keys([site / "pw"], [f"dev@{site / 'devpw'}"], environ={})


def test_list_equals_ansible_inventory_with_vault_passwords(site: Path) -> None:
    home = site / "home"
    args = ["--vault-password-file", str(site / "pw"), "--vault-id", f"dev@{site / 'devpw'}"]
    theirs = subprocess.run(
        [str(BIN / "ansible-inventory"), "--list", "-i", str(site / "inv.yml"), *args],
        capture_output=True, text=True, env=ansible_env(home), cwd=home, timeout=120,
    )  # fmt: skip
    assert theirs.returncode == 0, theirs.stderr
    ours = e8("inventory", "--list", "-i", str(site / "inv.yml"), *args)
    assert ours.returncode == 0, ours.stderr
    assert json.loads(ours.stdout) == json.loads(theirs.stdout)
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
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho pw\n")
    script.chmod(0o755)
    for files, ids, expected in (
        ([tmp_path / "nosuch"], [], "cannot read"),
        ([tmp_path / "empty"], [], "is empty"),
        ([], [f"x@{script}"], "not supported"),
        ([], ["x@prompt"], "not supported"),
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
