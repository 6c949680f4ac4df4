"""The Linux field kit, for real: made by `e8scan kit`, copied to real sshd hosts by SFTP, run
there with `sh` as the login user, fetched back, imported — and judged control for control as a
remote `e8scan scan` of the same hosts judged them.

``kit01`` lets the login user run anything through ``sudo -n``; ``kit02`` gives it no sudo rights,
so the kit's root reads fail cleanly there (``sudo -n`` never prompts) and come out
no_visibility, exactly as in the remote scan.
"""

from __future__ import annotations

import json
import posixpath
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import paramiko
import pytest
from click.testing import CliRunner
from sshfleet import HostSpec, SSHFleet

from scanner.cli.main import main

DEBIAN12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
OS: dict[str, str | bytes] = {"/etc/os-release": DEBIAN12}
SFTP = ("Subsystem sftp internal-sftp",)  # the fleet's sshd offers no SFTP by default
# The package reads (apt-get -s, dpkg-query) are the costly ones on these hosts: leave them to
# the other e2e tests; every other Linux check runs, in the kit and in the scan alike.
CHECKS = ",".join(
    [
        "application_control",
        "backups",
        "mfa",
        "restrict_admin",
        "patch_os.linux_os_support",
        "patch_os.linux_firmware_updates",
        "user_app_hardening",
    ]
)


def _run_kit(fleet: SSHFleet, name: str, kit: Path, dest: Path) -> dict[str, Any]:
    """Copy ``kit`` to the host by SFTP, run it with ``sh`` as the login user, fetch its output."""
    h = fleet.host(name)
    client = paramiko.SSHClient()
    client.load_host_keys(str(fleet.known_hosts))
    client.connect(
        h.address,
        h.port,
        username=fleet.login_user,
        key_filename=str(fleet.client_key),
        allow_agent=False,
        look_for_keys=False,
    )
    try:
        sftp = client.open_sftp()
        home = sftp.normalize(".")
        # The hosts share the login's home (only /etc and the like differ per host).
        folder = posixpath.join(home, f"fieldkit-{name}-{secrets.token_hex(4)}")
        sftp.mkdir(folder)
        sftp.put(str(kit), posixpath.join(folder, "kit.sh"))
        before = sorted(sftp.listdir(folder))
        _, stdout, stderr = client.exec_command(
            f"cd {folder} && sh kit.sh -o out.txt -n 'T. Engineer'", timeout=60
        )
        code = stdout.channel.recv_exit_status()
        err = stderr.read().decode()
        after = sorted(sftp.listdir(folder))
        sftp.get(posixpath.join(folder, "out.txt"), str(dest))
        for f in after:
            sftp.remove(posixpath.join(folder, f))
        sftp.rmdir(folder)
        sftp.close()
    finally:
        client.close()
    return {"exit": code, "stderr": err, "before": before, "after": after}


@pytest.fixture(scope="module")
def kit_and_scan(
    ssh_fleet_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    fleet: SSHFleet = ssh_fleet_factory(
        [
            HostSpec("kit01", overlay=OS, sudo_nopasswd=True, sshd_config=SFTP),
            HostSpec("kit02", overlay=OS, sshd_config=SFTP),
        ],
        name="kit",
    )
    work = tmp_path_factory.mktemp("kit")
    inv = fleet.inventory_ini(work / "site.ini", {"ansible_become": "true", "e8_role": "server"})
    made = CliRunner().invoke(
        main, ["kit", "-i", str(inv), "--checks", CHECKS, "--out", str(work / "kits")]
    )
    assert made.exit_code == 0, made.output
    names = ["kit01", "kit02"]

    def scan() -> Any:
        return CliRunner().invoke(
            main,
            ["scan", "--no-history", "-q", "-i", str(inv), "--known-hosts"]
            + [str(fleet.known_hosts), "--checks", CHECKS, "--out", str(work / "scan")],
        )

    def field(n: str) -> dict[str, Any]:
        return _run_kit(fleet, n, work / "kits" / f"e8kit-{n}.sh", work / f"{n}.out")

    # The remote scan and the two hosts' kit runs at once (they touch nothing of each other).
    with ThreadPoolExecutor(3) as pool:
        scanning = pool.submit(scan)
        runs = dict(zip(names, pool.map(field, names), strict=True))
        scanned = scanning.result()
    imported = CliRunner().invoke(
        main,
        ["import", *(str(work / f"{n}.out") for n in names), "--out", str(work / "imp")]
        + ["--history", str(work / "history.sqlite"), "-q"],
    )
    return {
        "scan_exit": scanned.exit_code,
        "scan": json.loads((work / "scan" / "results.json").read_text()),
        "kit_made": made.output,
        "runs": runs,
        "import_exit": imported.exit_code,
        "import_output": imported.output,
        "imported": json.loads((work / "imp" / "results.json").read_text()),
        "raw": json.loads((work / "imp" / "raw.json").read_text()),
        "work": work,
    }


def outcomes(results: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    return {
        (h["name"], c["strategy"], c["ism"]): c["outcome"]
        for h in results["hosts"]
        for c in h["controls"]
    }


def test_the_kit_runs_on_each_host_and_writes_only_its_output(kit_and_scan: dict[str, Any]) -> None:
    for name, run in kit_and_scan["runs"].items():
        assert run["exit"] == 0, (name, run["stderr"])
        assert run["before"] == ["kit.sh"]
        assert run["after"] == ["kit.sh", "out.txt"], name  # nothing else, in its folder


def test_imported_hosts_match_the_remote_scan_control_for_control(
    kit_and_scan: dict[str, Any],
) -> None:
    assert kit_and_scan["import_exit"] == kit_and_scan["scan_exit"], kit_and_scan["import_output"]
    remote, offline = outcomes(kit_and_scan["scan"]), outcomes(kit_and_scan["imported"])
    assert offline.keys() == remote.keys()
    differ = {k: (remote[k], offline[k]) for k in remote if remote[k] != offline[k]}
    assert not differ
    assessed = [k for k, v in offline.items() if v not in ("not_assessed", "not_applicable")]
    assert len(assessed) > 20  # a real comparison, not two empty hosts
    # kit01 (sudo) saw what kit02 (no sudo) could not: reduced results, not wrong ones
    seen = {
        n: sum(1 for k in assessed if k[0] == n and offline[k] != "no_visibility")
        for n in ("kit01", "kit02")
    }
    assert seen["kit01"] > seen["kit02"]


def test_imported_hosts_are_offline_with_who_ran_it(kit_and_scan: dict[str, Any]) -> None:
    for h in kit_and_scan["imported"]["hosts"]:
        assert h["connection"] == "offline"
        assert h["reach"] == "ok"
        assert h["user"] == "e8test"
        note = h["notes"][0]
        assert "collected offline by the e8scan field kit" in note
        assert "run by T. Engineer (account e8test)" in note
        grades = {c["grade"] for c in h["controls"]}
        assert "good" not in grades and "fair" in grades  # a copy brought back by hand


def test_sudo_steps_fail_cleanly_without_rights(kit_and_scan: dict[str, Any]) -> None:
    kit02 = next(h for h in kit_and_scan["raw"]["hosts"] if h["name"] == "kit02")
    sudo = [c for c in kit02["commands"] if c["as_run"].startswith("sudo -n ")]
    assert sudo
    for c in sudo:
        assert c["exit_code"] == 1 and "sudo" in c["stderr"], c
        assert not c["timed_out"]


def test_rescore_history_and_merge_take_imported_hosts_like_any(
    kit_and_scan: dict[str, Any],
) -> None:
    work = kit_and_scan["work"]
    again = CliRunner().invoke(
        main, ["rescore", str(work / "imp" / "raw.json"), "--out", str(work / "re"), "-q"]
    )
    remote = CliRunner().invoke(
        main, ["rescore", str(work / "scan" / "raw.json"), "--out", str(work / "re-scan"), "-q"]
    )
    assert again.exit_code == remote.exit_code, again.output
    # rescore judges with every check (as for any raw record), the same for both records
    rescored = json.loads((work / "re" / "results.json").read_text())
    assert outcomes(rescored) == outcomes(
        json.loads((work / "re-scan" / "results.json").read_text())
    )
    assert {h["connection"] for h in rescored["hosts"]} == {"offline"}
    listed = CliRunner().invoke(
        main, ["history", "--history", str(work / "history.sqlite"), "--host", "kit01"]
    )
    assert listed.exit_code == 0 and kit_and_scan["imported"]["run"]["id"] in listed.output
    merged = CliRunner().invoke(
        main,
        ["merge", str(work / "scan"), str(work / "imp"), "--out", str(work / "m")]
        + ["--no-history", "-q"],
    )
    assert merged.exit_code in (0, 3), merged.output
    names = {h["name"] for h in json.loads((work / "m" / "results.json").read_text())["hosts"]}
    assert names == {"kit01", "kit02"}
