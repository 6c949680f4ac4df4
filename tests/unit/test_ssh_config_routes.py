"""A bastion named only in ~/.ssh/config is refused, never ignored (issue 15 §4).

Ansible's ssh connection runs OpenSSH, which routes a host through a ``ProxyJump`` or
``ProxyCommand`` of the user's ``~/.ssh/config``; e8scan reads no ssh_config, so such a host
would be contacted directly. The plan makes it that host's input error, naming file and line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli.main import main
from scanner.inventory.ssh_config import route_for, routes

CONFIG = """\
# site bastions
Host bastion.example
    User jump

Host hist* !hist-lab*
    ProxyJump ops@bastion.example:2222
    ProxyJump second-ignored

Host 10.20.*
    ProxyCommand sshpass -p Secret-Bastion-Pw ssh -W %h:%p bastion.example

Host direct01
    ProxyJump none

Host *.plant
    ProxyJump other.example

Match host "*.ot" exec "test -e /etc/at-site"
    ProxyJump site-bastion
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.write_text(CONFIG)
    return path


@pytest.mark.parametrize(
    ("names", "line", "with_match"),
    [
        (("hist01",), 6, True),  # first value wins, not the second ProxyJump of the block
        (("hist-lab01",), None, False),  # negated pattern
        (("hist-lab01",), 19, True),  # ... but the Match block is taken to apply
        (("app01", "10.20.1.5"), 10, True),  # matched on the address (ansible_host) too
        (("direct01.plant", "direct01"), None, True),  # ProxyJump none comes first for direct01
        (("web.plant",), 16, True),
        (("hmi.ot",), 19, True),  # a Match block is not evaluated here: taken to apply
        (("bastion.example",), 19, True),  # ... to every host
        (("bastion.example",), None, False),
    ],
)
def test_the_route_openssh_would_take(
    config: Path, names: tuple[str, ...], line: int | None, with_match: bool
) -> None:
    found = tuple(r for r in routes(config) if with_match or r.patterns is not None)
    route = route_for(names, found)
    assert (route.line if route else None) == line


def test_a_missing_or_unreadable_config_routes_nothing(tmp_path: Path) -> None:
    assert routes(tmp_path / "nope") == ()
    assert routes(tmp_path) == ()  # a folder


INVENTORY = """\
[ot]
hist01 ansible_host=192.0.2.7 ansible_user=scan
hist02 ansible_host=192.0.2.8 ansible_user=scan e8_jump_host=ops@bastion.example
app01 ansible_host=10.20.1.5 ansible_user=scan
web01 ansible_host=192.0.2.9 ansible_user=scan
"""


def test_plan_refuses_each_host_the_client_config_would_route(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(CONFIG.split("Match")[0])
    inv = tmp_path / "site.ini"
    inv.write_text(INVENTORY)
    result = CliRunner(env={"HOME": str(home)}).invoke(
        main, ["plan", "-i", str(inv), "--format", "json"]
    )
    assert result.exit_code == 1
    errors = {h["host"]: h["error"] for h in json.loads(result.stdout)}
    where = f"{home}/.ssh/config"
    assert errors["hist01"] == (
        f"host hist01: {where}:6: ProxyJump ops@bastion.example:2222 would route this host through "
        "a bastion, and e8scan does not read ssh_config; expected the route in the inventory "
        "(e8_jump_host, or ansible_ssh_common_args='-J [user@]bastion[:port]', or -o "
        "ProxyJump=none to connect directly)"
    )
    assert errors["hist02"] is None  # the inventory names its bastion: it wins
    assert errors["app01"].startswith(f"host app01: {where}:10: a ProxyCommand would route")
    assert "Secret-Bastion-Pw" not in result.output  # a ProxyCommand is never quoted back
    assert errors["web01"] is None
