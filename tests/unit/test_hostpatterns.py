"""Host entries (addresses, ports, ranges) and ``--limit`` patterns, checked against ansible-core.

ansible-core runs once, in a subprocess, over a batch of inputs (it is slow to start and must
not leak its global configuration into this process): its ``parse_address``,
``expand_hostname_range`` and ``split_host_pattern``, and its ``InventoryManager`` host
selection, which is what ``ansible all -l PATTERN --list-hosts`` prints.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.inventory.load import Inventory, InventoryWarning, load_inventory
from scanner.inventory.patterns import (
    MAX_RANGE_HOSTS,
    PatternError,
    expand_host_range,
    parse_address,
    split_host_pattern,
)
from scanner.model.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
LIMITS = ROOT / "tests" / "data" / "inventories" / "limits" / "hosts.ini"
DEEP = [
    ROOT / "inventories" / "site.ini",
    ROOT / "tests" / "data" / "inventories" / "yaml_nested" / "hosts.yml",
]

ORACLE_SCRIPT = r"""
import json, sys
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager, split_host_pattern
from ansible.parsing.utils.addresses import parse_address
from ansible.plugins.inventory import expand_hostname_range

req = json.load(sys.stdin)
def attempt(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:
        return {"error": str(exc)}
out = {
    "address": {a: attempt(lambda x: list(parse_address(x, allow_ranges=True)), a) for a in req["addresses"]},
    "ranges": {r: attempt(expand_hostname_range, r) for r in req["ranges"]},
    "split": {p: split_host_pattern(p) for p in req["splits"]},
    "limits": {},
}
for source, patterns in req["limits"].items():
    manager = InventoryManager(loader=DataLoader(), sources=[source])
    result = out["limits"][source] = {}
    for pattern in patterns:
        manager.subset(pattern)
        result[pattern] = attempt(lambda: [h.name for h in manager.get_hosts("all")])
json.dump(out, sys.stdout)
"""

ADDRESSES = [
    "web01",
    "web01.example.com:2222",
    "192.0.2.1",
    "192.0.2.1:22",
    "[192.0.2.1]:22",
    "2001:db8::1",
    "[2001:db8::1]:2222",
    "::ffff:192.0.2.1",
    "web[01:20].example.com",
    "web[01:20].example.com:8443",
    "db-[a:f]",
    "10.0.0.[1:5]",
    "2001:db8::[a:f]",
    "[host:22]:33",
    "[web01]:22",
    "h\u00e9llo.example",
    "host_",
    "-host",
    "abc:def",
    "a:b:c:22",
    "x.y:",
    "web[0a:c]",
    "300.1.1.1",
    "fe80::1%eth0",
]


def _generated_ranges(count: int) -> list[str]:
    """Valid range entries of every kind, from a fixed seed (a reproducible property test)."""
    rng = random.Random(20231101)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    entries = []
    for _ in range(count):
        kind = rng.choice(["num", "padded", "alpha", "two"])
        if kind == "alpha":
            i = rng.randrange(len(letters))
            spec = f"{letters[i]}:{letters[rng.randrange(i, len(letters))]}"
        else:
            begin = rng.randrange(0, 40)
            end = rng.randrange(begin, begin + 30)
            width = len(str(end)) + 1 if kind == "padded" else 0
            spec = f"{str(begin).zfill(width)}:{str(end).zfill(width)}"
        if rng.random() < 0.4:
            spec += f":{rng.randrange(1, 6)}"
        tail = rng.choice(["", ".example.com", "-x"])
        if kind == "two":
            tail = f"-[{rng.randrange(0, 3)}:{rng.randrange(3, 5)}]{tail}"
        entries.append(f"{rng.choice(['web', 'h', ''])}[{spec}]{tail}")
    return entries


RANGES = _generated_ranges(300)
SPLITS = [
    "web",
    "web,db",
    "web:db",
    "web:&db:!web01",
    "web01.example.com:2222",
    "web[1:3]",
    "2001:db8::1",
    " web , db ,, ",
    "~web[0-9]+:db",
    "a:b[1:2]:c",
    "web:!",
]
LIMIT_PATTERNS = [
    "all",
    "*",
    "web",
    "db",
    "db*",
    "all:!db",
    "web:&backup",
    "db:&backup",
    "~db0",
    "~^web0[12]",
    "web[1]",
    "web[-1]",
    "web[0:1]",
    "web[1:]",
    "web[1:0]",
    "web*:!web10*",
    "192.0.2.5",
    "192.0.2.*",
    "ungrouped",
    "web,db,backup",
    "web:db",
    "backup:web",
    "!web",
    "&web",
    "db0[12].example.com",
    "*.example.com:!backup",
    "dc01.corp.example:web[0]",
    "all,db",
    "web:nosuch",
]
DEEP_PATTERNS = {
    "site.ini": ["all", "windows:!hmi", "pilbara_ot:&hmi*", "*.ot.example", "perth_office[1:2]"],
    "hosts.yml": ["all", "zone_a:zone_b", "site", "region:!zone_a", "~srv-[ab]", "plc*"],
}


@pytest.fixture(scope="module")
def ansible(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("ansible-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_CONFIG=str(home / "none.cfg"),
        ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="True",
    )
    request = {
        "addresses": ADDRESSES,
        "ranges": RANGES,
        "splits": SPLITS,
        "limits": {str(LIMITS): LIMIT_PATTERNS, **{str(p): DEEP_PATTERNS[p.name] for p in DEEP}},
    }
    proc = subprocess.run(
        [sys.executable, "-c", ORACLE_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.fixture(scope="module")
def limits_inventory() -> Inventory:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InventoryWarning)  # 'db' is a host and a group
        return load_inventory([LIMITS])


def names(inv: Inventory, pattern: str | None) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InventoryWarning)
        return [h.name for h in inv.select(pattern)]


# --- addresses and ranges ------------------------------------------------------------------------


def test_parse_address_agrees_with_ansible(ansible: dict[str, Any]) -> None:
    for address in ADDRESSES:
        theirs = ansible["address"][address]
        try:
            ours: Any = list(parse_address(address))
        except PatternError:
            ours = "error"
        expected = "error" if isinstance(theirs, dict) else theirs
        assert ours == expected, address


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("web01.example.com:2222", ("web01.example.com", 2222)),
        ("[2001:db8::1]:2222", ("2001:db8::1", 2222)),
        ("2001:db8::1", ("2001:db8::1", None)),
        ("web[01:03]:22", ("web[01:03]", 22)),
        ("192.0.2.1", ("192.0.2.1", None)),
    ],
)
def test_parse_address_splits_port(entry: str, expected: tuple[str, int | None]) -> None:
    assert parse_address(entry) == expected


def test_generated_ranges_expand_like_ansible(ansible: dict[str, Any]) -> None:
    for entry in RANGES:
        assert expand_host_range(entry) == ansible["ranges"][entry], entry


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("web", ["web"]),
        ("web[01:03].example.com", ["web01.example.com", "web02.example.com", "web03.example.com"]),
        ("web[1:10:4]", ["web1", "web5", "web9"]),
        ("web[08:12:2]", ["web08", "web10", "web12"]),
        ("db-[a:c]", ["db-a", "db-b", "db-c"]),
        ("db-[y:B]", ["db-y", "db-z", "db-A", "db-B"]),
        ("[:2]x", ["0x", "1x", "2x"]),
        ("r[1:2]-s[a:b]", ["r1-sa", "r1-sb", "r2-sa", "r2-sb"]),
        ("10.0.0.[1:3]", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
    ],
)
def test_expand_host_range(entry: str, expected: list[str]) -> None:
    assert expand_host_range(entry) == expected


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ("web[5:1]", "empty"),  # Ansible silently makes no host here
        ("web[c:a]", "empty"),
        ("web[a:3]", "numbers"),
        ("web[ab:cd]", "single letters"),
        ("web[01:", "unterminated"),
        ("web]1[1:2]", "unbalanced"),
        ("web[1]", "begin:end"),
        ("web[1:2:3:4]", "begin:end"),
        ("web[1:]", "no end"),
        ("web[01:100]", "same width"),
        ("web[1:5:0]", "step"),
        ("web[1:5:x]", "step"),
        (f"web[0:{MAX_RANGE_HOSTS}]", "more than"),
    ],
)
def test_bad_ranges(entry: str, needle: str) -> None:
    with pytest.raises(PatternError, match=needle):
        expand_host_range(entry)


def test_split_host_pattern_agrees_with_ansible(ansible: dict[str, Any]) -> None:
    for pattern in SPLITS:
        assert split_host_pattern(pattern) == ansible["split"][pattern], pattern


# --- --limit ---------------------------------------------------------------------------------


def test_limit_selection_and_order_equal_ansible(
    ansible: dict[str, Any], limits_inventory: Inventory
) -> None:
    """Groups here are one level deep, where Ansible's host order is deterministic."""
    for pattern in LIMIT_PATTERNS:
        theirs = ansible["limits"][str(LIMITS)][pattern]
        if isinstance(theirs, dict) or not theirs:
            with pytest.raises(InputError):
                names(limits_inventory, pattern)
        else:
            assert names(limits_inventory, pattern) == theirs, pattern


@pytest.mark.parametrize("source", DEEP, ids=lambda p: p.name)
def test_limit_selection_on_deep_inventories_equals_ansible(
    ansible: dict[str, Any], source: Path
) -> None:
    """Below the first level Ansible orders groups by set iteration: compare the sets."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InventoryWarning)
        inv = load_inventory([source])
    for pattern in DEEP_PATTERNS[source.name]:
        theirs = ansible["limits"][str(source)][pattern]
        assert not isinstance(theirs, dict), theirs
        assert sorted(names(inv, pattern)) == sorted(theirs), pattern
        assert len(theirs) > 0


def test_ansible_cli_list_hosts_agrees(tmp_path: Path, limits_inventory: Inventory) -> None:
    ansible_cli = Path(sys.executable).with_name("ansible")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_HOME=str(tmp_path),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
        ANSIBLE_CONFIG=str(tmp_path / "none.cfg"),
    )
    pattern = "backup:web:&db:!bk01.example.com"
    proc = subprocess.run(
        [str(ansible_cli), "all", "-i", str(LIMITS), "--list-hosts", "-l", pattern],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    listed = [line.strip() for line in proc.stdout.splitlines()[1:] if line.strip()]
    assert listed == names(limits_inventory, pattern) == ["db02.example.com"]


def test_limit_forms(limits_inventory: Inventory) -> None:
    inv = limits_inventory
    assert names(inv, None) == names(inv, "all") == names(inv, "*") == list(inv.hosts)
    assert names(inv, "web") == ["web01.example.com", "web02.example.com", "web10.example.com"]
    assert names(inv, "web0*") == ["web01.example.com", "web02.example.com"]
    assert names(inv, "~web0[2-9]") == ["web02.example.com"]
    assert names(inv, "web01.example.com:dc01.corp.example") == [
        "web01.example.com",
        "dc01.corp.example",
    ]
    assert names(inv, "web01.example.com,dc01.corp.example") == names(
        inv, "dc01.corp.example:web01.example.com"
    )  # results come back in inventory order
    assert names(inv, "backup:&db") == ["db02.example.com"]
    assert names(inv, "backup:!db") == ["bk01.example.com"]
    assert names(inv, "!web:!db:!backup") == ["db", "192.0.2.5", "dc01.corp.example"]


def test_host_name_wins_over_group_name_in_a_plain_pattern(limits_inventory: Inventory) -> None:
    assert names(limits_inventory, "db") == ["db"]  # the host, not group db
    excluded = names(limits_inventory, "all:!db")  # but !db matches the group
    assert "db" in excluded and "db01.example.com" not in excluded
    assert names(limits_inventory, "db0*") == ["db01.example.com", "db02.example.com"]


def test_limit_from_file(tmp_path: Path, limits_inventory: Inventory) -> None:
    listing = tmp_path / "retry.txt"
    listing.write_text("web02.example.com\n\ndc01.corp.example\n")
    assert names(limits_inventory, f"@{listing}") == ["web02.example.com", "dc01.corp.example"]
    with pytest.raises(InputError) as err:
        names(limits_inventory, f"@{tmp_path / 'none.txt'}")
    assert err.value.where == "--limit"


def test_limit_part_matching_nothing_warns(limits_inventory: Inventory) -> None:
    with pytest.warns(InventoryWarning, match="'nosuch' matches no host"):
        hosts = limits_inventory.select("web01.example.com:nosuch")
    assert [h.name for h in hosts] == ["web01.example.com"]


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        ("nosuch", "matches no host"),
        ("web:&db", "matches no host"),
        ("web:!web", "matches no host"),
        ("~(", "invalid pattern"),
        ("web[7]", "beyond the 3 hosts"),
    ],
)
def test_bad_limits(limits_inventory: Inventory, pattern: str, needle: str) -> None:
    with pytest.raises(InputError) as err:
        names(limits_inventory, pattern)
    assert err.value.where == "--limit"
    assert needle in err.value.message


@settings(max_examples=200, deadline=None)
@given(pattern=st.text(alphabet="webd01*?~[]:,&!.^-() ", max_size=20))
def test_fuzz_limit_gives_hosts_or_input_error(limits_inventory: Inventory, pattern: str) -> None:
    hosts: list[str] = []
    where = ""
    try:
        hosts = names(limits_inventory, pattern)
    except InputError as err:
        where = err.where
    if where:
        assert where == "--limit"
    else:
        assert hosts and set(hosts) <= set(limits_inventory.hosts)
