"""A field kit holds exactly the commands `e8scan plan` lists for its host, and nothing else."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from click.testing import CliRunner

from scanner.cli.main import main

INVENTORY = """\
[linux]
hmi01 ansible_host=10.1.2.3 ansible_user=ops ansible_become=true e8_role=workstation e8_backup_paths=/srv/backup

[windows]
eng01 ansible_host=10.1.2.4 ansible_connection=winrm ansible_user=ops

[windows:vars]
ansible_winrm_transport=ntlm
e8_password_env=NOT_READ_BY_KIT
"""


def _plan(inv: Path) -> dict[str, list[str]]:
    # plan checks that a password variable is set (issue 15); a kit reads none
    out = CliRunner(env={"NOT_READ_BY_KIT": "unused"}).invoke(
        main, ["plan", "-i", str(inv), "--format", "json"]
    )
    assert out.exit_code == 0, out.output
    return {p["host"]: [c["as_run"] for c in p["commands"]] for p in json.loads(out.output)}


def test_each_kit_runs_exactly_its_hosts_plan(tmp_path: Path) -> None:
    inv = tmp_path / "site.ini"
    inv.write_text(INVENTORY)
    made = CliRunner().invoke(main, ["kit", "-i", str(inv), "--out", str(tmp_path / "kits")])
    assert made.exit_code == 0, made.output
    plan = _plan(inv)
    linux = (tmp_path / "kits" / "e8kit-hmi01.sh").read_text()
    ran = re.findall(r"\$E8T (.*) </dev/null 2>&1 >&5 5>&- 3>&- 4>&-;", linux)
    # A sweep runs a host's root steps in one `sudo -n sh -s` (plan marks them so); a kit, run
    # by an operator at the console, runs each through its own `sudo -n`: the same command.
    root_shell = "sudo -n sh -s: "
    assert ran == [
        "sudo -n " + c[len(root_shell) :] if c.startswith(root_shell) else c for c in plan["hmi01"]
    ]
    assert any(r.startswith("sudo -n sh -c ") for r in ran)  # become: root reads via sudo -n
    assert any("/srv/backup" in r for r in ran)  # planned with the host's own variables
    windows = (tmp_path / "kits" / "e8kit-eng01.ps1").read_bytes().decode("utf-8-sig")
    steps = re.findall(r"^E8Step (\d+) '([A-Za-z0-9+/=]*)'\r$", windows, re.M)
    assert [int(i) for i, _ in steps] == list(range(len(plan["eng01"])))
    assert [base64.b64decode(b).decode() for _, b in steps] == plan["eng01"]


def test_platform_kits_and_bad_requests(tmp_path: Path) -> None:
    made = CliRunner().invoke(main, ["kit", "--platform", "linux", "--out", str(tmp_path)])
    assert made.exit_code == 0 and "e8kit-linux.sh" in made.output
    inv = tmp_path / "site.ini"
    inv.write_text(INVENTORY)
    for args, needle in [
        (["kit", "--out", str(tmp_path)], "give --platform linux|windows"),
        (["kit", "-i", str(inv), "-l", "eng01", "--platform", "linux", "--out", str(tmp_path)],
         "host eng01: is a windows host; --platform linux was asked for"),
        (["kit", "-i", str(inv), "-l", "nosuch", "--out", str(tmp_path)], "matches no host"),
    ]:  # fmt: skip
        bad = CliRunner().invoke(main, args)
        assert bad.exit_code == 1 and needle in bad.output, bad.output


def test_no_secret_of_the_inventory_reaches_a_kit(tmp_path: Path) -> None:
    inv = tmp_path / "site.ini"
    inv.write_text(
        "[linux]\nhmi01 ansible_password=Hunter2-Secret e8_backup_paths=/srv/b "
        "ansible_ssh_common_args='-o ProxyCommand=\"sshpass -p Bastion-Pw-9 ssh -W %h:%p j\"'\n"
    )
    made = CliRunner().invoke(main, ["kit", "-i", str(inv), "--out", str(tmp_path / "k")])
    assert made.exit_code == 0, made.output
    text = (tmp_path / "k" / "e8kit-hmi01.sh").read_text()
    assert "/srv/b" in text  # the host's variables are there …
    assert "Hunter2-Secret" not in text and "Bastion-Pw-9" not in text  # … its secrets are not
