"""``e8_ssh_legacy``: validated like every ``e8_`` flag, shown by ``e8scan plan`` for SSH hosts only,
and the refusal text a host without it gets (its real-sshd side is tests/transports/test_ssh_legacy.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli.main import main
from scanner.collect.transports.ssh_algorithms import offer_text
from scanner.inventory.profile import parse_profile
from scanner.model.errors import InputError

INVENTORY = """\
[old]
hist01 ansible_host=10.0.0.5 ansible_user=ops e8_ssh_legacy=yes
[new]
web01 ansible_host=10.0.0.6 ansible_user=ops
[hmi]
hmi01 ansible_host=10.0.0.7 ansible_connection=winrm ansible_user=ops e8_password_env=E8_TEST_HMI
[hmi:vars]
e8_ssh_legacy=true
"""


def plan(tmp_path: Path, *args: str) -> str:
    inv = tmp_path / "site.ini"
    inv.write_text(INVENTORY)
    # plan checks a WinRM host's password variable is set (issue 15); it reads no value
    result = CliRunner(env={"E8_TEST_HMI": "unused"}).invoke(main, ["plan", "-i", str(inv), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_plan_shows_the_opt_in_for_that_ssh_host_only(tmp_path: Path) -> None:
    blocks = {b.split(":", 1)[0].lstrip("# "): b for b in plan(tmp_path).strip().split("\n\n")}
    assert set(blocks) == {"hist01", "web01", "hmi01"}
    assert (
        "e8_ssh_legacy: also allows diffie-hellman-group14-sha1, diffie-hellman-group1-sha1, "
        "ssh-rsa (SHA-1) for this host only" in blocks["hist01"]
    )
    # web01 does not set it; hmi01 (WinRM) inherits it from a group, where it means nothing.
    assert "e8_ssh_legacy" not in blocks["web01"] + blocks["hmi01"]
    rows = {p["host"]: p for p in json.loads(plan(tmp_path, "--format", "json"))}
    assert {h: p["ssh_legacy"] for h, p in rows.items()} == {
        "hist01": True,
        "web01": False,
        "hmi01": False,
    }


def test_a_bad_value_names_the_variable_and_what_was_expected() -> None:
    with pytest.raises(InputError) as err:
        parse_profile({"e8_ssh_legacy": "maybe"}, lambda name: f"site.ini:3 ({name})")
    assert "site.ini:3" in str(err.value)
    assert "e8_ssh_legacy is 'maybe'; expected a boolean" in str(err.value)
    assert parse_profile({"e8_ssh_legacy": "On"}, str).e8_ssh_legacy is True
    assert parse_profile({}, str).e8_ssh_legacy is False


SHA1_ONLY = {
    "kex": ["diffie-hellman-group14-sha1"],
    "host_key": ["ssh-rsa"],
    "ciphers": ["aes128-cbc"],
    "macs": ["hmac-sha1"],
}


def test_the_refusal_says_how_only_when_the_opt_in_would_help() -> None:
    plain = offer_text(SHA1_ONLY, "Incompatible ssh peer (no acceptable kex algorithm)", False)
    assert plain.startswith(
        "the server offers key exchange diffie-hellman-group14-sha1; host key ssh-rsa;"
    )
    assert "set e8_ssh_legacy: true" in plain
    # Already opted in: nothing more to suggest; a cipher failure names the ciphers.
    opted = offer_text(SHA1_ONLY, "Incompatible ssh server (no acceptable ciphers)", True)
    assert "set e8_ssh_legacy" not in opted and "ciphers aes128-cbc" in opted
    # Nothing e8_ssh_legacy enables (DSA host key only): no false hope.
    dss = offer_text(
        SHA1_ONLY | {"host_key": ["ssh-dss"]},
        "Incompatible ssh peer (no acceptable host key)",
        False,
    )
    assert "host key ssh-dss" in dss and "e8_ssh_legacy" not in dss
    # A hostile server's list is shown cut short, never whole.
    long = offer_text(
        SHA1_ONLY | {"kex": [f"x{i}-" + "k" * 100 for i in range(500)]}, "no acceptable kex", False
    )
    assert "(and 484 more)" in long and len(long) < 2000
