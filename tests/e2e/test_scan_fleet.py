"""End to end: `e8scan scan` over a fleet of real sshd hosts that differ in state.

Each host is a real OpenSSH server on its own loopback address, in its own mount namespace with an
overlay of a few files (tests/sshfleet.py). The scan goes through the real CLI, the real paramiko
client and the real batched script; the test then reads raw.json, results.json and the workbook.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sshfleet import HostSpec, SSHFleet

from scanner.cli.main import main
from tests.e2e.feeds_policy import ACCEPT_SHIPPED

DEBIAN12 = (
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
    'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
    'HOME_URL="https://www.debian.org/"\n'
)
# /work/shared/corpus/linux/os-release_debian10.txt
DEBIAN10 = (
    'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nNAME="Debian GNU/Linux"\nVERSION_ID="10"\n'
    'VERSION="10 (buster)"\nVERSION_CODENAME=buster\nID=debian\nHOME_URL="https://www.debian.org/"\n'
)


def _group_with_extra_sudo_member(member: str) -> str:
    lines = Path("/etc/group").read_text().splitlines()
    out = []
    for line in lines:
        if line.startswith("sudo:"):
            name, pw, gid, members = line.split(":")
            line = ":".join([name, pw, gid, ",".join(m for m in [members, member] if m)])
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def fleet(ssh_fleet_factory: Any) -> SSHFleet:
    now = time.time()
    weak_sshd = Path("/etc/ssh/sshd_config").read_text() + "\nPermitRootLogin yes\n"
    hosts = [
        HostSpec(
            "web01",
            overlay={"/etc/os-release": DEBIAN12, "/srv/backup/nightly.tar": "backup\n"},
            files_mtime={"/srv/backup/nightly.tar": now - 3600},
            sudo_nopasswd=True,
        ),
        HostSpec("old01", overlay={"/etc/os-release": DEBIAN10}),
        HostSpec(
            "weak01",
            overlay={
                "/etc/os-release": DEBIAN12,
                "/etc/ssh/sshd_config": weak_sshd,
                "/etc/group": _group_with_extra_sudo_member("mallory"),
                "/srv/backup/old.tar": "stale\n",
            },
            files_mtime={"/srv/backup/old.tar": now - 10 * 86400},
            sudo_nopasswd=True,
        ),
    ]
    return ssh_fleet_factory(hosts, name="e2e")


@pytest.fixture(scope="module")
def scanned(fleet: SSHFleet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("e2e-scan")
    inv = fleet.inventory_ini(work / "site.ini")
    text = inv.read_text().replace("[fleet]", "[linux]")
    text = text.replace(
        " ansible_host=",
        " e8_backup_paths=/srv/backup e8_admin_allowlist=e8test ansible_host=",
    )
    # A host nobody answers for: nothing listens on this loopback address and port.
    text += (
        "\n[linux]\ngone01 ansible_host=127.0.0.250 ansible_port=1 ansible_user=e8test\n"
        "\n[linux:vars]\nansible_become=true\ne8_role=server\n"
        "\n[web]\nweb01\n\n[web:vars]\ne8_role=workstation\n"
    )
    inv.write_text(text)
    out = work / "out"
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--no-history",
            *ACCEPT_SHIPPED,
            "-i",
            str(inv),
            "--known-hosts",
            str(fleet.known_hosts),
            "--out",
            str(out),
            "--target-level",
            "2",
            "-f",
            "8",
            "--connect-timeout",
            "5",
        ],
    )
    rescored = work / "rescored"
    again = CliRunner().invoke(
        main,
        ["rescore", str(out / "raw.json"), "--out", str(rescored), "-q", *ACCEPT_SHIPPED],
    )
    return {
        "exit": result.exit_code,
        "stdout": result.output,
        "out": out,
        "raw": json.loads((out / "raw.json").read_text()),
        "results": json.loads((out / "results.json").read_text()),
        "rescore_exit": again.exit_code,
        "rescored": json.loads((rescored / "results.json").read_text()),
        "inventory": inv,
    }


def host(scanned: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in scanned["results"]["hosts"] if h["name"] == name)


def control(scanned: dict[str, Any], name: str, strategy: str, ism: str) -> dict[str, Any]:
    return next(
        c for c in host(scanned, name)["controls"] if c["strategy"] == strategy and c["ism"] == ism
    )


def test_exit_code_is_4_when_a_host_had_no_visibility(scanned: dict[str, Any]) -> None:
    # 3 (below target) also applies; the highest wins.
    assert scanned["exit"] == 4, scanned["stdout"]
    assert "gone01" in scanned["stdout"]


def test_exactly_one_connection_and_one_login_per_host(
    scanned: dict[str, Any], fleet: SSHFleet
) -> None:
    for name in ("web01", "old01", "weak01"):
        assert fleet.connections(name) == 1, name
        assert fleet.auths(name) == 1, name


def test_raw_record_holds_identity_fingerprint_and_every_command(
    scanned: dict[str, Any], fleet: SSHFleet
) -> None:
    raw = {h["name"]: h for h in scanned["raw"]["hosts"]}
    assert set(raw) == {"web01", "old01", "weak01", "gone01"}
    import subprocess

    for name in ("web01", "old01", "weak01"):
        h = raw[name]
        assert h["reach"] == "ok"
        fp = subprocess.run(
            ["ssh-keygen", "-lf", str(fleet.host(name).host_key)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[1]
        assert h["host_key"] == fp
        assert len(h["commands"]) >= 7
        for c in h["commands"]:
            assert c["ran"] and c["exit_code"] is not None and c["started"] is not None
    os_release = next(c for c in raw["old01"]["commands"] if "os-release" in c["command"])
    assert "buster" in os_release["stdout"]
    # Root reads go through sudo -n on become hosts.
    assert any(c["as_run"].startswith("sudo -n ") for c in raw["web01"]["commands"])
    assert raw["gone01"]["reach"] == "unreachable"
    assert raw["gone01"]["commands"] == []


def test_per_host_outcomes_follow_each_hosts_state(scanned: dict[str, Any]) -> None:
    assert control(scanned, "web01", "patch_os", "ISM-1501")["outcome"] == "effective"
    old = control(scanned, "old01", "patch_os", "ISM-1501")
    assert old["outcome"] == "ineffective"
    assert old["check"] == "patch_os.linux_os_support" and old["grade"] == "good"
    assert host(scanned, "old01")["levels"]["patch_os"] == 0

    # weak01: root may log in over SSH and an unlisted account (mallory) is in sudo.
    weak_0445 = [c for c in host(scanned, "weak01")["controls"] if c["ism"] == "ISM-0445"]
    assert weak_0445 and all(c["outcome"] == "ineffective" for c in weak_0445)
    assert "mallory" in json.dumps(weak_0445)
    assert host(scanned, "weak01")["levels"]["restrict_admin"] == 0

    # Backups: web01's newest artefact is an hour old, weak01's ten days.
    assert control(scanned, "web01", "backups", "ISM-1511")["outcome"] == "effective"
    assert control(scanned, "weak01", "backups", "ISM-1511")["outcome"] == "ineffective"


def test_refused_privilege_is_no_visibility_not_a_pass(scanned: dict[str, Any]) -> None:
    # old01 grants no sudo: sshd -T cannot be read, so SSH MFA cannot be judged.
    mfa = control(scanned, "old01", "mfa", "ISM-1173")
    assert mfa["outcome"] == "no_visibility", mfa


def test_unreachable_host_is_reported_never_passed(scanned: dict[str, Any]) -> None:
    gone = host(scanned, "gone01")
    assert gone["reach"] == "unreachable" and gone["reach_detail"]
    assert gone["level"] is None and all(v is None for v in gone["levels"].values())
    assert not [c for c in gone["controls"] if c["outcome"] in ("effective", "alternate_control")]
    assert {c["outcome"] for c in gone["controls"] if c["checkable"] != "no"} <= {
        "no_visibility",
        "not_applicable",
    }


def test_inventory_context_reaches_results(scanned: dict[str, Any]) -> None:
    assert host(scanned, "web01")["role"] == "workstation"  # child group var beats the parent's
    assert host(scanned, "old01")["role"] == "server"
    assert scanned["results"]["run"]["target_level"] == 2


def test_workbook_matches_results(scanned: dict[str, Any]) -> None:
    wb = load_workbook(scanned["out"] / "e8-report.xlsx")
    rows = list(wb["Heatmap"].iter_rows(values_only=True))
    header = rows[0]
    col = header.index("Patch OS")
    old = next(r for r in rows if r and r[0] == "old01")
    assert old[col] == "ML0"
    gone = next(r for r in rows if r and r[0] == "gone01")
    assert gone[4] == "unreachable" and gone[col] == "not assessed"
    hosts = {r[0]: r for r in wb["Coverage"].iter_rows(min_row=2, values_only=True)}
    assert hosts["web01"][6] == host(scanned, "web01")["host_key"]
    assert hosts["gone01"][4] == "unreachable"
    findings = list(wb["Findings"].iter_rows(min_row=2, values_only=True))
    findings = findings[: findings.index((None,) * len(findings[0]))]  # then the colour key
    applicable = [
        (h["name"], c["strategy"], c["ism"])
        for h in scanned["results"]["hosts"]
        for c in h["controls"]
        if c["outcome"] != "not_applicable"
        # organisational and unattested: once per control on the Controls sheet
        and not (
            c["outcome"] == "not_assessed"
            and c["checkable"] == "no"
            and not c.get("check")
            and not c.get("register_entry")
        )
    ]
    assert [(r[0], r[1], r[2]) for r in findings] == applicable
    f = next(r for r in findings if r[0] == "old01" and r[2] == "ISM-1501" and r[1] == "patch_os")
    assert f[6] == "ineffective" and f[11] == "patch_os.linux_os_support"


def test_rescore_reproduces_the_results_offline(scanned: dict[str, Any]) -> None:
    assert scanned["rescore_exit"] == scanned["exit"]
    assert scanned["rescored"]["hosts"] == scanned["results"]["hosts"]
    assert scanned["rescored"]["fleet"] == scanned["results"]["fleet"]


def _intervals(fleet: SSHFleet, tmp: Path, extra: str, forks: int) -> list[tuple[float, float]]:
    from scanner.checking.loader import load_checks
    from scanner.collect.plan import make_plan
    from scanner.collect.runner import RunOptions, collect
    from scanner.collect.transports.ssh import SSHOptions
    from scanner.inventory.connection import HostKeyPolicy
    from scanner.inventory.load import load_inventory

    inv_path = fleet.inventory_ini(tmp / "caps.ini")
    inv_path.write_text(inv_path.read_text() + extra)
    inv = load_inventory([inv_path])
    plans = make_plan(inv.select(None), load_checks())
    opts = RunOptions(
        forks=forks,
        group_caps=inv.group_caps(),
        ssh=SSHOptions(known_hosts=(fleet.known_hosts,), host_key_policy=HostKeyPolicy.STRICT),
    )
    records = collect(plans, opts)
    assert all(r.reach.value == "ok" for r in records), [r.reach_detail for r in records]
    return sorted((r.started.timestamp(), r.finished.timestamp()) for r in records)


def _overlaps(iv: list[tuple[float, float]]) -> bool:
    return any(b[0] < a[1] for a, b in zip(iv, iv[1:], strict=False))


def test_group_cap_e8_max_concurrency_is_honoured(fleet: SSHFleet, tmp_path: Path) -> None:
    # Without a cap, eight forks run the three hosts at once (this is what makes the test able to fail).
    assert _overlaps(_intervals(fleet, tmp_path, "", forks=8))
    capped = _intervals(fleet, tmp_path, "\n[fleet:vars]\ne8_max_concurrency=1\n", forks=8)
    assert not _overlaps(capped)
