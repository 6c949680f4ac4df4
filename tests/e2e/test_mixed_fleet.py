"""One sweep over a mixed fleet: Windows hosts over WinRM and Linux hosts over SSH, one command.

Each Windows host is the suite's own WS-Man server (tests/wsman/) speaking genuine WinRS to the
real pywinrm client; its "disk state" is a set of the recorded check fixtures under
tests/checks/ (the same outputs the judges are unit-tested on), served as what the host's
PowerShell printed. Timestamps in outputs of time-sensitive reads are shifted by (now - the
fixture's collection time), so a recorded "backed up 8 hours ago" stays 8 hours old when replayed.
The Linux hosts are real sshd servers (tests/sshfleet.py).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sshfleet import HostSpec, SSHFleet
from wsman.fixtures import FixtureOutput, HostFixtures
from wsman.server import WSManServer

from scanner.checking.loader import load_checks
from scanner.cli.main import main
from scanner.model.vocabulary import Platform
from tests.e2e.feeds_policy import ACCEPT_SHIPPED

CHECKS = Path(__file__).resolve().parents[1] / "checks"
USER, PW = "e8mixed", "Mine-Site-Audit-42"

# Which recorded case each simulated Windows host shows, per Windows check. Checks not named here
# show their first all-effective case (see good_cases), so a new check joins the sweep by itself.
PREFERRED = {
    "patch_os.windows_os_support": "win11_25h2_enterprise_2026_latest",
    "patch_os.windows_updates": "win11_24h2_newer_than_table_no_history",
    "office_macros.windows_macro_settings": "m365_user_policy_compliant",
    "office_macros.windows_macro_asr": "block_mode_gpo",
    "restrict_admin.windows_local_admins": "allowlisted_domain_groups",
    "restrict_admin.windows_laps": "legacy_policy_emulated_30_chars",
    "restrict_admin.windows_stale_admins": "recent_local_logons",
    "restrict_admin.windows_credential_protection": "win11_all_enabled",
    "backups.windows_backup": "ws2022_wsb_nightly_success",
    "application_control.windows_app_control": "applocker_hardened_workstation",
    "user_app_hardening.windows_dotnet35": "netfx3_payload_removed",
    "mfa.windows_mfa_logging": "logon_special_logon_sf_wef",
}


def good_cases() -> dict[str, str]:
    """The preferred cases first (their outputs win where checks share a command), then, for every
    other Windows check, its first case whose verdicts are all effective or not applicable."""
    windows = [c.id for c in load_checks() if Platform.WINDOWS in c.platforms]
    cases = {cid: case for cid, case in PREFERRED.items() if cid in windows}
    for cid in windows:
        for f in sorted((CHECKS / cid).glob("*.json")):
            data = json.loads(f.read_text())
            verdicts = set(data["expect"].values())
            if (
                cid not in cases
                and "directory" not in data  # judged with a directory this fleet does not have
                and "effective" in verdicts
                and verdicts <= {"effective", "not_applicable"}
            ):
                cases[cid] = f.stem
    return cases


GOOD = good_cases()
HOSTS: dict[str, dict[str, str]] = {
    "win-good": GOOD,
    "win-macros": GOOD
    | {"office_macros.windows_macro_settings": "visio_without_policy_defender_passive"},
    "win-admins": GOOD
    | {"restrict_admin.windows_local_admins": "win10_named_users_not_allowlisted"},
    "win-backup": GOOD | {"backups.windows_backup": "win11_workstation_no_backup_evidence"},
    "win-old": GOOD | {"patch_os.windows_os_support": "ws2012r2_support_ended"},
}
TIME_SENSITIVE = {
    "backups.windows_backup",
    "restrict_admin.windows_stale_admins",
    "restrict_admin.windows_account_expiry",
    "patch_os.windows_update_detection",
}
# Every simulated Windows host is a workstation on the office network, whatever the fixtures said.
HOST_CLASS = {"e8_role": "workstation", "e8_internet_facing": False}

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")
_MSDATE = re.compile(r"\\/Date\((-?\d+)\)\\/")


def shift(text: str, delta: timedelta) -> str:
    def iso(m: re.Match[str]) -> str:
        raw = m.group(0)
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        aware = dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        out = (aware + delta).isoformat(timespec="seconds")
        return out.replace("+00:00", "Z") if raw.endswith("Z") else (out if dt.tzinfo else out[:19])

    def ms(m: re.Match[str]) -> str:
        return f"\\/Date({int(m.group(1)) + int(delta.total_seconds() * 1000)})\\/"

    return _MSDATE.sub(ms, _ISO.sub(iso, text))


def host_state(cases: dict[str, str], now: datetime) -> tuple[HostFixtures, dict[str, Any]]:
    """The fixtures a simulated host serves, and the inventory vars its cases were judged with."""
    fixtures: dict[str, FixtureOutput] = {}
    hvars: dict[str, Any] = {}
    for check_id, case in cases.items():
        data = json.loads((CHECKS / check_id / f"{case}.json").read_text())
        delta = now - datetime.fromisoformat(data["collected_at"])
        for rec in data["outputs"].values():
            if "stdout_b64" in rec:
                out: str | bytes = base64.b64decode(rec["stdout_b64"])
            else:
                out = rec.get("stdout", "")
                if check_id in TIME_SENSITIVE:
                    out = shift(out, delta)
            # Two checks may read with the same command: the first case listed decides what the
            # host shows, so a composite host stays one consistent machine.
            if rec["command"] in fixtures:
                continue
            fixtures[rec["command"]] = FixtureOutput(
                stdout=out, stderr=rec.get("stderr", ""), rc=rec.get("exit_code") or 0
            )
        hvars = data.get("vars", {}) | hvars  # first case wins, as for outputs
    return HostFixtures(fixtures), hvars | HOST_CLASS


def _ini_value(v: Any) -> str:
    if isinstance(v, list):
        v = ",".join(v)
    text = str(v).lower() if isinstance(v, bool) else str(v)
    return '"' + text.replace('"', "") + '"' if (" " in text or "\\" in text) else text


@pytest.fixture(scope="module")
def sweep(
    ssh_fleet_factory: Any, wsman_server_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    now = datetime.now(UTC)
    work = tmp_path_factory.mktemp("mixed")
    fleet: SSHFleet = ssh_fleet_factory(
        [
            HostSpec("lin-ok"),
            HostSpec("lin-old", overlay={"/etc/os-release": 'ID=debian\nVERSION_ID="10"\n'}),
        ],
        name="mixed-ssh",
    )
    lines = [
        fleet.inventory_ini(work / "ssh.ini").read_text().replace("[fleet]", "[linux]"),
        "[windows]",
    ]
    servers: dict[str, WSManServer] = {}
    for i, (name, cases) in enumerate(HOSTS.items()):
        fixtures, hvars = host_state(cases, now)
        https = name == "win-good"
        server = wsman_server_factory(
            f"127.0.0.{60 + i}",
            scheme="https" if https else "http",
            auth=("ntlm",),
            users={USER: PW},
            fixtures=fixtures,
        )
        servers[name] = server
        port = server.url.rsplit(":", 1)[1].split("/")[0]
        extra = (
            {
                "ansible_host": f"127.0.0.{60 + i}",
                "ansible_port": port,
                "ansible_winrm_scheme": "https" if https else "http",
            }
            | ({"ansible_winrm_ca_trust_path": str(server.cert_path)} if https else {})
            | hvars
            | ({"e8_target_priority": "normal"} if name == "win-macros" else {})
        )
        lines.append(f"{name} " + " ".join(f"{k}={_ini_value(v)}" for k, v in extra.items()))
    lines.append("win-xp ansible_host=127.0.0.70 ansible_port=5985 ansible_winrm_scheme=http")
    lines += [
        "[windows:vars]",
        "ansible_connection=winrm",
        f"ansible_user={USER}",
        "e8_password_env=E8_TEST_WIN_PASSWORD",
        "ansible_winrm_transport=ntlm",
    ]
    inv = work / "site.ini"
    inv.write_text("\n".join(lines) + "\n")
    out = work / "out"
    result = CliRunner(env={"E8_TEST_WIN_PASSWORD": PW}).invoke(
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
            "-f",
            "10",
        ],
    )
    results = json.loads((out / "results.json").read_text())
    raw = (out / "raw.json").read_text()
    yield {
        "exit": result.exit_code,
        "output": result.output,
        "results": results,
        "raw": raw,
        "servers": servers,
        "out": out,
    }
    for server in servers.values():
        server.stop()  # NTLM users are process-wide: leave none behind for other modules
    fleet.stop()


def host(sweep: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in sweep["results"]["hosts"] if h["name"] == name)


def outcome(sweep: dict[str, Any], name: str, strategy: str, ism: str) -> str:
    h = host(sweep, name)
    return str(
        next(c for c in h["controls"] if c["strategy"] == strategy and c["ism"] == ism)["outcome"]
    )


def test_one_command_scans_the_mixed_fleet(sweep: dict[str, Any]) -> None:
    assert sweep["exit"] == 4, sweep["output"]  # win-xp has no WinRM listener
    names = {h["name"]: h for h in sweep["results"]["hosts"]}
    assert set(names) == {
        "lin-ok",
        "lin-old",
        "win-good",
        "win-macros",
        "win-admins",
        "win-backup",
        "win-old",
        "win-xp",
    }
    for n in ("win-good", "win-macros", "win-admins", "win-backup", "win-old"):
        assert names[n]["reach"] == "ok", names[n]["reach_detail"]
        assert names[n]["platform"] == "windows"
    assert names["lin-ok"]["platform"] == "linux" and names["lin-ok"]["reach"] == "ok"


def test_one_shell_and_one_connection_per_windows_host(sweep: dict[str, Any]) -> None:
    for name, server in sweep["servers"].items():
        assert server.shells_opened == 1, name
        assert server.connections == 1, name
        assert server.requests["Command"] == 1, name  # the whole check payload in one command


def test_windows_hosts_differ_as_their_state_differs(sweep: dict[str, Any]) -> None:
    good = "win-good"
    assert outcome(sweep, good, "office_macros", "ISM-1488") == "effective"
    assert outcome(sweep, good, "restrict_admin", "ISM-0445") == "effective"
    assert outcome(sweep, good, "restrict_admin", "ISM-1685") == "effective"
    assert outcome(sweep, good, "restrict_admin", "ISM-1861") == "effective"
    assert outcome(sweep, good, "patch_os", "ISM-1501") == "effective"
    assert (
        outcome(sweep, good, "backups", "ISM-1511") == "effective"
    )  # replayed with shifted clocks

    assert outcome(sweep, "win-macros", "office_macros", "ISM-1488") == "ineffective"
    assert host(sweep, "win-macros")["levels"]["office_macros"] == 0
    assert outcome(sweep, "win-admins", "restrict_admin", "ISM-0445") == "ineffective"
    assert host(sweep, "win-admins")["levels"]["restrict_admin"] == 0
    assert outcome(sweep, "win-backup", "backups", "ISM-1511") == "ineffective"
    assert host(sweep, "win-backup")["levels"]["backups"] == 0
    assert outcome(sweep, "win-old", "patch_os", "ISM-1501") == "ineffective"
    assert host(sweep, "win-old")["levels"]["patch_os"] == 0


def test_every_strategy_is_assessed_on_the_compliant_windows_host(sweep: dict[str, Any]) -> None:
    good = host(sweep, "win-good")
    expected = {
        ("application_control", "ISM-0843"): "effective",
        (
            "patch_applications",
            "ISM-1704",
        ): "no_visibility",  # the EOL table is over a year old: said so
        ("office_macros", "ISM-1488"): "effective",
        ("user_app_hardening", "ISM-1655"): "effective",
        ("restrict_admin", "ISM-1861"): "effective",
        ("patch_os", "ISM-1501"): "effective",
        ("mfa", "ISM-1683"): "effective",
        ("backups", "ISM-1511"): "effective",
    }
    got = {k: outcome(sweep, "win-good", *k) for k in expected}
    assert got == expected
    assert "table" in next(c["evidence"] for c in good["controls"] if c["ism"] == "ISM-1704")
    # Every strategy was assessed; each level is backed by the Next-level blockers when below ML3.
    for strategy, level in good["levels"].items():
        assert level is not None, strategy
        assert level == 3 or good["blockers"][strategy], strategy
    # A risk-free composite is still held back by controls it cannot show: never a vacuous ML3.
    assert good["level"] is not None and good["level"] < 3


def test_linux_hosts_in_the_same_sweep(sweep: dict[str, Any]) -> None:
    assert outcome(sweep, "lin-old", "patch_os", "ISM-1501") == "ineffective"
    assert outcome(sweep, "lin-ok", "office_macros", "ISM-1488") == "not_applicable"


def test_host_without_winrm_is_no_visibility_clearly_labelled(sweep: dict[str, Any]) -> None:
    xp = host(sweep, "win-xp")
    assert xp["reach"] == "unreachable"
    assert "no WinRM listener" in xp["reach_detail"]
    assert xp["level"] is None
    assert not [c for c in xp["controls"] if c["outcome"] in ("effective", "alternate_control")]


def test_identity_and_connection_notes_are_recorded(sweep: dict[str, Any]) -> None:
    good = host(sweep, "win-good")
    assert good["host_key"] and good["host_key"].startswith("SHA256:")
    assert any("not verified" in n for n in host(sweep, "win-macros")["notes"])


def test_the_batch_runs_at_low_priority_unless_the_inventory_opts_out(
    sweep: dict[str, Any],
) -> None:
    assert "target priority: low (priority class BelowNormal)" in host(sweep, "win-good")["notes"]
    assert "target priority: low (nice 19, ionice idle)" in host(sweep, "lin-ok")["notes"]
    macros = host(sweep, "win-macros")["notes"]
    assert "target priority: normal (e8_target_priority: normal)" in macros, macros


def test_the_password_never_reaches_any_output(sweep: dict[str, Any]) -> None:
    assert PW not in sweep["raw"]
    assert PW not in json.dumps(sweep["results"])
    assert PW not in sweep["output"]
    assert PW.encode() not in (sweep["out"] / "e8-report.xlsx").read_bytes()
