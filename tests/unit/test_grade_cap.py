"""The evidence-grade cap per host: weak SSH crypto and offline collection, one mechanism.

The live half (what real legacy sshds negotiate, and a scan and rescore of them) is in
tests/transports/test_ssh_legacy.py; here the classification and the scoring rule on records
built by hand, as ``e8scan rescore`` reads them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scanner.assess.grading import grade_cap, weak_ssh
from scanner.assess.judging import Judged
from scanner.assess.scoring import score_host
from scanner.checking.api import Check, Finding
from scanner.cli.main import main
from scanner.model.vocabulary import OFFLINE, Grade, Outcome, Platform, Reach, Strategy
from scanner.record.raw import HostRecord, RawRecord, RunInfo, SSHAlgorithms
from tests.unit.builders import T0, linux_host, scored

MODERN = SSHAlgorithms(
    kex="curve25519-sha256",
    host_key_algorithm="ssh-ed25519",
    cipher_c2s="aes128-ctr",
    cipher_s2c="aes128-ctr",
    mac_c2s="hmac-sha2-256",
    mac_s2c="hmac-sha2-256",
)
# What tests/transports/test_ssh_legacy.py's ios01 (an IOS 12/15-era offer) negotiates.
IOS = SSHAlgorithms(
    kex="diffie-hellman-group1-sha1",
    host_key_algorithm="ssh-rsa",
    cipher_c2s="aes128-cbc",
    cipher_s2c="aes128-cbc",
    mac_c2s="hmac-sha1",
    mac_s2c="hmac-sha1",
)


def algs(**change: str | None) -> SSHAlgorithms:
    return MODERN.model_copy(update=change)


@pytest.mark.parametrize(
    "modern",
    [
        MODERN,
        algs(kex="curve25519-sha256@libssh.org", host_key_algorithm="rsa-sha2-512"),
        algs(kex="diffie-hellman-group14-sha256", host_key_algorithm="rsa-sha2-256"),
        algs(kex="ecdh-sha2-nistp256", host_key_algorithm="ecdsa-sha2-nistp256"),
        algs(kex="diffie-hellman-group16-sha512", cipher_c2s="aes256-ctr", cipher_s2c="aes256-ctr"),
        algs(kex="sntrup761x25519-sha512@openssh.com", mac_c2s="hmac-sha2-512-etm@openssh.com"),
        # AEAD: no MAC is used, and none is recorded.
        algs(cipher_c2s="aes256-gcm@openssh.com", mac_c2s=None),
        algs(cipher_s2c="chacha20-poly1305@openssh.com", mac_s2c=None),
        # Not judged from its name: the group size is the server's choice (not recorded).
        algs(kex="diffie-hellman-group-exchange-sha256"),
    ],
)
def test_modern_algorithms_are_not_weak(modern: SSHAlgorithms) -> None:
    assert weak_ssh(modern) is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            {"host_key_algorithm": "ssh-rsa"},
            "host identity verified by an SHA-1 signature (ssh-rsa)",
        ),
        (
            {"host_key_algorithm": "ssh-rsa-cert-v01@openssh.com"},
            "host identity verified by an SHA-1 signature (ssh-rsa-cert-v01@openssh.com)",
        ),
        ({"host_key_algorithm": "ssh-dss"}, "a DSA signature with SHA-1 (ssh-dss)"),
        (
            {"kex": "diffie-hellman-group14-sha1"},
            "key exchange diffie-hellman-group14-sha1 (SHA-1)",
        ),
        (
            {"kex": "diffie-hellman-group1-sha1"},
            "key exchange diffie-hellman-group1-sha1 (SHA-1, 1024-bit group)",
        ),
        ({"kex": "diffie-hellman-group-exchange-sha1"}, "(SHA-1)"),
        ({"kex": "gss-group14-sha1-toWM5Slw5Ew8Mqkay+al2g=="}, "(SHA-1)"),
        ({"cipher_c2s": "aes256-cbc"}, "cipher aes256-cbc (CBC)"),
        ({"cipher_s2c": "3des-cbc"}, "cipher 3des-cbc (CBC, 64-bit block)"),
        ({"cipher_c2s": "blowfish-cbc"}, "(CBC, 64-bit block)"),
        ({"cipher_c2s": "arcfour256"}, "cipher arcfour256 (RC4)"),
        ({"cipher_c2s": "none"}, "cipher none (no encryption)"),
        ({"mac_c2s": "hmac-sha1"}, "MAC hmac-sha1 (SHA-1)"),
        ({"mac_s2c": "hmac-sha1-96"}, "MAC hmac-sha1-96 (SHA-1)"),
        ({"mac_c2s": "hmac-sha1-etm@openssh.com"}, "(SHA-1)"),
        ({"mac_c2s": "hmac-md5"}, "MAC hmac-md5 (MD5)"),
        ({"mac_s2c": "hmac-md5-96"}, "(MD5)"),
    ],
)
def test_each_weak_algorithm_is_named_with_why(change: dict[str, str], says: str) -> None:
    why = weak_ssh(algs(**change))
    assert why is not None and says in why, why


def test_the_whole_of_a_legacy_agreement_is_named_once_per_algorithm() -> None:
    assert weak_ssh(IOS) == (
        "host identity verified by an SHA-1 signature (ssh-rsa); SSH channel rests on key "
        "exchange diffie-hellman-group1-sha1 (SHA-1, 1024-bit group), cipher aes128-cbc (CBC), "
        "MAC hmac-sha1 (SHA-1)"
    )
    # The identity alone (modern channel): exactly the identity part.
    assert weak_ssh(algs(host_key_algorithm="ssh-rsa")) == (
        "host identity verified by an SHA-1 signature (ssh-rsa)"
    )


def _ssh_host(ssh: SSHAlgorithms | None, reach: Reach = Reach.OK) -> HostRecord:
    return linux_host("h1", reach).model_copy(update={"ssh_algorithms": ssh})


def _judged(grade: Grade = Grade.GOOD) -> list[Judged]:
    c = Check(
        id="patch_os.fake",
        title="A fake check for grade tests",
        strategy=Strategy.PATCH_OS,
        ism=("ISM-1501", "ISM-1695"),
        platforms=frozenset({Platform.LINUX}),
        collect={"x": "true"},
        judge=lambda o, c: [],
        version=1,
        grade=grade,
    )
    return [
        Judged(c, Finding(ism="ISM-1501", outcome=Outcome.EFFECTIVE, evidence="e")),
        Judged(c, Finding(ism="ISM-1695", outcome=Outcome.INEFFECTIVE, evidence="i")),
    ]


def _graded(rec: HostRecord, grade: Grade = Grade.GOOD) -> dict[str, Grade]:
    result = score_host(rec, _judged(grade))
    return {c.ism: c.grade for c in result.controls if c.check}


def test_a_weak_ssh_host_has_every_finding_capped_at_fair_with_the_note() -> None:
    rsa_only = _ssh_host(algs(host_key_algorithm="ssh-rsa"))
    assert _graded(rsa_only) == {"ISM-1501": Grade.FAIR, "ISM-1695": Grade.FAIR}
    result = score_host(rsa_only, _judged())
    assert result.grade_cap is Grade.FAIR
    assert result.notes == [
        "host identity verified by an SHA-1 signature (ssh-rsa); evidence grade capped at fair"
    ]
    # A cap never raises a grade.
    assert _graded(rsa_only, Grade.POOR) == {"ISM-1501": Grade.POOR, "ISM-1695": Grade.POOR}


@pytest.mark.parametrize("ssh", [MODERN, None])
def test_a_modern_or_unknown_connection_keeps_the_checks_grades(ssh: SSHAlgorithms | None) -> None:
    """None: a WinRM or local host, or a raw record written before the algorithms were kept."""
    rec = _ssh_host(ssh)
    assert _graded(rec) == {"ISM-1501": Grade.GOOD, "ISM-1695": Grade.GOOD}
    result = score_host(rec, _judged())
    assert result.grade_cap is None and result.notes == []


def test_offline_and_weak_ssh_are_one_cap_with_both_reasons() -> None:
    offline = linux_host("k1", Reach.OK).model_copy(update={"connection": OFFLINE})
    cap = grade_cap(offline)
    assert cap is not None and cap.grade is Grade.FAIR
    assert cap.note.startswith("collected offline by the field kit")
    assert _graded(offline) == {"ISM-1501": Grade.FAIR, "ISM-1695": Grade.FAIR}
    both = grade_cap(offline.model_copy(update={"ssh_algorithms": IOS}))
    assert both is not None and both.grade is Grade.FAIR
    assert both.note.count("evidence grade capped at fair") == 1
    assert "collected offline" in both.note and "(ssh-rsa)" in both.note


def test_an_unreached_host_gets_no_grade_note() -> None:
    result = score_host(_ssh_host(IOS, Reach.ERROR), _judged())
    assert result.grade_cap is None and result.notes == []


def test_old_raw_records_load_and_the_cap_comes_back_from_raw_json_alone() -> None:
    # A host record as e8scan wrote it before ssh_algorithms existed: loads, no cap.
    old = json.loads(linux_host("h1", Reach.OK).model_dump_json())
    del old["ssh_algorithms"]
    assert HostRecord.model_validate(old).ssh_algorithms is None
    # Through raw.json's text and back: the same cap, grades and note as scoring the record.
    raw = RawRecord(
        tool_version="t",
        run=RunInfo(id="r1", started=T0, finished=T0, inventory=[], checks=[]),
        hosts=[_ssh_host(IOS)],
    )
    again = RawRecord.model_validate_json(raw.model_dump_json())
    assert again.hosts[0].ssh_algorithms == IOS
    checks = [_judged()[0].check]
    first, second = scored(raw.hosts, checks).hosts[0], scored(again.hosts, checks).hosts[0]
    assert second.grade_cap is Grade.FAIR
    assert second.notes == first.notes and "(ssh-rsa)" in second.notes[-1]
    assert [c.grade for c in second.controls] == [c.grade for c in first.controls]


def test_the_schema_publishes_grade_cap_and_the_algorithms_as_optional() -> None:
    out = CliRunner().invoke(main, ["schema"])
    assert out.exit_code == 0, out.output
    host = json.loads(out.output)["$defs"]["HostResult"]
    assert "grade_cap" in host["properties"]
    assert "grade_cap" not in host.get("required", [])
    assert "ssh_algorithms" in HostRecord.model_fields
    assert not HostRecord.model_fields["ssh_algorithms"].is_required()
