"""The PowerShell field kit, as far as this machine allows (no Windows, no PowerShell here).

What is tested: the kit parses cleanly with the suite's independent PowerShell parser
(tree-sitter-powershell, in ``tests/facts/test_powershell_syntax.py``), and here:
- its batch is the remote batch: the whole kit script, sent to the suite's WS-Man server as the
  stdin of the winbatch bootstrap (as a remote scan sends its batch), is run by the server's
  PowerShell emulation from the recorded check fixtures, and answers every step;
- those step frames, sealed as the kit's ``E8Rec`` seals them, import as an ``offline`` host whose
  every control comes out as a remote ``e8scan scan`` of the same simulated host judged it.

What cannot be tested here: PowerShell itself running the kit — creating the output file,
``[Console]::SetOut`` catching each step's frames, .NET's SHA-256, PowerShell 2.0's runtime. The
sealing below mirrors ``E8Rec`` in Python; the record format it writes is the one the import
checks (and the Linux kit writes for real in ``test_field_kit.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_mixed_fleet import GOOD, _ini_value, host_state
from wsman.server import WSManServer

from scanner.checking.loader import load_checks
from scanner.cli.main import main
from scanner.collect import ps_batch
from scanner.collect.plan import make_plan
from scanner.collect.runner import RunOptions, open_transport
from scanner.inventory.load import load_inventory

USER, PW = "e8kitwin", "Field-Kit-Audit-7"
ADDRESS = "127.0.0.80"


def _seal(nonce: str, name: str, body: bytes) -> bytes:
    """What the kit's E8Rec writes for one record."""
    digest = hashlib.sha256(body).hexdigest()
    return body + f"\n{nonce} S {name} {len(body)} {digest}\n".encode()


@pytest.fixture(scope="module")
def windows(
    wsman_server_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("kitwin")
    fixtures, hvars = host_state(GOOD, datetime.now(UTC))
    server: WSManServer = wsman_server_factory(
        ADDRESS, scheme="http", auth=("ntlm",), users={USER: PW}, fixtures=fixtures
    )
    port = server.url.rsplit(":", 1)[1].split("/")[0]
    extra = " ".join(f"{k}={_ini_value(v)}" for k, v in hvars.items())
    inv = work / "site.ini"
    inv.write_text(
        f"[windows]\nwin01 ansible_host={ADDRESS} ansible_port={port} {extra}\n\n[windows:vars]\n"
        f"ansible_connection=winrm\nansible_winrm_scheme=http\nansible_winrm_transport=ntlm\n"
        f"ansible_user={USER}\ne8_password_env=E8_TEST_KIT_PASSWORD\n"
    )
    env = {"E8_TEST_KIT_PASSWORD": PW}
    scan = CliRunner(env=env).invoke(
        main, ["scan", "--no-history", "-q", "-i", str(inv), "--out", str(work / "scan")]
    )
    made = CliRunner().invoke(
        main, ["kit", "-i", str(inv), "--platform", "windows", "--out", str(work)]
    )
    assert made.exit_code == 0, made.output
    script = (work / "e8kit-win01.ps1").read_bytes().decode("utf-8-sig")  # CRLF kept
    # The whole kit, sent as the remote batch is: stdin of the bootstrap, over one WinRS shell.
    plan = make_plan(load_inventory([inv]).select(None), load_checks(), environ=env)[0]
    transport = open_transport(plan, RunOptions())
    transport.connect()
    try:
        res = transport.run(ps_batch.command_line(), 60, 64 << 20, stdin=script.encode())
    finally:
        transport.close()
    yield {"work": work, "script": script, "scan": scan, "stdout": res.stdout, "rc": res.exit_code}
    server.stop()  # NTLM users are process-wide: leave none behind for other modules


def _kit_output(script: str, stdout: bytes) -> bytes:
    """The file the kit writes, from the frames its steps printed (sealed as E8Rec seals)."""
    nonce = re.search(r"^\$N = '([0-9a-f]{32})'", script, re.M).group(1)  # type: ignore[union-attr]
    manifest = re.search(r"E8Rec 'manifest' \(@'\r\n(.*?)\r\n'@", script, re.S).group(1)  # type: ignore[union-attr]
    count = len(json.loads(manifest)["steps"])
    parts = [
        f"e8scan-kit 1 windows {nonce}\n".encode(),
        _seal(nonce, "manifest", manifest.encode() + b"\n"),
    ]
    host = (
        "hostname=WIN01\nmachine_id=5b0c6d0e-1f2a-4c1e-9d7b-3e2f1a0b9c8d\naccount=WIN01\\e8kitwin\n"
    )
    host += f"admin=True\noperator=K. Field\nstarted={datetime.now(UTC):%Y-%m-%dT%H:%M:%S}Z\n"
    parts.append(_seal(nonce, "host", host.encode()))
    for i in range(count):
        frame = re.search(
            rb"%s B %d\r\n.*?%s E %d \S+ ?\S*\r\n" % (nonce.encode(), i, nonce.encode(), i),
            stdout,
            re.S,
        )
        assert frame is not None, f"step {i} did not answer"
        parts.append(_seal(nonce, f"out.{i}", frame.group(0)))
    end = f"finished={datetime.now(UTC):%Y-%m-%dT%H:%M:%S}Z\nsteps={count}\n"
    parts.append(_seal(nonce, "end", end.encode()))
    return b"".join(parts)


def test_the_kit_imports_and_matches_the_remote_scan(
    windows: dict[str, Any], tmp_path: Path
) -> None:
    assert windows["rc"] == 0
    out = tmp_path / "win01.txt"
    out.write_bytes(_kit_output(windows["script"], windows["stdout"]))
    imported = CliRunner().invoke(
        main, ["import", str(out), "--out", str(tmp_path / "imp"), "-q", "--no-history"]
    )
    assert imported.exit_code == windows["scan"].exit_code, imported.output
    scan = json.loads((windows["work"] / "scan" / "results.json").read_text())
    got = json.loads((tmp_path / "imp" / "results.json").read_text())
    remote = {(c["strategy"], c["ism"]): c["outcome"] for c in scan["hosts"][0]["controls"]}
    offline = {(c["strategy"], c["ism"]): c["outcome"] for c in got["hosts"][0]["controls"]}
    assert offline == remote
    assert sum(v == "effective" for v in offline.values()) > 20
    h = got["hosts"][0]
    assert h["connection"] == "offline" and h["user"] == "WIN01\\e8kitwin"
    assert "run by K. Field" in h["notes"][0] and "ran as an administrator: True" in h["notes"]


def test_a_changed_windows_step_is_refused(windows: dict[str, Any], tmp_path: Path) -> None:
    from scanner.collect.offline import read_kit_output
    from scanner.model.errors import InputError

    good = _kit_output(windows["script"], windows["stdout"])
    at = good.index(b" S out.5 ") - 40  # inside step 5's base64 output
    out = tmp_path / "win01.txt"
    out.write_bytes(good[:at] + (b"A" if good[at : at + 1] != b"A" else b"B") + good[at + 1 :])
    with pytest.raises(
        InputError, match=r"record out\.5 \(step 5: `.*`\): does not match its sha256"
    ):
        read_kit_output(out)
