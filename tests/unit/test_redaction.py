"""Secrets are found by meaning: under any key naming a secret at any depth, behind YAML anchors,
after secret-bearing arguments, in evidence copies however the file spells them, and never in
an error message. WinRM Basic over plain HTTP is refused unless the inventory opts in.

Each case plants a unique canary and searches the real output (raw host vars as a scan records
them, the evidence bundle's source copy, the CLI's stderr) for it.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from test_cli_errors import e8, one_line_error, write

from scanner.inventory.load import load_inventory
from scanner.model.redaction import REDACTED, redact_data, secret_values, secrets_in_text
from scanner.record.raw import safe_vars
from scanner.runs.source_copies import WITHHELD, redact_source


def canary(tag: str) -> str:
    return f"e8canary-{tag}-{secrets.token_hex(6)}"


def leaked(data: object, *needles: str) -> list[str]:
    text = data if isinstance(data, str) else json.dumps(data)
    return [n for n in needles if n in text]


def test_secret_bearing_arguments_are_recognised() -> None:
    text = (
        "-o ProxyCommand=\"sshpass -p 'two words' ssh -W %h:%p jump\" -oPasswordAuthentication=no"
        " --password=abc1 --api-key def2 -token=ghi3 http://u:jkl4@proxy:3128/ ssh -p 2222"
    )
    assert secrets_in_text(text) == ["two words", "abc1", "def2", "ghi3", "jkl4"]
    assert secrets_in_text("sshpass -e -pxyz5 ssh host") == ["xyz5"]


def test_raw_vars_hide_secrets_at_any_depth_behind_anchors_and_in_arguments(
    tmp_path: Path,
) -> None:
    nested, anchored, sshpass, env_pw, url = (
        canary(t) for t in ["nested", "anchor", "sshpass", "env", "url"]
    )
    inv = write(
        tmp_path / "site.yml",
        "all:\n"
        "  hosts:\n"
        "    h1:\n"
        f"      my_extra: {{user: scan, password: {nested}, deeper: [{{api_token: {nested}}}]}}\n"
        f"      ansible_become_password: &pw {anchored}\n"
        "      my_note: *pw\n"
        "      my_list: [a, *pw]\n"
        f"      ansible_ssh_common_args: '-o ProxyCommand=\"sshpass -p {sshpass} ssh -W %h:%p j\"'\n"
        f"      my_proxy: http://scan:{url}@proxy:3128\n"
        f"      my_echo: copy of {env_pw}\n"
        "      e8_password_env: E8_PW\n",
    )
    hvars = dict(load_inventory([inv]).hosts["h1"].vars)
    assert hvars["my_note"] == anchored  # the alias really resolves to the secret
    kept = safe_vars(hvars, also=[env_pw])
    assert not leaked(kept, nested, anchored, sshpass, env_pw, url), kept
    assert kept["my_extra"] == {
        "user": "scan",
        "password": REDACTED,
        "deeper": [{"api_token": REDACTED}],
    }
    assert kept["my_note"] == REDACTED and kept["my_list"] == ["a", REDACTED]
    assert "sshpass -p <redacted> ssh" in kept["ansible_ssh_common_args"]
    assert kept["e8_password_env"] == "E8_PW"
    assert "ansible_become_password" not in kept


def test_redact_data_keeps_what_is_not_secret() -> None:
    data = {"e8_role": "server", "ports": [22, 5986], "flags": {"passive": None}}
    assert redact_data(data) == data
    assert secret_values({"a": {"b": {"client_secret": 12345}}}) == {"12345"}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("next line, explicit key", "? ansible_password\n: {c}\n"),
        ("next line, JSON", '{{"ansible_password":\n   "{c}"}}\n'),
        ("next line, flow", "{{ansible_password:\n   {c}}}\n"),
        ("escaped key, YAML", '"ansible_pass\\x77ord": {c}\n'),
        ("escaped key, JSON", '{{"ansible_pass\\u0077ord": "{c}"}}\n'),
        ("anchor", "base: &pw {c}\nansible_password: *pw\n"),
        ("tag", "ansible_password: !unsafe {c}\n"),
        ("nested", "my_app:\n  db:\n    password: {c}\n"),
        ("multi-line quoted", 'ansible_password: "{c}\n  and more"\n'),
        ("sshpass", "ansible_ssh_common_args: '-o ProxyCommand=\"sshpass -p {c} ssh\"'\n"),
        ("INI quoted key", "[web]\nweb1 ansible_pass'word'={c} ansible_user=scan\n"),
        ("INI escaped key", "[web]\nweb1 ansible_pass\\word={c}\n"),
        ("INI group vars", "[web]\nweb1\n[web:vars]\nmy_args=--password={c}\n"),
        ("escaped value", '"ansible_pass\\x77ord": "e8canary-\\x78\\x79-{c}"\n'),
    ],
)
def test_evidence_copies_show_no_secret_in_any_form(name: str, text: str) -> None:
    c = canary("src")
    original = text.format(c=c).encode()
    copy = redact_source(original)
    assert c.encode() not in copy, (name, copy)
    assert b"e8canary-xy-" not in copy  # the escaped form, decoded, is not there either
    assert copy != original


def test_a_copy_that_cannot_be_redacted_line_by_line_is_withheld() -> None:
    c = canary("esc")
    # The secret is only in escaped form: no text replacement can find it, so nothing is kept.
    copy = redact_source(f'"ansible_password": "{c[:8]}\\x2d{c[9:]}"\n'.encode())
    assert copy == WITHHELD or c[9:].encode() not in copy


def test_a_copy_without_secrets_is_unchanged() -> None:
    for text in (
        b"[web]\nweb1 ansible_user=scan e8_password_env=E8_PW\n",
        b"all:\n  vars:\n    e8_role: server\n    ports: [22]\n",
        b'{"patch_other_days": 21}\n',
        b"strategy,local_id,ism\npatch_os,x,ISM-1690\n",
    ):
        assert redact_source(text) == text


def test_errors_never_quote_a_secret(tmp_path: Path) -> None:
    c = canary("err")
    cases = {
        "split.ini": f'[web]\nweb1 ansible_password="{c}\n',  # unbalanced quote
        "vars.ini": f"[web]\nweb1\n[web:vars]\nansible_password {c}\n",  # no '='
        "child.ini": f"[web]\nweb1\n[web:children]\nansible_password={c}\n",
        "typed.yml": f"all:\n  hosts:\n    h1:\n      e8_ot_zone: {{password: {c}}}\n",
        "alias.yml": (
            f"all:\n  hosts:\n    h1:\n      ansible_password: &pw {c}\n      e8_role: *pw\n"
        ),
    }
    for name, text in cases.items():
        inv = write(tmp_path / name, text)
        proc = e8("plan", "-i", str(inv))
        line = one_line_error(proc, name)
        assert c not in proc.stderr + proc.stdout, line


# --- WinRM Basic over plain HTTP -------------------------------------------------------------------


def test_basic_over_http_is_refused_unless_the_inventory_opts_in(tmp_path: Path) -> None:
    base = (
        "w1 ansible_connection=winrm ansible_winrm_scheme=http ansible_winrm_transport=basic "
        "ansible_user=audit e8_password_env=E8_TEST_BASIC_PW"  # plan only checks it is set
    )
    inv = write(tmp_path / "win.ini", base + "\n")
    one_line_error(
        e8("plan", "-i", str(inv)),
        "host w1: ansible_winrm_transport",
        "base64",
        "e8_allow_basic_over_http",
    )
    allowed = write(tmp_path / "ok.ini", base + " e8_allow_basic_over_http=true\n")
    pw = {"E8_TEST_BASIC_PW": "unused"}
    proc = e8("plan", "-i", str(allowed), env=pw)
    assert proc.returncode == 0, proc.stderr
    for fine in ("ansible_winrm_scheme=https", "ansible_winrm_transport=ntlm"):
        line = base.replace(
            fine.split("=")[0] + "=" + ("http" if "scheme" in fine else "basic"), fine
        )
        other = write(tmp_path / "fine.ini", line + "\n")
        assert e8("plan", "-i", str(other), env=pw).returncode == 0, line
    bad = write(tmp_path / "bad.ini", base + " e8_allow_basic_over_http=maybe\n")
    one_line_error(e8("plan", "-i", str(bad)), "e8_allow_basic_over_http", "boolean")


def test_an_alias_of_an_overridden_secret_is_still_hidden(tmp_path: Path) -> None:
    # After resolution no key naming a secret holds the value any more: only the layer that
    # defined it knows it was a secret.
    c, other = canary("overridden"), canary("host")
    inv = write(tmp_path / "site.ini", "[web]\nweb1\n")
    write(tmp_path / "group_vars" / "web.yml", f"ansible_become_password: &pw {c}\nmy_note: *pw\n")
    write(tmp_path / "host_vars" / "web1.yml", f"ansible_become_password: {other}\n")
    host = load_inventory([inv]).hosts["web1"]
    assert host.vars["my_note"] == c and c in host.secrets and other in host.secrets
    assert "secrets=" not in repr(host)  # the collected set never prints
    kept = safe_vars(dict(host.vars), also=host.secrets)
    assert kept["my_note"] == REDACTED and not leaked(kept, c, other)


# Made with `ansible-vault [core 2.19.14] encrypt_string --vault-password-file F
# 'e8canary-vault-9f3a1c'` where F holds "pw" (committed: no ansible-vault start-up per run).
VAULT_CANARY = "e8canary-vault-9f3a1c"
VAULT_ENVELOPE = """$ANSIBLE_VAULT;1.1;AES256
66356337363131626539323161343232313861306333376237653237653432613036663564343035
6430306639636132656533636235363338306165643431390a373030356461633966633139303331
36313430336533373632326665313666646538393735373731636534366535336566356538313263
3635363465636438660a343938323032343863313561366131363963613965656564346532346339
31376632663432396366653334646665636562396563636639393062356133306638"""


def test_vaulted_values_and_their_plaintext_never_reach_the_recorded_vars(tmp_path: Path) -> None:
    """A ``!vault`` value is a secret whatever its key; its plaintext is one of the host's
    secrets wherever an alias or a command line copies it."""
    from scanner.inventory.vault import vault_keys

    c = VAULT_CANARY
    (tmp_path / "pw").write_text("pw\n")
    inv = write(
        tmp_path / "inv.yml",
        "all:\n  hosts:\n    h1:\n      db_conn: !vault |\n"
        + "".join(f"        {line}\n" for line in VAULT_ENVELOPE.splitlines())
        + f"      ansible_ssh_common_args: -o ProxyCommand='sshpass -p {c} ssh jump'\n",
    )
    host = load_inventory([inv], vault_keys([tmp_path / "pw"], environ={})).hosts["h1"]
    assert c in host.secrets
    recorded = safe_vars(host.vars, host.secrets)
    assert recorded["db_conn"] == REDACTED
    assert not leaked(recorded, c, VAULT_ENVELOPE.splitlines()[1])
