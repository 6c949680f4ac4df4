"""Connection variables as Ansible names them, and secrets that never live in the inventory."""

from __future__ import annotations

import pytest

from scanner.inventory.connection import spec_for
from scanner.inventory.profile import HostProfile
from scanner.model.errors import InputError


def test_defaults_are_ssh_on_port_22_to_the_inventory_name() -> None:
    s = spec_for("web1", {})
    assert (s.connection, s.address, s.port, s.user, s.become) == ("ssh", "web1", 22, None, False)


def test_ansible_variables_are_read() -> None:
    s = spec_for(
        "web1",
        {
            "ansible_host": "192.0.2.5",
            "ansible_port": "2222",
            "ansible_user": "audit",
            "ansible_become": "yes",
            "ansible_ssh_common_args": "-o ProxyJump=jump@bastion:2200",
        },
    )
    assert (s.address, s.port, s.user, s.become, s.proxy_jump) == (
        "192.0.2.5",
        2222,
        "audit",
        True,
        "jump@bastion:2200",
    )


def test_password_comes_from_the_named_environment_variable_and_never_prints() -> None:
    s = spec_for("web1", {"e8_password_env": "E8_PW"}, {"E8_PW": "s3cret-canary"})
    assert s.password is not None and s.password.get_secret_value() == "s3cret-canary"
    assert "s3cret-canary" not in repr(s) and "s3cret-canary" not in str(s.model_dump())


def test_ansible_password_is_accepted_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="e8_password_env"):
        s = spec_for("web1", {"ansible_password": "inline"})
    assert s.password is not None and s.password.get_secret_value() == "inline"


def test_unset_password_variable_is_an_input_error() -> None:
    with pytest.raises(InputError, match="E8_NOPE is not set"):
        spec_for("web1", {"e8_password_env": "E8_NOPE"}, {})


def test_plan_mode_reads_no_secret() -> None:
    s = spec_for(
        "web1",
        {"e8_password_env": "E8_NOPE", "ansible_ssh_private_key_file": "/no/key"},
        {},
        secrets=False,
    )
    assert s.password is None


@pytest.mark.parametrize("port", ["0", "70000", "ssh"])
def test_bad_port_is_an_input_error(port: str) -> None:
    with pytest.raises(InputError, match="ansible_port"):
        spec_for("web1", {"ansible_port": port})


def test_winrm_scheme_and_port_follow_ansible() -> None:
    https = spec_for("hmi1", {"ansible_connection": "winrm"})
    assert (https.winrm_scheme, https.port, https.winrm_cert_validation) == ("https", 5986, True)
    http = spec_for("hmi1", {"ansible_connection": "winrm", "ansible_port": 5985})
    assert http.winrm_scheme == "http"
    ignore = spec_for(
        "hmi1", {"ansible_connection": "winrm", "ansible_winrm_server_cert_validation": "ignore"}
    )
    assert ignore.winrm_cert_validation is False
    assert https.platform.value == "windows"


def test_kerberos_variables_follow_ansible() -> None:
    default = spec_for("w1", {"ansible_connection": "winrm", "ansible_winrm_transport": "kerberos"})
    assert default.winrm_kerberos_delegation is False  # never on unless asked
    assert default.winrm_kerberos_hostname_override is None
    assert default.winrm_kinit_mode == "managed"
    asked = spec_for(
        "w1",
        {
            "ansible_connection": "winrm",
            "ansible_winrm_transport": "kerberos",
            "ansible_winrm_kerberos_delegation": "yes",
            "ansible_winrm_kerberos_hostname_override": "win01.corp.example",
            "ansible_winrm_kinit_mode": "Manual",
        },
    )
    assert asked.winrm_kerberos_delegation is True
    assert asked.winrm_kerberos_hostname_override == "win01.corp.example"
    assert asked.winrm_kinit_mode == "manual"
    with pytest.raises(InputError, match="ansible_winrm_kinit_mode"):
        spec_for("w1", {"ansible_connection": "winrm", "ansible_winrm_kinit_mode": "auto"})


def test_inventory_values_reach_commands_quoted_never_spliced() -> None:
    from scanner.checking.api import Cmd

    cmd = Cmd(line='ls -ld "$@"', args_var="e8_backup_paths")
    hv = HostProfile(e8_backup_paths=["/srv/b", "/x'; rm -rf / #"])
    assert cmd.render(hv) == "set -- /srv/b '/x'\"'\"'; rm -rf / #'; ls -ld \"$@\""
    ps = Cmd(line="Get-Acl -LiteralPath $E8Args", args_var="e8_backup_paths")
    assert ps.render(HostProfile(e8_backup_paths="D:\\Backups, E:\\it's"), powershell=True) == (
        "$E8Args = @('D:\\Backups', 'E:\\it''s'); Get-Acl -LiteralPath $E8Args"
    )
