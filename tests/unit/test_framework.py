"""The framework is data: the Essential Eight from ASD's ISM OSCAL catalogs, cross-checked against
the November 2023 table it replaced, and a made-up two-level framework that scoring, results, the
workbook and the CLI take with no code change."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from scanner.assess.pipeline import assess
from scanner.assess.results import Results
from scanner.checking.api import Check, Finding
from scanner.cli.main import main
from scanner.model.errors import InputError
from scanner.model.framework import BUILTIN, builtin
from scanner.model.framework_file import load_framework
from scanner.model.oscal import read_catalog
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Strategy
from scanner.record.raw import RawRecord, RunInfo
from scanner.report.files import write_json_atomic
from scanner.report.xlsx.workbook import write_xlsx
from tests.unit.builders import T0, linux_host

DATA = Path(__file__).parent.parent / "data" / "frameworks"
OLD_TABLE = DATA / "e8mm-2023-11.csv"  # the hand-made November 2023 table OSCAL replaced
TWO = DATA / "two-level" / "two-level.yml"


# --- the built-in Essential Eight -------------------------------------------------------------


def test_oscal_levels_are_the_november_2023_sets() -> None:
    fw = builtin()
    old = list(csv.DictReader(OLD_TABLE.read_text(encoding="utf-8").splitlines()))
    for n, size in ((1, 46), (2, 87), (3, 123)):
        from_oscal = {r.ism for r in fw.controls if n in r.levels}
        from_table = {r["ism"] for r in old if r[f"ml{n}"] == "1"}
        assert len(from_oscal) == size
        assert from_oscal == from_table, n
    # Row for row: the same (strategy, control) pairs, levels, checkability and platforms.
    assert [(r.strategy.value, r.ism) for r in fw.controls] == [
        (r["strategy"], r["ism"]) for r in old
    ]
    for req, row in zip(fw.controls, old, strict=True):
        assert req.levels == {n for n in (1, 2, 3) if row[f"ml{n}"] == "1"}, req.ism
        assert (req.local_id, req.checkable, req.timeframe) == (
            row["local_id"],
            row["checkable"],
            row["timeframe"],
        )
        hosts = {Platform.LINUX, Platform.WINDOWS}
        want = hosts if row["platforms"] == "any" else {Platform(row["platforms"])}
        # Since the directory (issue 13) the table may add it to a row: everything else as before.
        assert req.platforms - {Platform.DIRECTORY} == want
        if Platform.DIRECTORY in req.platforms:
            assert req.ism in DIRECTORY_SHOWN, req.ism


DIRECTORY_SHOWN = {"ISM-1175", "ISM-1647", "ISM-1648", "ISM-1649", "ISM-1685", "ISM-1501"}


def test_catalog_membership_agrees_with_asds_own_level_property() -> None:
    """Each control of level n's catalog carries essential-eight-applicability MLn."""
    base = BUILTIN.parent
    for ref in builtin().catalogs:
        doc = json.loads((base / ref.file).read_text(encoding="utf-8"))["catalog"]
        stack, seen = [doc], 0
        while stack:
            node = stack.pop()
            stack += node.get("groups", []) + node.get("controls", [])
            if node.get("class") == "ISM-control":
                seen += 1
                tags = {
                    p["value"]
                    for p in node["props"]
                    if p["name"] == "essential-eight-applicability"
                }
                assert f"ML{ref.level}" in tags, node["id"]
        assert seen == (46, 87, 123)[ref.level - 1]


def test_builtin_statements_and_provenance_come_from_oscal() -> None:
    fw = builtin()
    assert fw.model_version == "essential-eight@ISM-OSCAL 2025.12.9"
    assert fw.levels == (1, 2, 3) and fw.groups == tuple(Strategy)
    req = fw.index[(Strategy.APPLICATION_CONTROL, "ISM-0843")]
    assert req.requirement == "Application control is implemented on workstations."
    assert [(c.level, c.version) for c in fw.catalogs] == [(n, "2025.12.9") for n in (1, 2, 3)]
    readme = (BUILTIN.parent / "ism-oscal" / "README.md").read_text(encoding="utf-8")
    assert "d14dcbb0d448c3e0ba99bdecc7de5c713bcb080f" in readme and "Creative Commons" in readme
    for c in fw.catalogs:
        assert c.sha256 in readme, c.file


# --- the loader's errors: one line naming the file and what was expected ----------------------


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "fw"
    shutil.copytree(TWO.parent, dst)
    return dst / TWO.name


def test_a_control_outside_every_catalog_is_named_with_its_line(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    table = d.parent / "controls.csv"
    table.write_text(table.read_text() + "mfa,T-06,ISM-1173,partly,any,,\n")
    with pytest.raises(InputError) as err:
        load_framework(d)
    assert err.value.where == f"{table}:7: field ism"
    assert "ISM-1173 is in no catalog" in err.value.message


def test_a_catalog_control_without_a_row_is_named(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    table = d.parent / "controls.csv"
    table.write_text("".join(line for line in table.open() if "ISM-1401" not in line))
    with pytest.raises(
        InputError, match=r"ISM-1401 \(required at level 2 by level2.json\) has no row"
    ):
        load_framework(d)


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        ("levels:\n  1: level1.json\n  3: level2.json\n", "field levels", "without gaps"),
        ("groups: [patch_os, nope]\n", "field groups.1", "Input should be"),
        ('release: "2025.12.9"\n', "field levels.1", "'2099.1.1', the definition says '2025.12.9'"),
    ],
)
def test_bad_definition_fields_are_named(
    tmp_path: Path, change: str, where: str, says: str
) -> None:
    d = _copy(tmp_path)
    key = change.split(":", 1)[0]
    text = d.read_text()
    start = text.index(f"\n{key}:") + 1
    end = text.index("\n", start) + 1
    while text[end:].startswith("  "):
        end = text.index("\n", end) + 1
    d.write_text(text[:start] + change + text[end:])
    with pytest.raises(InputError) as err:
        load_framework(d)
    assert err.value.where == f"{d}: {where}" and says in err.value.message


def test_statements_include_nested_parts() -> None:
    cat = read_catalog(TWO.parent / "level1.json")
    assert cat.statements["ISM-1504"].endswith("\nit covers every user (made-up nested part).")


# --- a second framework: no code change --------------------------------------------------------


def _check(strategy: Strategy, verdicts: dict[str, Outcome]) -> Check:
    def judge(out: object, ctx: object) -> list[Finding]:
        return [Finding(ism=i, outcome=o, evidence=f"{i} {o.value}") for i, o in verdicts.items()]

    return Check(
        id=f"{strategy.value}.fake",
        title="A judge that says what the test needs",
        strategy=strategy,
        ism=tuple(verdicts),
        platforms=frozenset({Platform.LINUX}),
        collect={"x": "true"},
        judge=judge,  # type: ignore[arg-type]
        version=1,
    )


E, INEF = Outcome.EFFECTIVE, Outcome.INEFFECTIVE
CHECKS = [
    # ISM-1407 is an Essential Eight patch_os control the two-level framework does not hold.
    _check(Strategy.PATCH_OS, {"ISM-1501": E, "ISM-1695": E, "ISM-1696": INEF, "ISM-1407": INEF}),
    _check(Strategy.MFA, {"ISM-1504": E, "ISM-1401": E}),
]


def _raw() -> RawRecord:
    from scanner.model.vocabulary import Reach

    return RawRecord(
        tool_version="t",
        run=RunInfo(id="r2", started=T0, finished=T0, inventory=[], target_level=2, checks=[]),
        hosts=[linux_host("web01", Reach.OK), linux_host("dead02", Reach.UNREACHABLE, "refused")],
    )


def test_two_level_framework_scores_results_and_workbook(tmp_path: Path) -> None:
    fw = load_framework(TWO)
    assert fw.levels == (1, 2) and fw.groups == (Strategy.PATCH_OS, Strategy.MFA)
    results = assess(_raw(), CHECKS, Policy(), framework=fw)
    assert results.model_version == "two-level-test@ISM-OSCAL 2099.1.1"
    web, dead = results.hosts
    assert web.levels == {Strategy.PATCH_OS: 1, Strategy.MFA: 2}
    assert web.blockers[Strategy.PATCH_OS] == ["ISM-1696 ineffective"]
    assert web.blockers[Strategy.MFA] == []  # the top level: nothing to climb to
    assert web.level == 1 and dead.level is None and set(dead.levels) == set(fw.groups)
    assert {c.ism for c in web.controls} == {
        "ISM-1501",
        "ISM-1695",
        "ISM-1696",
        "ISM-1504",
        "ISM-1401",
    }
    assert [f.strategy for f in results.fleet] == [Strategy.PATCH_OS, Strategy.MFA]
    assert set(results.fleet[0].distribution) == {
        "0",
        "1",
        "2",
        "not_applicable",
        "not_assessed",
        "no_visibility",
    }

    # results.json keeps the framework: read back, it renders without the definition file.
    write_json_atomic(tmp_path / "results.json", results, "hosts")
    again = Results.model_validate_json((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert again == results and again.framework.levels == (1, 2)

    write_xlsx(again, tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames[:4] == ["Summary", "Heatmap", "Patch OS", "MFA"]
    assert "Application control" not in wb.sheetnames
    summary = [[c for c in r if c is not None] for r in wb["Summary"].iter_rows(values_only=True)]
    assert summary[0] == ["Two-level test profile: assessment report"]
    head = next(r for r in summary if r[:1] == ["Strategy"])
    assert head[4:] == ["ML0", "ML1", "ML2", "Not applicable", "Not assessed", "No visibility"]
    heat = list(wb["Heatmap"].iter_rows(values_only=True))
    assert heat[0][5:9] == ("Patch OS", "MFA", "Overall", "Claimable")
    assert heat[1][:1] + heat[1][5:8] == ("web01", "ML1", "ML2", "ML1")
    controls = list(wb["Controls"].iter_rows(values_only=True))
    assert controls[1 + len(fw.controls)] == (None,) * len(controls[0])  # then the colour key
    assert {r[0] for r in controls[1 : 1 + len(fw.controls)]} <= {"patch_os", "mfa"}
    assert controls[4][1:4] == ("ISM-1504", "T-04", "ML1-2")
    run = {r[0]: r[1] for r in wb["Run"].iter_rows(values_only=True)}
    assert run["Model version"] == "two-level-test@ISM-OSCAL 2099.1.1"
    assert run["OSCAL catalog ML2"].startswith("level2.json  version 2099.1.1  sha256:")


def test_cli_rescore_and_checks_list_take_the_framework(tmp_path: Path) -> None:
    raw = _raw()
    write_json_atomic(tmp_path / "raw.json", raw, "hosts")
    run = CliRunner().invoke(
        main,
        [
            "rescore",
            str(tmp_path / "raw.json"),
            "--out",
            str(tmp_path / "out"),
            "--framework",
            str(TWO),
            "-q",
        ],
    )
    assert run.exit_code in (3, 4), run.output  # the unreachable host: no visibility
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["model_version"] == "two-level-test@ISM-OSCAL 2099.1.1"
    assert set(results["hosts"][0]["levels"]) == {"patch_os", "mfa"}
    assert load_workbook(tmp_path / "out" / "e8-report.xlsx").sheetnames[2:4] == ["Patch OS", "MFA"]

    too_high = CliRunner().invoke(
        main,
        [
            "rescore",
            str(tmp_path / "raw.json"),
            "--out",
            str(tmp_path / "o2"),
            "--framework",
            str(TWO),
        ]
        + ["--target-level", "3"],
    )
    assert too_high.exit_code == 1
    assert "--target-level: ML3 is above two-level-test's top level ML2" in too_high.output

    listed = CliRunner().invoke(
        main, ["checks", "list", "--format", "json", "--framework", str(TWO)]
    )
    assert listed.exit_code == 0, listed.output
    levels = {c["id"]: c["levels"] for c in json.loads(listed.output)}
    assert levels["patch_os.linux_os_support"] == [1, 2]
    assert levels["application_control.linux_fapolicyd"] == []  # not in this framework


def test_cli_names_a_bad_framework_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("id: Bad Id\n")
    out = CliRunner().invoke(main, ["checks", "list", "--framework", str(bad)])
    assert out.exit_code == 1
    assert out.output.strip().startswith(f"e8scan: error: {bad}: field id:")
