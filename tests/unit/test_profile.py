"""The typed host profile: e8_ variables validated at load, and the role judged from the host.

Real inventories on disk, real raw records and the real checks; no mocks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scanner.assess.judging import context_for
from scanner.assess.pipeline import assess
from scanner.assess.results import HostResult
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.checking.loader import load_checks
from scanner.checking.readonly import mutations
from scanner.checking.role_probe import LINUX_DEFAULT_TARGET, PROBE_ID, ROLE_PROBES, WINDOWS_OS
from scanner.collect.plan import plan_host
from scanner.inventory.load import load_inventory
from scanner.inventory.profile import HostProfile, for_judging, parse_profile
from scanner.model.errors import InputError
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach, Role, Strategy
from scanner.record.raw import CommandRecord, HostRecord, RawRecord, RunInfo

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TRUE_SPELLINGS = ["true", "True", "TRUE", "yes", "Yes", "on", "ON", "1", "y", "t"]
FALSE_SPELLINGS = ["false", "False", "FALSE", "no", "No", "off", "OFF", "0", "n", "f"]


def load_one(path: Path, host: str = "h1") -> HostProfile:
    return load_inventory([path]).hosts[host].profile


# --- values at load ------------------------------------------------------------------------------


def test_ini_false_is_false_and_list_output_keeps_the_raw_text(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web]\nh1 e8_internet_facing=false\n")
    loaded = load_inventory([inv])
    assert loaded.hosts["h1"].profile.e8_internet_facing is False
    # `inventory --list` prints what ansible-inventory prints: the text, not the typed value
    assert loaded.to_ansible_list()["_meta"]["hostvars"]["h1"] == {"e8_internet_facing": "false"}


@pytest.mark.parametrize("text", TRUE_SPELLINGS + FALSE_SPELLINGS)
def test_every_ansible_boolean_spelling_in_ini_vars(tmp_path: Path, text: str) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text(f"[web]\nh1\n[web:vars]\ne8_internet_facing={text}\ne8_admin_host={text}\n")
    profile = load_one(inv)
    assert profile.e8_internet_facing is (text in TRUE_SPELLINGS)
    assert profile.e8_admin_host is (text in TRUE_SPELLINGS)


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("no", False), ("'off'", False)])
def test_yaml_booleans_and_quoted_spellings(tmp_path: Path, text: str, expected: bool) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text(f"all:\n  hosts:\n    h1:\n      e8_internet_facing: {text}\n")
    assert load_one(inv).e8_internet_facing is expected


def test_numbers_roles_and_lists(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.yml"
    inv.write_text(
        "all:\n  hosts:\n    h1:\n"
        "      e8_backup_rpo_hours: '36'\n"
        "      e8_role: Workstation\n"
        "      e8_backup_paths: /srv/backup, /mnt/nas\n"
        "      e8_admin_allowlist: [CONTOSO\\Tier0, breakglass]\n"
        "      e8_ot_zone: 2\n"
        "      e8_backup_admins: ''\n"
    )
    profile = load_one(inv)
    assert profile.e8_backup_rpo_hours == 36.0
    assert profile.e8_role is Role.WORKSTATION
    assert profile.values("e8_backup_paths") == ["/srv/backup", "/mnt/nas"]
    assert profile.listed("e8_admin_allowlist") == ["CONTOSO\\Tier0", "breakglass"]
    assert profile.e8_ot_zone == "2"
    assert profile.listed("e8_backup_admins") is None  # an empty string: unset


def test_unset_variables_have_their_defaults(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("h1 ansible_host=192.0.2.1 my_own_var=24h\n")
    assert load_one(inv) == HostProfile()


# --- bad values fail at load, naming file, line and variable -------------------------------------


def _bad_rpo(tmp_path: Path, layout: str) -> tuple[Path, str]:
    """An inventory setting e8_backup_rpo_hours to '24h' in one place; (inventory, where)."""
    ini = tmp_path / "hosts.ini"
    if layout == "ini host line":
        ini.write_text("[web]\nh0\nh1 e8_backup_rpo_hours=24h\n")
        return ini, f"{ini}:3"
    if layout == "ini group vars":
        ini.write_text("[web]\nh1\n\n[web:vars]\ne8_role=server\ne8_backup_rpo_hours=24h\n")
        return ini, f"{ini}:6"
    if layout == "yaml":
        yml = tmp_path / "hosts.yml"
        yml.write_text(
            "all:\n  children:\n    web:\n      vars:\n        e8_role: server\n"
            "        e8_backup_rpo_hours: 24h\n      hosts:\n        h1:\n"
        )
        return yml, f"{yml}:6"
    ini.write_text("[web]\nh1\n")
    folder = tmp_path / layout  # group_vars or host_vars
    folder.mkdir()
    name = "web.yml" if layout == "group_vars" else "h1.yml"
    (folder / name).write_text("# the web tier\ne8_role: server\ne8_backup_rpo_hours: 24h\n")
    return ini, f"{folder / name}:3"


@pytest.mark.parametrize(
    "layout", ["ini host line", "ini group vars", "yaml", "group_vars", "host_vars"]
)
def test_bad_number_fails_at_load_naming_file_line_and_variable(
    tmp_path: Path, layout: str
) -> None:
    inv, where = _bad_rpo(tmp_path, layout)
    with pytest.raises(InputError) as err:
        load_inventory([inv])
    assert err.value.where == where
    assert err.value.message == (
        "e8_backup_rpo_hours is '24h'; expected a number of hours > 0 (such as 24)"
    )
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("e8_internet_facing=maybe", "expected a boolean (true/false, yes/no, on/off, 1/0)"),
        ("e8_role=desktop", "expected one of workstation | server | network_device"),
        ("e8_max_concurrency=0", "expected a whole number >= 1"),
        ("e8_backup_rpo_hours=-4", "expected a number of hours > 0"),
        ("e8_backup_paths=\"{'a': 1}\"", "expected a list, or text with comma-separated values"),
    ],
)
def test_bad_values_say_what_was_expected(tmp_path: Path, line: str, needle: str) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text(f"h1 {line}\n")
    with pytest.raises(InputError) as err:
        load_inventory([inv])
    assert err.value.where == f"{inv}:1"
    assert needle in err.value.message
    assert err.value.message.startswith(line.split("=")[0] + " is ")


def test_unknown_variable_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web]\nh1\n[web:vars]\ne8_internet_facting=true\n")
    with pytest.raises(InputError) as err:
        load_inventory([inv])
    assert err.value.where == f"{inv}:4"
    assert err.value.message == (
        "unknown variable e8_internet_facting; did you mean e8_internet_facing?"
    )


def test_unknown_variable_far_from_any_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="unknown variable e8_colour; known ones: e8_password_env"):
        parse_profile({"e8_colour": "blue"}, lambda name: "x")


def test_cli_inventory_error_is_one_line(tmp_path: Path) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text("h1 e8_backup_rpo_hours=24h\n")
    proc = _e8scan("inventory", "-i", str(inv), "--list")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"e8scan: error: {inv}:1: e8_backup_rpo_hours is '24h'; "
        "expected a number of hours > 0 (such as 24)"
    ]


def test_rescore_of_a_raw_record_with_a_bad_value_is_one_line(tmp_path: Path) -> None:
    raw = _raw([_host("h1", Platform.LINUX, {"e8_internet_facing": "sometimes"})])
    raw_file = tmp_path / "raw.json"
    raw_file.write_text(raw.model_dump_json())
    proc = _e8scan("rescore", str(raw_file), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"e8scan: error: {raw_file}: host h1")
    assert "e8_internet_facing is 'sometimes'; expected a boolean" in line


# --- commands and policy -------------------------------------------------------------------------


def test_args_var_must_be_a_list_variable() -> None:
    with pytest.raises(ValueError, match="not a list variable"):
        Cmd(line='ls "$@"', args_var="e8_role")


def test_policy_values_merge_into_the_judged_profile() -> None:
    p = Policy(
        admin_allowlist=["breakglass"],
        adblock_extension_ids=["ublock"],
        backup_rpo_hours_by_role={"server": 12},
    )
    own = parse_profile({"e8_admin_allowlist": "alice, bob"}, str)
    merged = for_judging(own, p, Role.SERVER)
    assert merged.listed("e8_admin_allowlist") == ["alice", "bob", "breakglass"]
    assert merged.listed("e8_adblock_extension_ids") == ["ublock"]
    assert merged.e8_backup_rpo_hours == 12.0
    assert merged.e8_role is Role.SERVER
    mine = parse_profile({"e8_backup_rpo_hours": 48}, str)
    assert for_judging(mine, p, Role.SERVER).e8_backup_rpo_hours == 48.0
    assert for_judging(mine, p, Role.WORKSTATION).e8_role is Role.WORKSTATION
    assert for_judging(HostProfile(), Policy(), Role.SERVER).listed("e8_admin_allowlist") is None


# --- the role from the host ----------------------------------------------------------------------

WIN_WORKSTATION = (
    '{"Caption":"Microsoft Windows 11 Enterprise","Version":"10.0.22631","BuildNumber":"22631",'
    '"ProductType":1,"OSArchitecture":"64-bit","LastBootUpTime":"20261118071502.500000+600"}'
)


def _cmd(line: str, stdout: str, exit_code: int = 0) -> CommandRecord:
    return CommandRecord(
        command=line,
        as_run=line,
        checks=[PROBE_ID],
        stdout=stdout.encode(),
        exit_code=exit_code,
    )


def _host(
    name: str,
    platform: Platform,
    hvars: dict[str, Any],
    commands: list[CommandRecord] | None = None,
    reach: Reach = Reach.OK,
) -> HostRecord:
    return HostRecord(
        name=name,
        address="192.0.2.10",
        port=5986 if platform is Platform.WINDOWS else 22,
        connection="winrm" if platform is Platform.WINDOWS else "ssh",
        user="e8audit",
        become=False,
        platform=platform,
        groups=["office"],
        vars=hvars,
        reach=reach,
        started=T0,
        finished=T0,
        commands=commands or [],
    )


def _raw(hosts: list[HostRecord]) -> RawRecord:
    run = RunInfo(id="r1", started=T0, finished=T0, inventory=[], checks=[])
    return RawRecord(tool_version="t", run=run, hosts=hosts)


def _by_ism(result: HostResult) -> dict[str, Any]:
    return {c.ism: c for c in result.controls}


FIXTURE = (
    Path(__file__).parents[1]
    / "checks/application_control.windows_app_control/applocker_hardened_workstation.json"
)


def test_windows_workstation_without_e8_role_is_judged_as_a_workstation() -> None:
    """A recorded hardened workstation (its fixture says e8_role: workstation) judged with no
    e8_role at all: ProductType=1 in its recorded output makes it a workstation."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert fixture["vars"] == {"e8_role": "workstation"}
    out = fixture["outputs"]["appcontrol"]
    recorded = _cmd(out["command"], out["stdout"], out["exit_code"])
    check = next(c for c in load_checks() if c.id == FIXTURE.parent.name)
    rec = _host("pc01", Platform.WINDOWS, {}, [recorded, _cmd(WINDOWS_OS.line, WIN_WORKSTATION)])
    assert context_for(rec, Policy()).role is Role.WORKSTATION
    (result,) = assess(_raw([rec]), [check], Policy()).hosts
    assert (result.role, result.role_source, result.role_note) == (
        "workstation",
        "host: ProductType=1",
        None,
    )
    outcomes = {c.ism: c.outcome.value for c in result.controls if c.check == check.id}
    assert outcomes == fixture["expect"]
    # the same host without the host's report: judged as the default server
    blind = rec.model_copy(update={"commands": [recorded]})
    (result,) = assess(_raw([blind]), [check], Policy()).hosts
    assert result.role_source.startswith(
        "default: server (Win32_OperatingSystem is not in the raw record)"
    )
    assert _by_ism(result)["ISM-0843"].outcome is Outcome.NOT_APPLICABLE


@pytest.mark.parametrize(
    ("product_type", "role", "source"),
    [
        (2, "server", "host: ProductType=2 (domain controller)"),
        (3, "server", "host: ProductType=3"),
    ],
)
def test_windows_servers_from_product_type(product_type: int, role: str, source: str) -> None:
    out = WIN_WORKSTATION.replace('"ProductType":1', f'"ProductType":{product_type}')
    rec = _host("srv01", Platform.WINDOWS, {}, [_cmd(WINDOWS_OS.line, out)])
    (result,) = assess(_raw([rec]), [], Policy()).hosts
    assert (result.role, result.role_source) == (role, source)


@pytest.mark.parametrize(
    ("stdout", "exit_code", "role", "source"),
    [
        ("graphical.target\n", 0, "workstation", "host: systemctl get-default=graphical.target"),
        ("multi-user.target\n", 0, "server", "host: systemctl get-default=multi-user.target"),
        (
            "",
            127,
            "server",
            "default: server (systemctl get-default gave no answer (exit 127))",
        ),
    ],
)
def test_linux_role_from_the_default_target(
    stdout: str, exit_code: int, role: str, source: str
) -> None:
    rec = _host("lx01", Platform.LINUX, {}, [_cmd(LINUX_DEFAULT_TARGET.line, stdout, exit_code)])
    (result,) = assess(_raw([rec]), [], Policy()).hosts
    assert (result.role, result.role_source) == (role, source)


def test_without_the_probe_in_the_record_the_default_says_why() -> None:
    (result,) = assess(_raw([_host("lx01", Platform.LINUX, {})]), [], Policy()).hosts
    assert result.role == "server"
    assert result.role_source == "default: server (systemctl get-default is not in the raw record)"
    gone = _host("lx02", Platform.LINUX, {}, reach=Reach.UNREACHABLE)
    (result,) = assess(_raw([gone]), [], Policy()).hosts
    assert result.role_source == "default: server (the host was not reached)"


def _role_judge(outputs: object, ctx: Context) -> list[Finding]:
    return [
        Finding(
            ism="ISM-1175",
            outcome=Outcome.EFFECTIVE,
            evidence=f"judged as {ctx.role}",
            observed={"role": ctx.role},
        )
    ]


ROLE_CHECK = Check(
    id="restrict_admin.role_echo",
    title="Says which role its judge was given",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1175",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"x": "$true"},
    judge=_role_judge,
    version=1,
)


def test_inventory_wins_over_the_host_and_the_results_say_so() -> None:
    rec = _host(
        "pc02", Platform.WINDOWS, {"e8_role": "server"}, [_cmd(WINDOWS_OS.line, WIN_WORKSTATION)]
    )
    (result,) = assess(_raw([rec]), [ROLE_CHECK], Policy()).hosts
    assert (result.role, result.role_source) == ("server", "inventory")
    assert result.role_note == (
        "the inventory's e8_role=server wins over the host's own report (ProductType=1: workstation)"
    )
    finding = _by_ism(result)["ISM-1175"]
    assert finding.evidence.startswith("judged as server [role: the inventory's e8_role=server")
    assert finding.observed["role_note"] == result.role_note
    # agreement: no note anywhere
    agree = rec.model_copy(update={"vars": {"e8_role": "workstation"}})
    (result,) = assess(_raw([agree]), [ROLE_CHECK], Policy()).hosts
    assert (result.role, result.role_source, result.role_note) == ("workstation", "inventory", None)
    assert "[role:" not in _by_ism(result)["ISM-1175"].evidence


def test_the_results_schema_documents_the_role_fields() -> None:
    from scanner.assess.results import schema

    props = schema()["$defs"]["HostResult"]["properties"]
    assert {"role", "role_source", "role_note"} <= set(props)


# --- the probes in the plan ----------------------------------------------------------------------


def test_probes_are_read_only_and_in_every_plan(tmp_path: Path) -> None:
    for platform, cmd in ROLE_PROBES.items():
        assert mutations(cmd.line, platform) == []
    inv = tmp_path / "hosts.ini"
    inv.write_text(
        "lx01 ansible_connection=ssh\n"
        "pc01 ansible_connection=winrm ansible_winrm_server_cert_validation=ignore\n"
    )
    hosts = load_inventory([inv]).hosts
    checks = load_checks()
    linux = plan_host(hosts["lx01"], checks, secrets=False)
    probe = [c for c in linux.commands if c.step.line == "systemctl get-default"]
    assert [c.checks for c in probe] == [[PROBE_ID]]
    windows = plan_host(hosts["pc01"], checks, secrets=False)
    shared = [c for c in windows.commands if c.step.line == WINDOWS_OS.line]
    assert len(shared) == 1  # the Windows OS checks and the role probe share one run
    assert PROBE_ID in shared[0].checks and len(shared[0].checks) > 1
    alone = plan_host(hosts["pc01"], [ROLE_CHECK], secrets=False)
    assert [c.step.line for c in alone.commands] == ["$true", WINDOWS_OS.line]


def test_judge_outputs_keep_the_record_format() -> None:
    """The raw record's vars stay raw (JSON as collected): only judging types them."""
    rec = _host("lx01", Platform.LINUX, {"e8_internet_facing": "no"})
    assert json.loads(rec.model_dump_json())["vars"] == {"e8_internet_facing": "no"}
    assert context_for(rec, Policy()).internet_facing is False
    assert isinstance(Output(command="x").text, str)


def _e8scan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
