"""Light on the target, as the plan shows it: the batch's scheduling priority and its opt-out."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from scanner.cli.main import main

INVENTORY = """\
[ot]
hmi01 ansible_connection=winrm ansible_user=scan ansible_winrm_transport=ntlm ansible_winrm_scheme=https
hist01 ansible_user=scan ansible_become=true
[ot:vars]
e8_target_priority=normal
[all:vars]
e8_password_env=E8_LIGHT_PW
[it]
web01 ansible_user=scan ansible_become=true
pc01 ansible_connection=winrm ansible_user=scan ansible_winrm_transport=ntlm ansible_winrm_scheme=https
"""


def plan(tmp_path: Path, text: str, *args: str) -> tuple[int, str]:
    inv = tmp_path / "site.ini"
    inv.write_text(text)
    result = CliRunner(env={"E8_LIGHT_PW": "not a real password"}).invoke(
        main, ["plan", "-i", str(inv), *args]
    )
    return result.exit_code, result.output


def test_plan_shows_the_priority_each_host_runs_at(tmp_path: Path) -> None:
    code, out = plan(tmp_path, INVENTORY)
    assert code == 0, out
    blocks = {b.split(":", 1)[0].lstrip("# "): b for b in out.split("\n\n") if b.strip()}
    assert "renice -n 19 -p $$; ionice -c3 -p $$" in blocks["web01"]
    # Root reads: one sudo -n per host, and each root step says it runs in that shell.
    root = [ln for ln in blocks["web01"].splitlines() if ln.startswith("  sudo -n sh -s: sh -c ")]
    assert len(root) >= 10
    assert f"# root: one sudo -n sh -s for {len(root)} steps" in blocks["web01"]
    assert "sudo" not in blocks["pc01"]
    assert "PriorityClass = 'BelowNormal'" in blocks["pc01"]
    for opted_out in ("hmi01", "hist01"):
        assert "target priority: normal (e8_target_priority: normal)" in blocks[opted_out]
        assert "renice" not in blocks[opted_out] and "BelowNormal" not in blocks[opted_out]
    code, out = plan(tmp_path, INVENTORY, "--format", "json")
    hosts = {h["host"]: h for h in json.loads(out)}
    prio = {name: h["target_priority"] for name, h in hosts.items()}
    assert prio == {"hmi01": "normal", "hist01": "normal", "web01": "low", "pc01": "low"}
    assert (
        hosts["web01"]["root_shell_steps"] == len(root) and hosts["pc01"]["root_shell_steps"] == 0
    )


def test_a_misspelt_priority_is_one_line_naming_where_and_what(tmp_path: Path) -> None:
    code, out = plan(tmp_path, INVENTORY.replace("=normal", "=lowest"))
    assert code == 1
    assert out.strip().splitlines() == [
        f"e8scan: error: {tmp_path / 'site.ini'}:5: e8_target_priority is 'lowest'; "
        "expected one of low | normal"
    ]
