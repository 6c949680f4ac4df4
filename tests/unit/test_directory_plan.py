"""`e8scan plan` for a directory target: every search a change board approves, and the settings
that would send a password in clear refused before anything connects. Connects to nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.model.ldap_search import LdapSearch, SearchLineError, parse

E8 = [sys.executable, "-m", "scanner.cli.main"]
DC = "dc01.corp.example ansible_connection=ldap ansible_user=svc@corp.example e8_password_env=E8_T_PW"


def plan(tmp_path: Path, line: str, *extra: str) -> subprocess.CompletedProcess[str]:
    inv = tmp_path / "site.ini"
    inv.write_text(f"[directory]\n{line}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("E8_T")}
    env["E8_T_PW"] = "never-read-by-plan"  # plan checks the variable is set (issue 15), no more
    return subprocess.run(
        [*E8, "plan", "-i", str(inv), *extra], capture_output=True, text=True, env=env, check=False
    )


def test_plan_lists_every_search_and_how_the_dc_is_reached(tmp_path: Path) -> None:
    proc = plan(tmp_path, DC)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "ldap to dc01.corp.example:636" in lines[0] and "platform directory" in lines[0]
    assert "LDAPS, certificate checked" in lines[1] and "simple bind inside TLS" in lines[1]
    searches = [
        ln.strip().split("    #")[0] for ln in lines[2:] if ln.strip().startswith("ldapsearch")
    ]
    assert len(searches) >= 6
    for s in searches:
        parse(s)  # each is a search line, nothing else
    assert any("(objectClass=computer)" in s for s in searches)
    assert not any("ms-Mcs-AdmPwd " in s + " " for s in searches)


def test_plan_json_gives_the_same_searches(tmp_path: Path) -> None:
    proc = plan(tmp_path, DC, "--format", "json")
    (host,) = json.loads(proc.stdout)
    assert host["platform"] == "directory" and host["transport"] == "ldap"
    assert all(c["as_run"] == c["command"] for c in host["commands"])


def test_a_simple_bind_over_plain_ldap_is_refused_in_one_line(tmp_path: Path) -> None:
    proc = plan(tmp_path, DC + " e8_ldap_scheme=ldap")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "e8_ldap_scheme" in proc.stderr
    assert "readable on the network" in proc.stderr


def test_kerberos_over_plain_ldap_plans_on_port_389(tmp_path: Path) -> None:
    proc = plan(tmp_path, DC + " e8_ldap_scheme=ldap e8_ldap_auth=kerberos")
    assert proc.returncode == 0, proc.stderr
    assert "dc01.corp.example:389" in proc.stdout and "Kerberos (GSSAPI) bind" in proc.stdout


@pytest.mark.parametrize(("var", "value"), [("e8_ldap_auth", "ntlm"), ("e8_ldap_scheme", "ldapx")])
def test_unknown_settings_are_refused_naming_the_variable(
    tmp_path: Path, var: str, value: str
) -> None:
    proc = plan(tmp_path, DC + f" {var}={value}")
    assert proc.returncode == 1 and var in proc.stderr and "Traceback" not in proc.stderr


def test_a_search_line_round_trips_and_nothing_else_parses() -> None:
    s = LdapSearch("{defaultNamingContext}", "sub", "(&(objectClass=user)(cn=a b))", ("cn",))
    assert parse(s.line()) == s
    for bad in ("ldapsearch -b x -s tree '(cn=*)' cn", "ldapsearch -b x '(cn=*' cn",
                "ldapsearch -s sub '(cn=*)' cn", "ldapsearch -b '{nowhere}' '(cn=*)' cn",
                "ldapsearch -b '{rootDSE}' -s sub '(cn=*)' cn", "ldapsearch -b x '(cn=*)' 'bad attr'"):  # fmt: skip
        with pytest.raises(SearchLineError):
            parse(bad)
