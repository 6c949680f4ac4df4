"""Every way an Ansible inventory names a bastion is honoured or refused, never ignored; ``plan``
shows each host's route and the account it really authenticates as, and a host's missing
credentials stop that host only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli.main import main
from scanner.collect.plan import make_plan
from scanner.collect.runner import RunOptions, collect_host
from scanner.inventory.bastion import JumpHost
from scanner.inventory.connection import bastion_spec, local_login, spec_for
from scanner.inventory.load import load_inventory
from scanner.model.errors import InputError
from scanner.model.vocabulary import Reach


@pytest.mark.parametrize(
    "args",
    [
        "-J ops@bastion.example:2200",
        "-Jops@bastion.example:2200",
        "-o ProxyJump=ops@bastion.example:2200",
        "-oProxyJump=ops@bastion.example:2200",
        "-o 'ProxyJump ops@bastion.example:2200'",
        '-o "proxyjump=ops@bastion.example:2200" -o StrictHostKeyChecking=yes',
        "-C -o ServerAliveInterval=30 -J ops@bastion.example:2200",
        "-o ProxyCommand=none -J ops@bastion.example:2200",
    ],
)
def test_every_openssh_spelling_of_a_bastion_is_honoured(args: str) -> None:
    s = spec_for("lx1", {"ansible_ssh_common_args": args})
    assert s.jump == JumpHost("bastion.example", 2200, "ops")


def test_ssh_extra_args_and_e8_jump_host_are_read_and_must_agree() -> None:
    s = spec_for("lx1", {"ansible_ssh_extra_args": "-J [2001:db8::5]:2222"})
    assert s.jump == JumpHost("2001:db8::5", 2222, None)
    s = spec_for("lx1", {"ansible_ssh_args": "-C -o ControlMaster=auto -o ProxyJump=b"})
    assert s.jump == JumpHost("b", 22, None)
    with pytest.raises(InputError, match=r"^host lx1: ansible_ssh_args: a ProxyCommand") as caught:
        spec_for("lx1", {"ansible_ssh_args": "-o ProxyCommand='sshpass -p s3cret ssh -W %h:%p j'"})
    assert "s3cret" not in str(caught.value)  # the command is never quoted back
    same = {"e8_jump_host": "ops@b:2200", "ansible_ssh_common_args": "-J ops@b:2200"}
    assert spec_for("lx1", same).jump == JumpHost("b", 2200, "ops")
    with pytest.raises(InputError, match=r"^host lx1: ansible_ssh_common_args: names bastion"):
        spec_for("lx1", {"e8_jump_host": "ops@b", "ansible_ssh_common_args": "-J other@c"})


@pytest.mark.parametrize(
    ("hvars", "message"),
    [
        (
            {"ansible_ssh_common_args": "-o ProxyCommand='ssh -W %h:%p jump'"},
            r"^host lx9: ansible_ssh_common_args: a ProxyCommand is not supported",
        ),
        (
            {"ansible_ssh_common_args": '-o "ProxyCommand nc -X 5 -x socks:1080 %h %p"'},
            r"^host lx9: ansible_ssh_common_args: a ProxyCommand is not supported",
        ),
        ({"ansible_ssh_common_args": "-J a@one,b@two"}, r"chained ProxyJump 'a@one,b@two'"),
        ({"e8_jump_host": "one,two"}, r"^host lx9: e8_jump_host: chained ProxyJump"),
        ({"ansible_ssh_common_args": "-o ProxyJump='b"}, r"cannot split the arguments as a shell"),
        ({"ansible_ssh_common_args": "-C -J"}, r"-J at the end of the arguments has no value"),
        ({"e8_jump_host": "ops@b:99999"}, r"port 99999 is not a TCP port"),
    ],
)
def test_a_bastion_that_cannot_be_honoured_is_an_input_error_naming_the_host(
    hvars: dict[str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        spec_for("lx9", hvars)


def test_a_directory_target_behind_a_bastion_is_refused() -> None:
    with pytest.raises(InputError, match=r"^host dc1: e8_jump_host: a directory \(LDAP\) target"):
        spec_for("dc1", {"ansible_connection": "ldap", "e8_jump_host": "ops@b"})


def test_a_windows_password_never_goes_to_the_bastion_and_its_account_is_no_bastion_login(
    tmp_path: Path,
) -> None:
    key = tmp_path / "jump_ed25519"
    key.write_text("not parsed here\n")
    winrm = spec_for(
        "hmi1",
        {
            "ansible_connection": "winrm",
            "ansible_user": "CORP\\svc",
            "e8_password_env": "PW",
            "ansible_ssh_private_key_file": str(key),
            "e8_jump_host": "bastion.example",
        },
        {"PW": "windows-secret"},
    )
    jump = winrm.jump
    assert jump is not None
    b = bastion_spec(jump, winrm)
    assert (b.user, b.password, b.key_file, b.address, b.port) == (
        None,
        None,
        str(key),
        "bastion.example",
        22,
    )
    ssh = spec_for(
        "lx1",
        {"ansible_user": "audit", "e8_password_env": "PW", "e8_jump_host": "bastion.example"},
        {"PW": "linux-secret"},
    )
    assert ssh.jump is not None
    b = bastion_spec(ssh.jump, ssh)
    assert b.user == "audit" and b.password is not None  # as OpenSSH's -J with the same login


INVENTORY = """\
[ot]
hmi01 ansible_host=10.9.0.11 ansible_user=CORP\\\\e8 e8_jump_host=ops@198.51.100.5:2222
hmi02 ansible_host=10.9.0.12 ansible_ssh_common_args='-J 198.51.100.5'
hist01 ansible_user=audit ansible_ssh_common_args='-o ProxyJump=jump@198.51.100.6'
hist02 ansible_user=audit ansible_ssh_private_key_file=/no/such/key
hist03 ansible_ssh_common_args='-o ProxyCommand="ssh -W %h:%p jump"'
web01 ansible_user=audit

[ot:vars]
ansible_connection=ssh

[windows]
hmi01
hmi02

[windows:vars]
ansible_connection=winrm
e8_password_env=E8_TEST_PW
"""


@pytest.fixture
def inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("E8_TEST_PW", "not-read-by-plan")
    path = tmp_path / "ot.ini"
    path.write_text(INVENTORY)
    return path


def test_plan_prints_every_route_and_login_and_names_every_bad_host(inventory: Path) -> None:
    result = CliRunner().invoke(main, ["plan", "-i", str(inventory)])
    assert result.exit_code == 1
    heads = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    me = local_login()
    assert heads[0].startswith(
        "# hmi01: winrm to 10.9.0.11:5986 as CORP\\e8, via bastion ops@198.51.100.5:2222 "
    )
    assert heads[1].startswith(f"# hmi02: winrm to 10.9.0.12:5986 as (no user), via bastion {me}@")
    assert heads[2].startswith(
        "# hist01: ssh to hist01:22 as audit, via bastion jump@198.51.100.6:22 "
    )
    assert heads[3].startswith("# hist02: ssh to hist02:22 as audit, direct ")
    assert heads[4].startswith("# hist03: NOT PLANNED: input error: host hist03: ")
    assert heads[5].startswith("# web01: ssh to web01:22 as audit, direct ")
    assert result.stderr.splitlines() == [
        "e8scan: error: host hmi02: ansible_user: WinRM ntlm authentication needs a user "
        "(ansible_user, e.g. DOMAIN\\svc-e8scan or svc-e8scan@corp.example); none is set",
        "e8scan: error: host hist02: ansible_ssh_private_key_file: cannot read key file "
        "/no/such/key",
        "e8scan: error: host hist03: ansible_ssh_common_args: a ProxyCommand is not supported "
        "(e8scan runs no local program to reach a host); expected -J or "
        "-o ProxyJump=[user@]bastion[:port], or e8_jump_host",
    ]
    assert "Traceback" not in result.output


def test_plan_json_carries_the_route_and_the_error(inventory: Path) -> None:
    result = CliRunner().invoke(main, ["plan", "-i", str(inventory), "--format", "json"])
    by_host = {h["host"]: h for h in json.loads(result.stdout)}
    assert by_host["hmi01"]["bastion"] == {"user": "ops", "host": "198.51.100.5", "port": 2222}
    assert by_host["hmi01"]["route"] == "via bastion ops@198.51.100.5:2222"
    assert by_host["web01"]["route"] == "direct" and by_host["web01"]["bastion"] is None
    assert by_host["hist02"]["error"].endswith("cannot read key file /no/such/key")
    assert by_host["hist03"]["error"].startswith("host hist03: ansible_ssh_common_args: a Proxy")
    assert "commands" not in by_host["hist03"]


def test_a_host_with_missing_credentials_is_recorded_as_an_input_error_without_a_connection(
    inventory: Path,
) -> None:
    inv = load_inventory([inventory])
    plans = make_plan(inv.select("hmi02,hist02,web01"), [])  # scan's planning: no exception
    problems = {p.host.name: p.problem for p in plans}
    assert problems["web01"] is None and problems["hmi02"] is not None
    # A WinRM host with no user would make pywinrm raise; the scan records the input error.
    record = collect_host(plans[0], RunOptions())
    assert record.reach is Reach.ERROR
    assert record.reach_detail == (
        "input error: host hmi02: ansible_user: WinRM ntlm authentication needs a user "
        "(ansible_user, e.g. DOMAIN\\svc-e8scan or svc-e8scan@corp.example); none is set"
    )
    assert record.commands == []


def test_a_scan_records_the_host_with_missing_credentials_and_scans_the_others(
    tmp_path: Path,
) -> None:
    inv = tmp_path / "mixed.ini"
    inv.write_text(
        "[fleet]\n"
        "here ansible_connection=local e8_role=workstation\n"
        "hmi07 ansible_connection=winrm ansible_host=192.0.2.77 e8_password_env=E8_TEST_NOPE\n"
    )
    out = tmp_path / "out"
    result = CliRunner(env={"E8_TEST_NOPE": None}).invoke(
        main,
        ["scan", "-i", str(inv), "--out", str(out), "--no-history", "-q"]
        + ["--checks", "patch_os.linux_os_support"],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 4, result.output  # a host with no visibility
    assert (
        "e8scan: error: host hmi07: e8_password_env: environment variable E8_TEST_NOPE is not set "
        "(it should hold this host's password) (this host is not contacted)\n" in result.stderr
    )
    hosts = {h["name"]: h for h in json.loads((out / "results.json").read_text())["hosts"]}
    assert hosts["here"]["reach"] == "ok"
    assert hosts["hmi07"]["reach"] == "error"
    assert hosts["hmi07"]["reach_detail"].startswith("input error: host hmi07: e8_password_env: ")


def test_a_directory_simple_bind_without_user_or_password_is_that_hosts_input_error() -> None:
    for hvars, field in (
        ({"ansible_connection": "ldap"}, "ansible_user"),
        ({"ansible_connection": "ldap", "ansible_user": "svc@corp.example"}, "e8_password_env"),
    ):
        problems: list[InputError] = []
        spec_for("dc1", hvars, {}, secrets=False, problems=problems)
        assert [str(p) for p in problems] == [
            f"host dc1: {field}: an LDAP simple bind needs ansible_user and a password "
            "(e8_password_env); or set e8_ldap_auth=kerberos"
        ]
    kerberos: list[InputError] = []
    spec_for("dc1", {"ansible_connection": "ldap", "e8_ldap_auth": "kerberos"}, {}, False, kerberos)
    assert kerberos == []  # the ticket cache's principal
