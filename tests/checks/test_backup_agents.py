"""The backup-agent table (checks/backups/windows_backup_agents.csv): every row cites a public
source and carries the service or display name that source shows, and that name is recognised as
its row's product and by no other row."""

from __future__ import annotations

import csv
from fnmatch import fnmatchcase
from importlib.resources import files

import pytest

from checks.backups.windows_backup import RECOGNISED, match_agents
from checks.facts.windows.services import Service

ROWS = list(
    csv.DictReader(
        files("checks.backups")
        .joinpath("windows_backup_agents.csv")
        .read_text("utf-8")
        .splitlines()
    )
)
FIELDS = {"name": ("name",), "display": ("display",), "any": ("name", "display")}


def _ids(row: dict[str, str]) -> str:
    return f"{row['field']}:{row['pattern']}"


def _matches(row: dict[str, str], field: str, value: str) -> bool:
    return field in FIELDS[row["field"]] and fnmatchcase(value.lower(), row["pattern"].lower())


def test_every_row_cites_a_source_and_an_example() -> None:
    for row in ROWS:
        assert row["field"] in FIELDS, _ids(row)
        source = row["source"].lower()
        assert source.strip() and row["example"].strip(), _ids(row)
        assert "verify" not in source and "from memory" not in source, _ids(row)
        assert "http" in source or "@" in source, f"{_ids(row)}: no URL or repository@commit"


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_the_sourced_name_matches_its_row_and_no_other(row: dict[str, str]) -> None:
    example = row["example"]
    for field in FIELDS[row["field"]]:
        hits = [_ids(r) for r in ROWS if _matches(r, field, example)]
        assert hits == [_ids(row)], f"{field} {example!r} matches {hits}"
    # through the judge's own matcher, as a running service of that name
    name = example if "name" in FIELDS[row["field"]] else "SomeService"
    display = example if "display" in FIELDS[row["field"]] else "Some Service"
    (agent,) = match_agents((Service(name, display, "Running", "Automatic"),))
    assert agent.product == row["product"] and agent.running


def test_agents_without_a_sourced_row_are_not_recognised() -> None:
    # names removed from the table for want of a source: no longer an agent (and a host that
    # runs only such an agent is "no agent recognised", never effective: see the fixture
    # backups.windows_backup/ws2022_unrecognised_agent_no_local_history.json)
    removed = [
        Service("DattoBackupAgent", "Datto Backup Agent", "Running", "Automatic"),
        Service("CohesityAgent", "Cohesity Agent", "Running", "Automatic"),
        Service("OmniInet", "Data Protector Inet", "Running", "Automatic"),
        Service("VeeamAgentX", "Veeam Backup Transport", "Running", "Automatic"),
    ]
    assert match_agents(tuple(removed)) == []
    assert "Veeam Agent for Microsoft Windows" in RECOGNISED and "Datto" not in RECOGNISED
