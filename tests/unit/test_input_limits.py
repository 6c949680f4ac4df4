"""Small files, huge costs: every input's cost is bounded before the work is done.

An alias bomb, a huge host range, a long INI line, many hosts and a FIFO where a file should be
are each refused with one line (or read in linear time). Nothing here measures time: limits are
asserted by their error, linearity by counting operations (Python lines run, string
comparisons) and memory by tracemalloc's peak.
"""

from __future__ import annotations

import os
import shlex
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_errors import e8, one_line_error, write

from scanner.inventory.graph import MAX_HOSTS, InventoryGraph
from scanner.inventory.ini import split_host_line
from scanner.inventory.load import load_inventory
from scanner.inventory.patterns import MAX_RANGE_HOSTS, PatternError, expand_host_range
from scanner.model.errors import InputError
from scanner.model.input_files import MAX_ALIAS_NODES, expansion, read_regular_file

# Nine lists of nine aliases, six levels deep: 9**6 = 531,441 strings from ~600 bytes; seven
# levels (the 2.4 GB) would be 4.8 million.
BOMB_LEVELS = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]" for a, b in zip("abcdef", "bcdefg", strict=False)
]


def bomb(indent: str = "") -> str:
    return "".join(f"{indent}{line}\n" for line in BOMB_LEVELS)


def peak_bytes(fn: Callable[[], Any]) -> int:
    """The peak memory Python allocated while ``fn`` ran (its result or InputError dropped)."""
    tracemalloc.start()
    try:
        fn()
    except (InputError, PatternError):
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def lines_run(fn: Callable[[], Any]) -> int:
    """How many lines of Python (any module: the scanner's and the standard library's) ran
    while ``fn`` ran: a count of work, not a time."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


# --- YAML alias bombs ---------------------------------------------------------------------------


def test_the_bomb_is_what_it_claims() -> None:
    import yaml

    distinct, expanded = expansion(yaml.compose(bomb()))
    assert expanded - distinct > MAX_ALIAS_NODES  # 9**6 strings and their lists
    assert distinct < 200


def test_an_alias_bomb_inventory_is_refused_before_it_is_built(tmp_path: Path) -> None:
    inv = write(tmp_path / "bomb.yml", "all:\n  vars:\n" + bomb("    ") + "  hosts:\n    h1:\n")
    with pytest.raises(InputError, match="alias bomb") as err:
        load_inventory([inv])
    assert err.value.where == str(inv)
    assert peak_bytes(lambda: load_inventory([inv])) < 5_000_000
    one_line_error(e8("plan", "-i", str(inv)), str(inv), "YAML aliases expand")


@pytest.mark.parametrize("place", ["group_vars/all.yml", "host_vars/h1.yml"])
def test_an_alias_bomb_in_vars_files_is_refused(tmp_path: Path, place: str) -> None:
    inv = write(tmp_path / "hosts.ini", "h1\n")
    write(tmp_path / place, bomb())
    one_line_error(e8("plan", "-i", str(inv)), place.split("/")[1], "YAML aliases expand")


def test_an_alias_bomb_policy_register_or_framework_is_refused(tmp_path: Path) -> None:
    inv = write(tmp_path / "hosts.ini", "h1 ansible_connection=local\n")
    policy = write(tmp_path / "policy.yml", bomb())
    out = tmp_path / "out"
    args = ["scan", "-i", str(inv), "--out", str(out), "--no-history"]
    one_line_error(e8(*args, "--policy", str(policy)), "policy.yml", "YAML aliases expand")
    ex = write(tmp_path / "ex.yml", "exceptions:\n  - id: x\n" + bomb("    "))
    one_line_error(e8(*args, "--exceptions", str(ex)), "ex.yml", "YAML aliases expand")
    fw = write(tmp_path / "fw.yml", bomb())
    one_line_error(e8(*args, "--framework", str(fw)), "fw.yml", "YAML aliases expand")
    assert not (out / "raw.json").exists()


def test_ordinary_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    hosts = "".join(f"    h{i}: {{<<: *base, ansible_port: {2000 + i}}}\n" for i in range(50))
    inv = write(
        tmp_path / "site.yml",
        "all:\n  vars:\n    base: &base {ansible_user: scan, e8_role: server}\n"
        f"  hosts:\n{hosts}",
    )
    site = load_inventory([inv])
    assert site.hosts["h7"].vars["ansible_user"] == "scan"
    assert site.hosts["h7"].vars["ansible_port"] == 2007


def test_a_merge_key_bomb_is_refused(tmp_path: Path) -> None:
    # Merge keys double a mapping's pairs per level without any list: 2**25 pairs.
    levels = ["    m0: &m0 {k: v}"] + [
        f"    m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}]}}" for i in range(1, 26)
    ]
    inv = write(tmp_path / "merge.yml", "all:\n  vars:\n" + "\n".join(levels) + "\n")
    with pytest.raises(InputError, match="alias bomb"):
        load_inventory([inv])


# --- host ranges --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        "host[0:9999999]",
        "host[0:99999999999]",
        "host[0:999][0:999]",  # each range is small; their product is not
        "host[a:z][0:9999]",
        "host[0:" + "9" * 5000 + "]",  # more digits than Python reads as a number
    ],
)
def test_an_oversized_range_is_refused_before_it_is_expanded(entry: str) -> None:
    with pytest.raises(PatternError, match="more than|digits"):
        expand_host_range(entry)
    assert peak_bytes(lambda: expand_host_range(entry)) < 1_000_000


def test_the_range_limit_names_the_line(tmp_path: Path) -> None:
    inv = write(tmp_path / "r.ini", "[web]\nweb1\nhost[0:99999999999]\n")
    one_line_error(e8("plan", "-i", str(inv)), "r.ini:3", f"more than {MAX_RANGE_HOSTS}")
    big = write(tmp_path / "r.yml", "all:\n  hosts:\n    host[0:9999999]:\n")
    one_line_error(e8("plan", "-i", str(big)), "r.yml:3", f"more than {MAX_RANGE_HOSTS}")


def test_ranges_still_expand_in_ansible_order() -> None:
    assert expand_host_range("w[1:2]-[a:b]") == ["w1-a", "w1-b", "w2-a", "w2-b"]
    assert expand_host_range("db[08:10:2]") == ["db08", "db10"]
    assert len(expand_host_range(f"h[1:{MAX_RANGE_HOSTS}]")) == MAX_RANGE_HOSTS


def test_the_inventory_as_a_whole_is_capped(tmp_path: Path) -> None:
    # Each entry is within the range limit; together they exceed the inventory's.
    lines = [f"r{i}-[1:{MAX_RANGE_HOSTS}]" for i in range(MAX_HOSTS // MAX_RANGE_HOSTS + 1)]
    inv = write(tmp_path / "many.ini", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=f"more than {MAX_HOSTS:,} hosts") as err:
        load_inventory([inv])
    assert err.value.where == f"{inv}:{len(lines)}"


def test_a_huge_subscript_in_limit_is_one_line(tmp_path: Path) -> None:
    inv = write(tmp_path / "s.ini", "[web]\nweb1\nweb2\n")
    one_line_error(e8("inventory", "-i", str(inv), "--limit", "web[" + "9" * 5000 + "]"), "--limit")


# --- linear parsing -----------------------------------------------------------------------------


class CountingName(str):
    """A host name that counts how often it is compared for equality."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        CountingName.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_adding_hosts_compares_names_a_constant_number_of_times() -> None:
    graph = InventoryGraph()
    graph.add_group("web", "t")
    CountingName.compared = 0
    n = 3000
    for i in range(n):
        graph.add_host(CountingName(f"h{i}"), "web", None, "t")
        graph.add_host(CountingName(f"h{i}"), "web", None, "t")  # again: already a member
    # A list membership test compared each new name with every earlier one: n*n/2 = 4.5 million.
    assert CountingName.compared <= 4 * n
    assert list(graph.groups["web"].hosts)[:2] == ["h0", "h1"]


def _inventory(tmp_path: Path, hosts: int) -> Path:
    lines = []
    for g in range(hosts // 20):
        lines += [f"[g{g}]", *(f"h{g}-{i} ansible_port={i + 1}" for i in range(20))]
    lines += ["[all:children]", *(f"g{g}" for g in range(hosts // 20))]
    folder = tmp_path / str(hosts)
    write(folder / "group_vars" / "g1.yml", "e8_role: server\n")
    return write(folder / "inv.ini", "\n".join(lines) + "\n")


def test_loading_an_inventory_is_linear_in_its_hosts(tmp_path: Path) -> None:
    small, large = _inventory(tmp_path, 250), _inventory(tmp_path, 1000)
    assert len(load_inventory([large]).hosts) == 1000
    ratio = lines_run(lambda: load_inventory([large])) / lines_run(lambda: load_inventory([small]))
    # Four times the hosts (and groups): about four times the work, never sixteen.
    assert ratio < 5, ratio


def test_a_one_megabyte_ini_line_is_read_in_linear_work(tmp_path: Path) -> None:
    value = "x" * 1_000_000
    inv = write(tmp_path / "long.ini", f"h1 e8_ot_zone={value} ansible_user='a b'\n")
    assert load_inventory([inv]).hosts["h1"].vars["e8_ot_zone"] == value
    # shlex ran ~10 Python lines per character (10 million here) and copied the word each time.
    assert lines_run(lambda: split_host_line(f"h1 e8_ot_zone={value}")) < 200


@settings(derandomize=True, max_examples=400, deadline=None)
@given(st.text(alphabet="ab '\"\\#\t=", max_size=16))
def test_the_host_line_splitter_is_shlex(line: str) -> None:
    try:
        expected: Any = shlex.split(line, comments=True)
    except ValueError as exc:
        expected = ("error", str(exc))
    try:
        found: Any = split_host_line(line)
    except ValueError as exc:
        found = ("error", str(exc))
    assert found == expected


# --- only regular files -------------------------------------------------------------------------


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_never_waited_on(tmp_path: Path) -> None:
    # Each case used to block forever on open(); the subprocess timeout is only a hang guard.
    inv = write(tmp_path / "a" / "hosts.ini", "h1 ansible_connection=local\n")
    pipe = fifo(tmp_path / "pipe.ini")
    one_line_error(e8("plan", "-i", str(pipe)), str(pipe), "FIFO", "expected a regular file")
    fifo(tmp_path / "a" / "group_vars" / "all")
    one_line_error(e8("plan", "-i", str(inv)), "group_vars/all", "FIFO")

    inv_b = write(tmp_path / "b" / "hosts.ini", "h1 ansible_connection=local\n")
    fifo(tmp_path / "b" / "host_vars" / "h1.yml")
    one_line_error(e8("plan", "-i", str(inv_b)), "host_vars/h1.yml", "FIFO")

    folder = tmp_path / "c"
    write(folder / "hosts.ini", "h1\n")
    fifo(folder / "more")
    one_line_error(e8("plan", "-i", str(folder)), "more", "FIFO")

    plain = write(tmp_path / "d" / "hosts.ini", "h1 ansible_connection=local\n")
    args = ["scan", "-i", str(plain), "--out", str(tmp_path / "out"), "--no-history"]
    for option in ("--policy", "--exceptions", "--attestations", "--framework"):
        pipe = fifo(tmp_path / f"{option.strip('-')}.yml")
        proc = e8(*args, option, str(pipe))
        line = one_line_error(proc, str(pipe))
        assert "FIFO" in line or "not found" in line, line
    limit = fifo(tmp_path / "limit.txt")
    one_line_error(e8("plan", "-i", str(plain), "--limit", f"@{limit}"), "--limit")


def test_devices_and_oversized_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="character device"):
        read_regular_file(Path("/dev/zero"))
    big = tmp_path / "big.ini"
    big.write_bytes(b"h1\n" * 20)
    assert read_regular_file(big, limit=60) == b"h1\n" * 20
    with pytest.raises(InputError, match="limited to 59 bytes"):
        read_regular_file(big, limit=59)
