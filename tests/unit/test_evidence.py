"""The sealed evidence bundle: layout, raw bytes kept exactly, no secrets, tamper detection."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bagit
import pytest
from click.testing import CliRunner, Result

from scanner.assess.pipeline import assess
from scanner.assess.results import Results
from scanner.checking.role_probe import PROBE_ID, PROBE_VERSION
from scanner.cli.main import main
from scanner.model.errors import InputError
from scanner.model.policy import Policy
from scanner.model.vocabulary import Platform, Reach
from scanner.record.raw import CheckRef, CommandRecord, HostRecord, RawRecord, RunInfo
from scanner.runs.bag import BAGIT_TXT, encode_path, manifest_text
from scanner.runs.evidence import redact_secrets, safe_name, verify_bundle, write_bundle
from scanner.runs.signing import load_private_key

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 3, 5, tzinfo=UTC)
CANARY_ENV = "CANARY-env-pw-7f3a91"
CANARY_INV = "CANARY-inv-pw-c0ffee"
PW_VAR = "E8_TEST_EVIDENCE_PW"
ODD_BYTES = b"\xff\xfe\x00caf\xe9 \x80\r\n=cmd|' /C calc'!A0\n"


def e8(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def files_of(bundle: Path) -> dict[str, bytes]:
    """Every file of a folder or zip bundle, by relative path."""
    if bundle.is_dir():
        return {
            p.relative_to(bundle).as_posix(): p.read_bytes()
            for p in bundle.rglob("*")
            if p.is_file()
        }
    with zipfile.ZipFile(bundle) as zf:  # a serialized bag: one top-level folder, named as the zip
        top = f"{bundle.stem}/"
        assert all(n.startswith(top) for n in zf.namelist())
        return {n.removeprefix(top): zf.read(n) for n in zf.namelist()}


def retag(bundle: Path) -> None:
    """Rewrite a bag's tagmanifest-sha256.txt to match its tag files (what a forger would do)."""
    tags = sorted(p for p in bundle.iterdir() if p.is_file() and not p.name.startswith("tagm"))
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in tags]
    (bundle / "tagmanifest-sha256.txt").write_text("".join(lines))


# --- a real scan of this machine, once per module -----------------------------------------------


@dataclass
class Scan:
    inventory: Path
    out: Path
    bundle: Path
    result: Result
    keys: Path  # e8scan-signing.key / .pub, made by `e8scan keys generate`
    fingerprint: str

    def raw(self) -> RawRecord:
        return RawRecord.model_validate_json((self.out / "raw.json").read_bytes())

    def results(self) -> Results:
        return Results.model_validate_json((self.out / "results.json").read_bytes())


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    tmp = tmp_path_factory.mktemp("evscan")
    inv = tmp / "inv" / "local.yml"
    inv.parent.mkdir()
    inv.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        f"      ansible_password: {CANARY_INV}\n      e8_password_env: {PW_VAR}\n"
        "      e8_role: workstation\n"
    )
    keys = tmp / "keys"
    keys.mkdir()
    made = e8("keys", "generate", "--out", str(keys))
    assert made.exit_code == 0, made.output
    (fp,) = [line.split()[-1] for line in made.output.splitlines() if "fingerprint" in line]
    out, bundle = tmp / "out", tmp / "bundle"
    result = e8(
        "scan", "-i", str(inv), "--out", str(out), "--evidence", str(bundle), "--no-history", "-q",
        "--sign-key", str(keys / "e8scan-signing.key"), env={PW_VAR: CANARY_ENV},
    )  # fmt: skip
    return Scan(inv, out, bundle, result, keys, fp)


def test_real_scan_writes_a_bundle_that_verifies(scan: Scan) -> None:
    assert scan.result.exit_code in (0, 3), scan.result.output
    assert verify_bundle(scan.bundle) == []
    manifest = json.loads((scan.bundle / "manifest.json").read_bytes())
    raw = scan.raw()
    assert manifest["kind"] == "e8scan-evidence" and manifest["schema_version"] == 2
    assert manifest["run_id"] == raw.run.id
    assert manifest["created"] == raw.run.finished.isoformat()
    assert {"tool_version", "model_version"} <= set(manifest)
    assert manifest["sources"] == {
        str(scan.inventory): hashlib.sha256(scan.inventory.read_bytes()).hexdigest()
    }
    on_disk = files_of(scan.bundle)
    tags = {"manifest.json", "manifest.json.sig", "tagmanifest-sha256.txt"}
    assert set(on_disk) - tags == set(manifest["files"])
    assert on_disk["data/raw.json"] == (scan.out / "raw.json").read_bytes()
    assert on_disk["data/results.json"] == (scan.out / "results.json").read_bytes()


def test_real_scan_bundle_holds_every_command_exactly(scan: Scan) -> None:
    raw = scan.raw()
    versions = {PROBE_ID: PROBE_VERSION} | {c.id: c.version for c in raw.run.checks}
    (host,) = raw.hosts
    folder = scan.bundle / "data" / "hosts" / "localhost"
    info = json.loads((folder / "host.json").read_bytes())
    assert info["name"] == "localhost" and info["connection"] == "local"
    assert info["reach"] == host.reach.value and info["platform"] == "linux"
    cmd_dirs = sorted(p for p in folder.iterdir() if p.is_dir())
    assert len(cmd_dirs) == len(host.commands) > 5
    for d, cmd in zip(cmd_dirs, host.commands, strict=True):
        assert (d / "command.txt").read_text() == cmd.command
        assert (d / "as_run.txt").read_text() == cmd.as_run
        assert (d / "stdout.bin").read_bytes() == cmd.stdout
        assert (d / "stderr.bin").read_bytes() == cmd.stderr
        meta = json.loads((d / "meta.json").read_bytes())
        assert meta["exit_code"] == cmd.exit_code and meta["started"] == cmd.started
        assert meta["checks"] == [{"id": c, "version": versions[c]} for c in cmd.checks]


def test_canary_passwords_never_reach_the_bundle(scan: Scan, tmp_path: Path) -> None:
    assert CANARY_INV in scan.inventory.read_text()  # the planted secret is really there
    zipped = write_bundle(tmp_path / "b.zip", scan.raw(), scan.results(), [scan.inventory.parent])
    for bundle in (scan.bundle, zipped):
        everything = files_of(bundle)
        assert any(n.startswith("data/sources/") for n in everything)
        for name, data in everything.items():
            for canary in (CANARY_ENV, CANARY_INV):
                assert canary.encode() not in data, (bundle, name)
    copy = files_of(scan.bundle)["data/sources/local.yml"].decode()
    assert "ansible_password: <redacted>" in copy and f"e8_password_env: {PW_VAR}" in copy
    assert json.loads(files_of(scan.bundle)["manifest.json"])["redacted"] == [
        "data/sources/local.yml"
    ]


def test_zip_of_real_scan_verifies_through_the_cli(scan: Scan, tmp_path: Path) -> None:
    key = load_private_key(scan.keys / "e8scan-signing.key")
    zipped = write_bundle(tmp_path / "e.zip", scan.raw(), scan.results(), [scan.inventory], key)
    result = e8("verify", str(zipped), "--pubkey", pubkey_of(scan))
    assert result.exit_code == 0 and result.output.startswith("OK "), result.output
    assert f"intact, signed by {scan.fingerprint}" in result.output
    assert files_of(zipped).keys() == files_of(scan.bundle).keys()


# --- hand-made records ----------------------------------------------------------------------


def host(name: str, *commands: CommandRecord) -> HostRecord:
    return HostRecord(
        name=name,
        address="10.0.0.9",
        port=22,
        connection="ssh",
        user="scan",
        become=True,
        platform=Platform.LINUX,
        groups=["pilbara"],
        vars={"e8_role": "server"},
        reach=Reach.OK,
        host_key="SHA256:abc",
        started=T0,
        finished=T1,
        commands=list(commands),
    )


def command(line: str = "cat /etc/os-release", stdout: bytes = b"ID=debian\n") -> CommandRecord:
    return CommandRecord(
        command=line,
        as_run=f"sudo -n sh -c {line!r}",
        checks=["patch_os.linux_os_support"],
        stdout=stdout,
        stderr=b"warn \xfe\n",
        exit_code=0,
        started=1795000000.25,
        finished=1795000001.5,
    )


def record(*hosts: HostRecord) -> tuple[RawRecord, Results]:
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(
            id="run-1",
            started=T0,
            finished=T1,
            inventory=[],
            checks=[CheckRef(id="patch_os.linux_os_support", version=3)],
        ),
        hosts=list(hosts) or [host("hmi01", command(), command("uname -r", ODD_BYTES))],
    )
    return raw, assess(raw, [], Policy())


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "bundle", *record(), [])


@pytest.fixture
def zipped(tmp_path: Path) -> Path:
    return write_bundle(tmp_path / "bundle.zip", *record(), [])


def test_non_utf8_output_round_trips_exactly(bundle: Path, zipped: Path) -> None:
    for b in (bundle, zipped):
        files = files_of(b)
        assert files["data/hosts/hmi01/02-linux_os_support-uname-r/stdout.bin"] == ODD_BYTES
        assert files["data/hosts/hmi01/01-linux_os_support-cat-etc/stderr.bin"] == b"warn \xfe\n"
        raw = RawRecord.model_validate_json(files["data/raw.json"])
        assert raw.hosts[0].commands[1].stdout == ODD_BYTES
        meta = json.loads(files["data/hosts/hmi01/02-linux_os_support-uname-r/meta.json"])
        assert meta["checks"] == [{"id": "patch_os.linux_os_support", "version": 3}]
        assert meta["started_utc"].startswith("2026-")


def test_folder_and_zip_verify_and_are_reproducible(tmp_path: Path, zipped: Path) -> None:
    assert verify_bundle(zipped) == []
    again = write_bundle(tmp_path / "again" / "bundle.zip", *record(), [])
    assert again.read_bytes() == zipped.read_bytes()
    a = write_bundle(tmp_path / "a", *record(), [])
    b = write_bundle(tmp_path / "b", *record(), [])
    assert verify_bundle(a) == [] and files_of(a) == files_of(b)


def test_flipped_byte_is_reported_as_altered(bundle: Path) -> None:
    target = bundle / "data/hosts/hmi01/02-linux_os_support-uname-r/stdout.bin"
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))
    (problem,) = verify_bundle(bundle)
    assert problem.startswith("altered: data/hosts/hmi01/02-linux_os_support-uname-r/stdout.bin")


def test_deleted_file_is_missing_and_added_file_is_extra(bundle: Path) -> None:
    (bundle / "data/results.json").unlink()
    (bundle / "data/hosts/hmi01/notes.txt").write_text("added later")
    assert verify_bundle(bundle) == [
        "missing: data/results.json",
        "extra: data/hosts/hmi01/notes.txt (not in the manifest)",
    ]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{not json", "not valid JSON"),
        ('{"kind": "something-else", "files": {}}', "not an e8scan evidence manifest"),
        ('{"kind": "e8scan-evidence", "schema_version": 2, "files": {"a": "zz"}}', "'files'"),
        ('{"kind": "e8scan-evidence", "schema_version": 3, "files": {}}', "unsupported"),
    ],
)
def test_corrupt_manifest_is_a_problem(bundle: Path, text: str, needle: str) -> None:
    (bundle / "manifest.json").write_text(text)
    (problem,) = verify_bundle(bundle)
    assert problem.startswith("manifest.json") and needle in problem


def test_manifest_pointing_outside_is_a_problem_not_a_read(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_bytes())
    manifest["files"]["../outside.txt"] = "0" * 64
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    retag(bundle)
    (bundle.parent / "outside.txt").write_text("x")
    assert verify_bundle(bundle) == [
        "unsafe: ../outside.txt (the manifest lists a path outside the bundle)"
    ]


def test_tampered_zip_entry_and_flipped_zip_byte(tmp_path: Path, zipped: Path) -> None:
    name = "data/hosts/hmi01/01-linux_os_support-cat-etc/stdout.bin"
    rewritten = tmp_path / "rewritten.zip"
    with zipfile.ZipFile(zipped) as src, zipfile.ZipFile(rewritten, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, b"ID=forged\n" if n == f"bundle/{name}" else src.read(n))
    assert verify_bundle(rewritten) == [f"altered: {name} (SHA-256 does not match the manifest)"]

    with zipfile.ZipFile(zipped) as zf:
        info = zf.getinfo(f"bundle/{name}")
    raw = bytearray(zipped.read_bytes())
    local_header = raw[info.header_offset : info.header_offset + 30]
    start = info.header_offset + 30 + int.from_bytes(local_header[26:28], "little")
    start += int.from_bytes(local_header[28:30], "little")
    raw[start] ^= 0xFF
    zipped.write_bytes(bytes(raw))
    (problem,) = verify_bundle(zipped)
    assert problem.startswith(f"altered: {name}")


def test_zip_extra_and_missing(tmp_path: Path, zipped: Path) -> None:
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(zipped) as src, zipfile.ZipFile(edited, "w") as dst:
        for n in src.namelist():
            if n != "bundle/data/raw.json":
                dst.writestr(n, src.read(n))
        dst.writestr("bundle/data/sources/extra.ini", b"[x]\n")
        dst.writestr("beside.txt", b"not in the bag\n")
    assert verify_bundle(edited) == [
        "extra: beside.txt (outside the bag's folder bundle/)",
        "missing: data/raw.json",
        "extra: data/sources/extra.ini (not in the manifest)",
    ]


def test_verify_cli_exit_codes(tmp_path: Path, bundle: Path) -> None:
    ok = e8("verify", str(bundle))
    assert ok.exit_code == 0 and "OK" in ok.output
    (bundle / "data/raw.json").write_text("{}")
    bad = e8("verify", str(bundle))
    assert bad.exit_code == 1
    assert "FAIL altered: data/raw.json" in bad.stdout and "not intact" in bad.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = e8("verify", str(empty))
    assert none.exit_code == 1 and none.stdout == ""
    assert none.stderr.strip().splitlines() == [
        f"e8scan: error: {empty}: not an evidence bundle (no manifest.json)"
    ]


def test_not_a_bundle_at_all_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such evidence bundle"):
        verify_bundle(tmp_path / "nothing")
    text = tmp_path / "file.zip"
    text.write_text("not a zip")
    with pytest.raises(InputError, match="neither a folder nor a zip"):
        verify_bundle(text)


def test_path_traversal_host_names_stay_inside(tmp_path: Path) -> None:
    names = ["../../etc", "..", "/abs/path", "a/b", "a_b", "A_B", ".hidden", "C:\\win"]
    raw, results = record(*(host(n, command("cat ../../../etc/shadow")) for n in names))
    for dest in (tmp_path / "deep" / "bundle", tmp_path / "deep" / "bundle.zip"):
        write_bundle(dest, raw, results, [])
        assert verify_bundle(dest) == []
        files = files_of(dest)
        for rel in files:
            assert ".." not in Path(rel).parts and not rel.startswith("/"), rel
        folders = {rel.split("/")[2] for rel in files if rel.startswith("data/hosts/")}
        assert len({f.lower() for f in folders}) == len(names)
        assert all(f and not f.startswith(".") for f in folders)
        manifest = json.loads(files["manifest.json"])
        assert set(manifest["hosts"]) == set(names)
        recorded = {json.loads(files[f"{d}/host.json"])["name"] for d in manifest["hosts"].values()}
        assert recorded == set(names)
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["bundle", "bundle.zip"]
    assert not (tmp_path / "etc").exists()
    assert safe_name("../../etc") == "etc" and safe_name("..") == "_"


def test_refuses_foreign_folders_and_replaces_old_bundles(tmp_path: Path, bundle: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(InputError, match="not an e8scan evidence bundle"):
        write_bundle(foreign, *record(), [])
    assert [p.name for p in foreign.iterdir()] == ["holiday.jpg"]
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("mine")
    with pytest.raises(InputError, match="not an e8scan evidence bundle"):
        write_bundle(not_zip, *record(), [])
    assert not_zip.read_text() == "mine"

    (bundle / "stale.txt").write_text("left over")
    raw, results = record(host("other", command()))
    write_bundle(bundle, raw, results, [])
    assert verify_bundle(bundle) == []
    assert sorted(p.name for p in (bundle / "data" / "hosts").iterdir()) == ["other"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    empty = tmp_path / "empty"
    empty.mkdir()
    assert verify_bundle(write_bundle(empty, *record(), [])) == []


def test_sources_folders_are_copied_with_hashes(tmp_path: Path) -> None:
    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.ini").write_text("[ot]\nhmi01 ansible_password='s3cr3t pw' ansible_user=scan\n")
    (inv / "group_vars" / "ot.yml").write_bytes(b"e8_role: server\n\xff\n")
    policy = tmp_path / "policy.yml"
    policy.write_text("patch_other_days: 21\n")
    dest = write_bundle(tmp_path / "b", *record(), [inv, policy])
    files = files_of(dest)
    assert (
        files["data/sources/inv/hosts.ini"]
        == b"[ot]\nhmi01 ansible_password='<redacted>' ansible_user=scan\n"
    )
    assert files["data/sources/inv/group_vars/ot.yml"] == b"e8_role: server\n\xff\n"
    assert files["data/sources/policy.yml"] == b"patch_other_days: 21\n"
    manifest = json.loads(files["manifest.json"])
    assert (
        manifest["sources"][str(inv / "hosts.ini")]
        == hashlib.sha256((inv / "hosts.ini").read_bytes()).hexdigest()
    )
    assert set(manifest["sources"]) == {
        str(inv / "hosts.ini"),
        str(inv / "group_vars" / "ot.yml"),
        str(policy),
    }


def test_redact_secrets_ini_yaml_and_blocks() -> None:
    text = (
        b'web1 ansible_ssh_pass="a b" ansible_host=10.0.0.1\n'
        b"web2 ansible_password=p#ss,w0rd ansible_user=scan\n"
        b"vars: {api_token: abc123, port: 22}\n"
        b"ansible_password: two words, and more  # note\r\n"
        b'  "ansible_become_password": "x\\"y",\n'
        b"e8_password_env: E8_PW\n"
        b"vault_secret: !vault |\n"
        b"  $ANSIBLE_VAULT;1.1;AES256\n"
        b"\n"
        b"  6638\r\n"
        b"after: kept\n"
    )
    assert redact_secrets(text) == (
        b'web1 ansible_ssh_pass="<redacted>" ansible_host=10.0.0.1\n'
        b"web2 ansible_password=<redacted> ansible_user=scan\n"
        b"vars: {api_token: <redacted>, port: 22}\n"
        b"ansible_password: <redacted>\r\n"
        b'  "ansible_become_password": "<redacted>",\n'
        b"e8_password_env: E8_PW\n"
        b"vault_secret: !vault |\n"
        b"  <redacted>\n"
        b"\n"
        b"  <redacted>\r\n"
        b"after: kept\n"
    )
    plain = b"[ot]\nhmi01 ansible_user=scan\n\xff\xfe\n"
    assert redact_secrets(plain) == plain


def test_a_redacted_json_source_is_still_json() -> None:
    # group_vars/*.json and a script inventory's output are JSON: a quoted value keeps its quotes
    doc = {"all": {"vars": {"ansible_password": 's3cr"et', "api_token": "t", "port": 22}}}
    copy = json.loads(redact_secrets(json.dumps(doc, indent=1).encode()))
    assert copy == {
        "all": {"vars": {"ansible_password": "<redacted>", "api_token": "<redacted>", "port": 22}}
    }


def test_unwritable_destination_is_one_line_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(InputError, match="evidence folder not writable"):
        write_bundle(blocker / "bundle", *record(), [])
    inv = Path(__file__).parents[2] / "inventories" / "local.yml"
    result = e8(
        "scan", "-i", str(inv), "--checks", "patch_os.linux_os_support", "--out",
        str(tmp_path / "out"), "--evidence", str(blocker / "ev.zip"), "--no-history", "-q",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.stderr.splitlines() if not ln.startswith("e8scan: warning:")]
    assert len(lines) == 1 and lines[0].startswith("e8scan: error: ")
    assert "evidence folder not writable" in lines[0] and str(blocker) in lines[0]


def test_copy_of_a_bundle_still_verifies(tmp_path: Path, bundle: Path) -> None:
    moved = shutil.copytree(bundle, tmp_path / "filed" / "Q4-evidence")
    assert verify_bundle(moved) == []


# --- signed bundles ---------------------------------------------------------------------------


def pubkey_of(scan: Scan) -> str:
    return str(scan.keys / "e8scan-signing.pub")


def signed_copy(scan: Scan, tmp_path: Path) -> Path:
    copy = tmp_path / "signed"
    shutil.copytree(scan.bundle, copy)
    return copy


def rewrite_manifest(bundle: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit manifest.json as a forger would: the BagIt tag manifest made to match again."""
    manifest = json.loads((bundle / "manifest.json").read_bytes())
    edit(manifest)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    retag(bundle)


def fails_signature(bundle: Path, pubkey: str) -> str:
    """``verify --pubkey`` exits 1 with exactly one FAIL line, which it returns."""
    result = e8("verify", str(bundle), "--pubkey", pubkey)
    assert result.exit_code == 1, result.output
    (line,) = result.stdout.splitlines()
    assert "not intact" in result.stderr
    return line


def test_signed_scan_verifies_and_prints_the_manifest_hash(scan: Scan) -> None:
    assert scan.result.exit_code in (0, 3), scan.result.output
    digest = hashlib.sha256((scan.bundle / "manifest.json").read_bytes()).hexdigest()
    assert f"manifest.json sha256 {digest} (signed)" in scan.result.stdout
    signature = (scan.bundle / "manifest.json.sig").read_bytes()
    assert len(signature) == 64
    ok = e8("verify", str(scan.bundle), "--pubkey", pubkey_of(scan))
    assert ok.exit_code == 0, ok.output
    assert f"intact, signed by {scan.fingerprint}" in ok.stdout
    unchecked = e8("verify", str(scan.bundle))
    assert unchecked.exit_code == 0 and "intact, signature not checked" in unchecked.stdout
    key = scan.keys / "e8scan-signing.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert (scan.keys / "e8scan-signing.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_rewritten_output_with_recomputed_hash_fails_the_signature(
    scan: Scan, tmp_path: Path
) -> None:
    bundle = signed_copy(scan, tmp_path)
    stdout = next(
        p for p in sorted(bundle.glob("data/hosts/localhost/*/stdout.bin")) if p.stat().st_size
    )
    stdout.write_bytes(b"0" * stdout.stat().st_size)  # same size: Payload-Oxum cannot see it
    # every hash recomputed, as a forger would: the BagIt payload manifest, manifest.json's
    # hashes (of the payload and of the tag files) and the tag manifest
    payload = sorted(p for p in (bundle / "data").rglob("*") if p.is_file())
    (bundle / "manifest-sha256.txt").write_text(
        "".join(
            f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(bundle).as_posix()}\n"
            for p in payload
        )
    )

    def rehash(m: dict[str, Any]) -> None:
        m["files"] = {n: hashlib.sha256((bundle / n).read_bytes()).hexdigest() for n in m["files"]}

    rewrite_manifest(bundle, rehash)
    assert verify_bundle(bundle) == []  # the hashes alone cannot see it: that is the point
    bagit.Bag(str(bundle)).validate(fast=False)  # nor can BagIt's: only the signature can
    assert fails_signature(bundle, pubkey_of(scan)).startswith("FAIL bad signature:")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("run_id", "run-forged"),
        ("created", "2020-01-01T00:00:00+00:00"),
        ("tool_version", "0.0.1"),
        ("hosts", {"localhost": "data/hosts/localhost", "ghost": "data/hosts/ghost"}),
        ("sources", {}),
        ("redacted", []),
    ],
)
def test_any_manifest_edit_fails_the_signature(
    scan: Scan, tmp_path: Path, field: str, value: Any
) -> None:
    bundle = signed_copy(scan, tmp_path)
    rewrite_manifest(bundle, lambda m: m.update({field: value}))
    assert fails_signature(bundle, pubkey_of(scan)).startswith("FAIL bad signature:")


def test_wrong_key_and_missing_signature_fail(scan: Scan, tmp_path: Path) -> None:
    other = e8(
        "keys",
        "generate",
        "--private",
        str(tmp_path / "o.key"),
        "--public",
        str(tmp_path / "o.pub"),
    )
    assert other.exit_code == 0, other.output
    line = fails_signature(scan.bundle, str(tmp_path / "o.pub"))
    assert line.startswith("FAIL bad signature:")
    bundle = signed_copy(scan, tmp_path)
    (bundle / "manifest.json.sig").unlink()
    retag(bundle)
    assert fails_signature(bundle, pubkey_of(scan)).startswith("FAIL unsigned:")
    unsigned = e8("verify", str(bundle))
    assert unsigned.exit_code == 0 and "intact, unsigned" in unsigned.stdout


def test_unsigned_bundle_verifies_as_unsigned(bundle: Path) -> None:
    result = e8("verify", str(bundle))
    assert result.exit_code == 0 and "intact, unsigned" in result.stdout, result.output


def test_keys_are_never_replaced_and_bad_keys_are_one_line(tmp_path: Path, bundle: Path) -> None:
    assert e8("keys", "generate", "--out", str(tmp_path)).exit_code == 0
    key = tmp_path / "e8scan-signing.key"
    before = key.read_bytes()
    again = e8("keys", "generate", "--out", str(tmp_path))
    assert again.exit_code == 1 and "exists; not replacing" in again.stderr
    assert key.read_bytes() == before
    bad = e8("verify", str(bundle), "--pubkey", str(key))  # a private key is not a public key
    assert bad.exit_code == 1 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        f"e8scan: error: {key}: not a PEM public key "
        "(expected SubjectPublicKeyInfo, '-----BEGIN PUBLIC KEY')"
    ]


def test_openssl_made_keys_sign_and_verify(tmp_path: Path, scan: Scan) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "the test machine has openssl"
    key, pub = tmp_path / "k.pem", tmp_path / "p.pem"
    subprocess.run([openssl, "genpkey", "-algorithm", "ed25519", "-out", str(key)], check=True)
    subprocess.run([openssl, "pkey", "-in", str(key), "-pubout", "-out", str(pub)], check=True)
    signed = write_bundle(tmp_path / "b", *record(), [], sign_key=load_private_key(key))
    ok = e8("verify", str(signed), "--pubkey", str(pub))
    assert ok.exit_code == 0 and "intact, signed by SHA256:" in ok.stdout, ok.output
    # and openssl checks e8scan's signature without e8scan
    checked = subprocess.run(
        [openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pubkey_of(scan), "-rawin",
         "-in", str(scan.bundle / "manifest.json"), "-sigfile", str(scan.bundle / "manifest.json.sig")],
        capture_output=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def test_encrypted_and_non_ed25519_keys_are_refused(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    assert openssl, "the test machine has openssl"
    enc, ec = tmp_path / "enc.pem", tmp_path / "ec.pem"
    subprocess.run(
        [
            openssl,
            "genpkey",
            "-algorithm",
            "ed25519",
            "-aes256",
            "-pass",
            "pass:x",
            "-out",
            str(enc),
        ],
        check=True,
    )
    subprocess.run(
        [
            openssl,
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            str(ec),
        ],
        check=True,
    )
    with pytest.raises(InputError, match="encrypted; give an unencrypted PKCS#8"):
        load_private_key(enc)
    with pytest.raises(InputError, match="not an Ed25519 key"):
        load_private_key(ec)


def test_zip_with_a_duplicate_entry_is_refused(tmp_path: Path, zipped: Path) -> None:
    doubled = tmp_path / "doubled.zip"
    with zipfile.ZipFile(zipped) as src, zipfile.ZipFile(doubled, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            dst.writestr("bundle/data/raw.json", b"{}")
    result = e8("verify", str(doubled))
    assert result.exit_code == 1
    assert "FAIL duplicate: bundle/data/raw.json (the zip holds 2 entries of that name)" in (
        result.stdout
    )


def test_symlinks_in_a_bundle_are_refused(tmp_path: Path, bundle: Path, zipped: Path) -> None:
    (bundle / "notes").symlink_to("/etc/passwd")
    raw = bundle / "data" / "raw.json"
    outside = tmp_path / "raw-outside.json"
    raw.rename(outside)
    raw.symlink_to(outside)
    assert verify_bundle(bundle) == [
        "symlink: data/raw.json (links are refused in a bundle)",
        "symlink: notes (links are refused in a bundle)",
        "missing: data/raw.json",
        "extra: notes (not in the manifest)",
    ]
    linked = tmp_path / "linked.zip"
    with zipfile.ZipFile(zipped) as src, zipfile.ZipFile(linked, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        link = zipfile.ZipInfo("bundle/data/sources/evil")
        link.external_attr = (0o120777) << 16
        dst.writestr(link, b"/etc/shadow")
    assert verify_bundle(linked)[0] == (
        "symlink: bundle/data/sources/evil (links are refused in a bundle)"
    )


# --- BagIt (RFC 8493): the Library of Congress' bagit-python is the oracle ----------------------


def test_real_scan_bundle_is_a_valid_bag(scan: Scan, tmp_path: Path) -> None:
    bag = bagit.Bag(str(scan.bundle))
    bag.validate(fast=False)  # every payload hash, every tag hash, Payload-Oxum
    assert (scan.bundle / "bagit.txt").read_bytes() == (
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    )
    run_id = scan.raw().run.id
    assert bag.info["External-Identifier"] == run_id
    assert (
        "e8scan" in bag.info["External-Description"] and run_id in bag.info["External-Description"]
    )
    assert bag.info["Bagging-Date"] == scan.raw().run.finished.date().isoformat()
    assert "Source-Organization" not in bag.info  # the policy names none
    manifest = json.loads((scan.bundle / "manifest.json").read_bytes())
    payload = {n for n in manifest["files"] if n.startswith("data/")}
    assert set(bag.payload_files()) == payload and "data/raw.json" in payload
    assert set(bag.tagfile_entries()) == {
        "bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest.json", "manifest.json.sig",
    }  # fmt: skip
    assert all(safe_name(part, 128) == part for n in payload for part in n.split("/"))
    # the zip is a serialized bag: one folder, named as the zip; unpacked, it validates too
    key = load_private_key(scan.keys / "e8scan-signing.key")
    zipped = write_bundle(tmp_path / "Q4-evidence.zip", scan.raw(), scan.results(), [], key)
    with zipfile.ZipFile(zipped) as zf:
        assert {n.split("/", 1)[0] for n in zf.namelist()} == {"Q4-evidence"}
        zf.extractall(tmp_path / "unpacked")
    bagit.Bag(str(tmp_path / "unpacked" / "Q4-evidence")).validate(fast=False)
    ok = e8("verify", str(tmp_path / "unpacked" / "Q4-evidence"), "--pubkey", pubkey_of(scan))
    assert ok.exit_code == 0 and "intact, signed by" in ok.stdout, ok.output


def test_bagit_and_verify_both_catch_a_tampered_payload_and_tag_file(
    scan: Scan, tmp_path: Path
) -> None:
    bundle = signed_copy(scan, tmp_path)
    stdout = next(p for p in sorted(bundle.glob("data/hosts/*/*/stdout.bin")) if p.stat().st_size)
    data = bytearray(stdout.read_bytes())
    data[0] ^= 0x01
    stdout.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bundle)).validate(fast=False)
    name = stdout.relative_to(bundle).as_posix()
    assert verify_bundle(bundle) == [f"altered: {name} (SHA-256 does not match the manifest)"]
    data[0] ^= 0x01
    stdout.write_bytes(bytes(data))
    info = bundle / "bag-info.txt"
    info.write_bytes(info.read_bytes() + b"Source-Organization: Someone Else\n")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bundle)).validate(fast=False)
    assert verify_bundle(bundle) == [
        "altered: bag-info.txt (SHA-256 does not match the manifest)",
        "altered: tagmanifest-sha256.txt (does not list exactly the bag's tag files and their "
        "SHA-256)",
    ]


def test_bagit_manifests_must_be_what_the_signed_manifest_implies(bundle: Path) -> None:
    """A payload manifest that drops a file (BagIt would then miss it) fails verify even when a
    forger made manifest.json's hash of it and the tag manifest match again."""
    payload = bundle / "manifest-sha256.txt"
    lines = payload.read_bytes().splitlines(keepends=True)
    payload.write_bytes(b"".join(line for line in lines if b"data/raw.json" not in line))
    rewrite_manifest(
        bundle,
        lambda m: m["files"].update(
            {"manifest-sha256.txt": hashlib.sha256(payload.read_bytes()).hexdigest()}
        ),
    )
    assert verify_bundle(bundle) == [
        "altered: manifest-sha256.txt (does not list exactly the payload files of manifest.json)"
    ]
    (bundle / "tagmanifest-sha256.txt").unlink()
    assert verify_bundle(bundle)[-1] == "missing: tagmanifest-sha256.txt"


def test_policy_organisation_is_the_bags_source_organization(tmp_path: Path) -> None:
    raw, _ = record()
    results = assess(raw, [], Policy(organisation="Pilbara Minerals\nOT Security"))
    dest = write_bundle(tmp_path / "b", raw, results, [])
    assert bagit.Bag(str(dest)).info["Source-Organization"] == "Pilbara Minerals OT Security"
    bagit.Bag(str(dest)).validate(fast=False)


def test_manifest_paths_are_encoded_as_rfc_8493_says(tmp_path: Path) -> None:
    """RFC 8493 2.1.3: CR, LF and % percent-encoded. bagit-python agrees on CR and LF; it does not
    decode %25 (LibraryOfCongress/bagit-python#157), which no e8scan payload path can contain
    (safe_name: letters, digits, ``._-``), so only the CR/LF bag goes to the oracle."""
    assert encode_path("data/100%\r\n.txt") == "data/100%25%0D%0A.txt"
    payload = {"data/two\nlines.txt": b"a\n", "data/cr\r.txt": b"b", "data/plain.txt": b""}
    bag_dir = tmp_path / "odd"
    for name, data in payload.items():
        (bag_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (bag_dir / name).write_bytes(data)
    (bag_dir / "bagit.txt").write_bytes(BAGIT_TXT)
    hashes = {n: hashlib.sha256(d).hexdigest() for n, d in payload.items()}
    text = manifest_text(hashes)
    assert b"data/two%0Alines.txt\n" in text and b"data/cr%0D.txt\n" in text
    (bag_dir / "manifest-sha256.txt").write_bytes(text)
    bagit.Bag(str(bag_dir)).validate(fast=False)
    (bag_dir / "data" / "two\nlines.txt").write_bytes(b"changed\n")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate(fast=False)


# --- bundles written before BagIt (schema_version 1): users' archives still verify --------------

V1 = Path(__file__).parents[1] / "data" / "evidence-v1"


@pytest.mark.parametrize("name", ["bundle", "bundle.zip"])
def test_pre_bagit_bundles_still_verify_signed(name: str) -> None:
    ok = e8("verify", str(V1 / name), "--pubkey", str(V1 / "signing.pub"))
    assert ok.exit_code == 0, ok.output
    assert "intact, signed by SHA256:O7ITjIHt6idufT5/Ym9xM6nK4iaX+xJzQz2ZoDiKNb0" in ok.stdout
    assert json.loads(files_of_v1(V1 / name)["manifest.json"])["schema_version"] == 1


def files_of_v1(bundle: Path) -> dict[str, bytes]:
    if bundle.is_dir():
        return files_of(bundle)
    with zipfile.ZipFile(bundle) as zf:  # everything at the top, as before BagIt
        return {n: zf.read(n) for n in zf.namelist()}


def test_pre_bagit_bundle_tampering_is_still_caught(tmp_path: Path) -> None:
    old = shutil.copytree(V1 / "bundle", tmp_path / "old")
    name = "hosts/hmi01/02-linux_os_support-uname-r/stdout.bin"
    (old / name).write_bytes(b"forged\n")
    (old / "bagit.txt").write_bytes(BAGIT_TXT)  # an old bundle holds no BagIt files
    assert verify_bundle(old) == [
        f"altered: {name} (SHA-256 does not match the manifest)",
        "extra: bagit.txt (not in the manifest)",
    ]
    (old / "bagit.txt").unlink()
    rewrite_manifest(
        old, lambda m: m["files"].update({name: hashlib.sha256(b"forged\n").hexdigest()})
    )
    (old / "tagmanifest-sha256.txt").unlink()  # rewrite_manifest retags; a v1 bundle has none
    assert verify_bundle(old) == []
    line = fails_signature(old, str(V1 / "signing.pub"))
    assert line.startswith("FAIL bad signature:")
    zipped = tmp_path / "old.zip"
    with zipfile.ZipFile(V1 / "bundle.zip") as src, zipfile.ZipFile(zipped, "w") as dst:
        for n in src.namelist():
            dst.writestr(n, b"{}" if n == "raw.json" else src.read(n))
    assert verify_bundle(zipped) == ["altered: raw.json (SHA-256 does not match the manifest)"]


def test_a_pre_bagit_bundle_at_the_destination_is_replaced_by_a_bag(tmp_path: Path) -> None:
    for name in ("bundle", "bundle.zip"):
        dest = tmp_path / name
        if name.endswith(".zip"):
            shutil.copy(V1 / name, dest)
        else:
            shutil.copytree(V1 / name, dest)
        write_bundle(dest, *record(), [])
        assert verify_bundle(dest) == []
        assert "data/raw.json" in files_of(dest) and "raw.json" not in files_of(dest)


# --- the inventory's copies: exactly what the loader read, links never followed elsewhere -------

LINKED_PW = "CANARY-linked-pw-5e1f"


def _link(link: Path, target: str) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def test_scan_bundle_copies_the_files_the_inventory_read_and_no_other(tmp_path: Path) -> None:
    """A real scan (one unreachable host) of an inventory whose group_vars/host_vars hold links:
    inside the tree, out of it, to a file the loader reads and to one it never reads. The bundle
    holds the files read — under the link's own path, with a note naming the target, redacted —
    and nothing else; `e8scan verify` and bagit-python accept it."""
    site = tmp_path / "site"
    (site / "group_vars").mkdir(parents=True)
    (site / "site.ini").write_text("[web]\nweb1 ansible_host=127.0.0.250 ansible_port=1\n")
    (site / "common.yml").write_text("e8_backup_rpo_hours: 24\n")
    _link(site / "group_vars" / "all.yml", "../common.yml")  # inside the tree
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "web.yml").write_text("e8_role: server\n")
    _link(site / "group_vars" / "web.yml", "../../shared/web.yml")  # out of it, read
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "web1.yml").write_text(
        f"e8_ot_zone: a\nansible_password: {LINKED_PW}\n"
    )
    _link(site / "host_vars" / "web1.yml", str(tmp_path / "outside" / "web1.yml"))
    (tmp_path / "outside" / "shadow").write_text("root:CANARY-never-read:19000::::::\n")
    _link(site / "host_vars" / "ghost.yml", str(tmp_path / "outside" / "shadow"))  # no such host
    (site / "group_vars" / "notes.txt").write_text("CANARY-notes-never-read\n")
    out, bundle = tmp_path / "out", tmp_path / "bundle"
    result = e8(
        "scan", "-i", str(site / "site.ini"), "--out", str(out), "--evidence", str(bundle),
        "--no-history", "-q", "--checks", "patch_os.linux_os_support",
    )  # fmt: skip
    assert result.exit_code in (0, 3, 4), result.output
    files = files_of(bundle)
    sources = sorted(n for n in files if n.startswith("data/sources/"))
    assert sources == [
        "data/sources/group_vars/all.yml",
        "data/sources/group_vars/web.yml",
        "data/sources/host_vars/web1.yml",
        "data/sources/site.ini",
    ]
    assert files["data/sources/group_vars/web.yml"] == b"e8_role: server\n"
    assert (
        files["data/sources/host_vars/web1.yml"] == b"e8_ot_zone: a\nansible_password: <redacted>\n"
    )
    for name, data in files.items():
        for canary in (LINKED_PW, "CANARY-never-read", "CANARY-notes-never-read"):
            assert canary.encode() not in data, (name, canary)
    manifest = json.loads(files["manifest.json"])
    raw = RawRecord.model_validate_json((out / "raw.json").read_bytes())
    assert manifest["sources"] == {s.path: s.sha256 for s in raw.run.inventory}  # as --resume
    assert manifest["source_notes"] == {
        "data/sources/group_vars/all.yml": "read through a symbolic link: the bytes of "
        f"{site / 'common.yml'}",
        "data/sources/group_vars/web.yml": "read through a symbolic link: the bytes of "
        f"{tmp_path / 'shared' / 'web.yml'}",
        "data/sources/host_vars/web1.yml": "read through a symbolic link: the bytes of "
        f"{tmp_path / 'outside' / 'web1.yml'}",
    }
    assert manifest["redacted"] == ["data/sources/host_vars/web1.yml"]
    bagit.Bag(str(bundle)).validate(fast=False)
    ok = e8("verify", str(bundle))
    assert ok.exit_code == 0 and ok.output.startswith("OK "), ok.output


def test_folder_inventory_copies_hold_the_bytes_parsed_not_what_the_link_says_later(
    tmp_path: Path,
) -> None:
    """An ``-i`` folder holding a link out of it (read, as Ansible reads it) and a link back up
    (a loop, skipped): the copy is named by the link's path and holds the bytes the loader parsed,
    even when the target is changed before the bundle is written."""
    from scanner.inventory.load import load_inventory

    inv = tmp_path / "inv"
    (inv / "group_vars").mkdir(parents=True)
    (inv / "hosts.ini").write_text("[db]\ndb1\n")
    (inv / "group_vars" / "db.yml").write_text("e8_role: server\n")
    (tmp_path / "elsewhere").mkdir()
    extra = tmp_path / "elsewhere" / "extra.yml"
    extra.write_text("all:\n  hosts:\n    db2:\n")
    _link(inv / "extra.yml", str(extra))
    _link(inv / "loop", ".")
    loaded = load_inventory([inv])
    assert sorted(loaded.hosts) == ["db1", "db2"]
    extra.write_text("all:\n  hosts:\n    changed-after-reading:\n")
    dest = write_bundle(tmp_path / "b", *record(), [], inventory=loaded)
    files = files_of(dest)
    assert sorted(n for n in files if n.startswith("data/sources/")) == [
        "data/sources/inv/extra.yml",
        "data/sources/inv/group_vars/db.yml",
        "data/sources/inv/hosts.ini",
    ]
    assert files["data/sources/inv/extra.yml"] == b"all:\n  hosts:\n    db2:\n"
    manifest = json.loads(files["manifest.json"])
    assert (
        manifest["sources"][str(inv / "extra.yml")]
        == hashlib.sha256(b"all:\n  hosts:\n    db2:\n").hexdigest()
    )
    assert manifest["source_notes"] == {
        "data/sources/inv/extra.yml": f"read through a symbolic link: the bytes of {extra}"
    }
    assert verify_bundle(dest) == []
    bagit.Bag(str(dest)).validate(fast=False)


def test_an_inventory_script_is_kept_as_the_json_it_printed(tmp_path: Path) -> None:
    from scanner.inventory.load import load_inventory

    printed = {
        "web": {"hosts": ["w1"]},
        "_meta": {"hostvars": {"w1": {"ansible_password": LINKED_PW, "e8_role": "server"}}},
    }
    script = tmp_path / "dyn.py"
    script.write_text(f"#!{sys.executable}\nprint({json.dumps(json.dumps(printed))})\n")
    script.chmod(0o755)
    loaded = load_inventory([script])
    dest = write_bundle(tmp_path / "b", *record(), [], inventory=loaded)
    files = files_of(dest)
    copy = files["data/sources/dyn.py"]  # the line pass leaves <redacted> bare (YAML, not JSON)
    assert copy.startswith(b'{"web": {"hosts": ["w1"]}, "_meta"') and b"<redacted>" in copy
    assert LINKED_PW.encode() not in b"".join(files.values())
    manifest = json.loads(files["manifest.json"])
    assert manifest["source_notes"] == {
        "data/sources/dyn.py": "the JSON this inventory script printed (--list), not the script"
    }
    assert manifest["sources"] == {str(p): digest for p, digest in loaded.files_read}
    assert verify_bundle(dest) == []
