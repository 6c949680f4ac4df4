"""The inventory reader against ansible-core's own ``ansible-inventory --list`` (the oracle),
plus plain checks of variable typing, precedence, warnings and every bad-input error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scanner.inventory.load import (
    Inventory,
    InventoryHost,
    InventoryWarning,
    UnsafeText,
    load_inventory,
)
from scanner.model.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "inventories"
EXAMPLES = ROOT / "inventories"
ANSIBLE_INVENTORY = Path(sys.executable).with_name("ansible-inventory")

# case id -> (inventory sources, --limit or None)
ORACLE_CASES: dict[str, tuple[list[str], str | None]] = {
    "ini_typed_values_ranges_forward_refs": ([str(DATA / "ini_typed" / "hosts.ini")], None),
    "yaml_three_deep_priority_unsafe": ([str(DATA / "yaml_nested" / "hosts.yml")], None),
    "group_vars_host_vars_files_and_dirs": ([str(DATA / "vars_files" / "hosts.ini")], None),
    "group_priority_and_same_depth_order": ([str(DATA / "priority" / "hosts.ini")], None),
    "two_sources_merged": (
        [str(DATA / "merge" / "first" / "hosts.ini"), str(DATA / "merge" / "second" / "hosts.yml")],
        None,
    ),
    "directory_inventory": ([str(DATA / "dirinv")], None),
    "comma_separated_host_list": (["192.0.2.1,198.51.100.2:2222,host.example.com,"], None),
    "example_site_ini": ([str(EXAMPLES / "site.ini")], None),
    "example_local_yml": ([str(EXAMPLES / "local.yml")], None),
    "example_site_ini_with_limit": ([str(EXAMPLES / "site.ini")], "windows:dmz:!hmi"),
}


def ansible_env(home: Path) -> dict[str, str]:
    """A clean environment for ansible-core: no user config, no warnings we do not want."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_CONFIG=str(home / "none.cfg"),
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="True",  # a source ansible cannot read fails
    )
    return env


def run_ansible_inventory(sources: Sequence[str], limit: str | None, home: Path) -> Any:
    cmd = [str(ANSIBLE_INVENTORY), "--list"]
    for source in sources:
        cmd += ["-i", source]
    if limit:
        cmd += ["--limit", limit]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=ansible_env(home), cwd=home, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every oracle case, run in parallel (ansible-core takes about a second to start)."""
    home = tmp_path_factory.mktemp("ansible-home")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            case: pool.submit(run_ansible_inventory, sources, limit, home)
            for case, (sources, limit) in ORACLE_CASES.items()
        }
        return {case: future.result() for case, future in futures.items()}


@pytest.fixture
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InventoryWarning)
        yield


def load(*paths: str | Path) -> Inventory:
    with warnings.catch_warnings():
        warnings.simplefilter("error", InventoryWarning)  # the fixtures are warning-free
        return load_inventory(list(paths))


# --- the oracle ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(ORACLE_CASES))
def test_list_equals_ansible_inventory_list(case: str, oracle: dict[str, Any]) -> None:
    sources, limit = ORACLE_CASES[case]
    mine = load(*sources).to_ansible_list(limit)
    assert mine == oracle[case]
    assert len(oracle[case]["_meta"]["hostvars"]) > 0  # the oracle really read something


def test_list_output_is_plain_json(quiet: None) -> None:
    listed = load_inventory([DATA / "yaml_nested" / "hosts.yml"]).to_ansible_list()
    assert json.loads(json.dumps(listed)) == listed
    assert listed["_meta"]["hostvars"]["hmi-01"]["template"] == {
        "__ansible_unsafe": "{{ not templated }}"
    }


# --- INI values, ranges and structure --------------------------------------------------------


def test_ini_values_are_python_literals_on_host_lines_and_in_vars_sections() -> None:
    web = load(DATA / "ini_typed" / "hosts.ini").hosts["web01.example.com"].vars
    assert web["weight"] == 1.5
    assert web["enabled"] is True
    assert web["legacy"] == "no"  # not a Python literal: stays text
    assert web["http_port"] == 8080  # ansible-core 2.19 also evaluates [group:vars] values
    assert web["e8_internet_facing"] is True
    assert web["zero_padded"] == "010"  # 010 is not a valid Python literal
    assert web["banner"] == "Hello world # kept: not a literal, so the comment stays in the text"
    assert web["tuple_value"] == [1, 2]
    assert web["set_value"] == [3]
    assert web["complex_value"] == "(1+2j)"
    assert web["ellipsis"] == "..."
    assert isinstance(web["bytes_value"], UnsafeText)
    assert web["bytes_value"] == "raw"


def test_ini_quoting_ports_and_all_vars() -> None:
    inv = load(DATA / "ini_typed" / "hosts.ini")
    ip = inv.hosts["198.51.100.7"].vars
    assert ip["ansible_port"] == 2222
    assert ip["note"] == "spaces kept"
    assert ip["quoted"] == "double"
    assert ip["inner"] == "03#pa33"
    assert ip["timeout"] == 30  # "30 # a comment" is the literal 30
    web08 = inv.hosts["web08.example.com"].vars
    assert web08["ansible_port"] == 8443
    assert web08["flags"] == [1, "two"]
    assert web08["opts"] == {"a": 1}
    assert web08["nothing"] is None


def test_ini_ranges_keep_leading_zeros_and_strides() -> None:
    inv = load(DATA / "ini_typed" / "hosts.ini")
    web = [h for h in inv.hosts if h.startswith("web")]
    assert web == [
        "web01.example.com",
        "web02.example.com",
        "web03.example.com",
        "web08.example.com",
        "web10.example.com",
    ]
    assert [h for h in inv.hosts if h.startswith("db-")] == ["db-a", "db-b", "db-c", "db-x"]


def test_ini_children_declared_before_their_groups() -> None:
    inv = load(DATA / "ini_typed" / "hosts.ini")
    assert inv.hosts["late1"].groups == ("app", "later", "ops")
    assert inv.hosts["late1"].vars["defined_later"] == "yes"
    assert inv.hosts["bastion.example.com"].groups == ("app", "ops", "web")  # left ungrouped
    assert inv.hosts["198.51.100.7"].groups == ()


# --- YAML, precedence, files -------------------------------------------------------------------


def test_yaml_precedence_depth_then_priority_then_name() -> None:
    hmi = load(DATA / "yaml_nested" / "hosts.yml").hosts["hmi-01"]
    assert hmi.groups == ("priority_low", "region", "site", "zone_a", "zone_b", "zz_last_by_name")
    assert hmi.vars["level"] == "zone_b"  # deepest groups win; zone_b after zone_a by name
    assert hmi.vars["picked"] == "zone_b"
    assert hmi.vars["ansible_port"] == 2222  # the first entry's port is kept
    assert hmi.vars["installed"] == "2023-11-01"  # YAML dates become ISO text
    assert isinstance(hmi.vars["template"], UnsafeText)
    assert "ansible_group_priority" not in hmi.vars


def test_yaml_values_keep_their_types() -> None:
    srv = load(DATA / "yaml_nested" / "hosts.yml").hosts["srv-b.example.com"].vars
    assert srv["tags"] == ["linux", "patched"]
    assert srv["nested"] == {"a": {"b": [1, 2.5, None, True]}}
    assert srv["ansible_user"] == "auditor"


def test_inventory_order_walks_groups_breadth_first() -> None:
    inv = load(DATA / "yaml_nested" / "hosts.yml")
    assert list(inv.hosts) == [
        "jump.example.com",
        "hmi-01",
        "srv-a.example.com",
        "srv-b.example.com",
        "srv-c.example.com",
        "plc1",
        "plc2",
        "plc3",
    ]
    assert inv.sources == [DATA / "yaml_nested" / "hosts.yml"]


def test_group_vars_and_host_vars_files_and_directories() -> None:
    inv = load(DATA / "vars_files" / "hosts.ini")
    web01, web02 = inv.hosts["web01"].vars, inv.hosts["web02"].vars
    assert web01["layer"] == "web01_host_file"  # host_vars file beats everything
    assert web02["layer"] == "web_dir_20"  # group_vars/web/ merged in sorted order
    assert web02["from_all_file"] == "all_file_beats_inline_group_vars"
    assert web02["web_noext"] == "plain file without extension"
    assert web02["deep"] == "from a nested directory"
    assert web02["first_found_wins"] == "no_ext"
    assert "ignored" not in web02 and "hidden" not in web02 and "backup" not in web02
    db1 = inv.hosts["db1"].vars
    assert db1["db_json"] == {"port": 5432}
    assert db1["db1_dir"] == "b"
    assert db1["app_only"] == [1, 2]


def test_ansible_group_priority_in_a_vars_file_is_an_ordinary_variable() -> None:
    inv = load(DATA / "priority" / "hosts.ini")
    h1, h2 = inv.hosts["h1"].vars, inv.hosts["h2"].vars
    assert h1["same_depth"] == "zulu"  # same depth and priority: later name wins
    assert h1["deep"] == "beta"  # deeper group wins whatever its name
    assert h2["prio"] == "aardvark"  # ansible_group_priority=5 beats the name order
    assert h1["file_who"] == "zulu"
    assert h1["ansible_group_priority"] == 99


def test_two_sources_merge_in_order() -> None:
    inv = load(DATA / "merge" / "first" / "hosts.ini", DATA / "merge" / "second" / "hosts.yml")
    shared = inv.hosts["shared"]
    assert shared.groups == ("db", "web")
    assert shared.vars["web_var"] == "second"
    assert shared.vars["gv"] == "second_web"  # group_vars of the later source win
    assert shared.vars["gv_all"] == "first"
    assert shared.vars["hv"] == "second"
    assert list(inv.hosts) == ["web01", "shared", "web02"]


def test_directory_inventory_skips_readme_and_reads_its_group_vars() -> None:
    inv = load(DATA / "dirinv")
    # windows hangs under 'all' in 20-more.yml; linux only when the sources are reconciled
    assert list(inv.hosts) == ["win01", "lin01", "lin02"]
    assert inv.hosts["win01"].vars == {"dir_level": True, "ansible_connection": "winrm"}


def test_ini_with_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    inv_file = tmp_path / "windows-editor.ini"
    inv_file.write_bytes(b"\xef\xbb\xbf[web]\r\nweb01 port=1\r\n; caf\xe9 (latin-1 comment)\r\n")
    assert load(inv_file).hosts["web01"].vars == {"port": 1}


def test_symlink_loops_in_directories_are_followed_once(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nh1\n")
    (tmp_path / "group_vars" / "web").mkdir(parents=True)
    (tmp_path / "group_vars" / "web" / "a.yml").write_text("a: 1\n")
    (tmp_path / "group_vars" / "web" / "back").symlink_to("..")
    (tmp_path / "again").symlink_to(".")
    assert load(tmp_path / "hosts.ini").hosts["h1"].vars == {"a": 1}
    assert list(load(tmp_path).hosts) == ["h1"]


def test_host_list_source() -> None:
    inv = load("192.0.2.1,198.51.100.2:2222,")
    assert list(inv.hosts) == ["192.0.2.1", "198.51.100.2"]
    assert inv.hosts["198.51.100.2"].vars == {"ansible_port": 2222}


def test_examples_hold_what_the_scanner_needs() -> None:
    site = load(EXAMPLES / "site.ini")
    hmi = site.hosts["pil-hmi02.ot.example"]
    assert hmi.groups == ("hmi", "pilbara_ot", "windows")
    assert hmi.vars["ansible_connection"] == "winrm"
    assert hmi.vars["e8_max_concurrency"] == 2
    assert hmi.vars["e8_ot_zone"] == "pilbara"
    assert hmi.vars["e8_password_env"] == "E8_OT_WINRM_PASSWORD"
    assert site.hosts["www01.example.com"].vars["e8_internet_facing"] is True
    assert site.hosts["perth-db01.corp.example"].vars["ansible_connection"] == "ssh"
    assert not any(
        "password" in k and k != "e8_password_env" for h in site.hosts.values() for k in h.vars
    )
    local = load(EXAMPLES / "local.yml").hosts["localhost"]
    assert local.vars == {"ansible_connection": "local", "e8_role": "workstation"}


def test_inventory_host_is_frozen() -> None:
    host = load(EXAMPLES / "local.yml").hosts["localhost"]
    assert isinstance(host, InventoryHost)
    with pytest.raises(ValidationError):
        host.name = "other"  # type: ignore[misc]


def test_group_caps_from_inline_vars_and_group_vars_files(tmp_path: Path) -> None:
    assert load(EXAMPLES / "site.ini").group_caps() == {"pilbara_ot": 2}
    inv_file = tmp_path / "hosts.ini"
    inv_file.write_text(
        "[ot]\nhmi1\n[ot:vars]\ne8_max_concurrency=3\n"
        "[office]\npc1\n[office:vars]\ne8_max_concurrency=9\n"
    )
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "office.yml").write_text("e8_max_concurrency: '4'\n")
    assert load(inv_file).group_caps() == {"ot": 3, "office": 4}


@pytest.mark.parametrize(
    ("inline", "in_file", "where"),
    [
        ("0", None, "hosts.ini:4"),
        ("lots", None, "hosts.ini:4"),
        ("2", "1.5", "group_vars/ot.yml:1"),
        ("2", "false", "group_vars/ot.yml:1"),
    ],
)
def test_bad_group_cap_names_where_it_is_set(
    tmp_path: Path, inline: str, in_file: str | None, where: str
) -> None:
    (tmp_path / "hosts.ini").write_text(f"[ot]\nhmi1\n[ot:vars]\ne8_max_concurrency={inline}\n")
    if in_file is not None:
        (tmp_path / "group_vars").mkdir()
        (tmp_path / "group_vars" / "ot.yml").write_text(f"e8_max_concurrency: {in_file}\n")
    with pytest.raises(InputError) as err:
        load_inventory([tmp_path / "hosts.ini"])
    assert err.value.where == f"{tmp_path}/{where}"
    assert "whole number >= 1" in err.value.message


# --- warnings ------------------------------------------------------------------------------------


def test_duplicate_host_with_conflicting_vars_warns_and_later_wins(tmp_path: Path) -> None:
    inv_file = tmp_path / "dup.ini"
    inv_file.write_text("[a]\nh1 x=1 same=1\n\n[b]\nh1 x=2 same=1\n")
    with pytest.warns(InventoryWarning) as record:
        inv = load_inventory([inv_file])
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert f"{inv_file}:5" in messages[0] and f"{inv_file}:2" in messages[0]
    assert "'x'" in messages[0]
    assert inv.hosts["h1"].vars["x"] == 2


def test_duplicate_host_across_yaml_sources_names_both_lines(tmp_path: Path) -> None:
    first, second = tmp_path / "one.yml", tmp_path / "two.yml"
    first.write_text("all:\n  hosts:\n    h1:\n      x: 1\n")
    second.write_text("web:\n  hosts:\n    h1:\n\n      x: 2\n")
    with pytest.warns(InventoryWarning, match=rf"{second}:5.*{first}:4"):
        inv = load_inventory([first, second])
    assert inv.hosts["h1"].vars["x"] == 2
    assert inv.hosts["h1"].groups == ("web",)


def test_second_port_for_a_host_is_ignored_with_a_warning(tmp_path: Path) -> None:
    inv_file = tmp_path / "ports.ini"
    inv_file.write_text("[a]\nh1:2201\n[b]\nh1:2202\n")
    with pytest.warns(InventoryWarning, match="port 2202"):
        inv = load_inventory([inv_file])
    assert inv.hosts["h1"].vars["ansible_port"] == 2201


def test_name_used_for_host_and_group_warns(tmp_path: Path) -> None:
    inv_file = tmp_path / "clash.ini"
    inv_file.write_text("db\n[db]\ndb01\n")
    with pytest.warns(InventoryWarning, match="both a host and a group"):
        load_inventory([inv_file])


def test_unknown_yaml_group_key_warns(tmp_path: Path) -> None:
    inv_file = tmp_path / "keys.yml"
    inv_file.write_text("all:\n  hosts:\n    h1:\n  host:\n    h2:\n")
    with pytest.warns(InventoryWarning, match=rf"{inv_file}:4: ignoring key 'host'"):
        inv = load_inventory([inv_file])
    assert list(inv.hosts) == ["h1"]


# --- bad input -----------------------------------------------------------------------------------

BAD_INVENTORIES = [
    # (file name, content, line, what the message must mention)
    ("h.ini", "[web\nh1\n", 1, "bad section header"),
    ("h.ini", "[web] # ok\n[web:vars] x\n", 2, "bad section header"),
    ("h.ini", "[web:bogus]\n", 1, "unknown type"),
    ("h.ini", "[g:children]\nfoo=bar\n", 2, "never defined"),
    ("h.ini", "[g]\nh\n[g:children]\na b\n", 4, "expected one group name"),
    ("h.ini", "[g]\nh\n\n[g:vars]\njustakey\n", 5, "expected key=value"),
    ("h.ini", "[g]\nweb[5:1]\n", 2, "empty"),
    ("h.ini", "[g]\nweb[a:3]\n", 2, "numbers"),
    ("h.ini", "[g]\nweb[01:\n", 2, "unterminated"),
    ("h.ini", "[g]\nweb[01:5]\n", 2, "same width"),
    ("h.ini", "[g]\nweb[1:5:0]\n", 2, "step"),
    ("h.ini", "[g]\nweb[1]\n", 2, "begin:end"),
    ("h.ini", "[g]\nh1 novalue\n", 2, "expected key=value"),
    ("h.ini", "[g]\nh1 a='open\n", 2, "cannot split"),
    ("h.ini", "[g]\nh1:\n", 2, "ends with ':'"),
    ("h.ini", "---\n", 1, "YAML"),
    ("h.ini", "# vars for nothing\n[x:vars]\na=1\n", 2, "never defined"),
    ("h.ini", "[p:children]\nnever\n", 2, "never defined"),
    ("h.ini", "[a:children]\nb\n[b:children]\na\n", 4, "loop"),
    ("h.ini", "[g:children]\ng\n", 2, "child of itself"),
    ("h.ini", "[g]\nh\n[g:vars]\nansible_group_priority=high\n", 4, "whole number"),
    ("h.ini", "[g]\nh x={[1]:2}\n", 2, "cannot read value"),
    ("h.ini", "[g]\nh\xff\n", 2, "UTF-8"),
    ("h.yml", "- a\n- b\n", 1, "found a list"),
    ("h.yml", "just text\n", 1, "found a string"),
    ("h.yml", "# nothing\n", 1, "empty"),
    ("h.yml", "all:\n  children:\n    web:\n      - h1\n", 3, "group 'web' is a list"),
    ("h.yml", "all:\n  children:\n    web:\n      hosts:\n        - h1\n", 4, "'hosts'"),
    ("h.yml", "all:\n  vars: [1]\n", 2, "'vars'"),
    ("h.yml", "all:\n  hosts:\n    h1: [1, 2]\n", 3, "expected a mapping of variables"),
    ("h.yml", "all:\n  hosts:\n    1234:\n", 3, "must be text"),
    ("h.yml", "all:\n  hosts:\n    h[5:1]:\n", 3, "empty"),
    ("h.yml", "all:\n  vars:\n    1: one\n", 3, "variable name 1"),
    ("h.yml", "plugin: amazon.aws.aws_ec2\n", 1, "plugin"),
    ("h.yml", "all:\n  vars:\n    x: [1,\n", 4, "invalid YAML"),
    ("h.yml", "all:\n  hosts:\n    h1: {x: !vault [1]}\n", 3, "!vault"),
    ("h.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n", 1, "vault-encrypted"),
    ("noext", "all:\n  children:\n    web: [a]\n", 3, "group 'web' is a list"),
    ("h.yml", "all:\n  vars:\n    x: &a [*a]\n", 3, "refers to its own anchor"),
    ("h.yml", "all: &a\n  children:\n    x: *a\n", 1, "refers to its own anchor"),
    ("h.yml", "all:\n  children:\n    a:\n      children:\n        all:\n", 3, "loop"),
    ("h.yml", "all:\n  hosts:\n    h1:\n  vars:\n    x: \x01\n", 5, "special characters"),
]


@pytest.mark.parametrize(("name", "content", "line", "needle"), BAD_INVENTORIES)
def test_bad_inventory_names_file_and_line(
    tmp_path: Path, name: str, content: str, line: int, needle: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content.encode("latin-1" if "\xff" in content else "utf-8"))
    with pytest.raises(InputError) as err:
        load_inventory([path])
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert needle in err.value.message
    assert "\n" not in str(err.value)


def test_json_inventory_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"all": {"children": {"web": {"hosts": ["a"]}}}}))
    with pytest.raises(InputError) as err:
        load_inventory([path])
    assert err.value.where == f"{path}:all.children.web.hosts"


@pytest.mark.parametrize(
    ("vars_file", "content", "line", "needle"),
    [
        ("web.yml", "a: 1\nb: [1,\n", 3, "invalid YAML"),
        ("web.yml", "a: 1\n\tb: 2\n", 2, "invalid YAML"),
        ("web", "ok: 1\nbad: \xff\n", 2, "UTF-8"),
        ("web.yaml", "\n- 1\n- 2\n", 2, "expected a mapping of variables"),
        ("web.json", "[1, 2]", 1, "expected a mapping of variables"),
        ("web/20.yml", "x: {\n", 2, "invalid YAML"),
        ("web.yml", "$ANSIBLE_VAULT;1.1;AES256\n3132\n", 1, "vault-encrypted"),
        ("web.yml", "a: 1\nx: &a {y: *a}\n", 2, "refers to its own anchor"),
    ],
)
def test_bad_group_vars_file_names_file_and_line(
    tmp_path: Path, vars_file: str, content: str, line: int, needle: str
) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nh1\n")
    target = tmp_path / "group_vars" / vars_file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content.encode("latin-1"))
    with pytest.raises(InputError) as err:
        load_inventory([tmp_path / "hosts.ini"])
    assert str(err.value).startswith(f"{target}:{line}: "), str(err.value)
    assert needle in err.value.message


def test_unreadable_group_vars_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nh1\n")
    (tmp_path / "group_vars").mkdir()
    secret = tmp_path / "group_vars" / "web.yml"
    secret.write_text("x: 1\n")
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any) -> int:
        if Path(path) == secret:  # the suite runs as root, which chmod cannot stop
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(InputError) as err:
        load_inventory([tmp_path / "hosts.ini"])
    assert err.value.where == str(secret)
    assert "Permission denied" in err.value.message


def test_missing_inventory_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.ini"
    with pytest.raises(InputError) as err:
        load_inventory([missing])
    assert err.value.where == str(missing)
    assert "not found" in err.value.message


def test_no_inventory_and_toml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no inventory"):
        load_inventory([])
    toml = tmp_path / "hosts.toml"
    toml.write_text("[all]\n")
    with pytest.raises(InputError, match="TOML"):
        load_inventory([toml])


def test_limit_matching_nothing_is_an_input_error(quiet: None) -> None:
    inv = load_inventory([EXAMPLES / "site.ini"])
    with pytest.raises(InputError) as err:
        inv.select("nosuchhost")
    assert err.value.where == "--limit"
    assert "nosuchhost" in err.value.message
    with pytest.raises(InputError, match="--limit"):
        inv.to_ansible_list("nosuchhost")


# --- fuzzing -------------------------------------------------------------------------------------

VALID_INI = (DATA / "ini_typed" / "hosts.ini").read_text()
VALID_YAML = (DATA / "yaml_nested" / "hosts.yml").read_text()
NASTY = "[]:=#;'\"\\ \n\t,{}()!~*&?-.|>0123456789abc"


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` after a few random edits: deletions, insertions, duplicated or dropped lines."""
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "dup_line", "drop_line"]))
        if kind == "insert":
            text = text[:pos] + draw(st.text(alphabet=NASTY, min_size=1, max_size=6)) + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        else:
            lines = text.split("\n")
            i = pos % len(lines)
            lines[i : i + 1] = [lines[i]] * 2 if kind == "dup_line" else []
            text = "\n".join(lines)
    return text


def _load_or_input_error(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            inv = load_inventory([path])
        except InputError as err:
            problem = str(err)
        else:
            problem = ""
    if problem:
        assert problem.startswith(f"{path}:") and "\n" not in problem, problem
        return
    listed = inv.to_ansible_list()
    assert json.loads(json.dumps(listed)) is not None
    assert set(listed["_meta"]["hostvars"]) <= set(inv.hosts)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(text=mutated(VALID_INI))
def test_fuzz_mutated_ini_gives_inventory_or_input_error(fuzz_dir: Path, text: str) -> None:
    _load_or_input_error(fuzz_dir / "mutated.ini", text)


@FUZZ
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
def test_fuzz_random_text_gives_inventory_or_input_error(fuzz_dir: Path, text: str) -> None:
    _load_or_input_error(fuzz_dir / "random.ini", text)
    _load_or_input_error(fuzz_dir / "random", text)


@settings(max_examples=100, deadline=None)
@given(text=mutated(VALID_YAML))
def test_fuzz_mutated_yaml_gives_inventory_or_input_error(fuzz_dir: Path, text: str) -> None:
    _load_or_input_error(fuzz_dir / "mutated.yml", text)
