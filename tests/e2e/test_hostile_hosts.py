"""End to end: hosts that differ from a stock Debian the way real estates do (issue 11).

One fleet (tests/sshfleet.py), one ``e8scan scan`` over it, every Linux check:

- ``bb01`` — a BusyBox userland: BusyBox ``sh`` (the login shell and every ``sh -c``), ``find``
  (no ``-printf``), ``ps``, ``timeout``, ``date`` (no ``%N``), ``stat``, ``awk``… in place of
  the machine's (``HostSpec.busybox_applets``). Its files are ``en01``'s.
- ``de01`` — a German host: sessions start with ``LANG=de_DE.UTF-8`` (sshd ``SetEnv`` and
  ``/etc/default/locale``), so an untranslated command would answer in German.
- ``en01`` — ``de01``'s English twin (``LANG=C.UTF-8``), otherwise the same files: the
  reference both of the above are compared with.
- ``sudo01`` — sudo grants that make others root: ``%domain\\ users ALL=(ALL:ALL) ALL`` and
  ``bob ALL=(ALL) ALL`` (issue 11 item 5), with ``bob`` and ``domain users`` in its
  ``/etc/passwd``, ``/etc/group`` and ``/etc/shadow``.
- ``sudo00`` — ``sudo01`` without the broad grants: the reference for those.

The recorded expectation for each is the positive-evidence rule: no control comes out
effective from missing or misread evidence.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sshfleet import BUSYBOX_USERLAND, HostSpec, SSHFleet

from scanner.cli.main import main
from tests.e2e.feeds_policy import ACCEPT_SHIPPED

DEBIAN12 = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
    'HOME_URL="https://www.debian.org/"\n'
)
BACKUP = "/srv/backup/nightly.tar"
REACHED = ("bb01", "de01", "en01", "sudo00", "sudo01")
BROAD_SUDO = "%domain\\ users ALL=(ALL:ALL) ALL\nbob ALL=(ALL) ALL\n"
# Enabled accounts with a password (the hash is well-formed, of no known password).
HASH = "$y$j9T$e8scan.hostile.fleet$0123456789abcdefghijklmnopqrstuvwxyzABCDE"
# Words of German tool output (coreutils, sudo, OpenSSH, systemd, apt translations), umlauts.
GERMAN = re.compile(
    r"nicht|Datei|Verzeichnis|Zugriff|verweigert|Berechtigung|unbekannt|Fehler|Warnung|"
    r"Benutzer|Gruppe|ungültig|[äöüÄÖÜß]"
)


def _with_lines(path: str, *extra: str) -> str:
    return Path(path).read_text().rstrip("\n") + "\n" + "".join(f"{x}\n" for x in extra)


def _state(now: float) -> tuple[dict[str, str | bytes], dict[str, float]]:
    """The files every host shows: Debian 12, an hour-old world-readable backup."""
    return {"/etc/os-release": DEBIAN12, BACKUP: "backup\n"}, {BACKUP: now - 3600}


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Any) -> SSHFleet:
    now = time.time()
    files, mtimes = _state(now)
    # sudo00/sudo01: bob and alice (in "domain users") exist, and sshd's configuration refuses
    # root, so the broad grants are the only difference between the two (e8test's own
    # NOPASSWD grant, which the scan needs, is on every host).
    people: dict[str, str | bytes] = {
        "/etc/passwd": _with_lines(
            "/etc/passwd",
            "bob:x:5001:5001:Bob:/home/bob:/bin/bash",
            "alice:x:5002:5000:Alice:/home/alice:/bin/bash",
        ),
        "/etc/group": _with_lines("/etc/group", "domain users:x:5000:alice", "bob:x:5001:"),
        "/etc/shadow": _with_lines(
            "/etc/shadow", *(f"{u}:{HASH}:20000:0:99999:7:::" for u in ("bob", "alice"))
        ),
        "/etc/ssh/sshd_config": _with_lines("/etc/ssh/sshd_config", "PermitRootLogin no"),
    }
    hosts = [
        HostSpec(
            "bb01",
            overlay=dict(files),
            files_mtime=dict(mtimes),
            busybox_applets=BUSYBOX_USERLAND,
            sudo_nopasswd=True,
        ),
        HostSpec(
            "de01",
            overlay=files | {"/etc/default/locale": "LANG=de_DE.UTF-8\nLANGUAGE=de_DE:de\n"},
            files_mtime=dict(mtimes),
            sudo_nopasswd=True,
            sshd_config=("SetEnv LANG=de_DE.UTF-8 LANGUAGE=de_DE:de",),
        ),
        HostSpec(
            "en01",
            overlay=files | {"/etc/default/locale": "LANG=C.UTF-8\n"},
            files_mtime=dict(mtimes),
            sudo_nopasswd=True,
            sshd_config=("SetEnv LANG=C.UTF-8",),
        ),
        HostSpec("sudo00", overlay=files | people, files_mtime=dict(mtimes), sudo_nopasswd=True),
        HostSpec(
            "sudo01",
            overlay=files | people | {"/etc/sudoers.d/broad": BROAD_SUDO},
            files_mtime=dict(mtimes),
            sudo_nopasswd=True,
        ),
    ]
    return ssh_fleet_factory(hosts, name="hostile")


def ssh(fleet: SSHFleet, name: str, command: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` on a fleet host as its login user with OpenSSH's client (not e8scan)."""
    h = fleet.host(name)
    return subprocess.run(
        ["ssh", "-F", "/dev/null", "-i", str(fleet.client_key), "-p", str(h.port)]
        + ["-o", f"UserKnownHostsFile={fleet.known_hosts}", "-o", "StrictHostKeyChecking=yes"]
        + ["-o", "BatchMode=yes", f"{fleet.login_user}@{h.address}", command],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture(scope="module")
def scanned(fleet: SSHFleet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("hostile-scan")
    inv = fleet.inventory_ini(
        work / "site.ini",
        {
            "ansible_become": "true",
            "e8_role": "server",
            "e8_backup_paths": "/srv/backup",
            "e8_admin_allowlist": "e8test",
        },
    )
    out = work / "out"
    result = CliRunner().invoke(
        main,
        ["scan", "--no-history", "-i", str(inv), "--known-hosts", str(fleet.known_hosts)]
        + ["--out", str(out), "-f", "4", "--connect-timeout", "5", *ACCEPT_SHIPPED],
    )
    assert (out / "results.json").exists(), result.output
    return {
        "exit": result.exit_code,
        "stdout": result.output,
        "raw": {h["name"]: h for h in json.loads((out / "raw.json").read_text())["hosts"]},
        "results": {h["name"]: h for h in json.loads((out / "results.json").read_text())["hosts"]},
    }


def controls(scanned: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return list(scanned["results"][name]["controls"])


def outcomes(scanned: dict[str, Any], name: str) -> dict[tuple[str, str], str]:
    """(check, ISM id) → outcome for one host."""
    return {(c["check"], c["ism"]): c["outcome"] for c in controls(scanned, name)}


def raw_command(scanned: dict[str, Any], name: str, needle: str) -> dict[str, Any]:
    return next(c for c in scanned["raw"][name]["commands"] if needle in c["command"])


# ---------------------------------------------------------------------------------- the scan


def test_the_scan_completes_and_reaches_every_host(scanned: dict[str, Any]) -> None:
    # 3: hosts below the target level. Never 1 (error) or 4 (a host not seen).
    assert scanned["exit"] in (0, 3), scanned["stdout"]
    for name in REACHED:
        raw = scanned["raw"][name]
        assert raw["reach"] == "ok", (name, raw["reach_detail"])
        assert len(raw["commands"]) >= 30, name
        for c in raw["commands"]:
            assert c["ran"] and c["exit_code"] is not None and not c["timed_out"], (name, c)
            assert c["started"] is not None, (name, c["command"])  # also from BusyBox's date
        assert scanned["results"][name]["controls"], name


# ---------------------------------------------------------------------------------- BusyBox


def test_busybox_host_really_answers_with_busybox(fleet: SSHFleet, scanned: dict[str, Any]) -> None:
    # The scan's own sh -c is BusyBox ash (dash says "sh: 1: auditctl: not found").
    assert raw_command(scanned, "bb01", "auditctl -s")["stderr"] == "sh: auditctl: not found\n"
    assert raw_command(scanned, "en01", "auditctl -s")["stderr"] == "sh: 1: auditctl: not found\n"
    probe = ssh(fleet, "bb01", "readlink -f /bin/sh; find /etc -maxdepth 0 -printf x; date +%N")
    assert probe.stdout.splitlines()[0] == "/usr/bin/busybox", probe
    assert "unrecognized: -printf" in probe.stderr and probe.stdout.endswith("%N\n"), probe


# The controls bb01 may show effective, each with what its check's raw output on bb01 must show
# for it (verified by reading raw.json; en01 reads the same files with GNU tools and agrees):
BUSYBOX_EFFECTIVE_VERIFIED = {
    # /etc/os-release (cat): Debian 12, supported.
    ("patch_os.linux_os_support", "ISM-1407"): "VERSION_CODENAME=bookworm",
    ("patch_os.linux_os_support", "ISM-1501"): "VERSION_CODENAME=bookworm",
    # `command -v chromium` and dpkg-query: Chromium 156 installed (no NPAPI, so no Java).
    ("user_app_hardening.linux_browsers", "ISM-1486"): "pkg chromium 1",
    # getent (the machine's) and /etc/passwd through BusyBox awk/cut/tr/sort/grep, passwd -S,
    # chage -l, lastlog: root locked and never logged in. (ISM-1647/1648/1649 and the backup
    # admin controls ISM-1705/1706/1707 cannot be effective here: sudoers grants the scan
    # account e8test root, and its lifecycle is not read — issue 11 item 5, see sudo01.)
    ("restrict_admin.linux_privileged_lifecycle", "ISM-1685"): "E8_PW root L",
    # Only from a listing that BusyBox can make (not find -printf) and that names the backup.
    ("backups.linux_backup_recency", "ISM-1511"): BACKUP,
    ("backups.linux_backup_access", "ISM-1814"): BACKUP,
}


def check_stdout(scanned: dict[str, Any], name: str, check: str) -> str:
    """Everything the commands of ``check`` printed on host ``name``."""
    return "".join(c["stdout"] for c in scanned["raw"][name]["commands"] if check in c["checks"])


def test_busybox_host_is_effective_only_where_its_evidence_shows_it(
    scanned: dict[str, Any],
) -> None:
    bb, en = outcomes(scanned, "bb01"), outcomes(scanned, "en01")
    assert set(bb) == set(en)  # the same checks ran: BusyBox lost no check
    effective = {k for k, o in bb.items() if o == "effective"}
    assert effective <= set(BUSYBOX_EFFECTIVE_VERIFIED), sorted(
        effective - set(BUSYBOX_EFFECTIVE_VERIFIED)
    )
    for k in effective:
        assert BUSYBOX_EFFECTIVE_VERIFIED[k] in check_stdout(scanned, "bb01", k[0]), k
        assert en[k] == "effective", k  # GNU tools on the same files agree
    assert ("patch_os.linux_os_support", "ISM-1501") in effective  # the host was judged at all


def test_busybox_find_without_printf_never_makes_backups_effective(
    scanned: dict[str, Any],
) -> None:
    # Issue 11 item 9. The GNU twin, same files: the hour-old backup is recent and its
    # world-readable file is found — so this test can fail.
    en = outcomes(scanned, "en01")
    assert en[("backups.linux_backup_recency", "ISM-1511")] == "effective"
    assert en[("backups.linux_backup_access", "ISM-1812")] == "ineffective"
    bb = outcomes(scanned, "bb01")
    assert bb[("backups.linux_backup_access", "ISM-1812")] != "effective"
    for check in ("backups.linux_backup_recency", "backups.linux_backup_access"):
        listed = BACKUP in check_stdout(scanned, "bb01", check)
        judged = {ism: o for (cid, ism), o in bb.items() if cid == check}
        assert judged, check
        if not listed:  # a listing that BusyBox could not make shows nothing
            assert "effective" not in judged.values(), (check, judged)


def test_busybox_empty_process_list_is_not_non_applicability(scanned: dict[str, Any]) -> None:
    # Issue 11 item 9: "no database server runs" needs a process listing to show it; an empty
    # output (a ps that printed nothing, or a filter that hides what it printed) shows nothing.
    check = "mfa.linux_data_repository_mfa"
    judged = {c["ism"]: c["outcome"] for c in controls(scanned, "bb01") if c["check"] == check}
    assert judged, check
    ps_reads = [
        c
        for c in scanned["raw"]["bb01"]["commands"]
        if check in c["checks"] and re.search(r"\bps\b", c["command"])
    ]
    listed = any(c["stdout"].strip() for c in ps_reads)
    if not listed:
        assert "not_applicable" not in judged.values(), (judged, ps_reads)


# ---------------------------------------------------------------------------------- German


def test_german_host_sessions_really_speak_german(fleet: SSHFleet) -> None:
    probe = ssh(fleet, "de01", 'echo "$LANG"; ls /etc/fapolicyd')
    assert probe.stdout == "de_DE.UTF-8\n", probe
    assert GERMAN.search(probe.stderr), probe.stderr  # "Datei oder Verzeichnis nicht gefunden"
    english = ssh(fleet, "en01", "ls /etc/fapolicyd")
    assert not GERMAN.search(english.stderr) and "No such file" in english.stderr, english


def test_german_host_output_comes_back_in_c_locale(scanned: dict[str, Any]) -> None:
    for name in REACHED:
        for c in scanned["raw"][name]["commands"]:
            for stream in ("stdout", "stderr"):
                hit = GERMAN.search(c[stream])
                assert hit is None, (name, c["command"], stream, hit and hit.group(0))
    # The read that errs on every Debian host without fapolicyd, in C's words.
    de = raw_command(scanned, "de01", "ls /etc/fapolicyd >/dev/null; for f")
    assert "No such file or directory" in de["stderr"]
    assert (
        de["stderr"]
        == raw_command(scanned, "en01", "ls /etc/fapolicyd >/dev/null; for f")["stderr"]
    )


def test_german_host_verdicts_equal_its_english_twins(scanned: dict[str, Any]) -> None:
    def verdicts(name: str) -> dict[tuple[str, str], tuple[str, str, str]]:
        return {
            (c["check"], c["ism"]): (
                c["outcome"],
                c["evidence"],
                json.dumps(c["observed"], sort_keys=True),
            )
            for c in controls(scanned, name)
        }

    de, en = verdicts("de01"), verdicts("en01")
    assert de.keys() == en.keys()
    assert {k: v for k, v in de.items() if en[k] != v} == {}
    assert scanned["results"]["de01"]["levels"] == scanned["results"]["en01"]["levels"]


# ---------------------------------------------------------------------------------- broad sudo


def test_broad_sudo_host_shows_its_grants(scanned: dict[str, Any]) -> None:
    sudoers = raw_command(scanned, "sudo01", "for f in /etc/sudoers /etc/sudoers.d/*")
    assert "### /etc/sudoers.d/broad" in sudoers["stdout"], sudoers
    assert "%domain\\ users ALL=(ALL:ALL) ALL" in sudoers["stdout"]
    assert "bob ALL=(ALL) ALL" in sudoers["stdout"]
    passwd = raw_command(scanned, "sudo01", 'awk -F: \'{print $1":"$3')["stdout"]
    assert "bob:5001:5001:/bin/bash" in passwd and "alice:5002:5000:/bin/bash" in passwd


def test_broad_sudo_grants_are_not_restricted_admin(scanned: dict[str, Any]) -> None:
    # Issue 11 item 5: %domain users and bob get root with their own password; that is neither
    # restricted privileged access (ISM-1380) nor a validated set of privileged users (ISM-0445).
    # sudo00, the same host without those two lines, has ISM-0445 effective: so this can fail.
    def judged(name: str) -> dict[str, dict[str, Any]]:
        return {
            c["ism"]: c
            for c in controls(scanned, name)
            if c["strategy"] == "restrict_admin" and c["ism"] in ("ISM-1380", "ISM-0445")
        }

    reference, broad = judged("sudo00"), judged("sudo01")
    assert reference["ISM-0445"]["outcome"] == "effective", reference["ISM-0445"]
    for ism, c in broad.items():
        assert c["outcome"] != "effective", (ism, c["check"], c["evidence"])
    # ISM-1380 is ineffective on both already (e8test's NOPASSWD grant, which the scan needs):
    # on sudo01 its verdict must also have read and named the broad grants.
    for ism in ("ISM-1380", "ISM-0445"):
        seen = json.dumps([broad[ism]["evidence"], broad[ism]["observed"]])
        assert "bob" in seen and "domain users" in seen, (ism, broad[ism]["evidence"])


def test_sudo_grantees_count_as_privileged_accounts(scanned: dict[str, Any]) -> None:
    # bob (enabled, never logged in) and alice (via %domain users) reach root through sudoers: a
    # verdict resting on "no privileged account besides root" or "every sudo/wheel/admin member"
    # has not looked at them (issue 11 item 5: privileged users are whoever sudoers grants root).
    # (ISM-1685 is not among them: root's locked password is what it judges on the host.)
    judged = {
        ("restrict_admin.linux_privileged_lifecycle", "ISM-1647"),
        ("restrict_admin.linux_privileged_lifecycle", "ISM-1648"),
        ("restrict_admin.linux_privileged_lifecycle", "ISM-1649"),
        ("backups.linux_backup_protection", "ISM-1705"),
        ("backups.linux_backup_protection", "ISM-1706"),
        ("backups.linux_backup_protection", "ISM-1707"),
    }
    sudo01 = {(c["check"], c["ism"]): c for c in controls(scanned, "sudo01")}
    assert judged <= set(sudo01)
    effective = [
        (k, sudo01[k]["evidence"]) for k in sorted(judged) if sudo01[k]["outcome"] == "effective"
    ]
    assert effective == []
