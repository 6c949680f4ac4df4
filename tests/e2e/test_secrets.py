"""End to end: a password given to the scanner appears in nothing the scan produces.

Canary passwords (unique random strings) reach real hosts three ways: through ``e8_password_env``
to a real sshd with password authentication (``e8pw``), through ``e8_password_env`` to WS-Man
hosts with Basic auth, and literally as ``ansible_password`` in the inventory. Wrong canaries go
to one SSH and one WinRM host so the authentication-failure paths run too. Then every output is
searched, byte for byte, for each canary (plain, UTF-16-LE as Windows writes it, and base64 at
every alignment): the CLI's stdout and stderr, every file in the output folder (the workbook's
zip members unpacked), the evidence bundle, the HTML, JUnit and Prometheus files and the SQLite
history. A second scan forces an internal error after collection, with and without
``E8SCAN_DEBUG=1``, and searches the error message and the traceback as well.
"""

from __future__ import annotations

import base64
import json
import secrets
import traceback
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sshfleet import PASSWORD_USER, HostSpec, SSHFleet, lock_password, set_password
from wsman.fixtures import HostFixtures
from wsman.server import WSManServer

import scanner.cli.scan
from scanner.cli.main import main
from scanner.inventory.load import load_inventory

pytestmark = pytest.mark.sshd

GOOD = "e8canary-good-" + secrets.token_hex(12)
WRONG = "e8canary-wrong-" + secrets.token_hex(12)
WIN_USER = "e8secrets-" + secrets.token_hex(4)  # NTLM/Basic users are process-wide: unique
ENV = {"E8_TEST_CANARY_GOOD": GOOD, "E8_TEST_CANARY_WRONG": WRONG}
# Secrets written into the inventory in every form redaction must see through (issue 12 item 7).
FORMS = {
    form: f"e8canary-{form}-" + secrets.token_hex(8)
    for form in (
        "nested",  # my_app: {db: {password: ...}}
        "anchor",  # ansible_become_password: &pw ..., then my_note: *pw
        "sshpass",  # ansible_scp_extra_args: ... sshpass -p ... (e8scan copies no files)
        "argument",  # my_tool_args: --password=...
        "url",  # my_proxy: http://user:...@proxy
        "tag",  # vault_note: !unsafe ...
        "nextline",  # "? ansible_become_pass" then ": ..." on the next line
        "escaped",  # "ansible_become_pass\x77ord_2": ...
        "json",  # {"ansible_become_password":\n "..."} in host_vars/pw-good.json
        "ini",  # ansible_become_pass'word'=... on an INI host line
    )
}
CANARIES = (GOOD, WRONG, *FORMS.values())


def needles(secret: str) -> list[bytes]:
    """The ways ``secret`` could be written down: plain, UTF-16-LE, base64 at every alignment."""
    raw = secret.encode()
    found = [raw, secret.encode("utf-16-le")]
    for shift in range(3):
        b64 = base64.b64encode(b"\0" * shift + raw)
        found.append(b64[4 * ((shift + 2) // 3) + 2 : -4])  # the part only the secret decides
    return found


def leaks(name: str, data: bytes) -> list[str]:
    """Which canary forms occur in ``data`` (``name`` says where it came from)."""
    return [f"{name}: {n!r}" for secret in CANARIES for n in needles(secret) if n and n in data]


def scan_files(root: Path) -> tuple[list[str], int]:
    """Leaks in every file under ``root`` (zip archives searched member by member), files seen."""
    found, seen = [], 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        seen += 1
        data = path.read_bytes()
        found += leaks(str(path), data)
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for member in z.namelist():
                    found += leaks(f"{path}!{member}", z.read(member))
    return found, seen


def _win(server: WSManServer, name: str, env: str) -> str:
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    return (
        f"{name} ansible_host={server.address} ansible_port={port} ansible_connection=winrm "
        f"ansible_winrm_scheme=http ansible_winrm_transport=basic e8_allow_basic_over_http=true "
        f"ansible_user={WIN_USER} "
        f"e8_password_env={env}"
    )


@pytest.fixture(scope="module")
def setup(
    ssh_fleet_factory: Any, wsman_server_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    fleet: SSHFleet = ssh_fleet_factory([HostSpec("pwhost")], password_auth=True, name="secrets")
    h = fleet.host("pwhost")
    server = wsman_server_factory(
        "127.0.0.246", auth=("basic",), users={WIN_USER: GOOD}, fixtures=HostFixtures({})
    )
    src = tmp_path_factory.mktemp("secrets-src")  # the inventory (it holds a literal canary)
    home = src / "home"
    home.mkdir()
    ssh = f"ansible_host={h.address} ansible_port={h.port} ansible_user={PASSWORD_USER}"
    inv = src / "site.ini"
    inv.write_text(
        "\n".join(
            [
                "[linux]",
                f"pw-good {ssh} e8_password_env=E8_TEST_CANARY_GOOD",
                f"pw-wrong {ssh} e8_password_env=E8_TEST_CANARY_WRONG",
                f"pw-inline {ssh} ansible_password={GOOD} ansible_become_pass'word'={FORMS['ini']}",
                "[windows]",
                _win(server, "win-good", "E8_TEST_CANARY_GOOD"),
                _win(server, "win-wrong", "E8_TEST_CANARY_WRONG"),
            ]
        )
        + "\n"
    )
    (src / "group_vars").mkdir()
    (src / "group_vars" / "linux.yml").write_text(
        f"my_app: {{db: {{user: scan, password: {FORMS['nested']}}}}}\n"
        f"ansible_become_password: &pw {FORMS['anchor']}\n"
        "my_note: *pw\n"
        # A ProxyCommand in ansible_ssh_*_args is refused (tests/unit/test_bastion_inventory.py,
        # without quoting it back); scp's arguments are Ansible's file copies, which e8scan never
        # makes, so it is only recorded (redacted) here.
        "ansible_scp_extra_args: >-\n"
        f'  -o ProxyCommand="sshpass -p {FORMS["sshpass"]} ssh -W %h:%p nowhere"\n'
        f"my_tool_args: --user scan --password={FORMS['argument']}\n"
        f"my_proxy: http://scan:{FORMS['url']}@proxy.example:3128\n"
        f"vault_note: !unsafe {FORMS['tag']}\n"
        "? ansible_become_pass\n"
        f": {FORMS['nextline']}\n"
        f'"ansible_become_pass\\x77ord_2": {FORMS["escaped"]}\n'
    )
    (src / "host_vars").mkdir()
    (src / "host_vars" / "pw-good.json").write_text(
        '{"ansible_become_password":\n    "' + FORMS["json"] + '"}\n'
    )
    set_password(PASSWORD_USER, GOOD)
    try:
        yield {
            "fleet": fleet,
            "inventory": inv,
            "env": ENV | {"HOME": str(home), "SSH_AUTH_SOCK": None},
        }
    finally:
        lock_password(PASSWORD_USER)
        server.stop()
        fleet.stop()


def scan(setup: dict[str, Any], work: Path, *extra: str, debug: bool = False) -> Result:
    env = setup["env"] | ({"E8SCAN_DEBUG": "1"} if debug else {"E8SCAN_DEBUG": None})
    return CliRunner(env=env).invoke(
        main,
        [
            "scan",
            "-i",
            str(setup["inventory"]),
            "--known-hosts",
            str(setup["fleet"].known_hosts),
            "--out",
            str(work / "out"),
            "--history",
            str(work / "history.sqlite"),
            "-f",
            "5",
            "--connect-timeout",
            "5",
            *extra,
        ],
    )


@pytest.fixture(scope="module")
def swept(setup: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("secrets-out")
    result = scan(
        setup,
        work,
        "--evidence",
        str(work / "evidence"),
        "--html",
        str(work / "report.html"),
        "--junit",
        str(work / "junit.xml"),
        "--prom",
        str(work / "e8.prom"),
        debug=True,
    )
    return {"result": result, "work": work}


def test_the_canaries_were_really_used(swept: dict[str, Any], setup: dict[str, Any]) -> None:
    result = swept["result"]
    assert result.exit_code == 4, (result.output, result.exception)
    hosts = {
        h["name"]: h
        for h in json.loads((swept["work"] / "out" / "results.json").read_text())["hosts"]
    }
    reach = {n: h["reach"] for n, h in hosts.items()}
    assert reach == {
        "pw-good": "ok",
        "pw-wrong": "auth_failed",
        "pw-inline": "ok",
        "win-good": "ok",
        "win-wrong": "auth_failed",
    }, {n: h["reach_detail"] for n, h in hosts.items()}
    assert setup["fleet"].sshd_log("pwhost").count("Accepted password for e8pw") >= 2


def test_every_output_was_written(swept: dict[str, Any]) -> None:
    work = swept["work"]
    for name in (
        "out/raw.json",
        "out/results.json",
        "out/e8-report.xlsx",
        "report.html",
        "junit.xml",
        "e8.prom",
        "history.sqlite",
    ):
        assert (work / name).is_file(), name
    assert any((work / "evidence").rglob("*"))


def test_the_canary_appears_in_no_output(swept: dict[str, Any]) -> None:
    result = swept["result"]
    found, seen = scan_files(swept["work"])
    assert seen >= 8
    found += leaks("stdout", result.stdout_bytes) + leaks("stderr", result.stderr_bytes)
    assert not found, found


def test_every_form_reaches_the_inventory(setup: dict[str, Any]) -> None:
    # The planted secrets are really read as values (so a leak would be a real one).
    hosts = load_inventory([setup["inventory"]]).hosts
    good, inline = hosts["pw-good"].vars, hosts["pw-inline"].vars
    assert good["my_app"]["db"]["password"] == FORMS["nested"]
    assert good["my_note"] == FORMS["anchor"]
    assert FORMS["sshpass"] in good["ansible_scp_extra_args"]
    assert FORMS["argument"] in good["my_tool_args"] and FORMS["url"] in good["my_proxy"]
    assert good["vault_note"] == FORMS["tag"]
    assert good["ansible_become_pass"] == FORMS["nextline"]
    assert good["ansible_become_password_2"] == FORMS["escaped"]
    assert good["ansible_become_password"] == FORMS["json"]  # host_vars beat group_vars
    assert inline["ansible_become_password"] == FORMS["ini"]


def test_the_needles_would_find_a_leak() -> None:
    # The search itself works: every form of the canary is found where it was written.
    blob = b"x" + GOOD.encode() + b"y" + base64.b64encode(b"ab" + GOOD.encode())
    assert len(leaks("probe", blob)) >= 2
    assert leaks("probe", GOOD.encode("utf-16-le"))
    for shift in range(3):
        assert leaks("probe", base64.b64encode(b"\0" * shift + WRONG.encode()))


@pytest.mark.parametrize("debug", [False, True])
def test_a_forced_internal_error_leaks_nothing(
    setup: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug: bool,
) -> None:
    def broken_assess(raw: Any, *args: Any, **kwargs: Any) -> Any:
        # A bug after collection whose message carries the whole raw record and its hosts.
        raise RuntimeError(f"forced failure while judging {raw!r} {raw.hosts!r}")

    monkeypatch.setattr(scanner.cli.scan, "assess", broken_assess)
    limit = "pw-good:pw-inline:pw-wrong"
    result = scan(setup, tmp_path, "--no-history", "--limit", limit, debug=debug)
    assert result.exit_code == 1
    if debug:  # the traceback propagates (CliRunner keeps it as the exception)
        assert isinstance(result.exception, RuntimeError)
        text = "".join(traceback.format_exception(result.exception))
    else:
        assert "internal error" in result.stderr
        text = result.stderr
    assert "forced failure" in text and "pw-good" in text
    found = leaks("message", text.encode()) + leaks("output", result.output.encode())
    files, _ = scan_files(tmp_path)
    assert not found + files, found + files
