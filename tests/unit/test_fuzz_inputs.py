"""Every file the CLI reads, fuzzed: the answer is success or ONE ``e8scan: error:`` line and exit
1 — never "internal error", never a traceback.

One real scan of this machine (``ansible_connection: local``) and one of a refused port give the
valid files; hypothesis then mutates them (text edits and invalid UTF-8, or a value anywhere in the
parsed structure replaced by a hostile one: huge numbers, impossible dates, wrong types, deep
nesting) and runs the command that reads them, in-process. Inventories, group_vars/host_vars,
policy, exceptions, attestations, the framework definition (YAML, controls CSV, OSCAL catalog),
raw.json, results.json, the run history (SQLite), the scan journal and the evidence manifest.
Examples are few and derandomized: the suite stays deterministic.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.cli.main import main
from tests.faultservers import free_port

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
# More examples for a longer hunt: E8SCAN_FUZZ_EXAMPLES=500 (still derandomized).
FUZZ = settings(
    max_examples=int(os.environ.get("E8SCAN_FUZZ_EXAMPLES", "25")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SUCCESS = (0, 3, 4, 5)


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_clean_outcome(result: Result) -> None:
    """Success, or exit 1 with exactly one ``e8scan: error:`` line; never an internal error."""
    err = result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception,
        err,
    )
    assert "internal error" not in err and "Traceback" not in err, err
    if result.exit_code in SUCCESS:
        return
    assert result.exit_code == 1, (result.exit_code, err)
    lines = [ln for ln in err.splitlines() if not ln.startswith("e8scan: warning:")]
    assert len(lines) == 1 and lines[0].startswith("e8scan: error: "), err


# --- mutations ------------------------------------------------------------------------------

NASTY_TEXT = "[]:=#;'\"\\ \n\t,{}()!~*&?-.|>%@0123456789abc\x00\x1b\u202e"
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 7, 2**31, 2**63, 10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=NASTY_TEXT, max_size=12),
    st.sampled_from(
        [
            "",
            "~(",
            "[",
            "*",
            "1e300",
            "nan",
            "-99999999999",
            "9999-12-31",
            "0001-01-01",
            "2026-02-30",
            "9999-12-31T23:59:59+00:00",
            "0001-01-01T00:00:00-05:00",
            "ISM-0000",
            "../../etc/passwd",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.just({"base64": 12}),
    st.just({"base64": "!!not base64!!"}),
)


HOSTILE_TIMES = st.sampled_from(
    [
        "9999-12-31T23:59:59+00:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "2026-01-01T00:00:00",
        "2026-02-30T00:00:00Z",
        "1e300",
    ]
)
HOSTILE_STRINGS = st.one_of(
    st.text(alphabet=NASTY_TEXT, max_size=12),
    st.sampled_from(
        ["", "=cmd|'/C calc'!A0", "\x1b]0;owned\x07", "a" * 5000, "ISM-9999", "not_a_strategy"]
    ),
)


def hostile_like(value: Any) -> st.SearchStrategy[Any]:
    """A hostile value of the same JSON type as ``value``: it passes type checks and reaches the
    code behind them."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.sampled_from([0, -1, 7, 99, -(2**63), 2**63, 10**30])
    if isinstance(value, float):
        return st.floats(allow_nan=True, allow_infinity=True)
    if isinstance(value, str):
        if value[:4].isdigit() and value[4:5] == "-":
            return HOSTILE_TIMES
        return HOSTILE_STRINGS
    if isinstance(value, list):
        return st.sampled_from([[], value * 2, value[::-1]])
    if isinstance(value, dict):
        return st.sampled_from([{}, {**value, "unexpected": 1}])
    return HOSTILE


def _paths(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a parsed document: mapping keys and list indexes, depth first."""
    yield here
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*here, i))


def _replace(node: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    *parent_path, last = path
    parent = node
    for p in parent_path:
        parent = parent[p]
    if delete:
        del parent[last]
    else:
        parent[last] = value
    return node


@st.composite
def structural(draw: st.DrawFn, data: Any) -> Any:
    """``data`` (parsed JSON/YAML) with one to three values replaced or deleted."""
    doc = json.loads(json.dumps(data, default=str))
    for _ in range(draw(st.integers(1, 3))):
        # A field name first, then one of its places: every kind of field gets its turn, however
        # many hosts and commands repeat the common ones.
        places: dict[object, list[tuple[Any, ...]]] = {}
        for path in _paths(doc):
            places.setdefault(path[-1] if path and isinstance(path[-1], str) else "", []).append(
                path
            )
        name = draw(st.sampled_from(sorted(places, key=str)))
        path = draw(st.sampled_from(places[name]))
        how = draw(st.sampled_from(["like", "like", "any", "delete"]))
        old = doc
        for p in path:
            old = old[p]
        value = draw(hostile_like(old) if how == "like" else HOSTILE)
        value = json.loads(json.dumps(value))  # a fresh copy: st.just shares its value
        doc = _replace(doc, path, value, how == "delete" and bool(path))
    return doc


@st.composite
def textual(draw: st.DrawFn, text: str) -> bytes:
    """``text`` after a few edits: insertions, deletions, duplicated or dropped lines, invalid UTF-8."""
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "dup_line", "drop_line"]))
        if kind == "insert":
            text = (
                text[:pos] + draw(st.text(alphabet=NASTY_TEXT, min_size=1, max_size=6)) + text[pos:]
            )
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        else:
            lines = text.split("\n")
            i = pos % len(lines)
            lines[i : i + 1] = [lines[i]] * 2 if kind == "dup_line" else []
            text = "\n".join(lines)
    raw = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\xff\xfe" + raw[at:]
    return raw


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"kind": "e8scan-results", "hosts": ' + b"[" * depth + b"]" * depth + b"}"


class _Lenient(yaml.SafeLoader):
    """Reads the valid files whatever their tags (``!unsafe``, ``!vault``): tagged values as text."""


_Lenient.add_multi_constructor("!", lambda loader, suffix, node: str(node.value))


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Lenient)


def as_yaml(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode("utf-8")


def as_json(data: Any) -> bytes:
    return json.dumps(data, indent=1, allow_nan=True).encode("utf-8")


# --- the valid files ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real scan of this machine: raw.json, results.json, a history and an evidence bundle."""
    base = tmp_path_factory.mktemp("corpus")
    inv = base / "local.yml"
    inv.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    scan = cli(
        "scan",
        "-i",
        inv,
        "--out",
        base / "scan",
        "--history",
        base / "history.sqlite",
        "--evidence",
        base / "evidence",
        "-q",
    )
    assert scan.exit_code in SUCCESS, scan.stderr
    return base


@pytest.fixture(scope="module")
def journal_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scan of one host on a refused port (its journal and the inventory it was written for)."""
    base = tmp_path_factory.mktemp("journal")
    inv = base / "hosts.ini"
    inv.write_text(f"[lin]\nh1 ansible_host=127.0.0.1 ansible_port={free_port('127.0.0.1')}\n")
    scan = cli(*_journal_args(base, base / "scan"), "--connect-timeout", "1")
    assert scan.exit_code in SUCCESS, scan.stderr
    return base


def _journal_args(base: Path, out: Path) -> list[str | Path]:
    return ["scan", "-i", base / "hosts.ini", "--checks", "patch_os", "--out", out]


@pytest.fixture
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("work")


def _fresh(work: Path, name: str) -> Path:
    d = work / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    return d


# --- inventories ----------------------------------------------------------------------------

VALID_INI = (DATA / "inventories" / "ini_typed" / "hosts.ini").read_text()
VALID_YAML = (DATA / "inventories" / "yaml_nested" / "hosts.yml").read_text()
VARS_DIR = DATA / "inventories" / "vars_files"


@FUZZ
@given(data=st.data())
def test_fuzz_inventory_ini(work: Path, data: st.DataObject) -> None:
    d = _fresh(work, "ini")
    (d / "hosts.ini").write_bytes(data.draw(textual(VALID_INI)))
    assert_clean_outcome(cli("plan", "-i", d / "hosts.ini"))


@FUZZ
@given(data=st.data())
def test_fuzz_inventory_yaml(work: Path, data: st.DataObject) -> None:
    d = _fresh(work, "yml")
    if data.draw(st.booleans()):
        raw = data.draw(textual(VALID_YAML))
    else:
        raw = as_yaml(data.draw(structural(load_yaml(VALID_YAML))))
    (d / "hosts.yml").write_bytes(raw)
    assert_clean_outcome(cli("plan", "-i", d / "hosts.yml"))


@FUZZ
@given(data=st.data())
def test_fuzz_group_vars_and_host_vars(work: Path, data: st.DataObject) -> None:
    d = _fresh(work, "vars")
    shutil.copytree(VARS_DIR, d, dirs_exist_ok=True)
    files = sorted(p for p in d.rglob("*") if p.is_file() and p.parent.name.endswith("_vars"))
    target = data.draw(st.sampled_from(files))
    text = target.read_text()
    if data.draw(st.booleans()):
        target.write_bytes(data.draw(textual(text)))
    else:
        target.write_bytes(as_yaml(data.draw(structural(load_yaml(text)))))
    assert_clean_outcome(cli("plan", "-i", d / "hosts.ini"))


# --- policy, exceptions, attestations, framework ----------------------------------------------


def _yaml_input(data: st.DataObject, source: Path) -> bytes:
    text = source.read_text()
    if data.draw(st.booleans()):
        return data.draw(textual(text))
    return as_yaml(data.draw(structural(load_yaml(text))))


@pytest.mark.parametrize(
    ("option", "source"),
    [
        ("--policy", ROOT / "examples" / "policy.yml"),
        ("--exceptions", ROOT / "examples" / "exceptions.yml"),
        ("--attestations", ROOT / "examples" / "attestations.yml"),
    ],
)
@FUZZ
@given(data=st.data())
def test_fuzz_policy_and_register(
    corpus: Path, work: Path, option: str, source: Path, data: st.DataObject
) -> None:
    d = _fresh(work, "register")
    shutil.copytree(ROOT / "examples" / "evidence", d / "evidence")
    f = d / source.name
    f.write_bytes(_yaml_input(data, source))
    raw = corpus / "scan" / "raw.json"
    assert_clean_outcome(cli("rescore", raw, option, f, "--out", d / "out", "-q"))


FRAMEWORK = DATA / "frameworks" / "two-level"


@FUZZ
@given(data=st.data())
def test_fuzz_framework_definition(corpus: Path, work: Path, data: st.DataObject) -> None:
    d = _fresh(work, "framework")
    shutil.copytree(FRAMEWORK, d, dirs_exist_ok=True)
    which = data.draw(st.sampled_from(["two-level.yml", "controls.csv", "level1.json"]))
    f = d / which
    if which.endswith(".yml"):
        f.write_bytes(_yaml_input(data, f))
    elif which.endswith(".json") and data.draw(st.booleans()):
        f.write_bytes(as_json(data.draw(structural(json.loads(f.read_text())))))
    else:
        f.write_bytes(data.draw(textual(f.read_text())))
    raw = corpus / "scan" / "raw.json"
    assert_clean_outcome(
        cli(
            "rescore",
            raw,
            "--framework",
            d / "two-level.yml",
            "--target-level",
            "1",
            "--out",
            d / "out",
            "-q",
        )
    )


# --- raw.json and results.json ----------------------------------------------------------------


def _json_input(data: st.DataObject, source: Path) -> bytes:
    how = data.draw(st.sampled_from(["structural", "structural", "text", "deep"]))
    if how == "deep":
        return deep_json(data.draw(st.sampled_from([2_000, 100_000])))
    if how == "text":
        text = source.read_text()
        at = data.draw(st.integers(0, len(text) - 200))
        return data.draw(textual(text[at : at + 200])).join(
            [text[:at].encode(), text[at + 200 :].encode()]
        )
    return as_json(data.draw(structural(json.loads(source.read_text()))))


@FUZZ
@given(data=st.data())
def test_fuzz_raw_json(corpus: Path, work: Path, data: st.DataObject) -> None:
    d = _fresh(work, "raw")
    (d / "raw.json").write_bytes(_json_input(data, corpus / "scan" / "raw.json"))
    assert_clean_outcome(cli("rescore", d / "raw.json", "--out", d / "out", "-q"))


@FUZZ
@given(data=st.data())
def test_fuzz_results_json(corpus: Path, work: Path, data: st.DataObject) -> None:
    d = _fresh(work, "results")
    good = corpus / "scan" / "results.json"
    (d / "results.json").write_bytes(_json_input(data, good))
    command = data.draw(st.sampled_from(["report", "diff-old", "diff-new", "merge"]))
    if command == "report":
        result = cli("report", d / "results.json", "--html", d / "r.html", "--xlsx", d / "r.xlsx")
    elif command == "merge":
        result = cli("merge", d / "results.json", good, "--out", d / "m", "--no-history", "-q")
    else:
        pair = (d / "results.json", good) if command == "diff-old" else (good, d / "results.json")
        result = cli("diff", *pair, "--history", d / "none.sqlite")
    assert_clean_outcome(result)


# --- the run history --------------------------------------------------------------------------

HISTORY_CELLS = [
    ("meta", "value", "key = 'schema_version'"),
    ("meta", "value", "key = 'kind'"),
    ("meta", "key", "key = 'schema_version'"),
    ("runs", "id", "1"),
    ("runs", "finished", "1"),
    ("runs", "started", "1"),
    ("runs", "hosts", "1"),
    ("runs", "fleet_level", "1"),
    ("runs", "target_level", "1"),
    ("runs", "results", "1"),
    ("host_levels", "levels", "1"),
    ("host_levels", "level", "1"),
    ("host_levels", "reach", "1"),
    ("host_levels", "run_id", "1"),
]
SQL_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(alphabet=NASTY_TEXT, max_size=10),
    st.binary(max_size=12),
    st.sampled_from(
        [
            "99",
            "x",
            "[1]",
            "{}",
            '{"patch_os": "x"}',
            "9999-12-31T23:59:59+00:00",
            "0001-01-01T00:00:00-05:00",
            "2026-01-01T00:00:00",
        ]
    ),
)


def _damage_history(path: Path, data: st.DataObject) -> None:
    how = data.draw(st.sampled_from(["cell", "cell", "cell", "drop", "bytes"]))
    if how == "bytes":
        blob = bytearray(path.read_bytes())
        for _ in range(data.draw(st.integers(1, 8))):
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(blob))
        return
    conn = sqlite3.connect(path)
    with conn:
        if how == "drop":
            table = data.draw(st.sampled_from(["meta", "runs", "host_levels"]))
            conn.execute(f"DROP TABLE {table}")
        else:
            table, column, where = data.draw(st.sampled_from(HISTORY_CELLS))
            conn.execute("PRAGMA foreign_keys = OFF")
            sql = f"UPDATE OR IGNORE {table} SET {column} = ? WHERE {where}"
            with contextlib.suppress(sqlite3.IntegrityError):  # NOT NULL: that cell stays
                conn.execute(sql, (data.draw(SQL_VALUES),))
    conn.close()


@FUZZ
@given(data=st.data())
def test_fuzz_history(corpus: Path, work: Path, data: st.DataObject) -> None:
    d = _fresh(work, "history")
    hist = d / "history.sqlite"
    shutil.copy(corpus / "history.sqlite", hist)
    _damage_history(hist, data)
    command = data.draw(st.sampled_from(["list", "trend", "diff", "merge"]))
    if command == "list":
        result = cli("history", "--history", hist)
    elif command == "trend":
        result = cli("history", "--history", hist, "--host", "localhost")
    elif command == "merge":
        scan = corpus / "scan"
        result = cli("merge", scan, scan, "--out", d / "m", "--history", hist, "-q")
    else:
        result = cli("diff", "last", corpus / "scan" / "results.json", "--history", hist)
    if command == "trend" and result.exit_code == 2:
        # damage that renames or unlinks the host's rows: --host is then a bad value (click: 2)
        assert "Error: Invalid value for '--host'" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        return
    assert_clean_outcome(result)


# --- the scan journal and the evidence manifest -----------------------------------------------


@FUZZ
@given(data=st.data())
def test_fuzz_journal(journal_scan: Path, work: Path, data: st.DataObject) -> None:
    out = _fresh(work, "resume")
    lines = (journal_scan / "scan" / "journal.jsonl").read_text().splitlines()
    which = data.draw(st.integers(0, len(lines) - 1))
    if data.draw(st.booleans()):
        lines[which] = json.dumps(data.draw(structural(json.loads(lines[which]))))
        raw = ("\n".join(lines) + "\n").encode()
    else:
        raw = data.draw(textual("\n".join(lines) + "\n"))
    (out / "journal.jsonl").write_bytes(raw)
    result = cli(
        *_journal_args(journal_scan, out),
        "--resume",
        "--no-history",
        "-q",
        "--connect-timeout",
        "1",
    )
    assert_clean_outcome(result)


@FUZZ
@given(data=st.data())
def test_fuzz_evidence_manifest(corpus: Path, work: Path, data: st.DataObject) -> None:
    bundle = _fresh(work, "bundle")
    shutil.copytree(corpus / "evidence", bundle, dirs_exist_ok=True)
    manifest = bundle / "manifest.json"
    if data.draw(st.booleans()):
        manifest.write_bytes(as_json(data.draw(structural(json.loads(manifest.read_text())))))
    else:
        manifest.write_bytes(_json_input(data, manifest))
    assert_clean_outcome(cli("verify", bundle))


def test_deeply_nested_json_is_one_line_everywhere(corpus: Path, tmp_path: Path) -> None:
    """The ``diff`` case of the issue, and every other reader of JSON."""
    deep = tmp_path / "deep.json"
    deep.write_bytes(deep_json())
    good = corpus / "scan" / "results.json"
    for args in (
        ("diff", deep, good, "--history", tmp_path / "h.sqlite"),
        ("diff", good, deep, "--history", tmp_path / "h.sqlite"),
        ("report", deep, "--html", tmp_path / "x.html"),
        ("rescore", deep, "--out", tmp_path / "o"),
        ("merge", deep, good, "--out", tmp_path / "m", "--no-history"),
    ):
        result = cli(*args)
        assert_clean_outcome(result)
        assert result.exit_code == 1 and "deep.json" in result.stderr, (args, result.stderr)


# --- the cases issue 12 named (each was "internal error" before) ------------------------------


def _policy_bad_date(d: Path, corpus: Path) -> list[str | Path]:
    f = d / "policy.yml"
    f.write_text("version: x\neol_overrides:\n  'windows:19045': 2026-02-30\n")
    return ["rescore", corpus / "scan" / "raw.json", "--policy", f, "--out", d / "o"]


def _policy_not_utf8(d: Path, corpus: Path) -> list[str | Path]:
    f = d / "policy.yml"
    f.write_bytes(b"version: x\nadmin_allowlist: [\xff\xfe]\n")
    return ["rescore", corpus / "scan" / "raw.json", "--policy", f, "--out", d / "o"]


def _exception_hosts_number(d: Path, corpus: Path) -> list[str | Path]:
    f = d / "ex.yml"
    f.write_text(
        "exceptions:\n  - id: EX-1\n    hosts: 12\n    controls: [ISM-1501]\n"
        "    approved: 2026-01-01\n    expires: 2026-06-01\n"
    )
    return ["rescore", corpus / "scan" / "raw.json", "--exceptions", f, "--out", d / "o"]


def _raw_base64_number(d: Path, corpus: Path) -> list[str | Path]:
    raw = json.loads((corpus / "scan" / "raw.json").read_text())
    raw["hosts"][0]["commands"][0]["stdout"] = {"base64": 12}
    (d / "raw.json").write_text(json.dumps(raw, indent=1))
    return ["rescore", d / "raw.json", "--out", d / "o"]


def _results_level_7(d: Path, corpus: Path) -> list[str | Path]:
    res = json.loads((corpus / "scan" / "results.json").read_text())
    res["hosts"][0]["level"] = 7
    (d / "results.json").write_text(json.dumps(res, indent=1))
    return ["report", d / "results.json", "--html", d / "r.html"]


def _history_sql(sql: str) -> Callable[[Path, Path], list[str | Path]]:
    def make(d: Path, corpus: Path) -> list[str | Path]:
        shutil.copy(corpus / "history.sqlite", d / "h.sqlite")
        conn = sqlite3.connect(d / "h.sqlite")
        with conn:
            conn.execute(sql)
        conn.close()
        return ["history", "--history", d / "h.sqlite"]

    return make


@pytest.mark.parametrize(
    ("make", "needles"),
    [
        (_policy_bad_date, ("policy.yml:3", "not a valid date")),
        (_policy_not_utf8, ("policy.yml:2", "UTF-8")),
        (_exception_hosts_number, ("ex.yml:3", "hosts", "found int")),
        (_raw_base64_number, ("raw.json:", "hosts.0.commands.0.stdout", "base64")),
        (_results_level_7, ("results.json", "hosts.0.level", "level 7")),
        (
            _history_sql("UPDATE meta SET value = 'one' WHERE key = 'schema_version'"),
            ("h.sqlite", "schema_version 'one' is not a number"),
        ),
        (_history_sql("DROP TABLE runs"), ("h.sqlite", "table runs is missing")),
        (
            _history_sql("UPDATE runs SET finished = 'yesterday'"),
            ("h.sqlite", "damaged row"),
        ),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_named_bad_inputs_are_one_line_errors(
    corpus: Path,
    tmp_path: Path,
    make: Callable[[Path, Path], list[str | Path]],
    needles: tuple[str, ...],
) -> None:
    result = cli(*make(tmp_path, corpus))
    assert_clean_outcome(result)
    assert result.exit_code == 1
    for n in needles:
        assert n in result.stderr, (n, result.stderr)
