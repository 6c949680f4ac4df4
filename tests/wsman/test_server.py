"""The WS-Man test server against the REAL pywinrm client (never mocked), over real loopback HTTP(S).

Covers what the product's WinRM transport depends on: every auth/transport pairing
(Basic, NTLM with message encryption, HTTPS with a CA file, NTLM with channel binding), the
Protocol API with ``scanner.collect.ps_batch`` batches on one shell and one connection, multi-round
Receive, ``w:TimedOut``, every injected fault, code pages, cmd.exe's command-line limit, and
clean start/stop (no threads, sockets or temp files left behind).
"""

from __future__ import annotations

import base64
import contextlib
import glob
import http.client
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal
from xml.etree.ElementTree import ParseError

import pytest
import requests
import winrm
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol
from wsman import ntlm
from wsman.faults import Fault
from wsman.fixtures import FixtureError, FixtureOutput, HostFixtures, Match, load_host
from wsman.server import WSManServer

from scanner.collect import ps_batch
from scanner.collect.posix_batch import StepResult

USER, PASSWORD = "scanner", "Sc4nner-pw!"
USERS = {USER: PASSWORD}
JOSE = "Write-Output 'José'"
BIG = "".join(f"line {i:05d} {'x' * 40}\r\n" for i in range(1100)).encode()  # ~56 KB
FIXTURE_MAP: dict[Match, FixtureOutput | str] = {
    "hostname": "WIN-E8TEST01\r\n",
    JOSE: "José\r\n",
    "Get-Big": FixtureOutput(BIG),
    "Get-Slow": FixtureOutput("slow done\r\n", delay=2.5),
    "Get-Fails": FixtureOutput("partial\r\n", "Get-Fails : it failed\r\n", rc=1),
    "ipconfig": "\r\nWindows IP Configuration\r\n\r\n",
    re.compile(r"Get-Date.*"): "Tuesday, 1 April 2025 10:00:00 AM\r\n",
}
FIXTURES = HostFixtures(FIXTURE_MAP)


@contextlib.contextmanager
def serve(address: str = "127.0.0.21", **kwargs: Any) -> Iterator[WSManServer]:
    """A running server that must not have logged any unexpected server-side error."""
    kwargs.setdefault("users", USERS)
    kwargs.setdefault("fixtures", FIXTURES)
    with WSManServer(address, **kwargs) as server:
        yield server
    assert server.errors == []


def session(server: WSManServer, transport: str = "basic", **kwargs: Any) -> winrm.Session:
    if server.scheme == "https":
        kwargs.setdefault("ca_trust_path", server.cert_path)
    return winrm.Session(
        server.url, auth=(USER, kwargs.pop("password", PASSWORD)), transport=transport, **kwargs
    )


def protocol(server: WSManServer, transport: str = "basic", **kwargs: Any) -> Protocol:
    kwargs["transport"] = transport
    if server.scheme == "https":
        kwargs.setdefault("ca_trust_path", server.cert_path)
    kwargs.setdefault("operation_timeout_sec", 5)
    kwargs.setdefault("read_timeout_sec", 10)
    return Protocol(server.url, username=USER, password=PASSWORD, **kwargs)


def encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def run_batch(p: Protocol, shell: str, commands: list[str]) -> tuple[list[StepResult], int]:
    """One winbatch batch the way the product sends it; (results, Receive rounds)."""
    script, nonce = ps_batch.build(commands, 30)
    command_id = p.run_command(
        shell, ps_batch.command_line(), console_mode_stdin=False, skip_cmd_shell=True
    )
    p.send_command_input(shell, command_id, script.encode("ascii"), end=True)
    out, rounds = b"", 0
    for _ in range(50):
        o, _e, code, done = p.get_command_output_raw(shell, command_id)
        out, rounds = out + o, rounds + 1
        if done:
            assert code == 0
            break
    p.cleanup_command(shell, command_id)
    return ps_batch.parse(out, nonce, len(commands), 1 << 20), rounds


# -- Session.run_ps over each transport --------------------------------------------------------


def test_basic_over_http_runs_ps_on_one_connection_and_shell() -> None:
    with serve(auth={"basic"}) as server:
        result = session(server).run_ps("hostname")
        assert (result.status_code, result.std_out, result.std_err) == (0, b"WIN-E8TEST01\r\n", b"")
        assert server.connections == 1 and server.shells_opened == 1 and server.commands_run == 1
        assert server.requests == {
            "Create": 1,
            "Command": 1,
            "Receive": 1,
            "Signal": 1,
            "Delete": 1,
        }
        assert server.commands[0].script == "hostname" and server.codepages == [437]


def test_ntlm_over_http_encrypts_every_message_including_faults() -> None:
    # Windows' default posture: NTLM only, AllowUnencrypted=false → message encryption.
    with serve(auth={"ntlm"}, allow_unencrypted=False, record_wire=True) as server:
        assert session(server, "ntlm").run_ps("hostname").std_out == b"WIN-E8TEST01\r\n"
        soap_requests = sum(server.requests.values())
        assert soap_requests == 5 and server.encrypted_requests == soap_requests
        assert server.connections == 1 and server.auth_failures == 0
        # setup POST + 2 NTLM legs (empty bodies), then 5 sealed SOAP messages: no plaintext on the wire
        assert server.http_requests == 8
        bodies = [body for _headers, body in server.wire if body]
        assert len(bodies) == 5 and all(
            b"Envelope" not in b and b"hostname" not in b for b in bodies
        )
        assert all(
            h.get("Content-Type", "").startswith("multipart/encrypted") for h, b in server.wire if b
        )

        p = protocol(server, "ntlm")
        with pytest.raises(WSManFaultError) as fault:
            p.run_command("11111111-1111-1111-1111-111111111111", "hostname")
        assert fault.value.wsman_fault_code == 2150858843
        status, content_type, body = server.wire_replies[-1]
        assert (
            status == 500 and 'protocol="application/HTTP-SPNEGO-session-encrypted"' in content_type
        )
        assert b"InvalidSelectors" not in body
        p.transport.close_session()


def test_windows_default_refuses_basic_and_plaintext_ntlm_over_http() -> None:
    with serve(auth={"basic", "ntlm"}, allow_unencrypted=False) as server:
        with pytest.raises(InvalidCredentialsError):
            session(server, "basic").run_ps("hostname")
        with pytest.raises(WinRMTransportError) as refused:
            session(server, "ntlm", message_encryption="never").run_ps("hostname")
        assert refused.value.code == 500
        assert session(server, "ntlm").run_ps("hostname").status_code == 0  # encrypted: accepted


def test_https_basic_validates_against_the_servers_certificate() -> None:
    with serve(scheme="https", auth={"basic"}) as server:
        assert Path(server.cert_path).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
        # ca_trust_path=cert_path
        assert session(server).run_ps("hostname").std_out == b"WIN-E8TEST01\r\n"
        with pytest.raises(requests.exceptions.SSLError):
            session(server, ca_trust_path=None).run_ps("hostname")  # validation on, system CAs only
        ignoring = session(server, ca_trust_path=None, server_cert_validation="ignore")
        assert ignoring.run_ps("hostname").std_out == b"WIN-E8TEST01\r\n"
        assert server.encrypted_requests == 0


def test_https_ntlm_with_channel_binding_required() -> None:
    with serve(scheme="https", auth={"ntlm"}, require_cbt=True, allow_unencrypted=False) as server:
        result = session(server, "ntlm").run_ps("hostname")
        # over TLS, pywinrm does not seal the messages
        assert result.std_out == b"WIN-E8TEST01\r\n" and server.encrypted_requests == 0
        assert server.auth_failures == 0
        with pytest.raises(InvalidCredentialsError):
            session(server, "ntlm", send_cbt=False).run_ps("hostname")
        assert server.auth_failures == 1


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
def test_wrong_password_is_invalid_credentials(transport: str) -> None:
    with serve() as server:
        with pytest.raises(InvalidCredentialsError):
            session(server, transport, password="not-the-password").run_ps("hostname")
        assert server.auth_failures == 1 and server.shells_opened == 0


def test_401_has_content_length_and_keeps_the_connection() -> None:
    with serve(auth={"basic", "ntlm"}) as server:
        conn = http.client.HTTPConnection(server.address, server.port, timeout=5)
        for _ in range(2):  # the same TCP connection twice: keep-alive after a 401
            conn.request(
                "POST", "/wsman", body=b"<x/>", headers={"Content-Type": "application/soap+xml"}
            )
            reply = conn.getresponse()
            assert reply.read() == b"" and reply.status == 401
            assert reply.getheader("Content-Length") == "0"
            assert reply.getheader("Server") == "Microsoft-HTTPAPI/2.0"
            assert reply.headers.get_all("WWW-Authenticate") == ["Negotiate", 'Basic realm="WSMAN"']
        conn.close()
        assert server.connections == 1


def test_requests_are_parsed_by_namespace_not_prefix() -> None:
    # Windows-client prefixes (s/wsa/wsman, as in pypsrp's recordings) instead of pywinrm's env/a/w.
    envelope = (
        '<s:Envelope xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" '
        'xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
        '<wsa:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Create</wsa:Action>'
        "<wsa:MessageID>uuid:B9C6A568-20B0-4B50-93EE-E7BCAD5C20DB</wsa:MessageID>"
        "<wsa:To>http://192.0.2.1:5985/wsman</wsa:To><wsman:OperationTimeout>PT60S</wsman:OperationTimeout>"
        '<wsman:OptionSet><wsman:Option Name="WINRS_CODEPAGE">65001</wsman:Option></wsman:OptionSet>'
        "</s:Header><s:Body><rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams>"
        "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell></s:Body></s:Envelope>"
    )
    with serve(auth={"basic"}) as server:
        conn = http.client.HTTPConnection(server.address, server.port, timeout=5)
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        conn.request(
            "POST", "/wsman", body=envelope.encode(), headers={"Authorization": f"Basic {token}"}
        )
        reply = conn.getresponse()
        body = reply.read()
        conn.close()
        assert reply.status == 200 and b'Name="ShellId"' in body
        assert b"<a:RelatesTo>uuid:B9C6A568-20B0-4B50-93EE-E7BCAD5C20DB</a:RelatesTo>" in body
        assert server.codepages == [65001] and server.open_shells == 1


# -- Protocol API: the product's way (one shell, stdin batches) --------------------------------

TRANSPORTS = [("http", "basic"), ("http", "ntlm"), ("https", "basic"), ("https", "ntlm")]


@pytest.mark.parametrize(("scheme", "transport"), TRANSPORTS, ids=["-".join(t) for t in TRANSPORTS])
def test_winbatch_batches_on_one_shell_and_one_connection(scheme: str, transport: str) -> None:
    commands = ["hostname", JOSE, "Get-Fails", "Get-NoSuchThing", "Get-Date -Format D", "Get-Big"]
    with serve(scheme=scheme, require_cbt=scheme == "https" and transport == "ntlm") as server:
        p = protocol(server, transport)
        shell = p.open_shell(codepage=65001)
        for _ in range(3):
            results, _rounds = run_batch(p, shell, commands)
            by_command = dict(zip(commands, results, strict=True))
            assert by_command["hostname"].stdout == b"WIN-E8TEST01\r\n"
            assert by_command[JOSE].stdout == "José\r\n".encode()  # base64 of UTF-8: any code page
            failed = by_command["Get-Fails"]
            assert (failed.stdout, failed.stderr, failed.exit_code) == (
                b"partial\r\n",
                b"Get-Fails : it failed\r\n",
                1,
            )
            unknown = by_command["Get-NoSuchThing"]
            assert unknown.exit_code == 1 and unknown.stdout == b""
            assert unknown.stderr.startswith(
                b"Get-NoSuchThing : The term 'Get-NoSuchThing' is not recognized as the name of a cmdlet, "
                b"function, script file, or operable program."
            )
            assert (
                b"At line:2 char:1\r\n+ Get-NoSuchThing\r\n+ ~~~~~~~~~~~~~~~\r\n" in unknown.stderr
            )
            assert by_command["Get-Date -Format D"].stdout.startswith(b"Tuesday")
            assert by_command["Get-Big"].stdout == BIG and all(
                r.ran and not r.timed_out for r in results
            )
        p.close_shell(shell)
        assert server.shells_opened == 1 and server.connections == 1 and server.open_shells == 0
        assert server.requests["Command"] == 3 and server.requests["Send"] == 3
        record = server.commands[-1]
        assert record.kind == "batch" and record.steps == commands and record.exit_code == 0
        assert server.codepages == [65001]


def test_batch_step_longer_than_its_timeout_reports_124() -> None:
    entries: dict[Match, FixtureOutput | str] = {
        "Get-Slow": FixtureOutput("late\r\n", delay=5.0),
        "hostname": "H\r\n",
    }
    fixtures = HostFixtures(entries)
    with serve(fixtures=fixtures) as server:
        p = protocol(server)
        shell = p.open_shell(codepage=65001)
        script, nonce = ps_batch.build(["hostname", "Get-Slow"], 1)
        command_id = p.run_command(shell, ps_batch.command_line(), skip_cmd_shell=True)
        p.send_command_input(shell, command_id, script, end=True)
        started, out = time.monotonic(), b""
        while True:
            o, _e, _code, done = p.get_command_output_raw(shell, command_id)
            out += o
            if done:
                break
        assert time.monotonic() - started > 0.9  # the step ran into $T = 1
        first, slow = ps_batch.parse(out, nonce, 2, 1000)
        assert first.stdout == b"H\r\n" and slow.timed_out and slow.stderr == b"timed out after 1 s"
        p.close_shell(shell)


def test_large_output_arrives_in_several_receive_rounds() -> None:
    with serve(receive_chunk=8192) as server:
        p = protocol(server)
        shell = p.open_shell()
        command_id = p.run_command(shell, f"powershell -encodedcommand {encoded('Get-Big')}")
        chunks, done = [], False
        while not done:
            out, _err, code, done = p.get_command_output_raw(shell, command_id)
            chunks.append(out)
        assert len(chunks) == -(-len(BIG) // 8192) and b"".join(chunks) == BIG and code == 0
        assert all(len(c) <= 8192 for c in chunks)
        p.cleanup_command(shell, command_id)
        p.close_shell(shell)
        # pywinrm's own loop reassembles the rounds too
        assert session(server).run_ps("Get-Big").std_out == BIG


def test_operation_timeout_then_output_on_a_later_round() -> None:
    with serve() as server:
        p = protocol(server, operation_timeout_sec=1, read_timeout_sec=2)
        shell = p.open_shell()
        command_id = p.run_command(shell, f"powershell -encodedcommand {encoded('Get-Slow')}")
        started = time.monotonic()
        with pytest.raises(WinRMOperationTimeoutError):
            p.get_command_output_raw(shell, command_id)
        assert time.monotonic() - started > 0.9  # blocked for w:OperationTimeout, not less
        out, timeouts = b"", 1
        for _ in range(5):
            try:
                o, _err, code, done = p.get_command_output_raw(shell, command_id)
            except WinRMOperationTimeoutError:
                timeouts += 1
                continue
            out += o
            if done:
                break
        assert (out, code) == (b"slow done\r\n", 0) and server.timeouts == timeouts >= 1
        assert time.monotonic() - started > 2.4  # the output came when the command produced it
        p.close_shell(shell)


# -- faults -------------------------------------------------------------------------------------


def test_hang_times_out_on_every_receive_until_signalled() -> None:
    with serve(faults=["hang"]) as server:
        p = protocol(server, operation_timeout_sec=1, read_timeout_sec=3)
        shell = p.open_shell()
        command_id = p.run_command(shell, "hostname")
        for _ in range(3):
            with pytest.raises(WinRMOperationTimeoutError):
                p.get_command_output_raw(shell, command_id)
        assert server.timeouts == 3
        p.cleanup_command(shell, command_id)  # terminate: the command is gone
        with pytest.raises(WSManFaultError) as gone:
            p.get_command_output_raw(shell, command_id)
        assert (
            gone.value.wsman_fault_code == 2150858843
            and "command identifier" in gone.value.response
        )
        p.close_shell(shell)


def test_timed_out_forever_answers_at_once() -> None:
    with serve(faults=["timed_out_forever"]) as server:
        p = protocol(server, operation_timeout_sec=5, read_timeout_sec=10)
        shell = p.open_shell()
        command_id = p.run_command(shell, "hostname")
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(WinRMOperationTimeoutError):
                p.get_command_output_raw(shell, command_id)
        assert time.monotonic() - started < 4  # not 3 × w:OperationTimeout (5 s)
        server.set_faults()  # fixed: the next Receive gets the output
        assert p.get_command_output_raw(shell, command_id)[0] == b"WIN-E8TEST01\r\n"
        p.close_shell(shell)


def test_garbage_on_receive_only_is_a_parse_error() -> None:
    with serve(faults=["garbage:Receive"]) as server:
        p = protocol(server)
        shell = p.open_shell()  # Create and Command are untouched
        command_id = p.run_command(shell, "hostname")
        with pytest.raises(ParseError):
            p.get_command_output_raw(shell, command_id)
        p.close_shell(shell)


def test_garbage_inside_an_encrypted_reply_is_still_a_parse_error() -> None:
    with serve(auth={"ntlm"}, faults=[Fault("garbage", "Receive", times=1)]) as server:
        p = protocol(server, "ntlm")
        shell = p.open_shell()
        command_id = p.run_command(shell, "hostname")
        with pytest.raises(ParseError):
            p.get_command_output_raw(shell, command_id)
        assert p.get_command_output_raw(shell, command_id)[0] == b"WIN-E8TEST01\r\n"  # fault spent
        p.close_shell(shell)


def test_done_without_exit_code_is_stop_iteration() -> None:
    with serve(faults=["no_exit_code"]) as server:
        p = protocol(server)
        shell = p.open_shell()
        command_id = p.run_command(shell, "hostname")
        with pytest.raises(StopIteration):
            p.get_command_output_raw(shell, command_id)
        p.close_shell(shell)


def test_dropped_connection_is_a_connection_error_and_the_next_one_works() -> None:
    with serve(faults=[Fault("drop", "Command", times=1)]) as server:
        p = protocol(server)
        shell = p.open_shell()
        with pytest.raises(requests.exceptions.ConnectionError):
            p.run_command(shell, "hostname")
        command_id = p.run_command(shell, "hostname")  # requests reconnects; Basic is per request
        assert p.get_command_output(shell, command_id)[0] == b"WIN-E8TEST01\r\n"
        p.close_shell(shell)
        assert server.connections == 2


def test_soap_fault_and_skip() -> None:
    with serve(faults=[Fault("soap_fault", "Create", skip=1, times=1)]) as server:
        assert session(server).run_ps("hostname").status_code == 0  # the first Create is skipped
        with pytest.raises(WSManFaultError) as denied:
            session(server).run_ps("hostname")
        assert (denied.value.code, denied.value.fault_subcode, denied.value.wsman_fault_code) == (
            500,
            "w:AccessDenied",
            5,
        )
        assert session(server).run_ps("hostname").status_code == 0  # spent


def test_unknown_shell_id_is_invalid_selectors() -> None:
    with serve() as server:
        p = protocol(server)
        with pytest.raises(WSManFaultError) as fault:
            p.close_shell("11111111-1111-1111-1111-111111111111")
        assert fault.value.wsman_fault_code == 2150858843
        assert (
            fault.value.fault_subcode == "w:InvalidSelectors"
            and fault.value.fault_code == "s:Sender"
        )
        assert "ShellId 11111111-1111-1111-1111-111111111111 failed" in fault.value.response


def test_idle_connection_closed_by_the_host() -> None:
    # HTTP.sys closes idle keep-alive connections (120 s by default; 0.3 s here). Basic simply
    # reconnects; NTLM with message encryption cannot: the client re-authenticates on the new
    # connection but resends the body it sealed with the old context (reference, pitfall 9).
    with serve(idle_timeout=0.3) as server:
        basic = protocol(server)
        shell = basic.open_shell()
        time.sleep(0.6)
        command_id = basic.run_command(shell, "hostname")
        assert basic.get_command_output(shell, command_id)[0] == b"WIN-E8TEST01\r\n"
        basic.close_shell(shell)
        assert server.connections == 2

        sealed = protocol(server, "ntlm")
        shell = sealed.open_shell()
        time.sleep(0.6)
        with pytest.raises(WinRMTransportError) as broken:
            sealed.run_command(shell, "hostname")
        assert broken.value.code == 400
        sealed.transport.close_session()


def test_fault_specs_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Fault("explode")
    with pytest.raises(ValueError, match="only applies to Receive"):
        Fault.parse("no_exit_code:Create")
    assert Fault.parse("drop:Signal") == Fault("drop", "Signal")


# -- the fake host: code pages, command lines, fixtures -----------------------------------------


def test_code_page_437_mojibake_versus_65001() -> None:
    with serve() as server:
        # pywinrm's default WINRS_CODEPAGE=437
        assert session(server).run_ps(JOSE).std_out == b"Jos\x82\r\n"
        p = protocol(server)
        shell = p.open_shell(codepage=65001)
        command_id = p.run_command(shell, f"powershell -encodedcommand {encoded(JOSE)}")
        assert p.get_command_output(shell, command_id) == ("José\r\n".encode(), b"", 0)
        p.close_shell(shell)
        assert server.codepages == [437, 65001]


@pytest.mark.parametrize("flag", ["-e", "-en", "-enc", "-EncodedCommand", "/ENC", "-ec"])
def test_every_prefix_of_encoded_command(flag: str) -> None:
    with serve() as server:
        line = f"powershell.exe -NoProfile -ExecutionPolicy Bypass {flag} {encoded('hostname')}"
        assert session(server).run_cmd(line).std_out == b"WIN-E8TEST01\r\n"


def test_unknown_script_is_a_clixml_error_that_pywinrm_cleans() -> None:
    with serve() as server:
        result = session(server).run_ps("Get-NoSuchThing -Name x")
        assert result.status_code == 1
        assert result.std_err.startswith(
            b"Get-NoSuchThing : The term 'Get-NoSuchThing' is not recognized"
        )
        assert server.commands[0].kind == "script"


def test_cmd_command_lines_and_the_8191_character_limit() -> None:
    with serve() as server:
        assert (
            session(server).run_cmd("ipconfig").std_out == b"\r\nWindows IP Configuration\r\n\r\n"
        )
        missing = session(server).run_cmd("nosuchtool /all")
        assert missing.status_code == 9009
        assert missing.std_err == (
            b"'nosuchtool' is not recognized as an internal or external command,\r\n"
            b"operable program or batch file.\r\n"
        )
        script = "Write-Output '" + "x" * 3100 + "'"  # ~8.3k characters once UTF-16LE + base64
        too_long = session(server).run_ps(script)
        assert (too_long.status_code, too_long.std_out, too_long.std_err) == (
            1,
            b"",
            b"The command line is too long.\r\n",
        )
        assert server.commands[-1].kind == "too_long"


def test_without_cmd_shell_an_unknown_program_fails_to_start() -> None:
    with serve() as server:
        p = protocol(server)
        shell = p.open_shell()
        with pytest.raises(WSManFaultError) as fault:
            p.run_command(shell, "nosuchtool.exe", skip_cmd_shell=True)
        assert fault.value.wsman_fault_code == 2 and "cannot find the file" in fault.value.reason
        p.close_shell(shell)


def test_fixtures_load_from_json(tmp_path: Path) -> None:
    example = load_host("example")
    assert "corpus" in example.provenance and len(example) == 4
    admins = example.lookup("net localgroup administrators")
    assert (
        admins is not None
        and isinstance(admins.stdout, str)
        and "\r\nCONTOSO\\user1\r\n" in admins.stdout
    )
    registry = example.lookup(
        "Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion' | ConvertTo-Json"
    )
    assert registry is not None and '"CurrentBuild":  "20348"' in str(registry.stdout)
    progress = example.lookup("Get-Module -ListAvailable | Out-Null")
    assert progress is not None and isinstance(progress.stderr, bytes)
    assert progress.stderr.startswith(b"#< CLIXML\r\n")

    good = tmp_path / "host.json"
    good.write_text(
        '{"provenance": "made up for this test", "commands": ['
        '{"match": "whoami", "stdout": "win01\\\\scanner\\r\\n"},'
        '{"match": {"regex": "get-hotfix.*", "flags": "i"}, "stdout_b64": "SEVMTE8=", "rc": 3, "delay": 0.1}]}',
        encoding="utf-8",
    )
    fixtures = HostFixtures.from_json(good)
    assert fixtures.lookup("whoami") == FixtureOutput("win01\\scanner\r\n")
    assert fixtures.lookup("  whoami\r\n") == FixtureOutput("win01\\scanner\r\n")
    assert fixtures.lookup("Get-HotFix -Id KB1") == FixtureOutput(b"HELLO", "", 3, 0.1)
    assert fixtures.lookup("Get-Nothing") is None

    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"commands": [{"match": "x", "stdout": "a", "stdout_b64": "YQ=="}]}', encoding="utf-8"
    )
    with pytest.raises(
        FixtureError, match=r"bad\.json: commands\[0\]: give 'stdout' or 'stdout_b64'"
    ):
        HostFixtures.from_json(bad)
    bad.write_text('{"commands": [{"match": "x", "stdot": "a"}]}', encoding="utf-8")
    with pytest.raises(FixtureError, match="unknown key"):
        HostFixtures.from_json(bad)


def test_json_fixtures_served_end_to_end() -> None:
    with serve(fixtures=load_host("example")) as server:
        admins = session(server).run_cmd("net localgroup administrators")
        assert admins.std_out.endswith(b"The command completed successfully.\r\n")
        progress = session(server).run_ps("Get-Module -ListAvailable | Out-Null")
        # pywinrm returns a progress-only CLIXML stderr unchanged (no <S> records), exit code 0
        assert progress.status_code == 0 and progress.std_err.startswith(b"#< CLIXML\r\n<Objs")


# -- several hosts, lifecycle ---------------------------------------------------------------------


def test_several_hosts_at_once(wsman_server_factory: Callable[..., WSManServer]) -> None:
    hosts = [
        wsman_server_factory(
            "127.0.0.31", users=USERS, fixtures=HostFixtures({"hostname": "ALPHA\r\n"})
        ),
        wsman_server_factory(
            "127.0.0.32", users=USERS, fixtures=HostFixtures({"hostname": "BRAVO\r\n"})
        ),
        wsman_server_factory(
            "127.0.0.32",
            users=USERS,
            auth={"ntlm"},
            fixtures=HostFixtures({"hostname": "CHARLIE\r\n"}),
        ),
    ]
    assert len({h.url for h in hosts}) == 3
    outputs: dict[str, bytes] = {}

    def sweep(host: WSManServer, transport: str) -> None:
        outputs[host.url] = session(host, transport).run_ps("hostname").std_out

    threads = [
        threading.Thread(target=sweep, args=(h, "ntlm" if "basic" not in h.auth else "basic"))
        for h in hosts
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [outputs[h.url] for h in hosts] == [b"ALPHA\r\n", b"BRAVO\r\n", b"CHARLIE\r\n"]
    assert all(h.connections == 1 and h.shells_opened == 1 for h in hosts)
    for h in hosts:
        h.stop()
        assert h.errors == []


def test_ntlm_users_share_one_process_wide_file() -> None:
    with serve(users={"alice": "pw-a"}, auth={"ntlm"}) as a:
        path = ntlm.user_file()
        assert path is not None and os.environ["NTLM_USER_FILE"] == path
        with serve(users={"bob": "pw-b"}, auth={"ntlm"}) as b:
            assert Path(path).read_text().splitlines() == [":alice:pw-a", ":bob:pw-b"]
            # alice is in the shared file but is not one of b's users: refused
            with pytest.raises(InvalidCredentialsError):
                winrm.Session(b.url, auth=("alice", "pw-a"), transport="ntlm").run_ps("hostname")
            bob = winrm.Session(b.url, auth=("bob", "pw-b"), transport="ntlm")
            assert bob.run_ps("hostname").std_out == b"WIN-E8TEST01\r\n"
            with pytest.raises(ValueError, match="already has another password"):
                WSManServer("127.0.0.33", users={"ALICE": "other"}, auth={"ntlm"}).start()
        assert Path(path).read_text().splitlines() == [":alice:pw-a"]
        assert a.running
    assert ntlm.user_file() is None and not os.path.exists(path)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _temp_files() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "e8scan-wsman-*")))


def test_start_stop_twenty_servers_leaves_nothing_behind() -> None:
    threads_before, fds_before, temp_before = set(threading.enumerate()), _fds(), _temp_files()
    env_before = os.environ.get("NTLM_USER_FILE")
    for i in range(20):
        scheme: Literal["http", "https"] = "https" if i % 2 else "http"
        server = WSManServer(
            f"127.0.0.{40 + i}", scheme=scheme, users=USERS, fixtures=FIXTURES, faults=["hang"]
        )
        server.start()
        assert server.url.startswith(f"{scheme}://127.0.0.{40 + i}:")
        p = protocol(
            server, "ntlm" if i % 4 < 2 else "basic", operation_timeout_sec=20, read_timeout_sec=30
        )
        shell = p.open_shell()  # leaves a live keep-alive connection in the client's pool
        caught: list[BaseException] = []
        blocked = None
        if i % 5 == 0:  # and a Receive blocked in the server when it stops
            command_id = p.run_command(shell, "hostname")

            def receive(
                p: Protocol = p,
                shell: str = shell,
                command_id: str = command_id,
                caught: list[BaseException] = caught,
            ) -> None:
                try:
                    p.get_command_output_raw(shell, command_id)
                except BaseException as exc:
                    caught.append(exc)

            blocked = threading.Thread(target=receive)
            blocked.start()
            while server.requests["Receive"] == 0:
                time.sleep(0.01)
        stop_started = time.monotonic()
        server.stop()
        assert time.monotonic() - stop_started < 5 and not server.running  # not the 20 s Receive
        if blocked is not None:
            blocked.join(5)
            assert len(caught) == 1 and isinstance(caught[0], requests.exceptions.ConnectionError)
        p.transport.close_session()
        assert server.errors == []
    deadline = time.monotonic() + 2
    while set(threading.enumerate()) - threads_before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert set(threading.enumerate()) - threads_before == set()
    assert _temp_files() == temp_before
    assert os.environ.get("NTLM_USER_FILE") == env_before
    assert _fds() <= fds_before


def test_restart_keeps_the_port_and_forgets_shells() -> None:
    server = WSManServer("127.0.0.60", users=USERS, fixtures=FIXTURES)
    with server:
        url = server.url
        p = protocol(server)
        shell = p.open_shell()
        p.transport.close_session()
    with server:
        assert server.url == url and server.open_shells == 0
        with pytest.raises(WSManFaultError):
            protocol(server).close_shell(shell)
    assert server.errors == []
