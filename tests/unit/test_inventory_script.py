"""Dynamic inventory scripts (an executable inventory with a ``#!`` line) are run with
``--list`` (and ``--host`` per host when the JSON has no ``_meta``), as ansible-inventory runs
them: the oracle prints the same JSON. A script that fails, or prints no JSON object, is a
one-line error naming it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_errors import e8, one_line_error
from test_inventory import ANSIBLE_INVENTORY, ansible_env

from scanner.inventory.load import load_inventory
from scanner.model.errors import InputError

LIST = {
    "web": {"hosts": ["web1", "web2"], "vars": {"http_port": 8080}, "children": ["db"]},
    "db": ["db1"],
    "all": {"vars": {"ansible_user": "scan"}},
}
HOSTVARS = {"web1": {"ansible_host": "192.0.2.10"}, "db1": {"e8_role": "server", "n": [1, 2]}}


def _script(path: Path, meta: bool) -> Path:
    listing = dict(LIST, _meta={"hostvars": HOSTVARS}) if meta else LIST
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"LIST = {json.dumps(listing)!r}\n"
        f"HOSTVARS = {json.dumps(HOSTVARS)!r}\n"
        "if sys.argv[1:] == ['--list']:\n    print(LIST)\n"
        "elif sys.argv[1] == '--host':\n    print(json.dumps(json.loads(HOSTVARS).get(sys.argv[2], {})))\n"
        "else:\n    sys.exit(2)\n"
    )
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("meta", [True, False], ids=["with_meta", "host_per_host"])
def test_script_list_equals_ansible_inventory(tmp_path: Path, meta: bool) -> None:
    script = _script(tmp_path / "inv", meta)
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        [str(ANSIBLE_INVENTORY), "--list", "-i", str(script)],
        capture_output=True, text=True, env=ansible_env(home), cwd=home, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ours = load_inventory([script]).to_ansible_list()
    assert ours == json.loads(proc.stdout)
    assert ours["_meta"]["hostvars"]["db1"]["e8_role"] == "server"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "import sys\nsys.stderr.write('token expired\\n')\nsys.exit(3)\n",
            "status 3: token expired",
        ),
        ("print('not json')\n", "did not print valid JSON"),
        ("print('[1, 2]')\n", "expected a JSON object"),
    ],
)
def test_a_failing_script_is_a_one_line_error(tmp_path: Path, body: str, expected: str) -> None:
    script = tmp_path / "inv.sh"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    with pytest.raises(InputError) as err:
        load_inventory([script])
    assert err.value.where == f"{script} --list"
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_script_past_its_time_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("scanner.inventory.script.SCRIPT_TIMEOUT", 0.3)
    script = tmp_path / "slow"
    script.write_text("#!/bin/sh\nexec sleep 30\n")
    script.chmod(0o755)
    with pytest.raises(InputError, match=r"ran past 0\.3 s") as err:
        load_inventory([script])
    assert err.value.where == f"{script} --list"


def test_the_cli_reads_a_script_and_names_one_that_fails(tmp_path: Path) -> None:
    good = _script(tmp_path / "good", meta=True)
    proc = e8("inventory", "--list", "-i", str(good))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["web"]["hosts"] == ["web1", "web2"]
    bad = tmp_path / "bad"
    bad.write_text("#!/bin/sh\necho '{not json'\n")
    bad.chmod(0o755)
    proc = e8("plan", "-i", str(bad))
    assert "did not print valid JSON" in one_line_error(proc, f"{bad} --list")
