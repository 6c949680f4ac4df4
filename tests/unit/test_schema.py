"""results.json's published schema carries the contract's field names."""

from __future__ import annotations

import json

from click.testing import CliRunner

from scanner.cli.main import main


def test_schema_command_publishes_the_contract() -> None:
    out = CliRunner().invoke(main, ["schema"])
    assert out.exit_code == 0
    schema = json.loads(out.output)
    assert schema["$schema"].endswith("2020-12/schema")
    top = set(schema["properties"])
    assert {"schema_version", "tool_version", "model_version", "run", "hosts"} <= top
    defs = schema["$defs"]
    host = set(defs["HostResult"]["properties"])
    assert {
        "name",
        "address",
        "platform",
        "groups",
        "reach",
        "reach_detail",
        "host_key",
        "levels",
        "claimable",
        "level",
        "claimable_level",
        "controls",
    } <= host
    control = set(defs["ControlResult"]["properties"])
    assert {
        "ism",
        "strategy",
        "levels",
        "outcome",
        "check",
        "check_version",
        "evidence",
        "observed",
        "grade",
    } <= control
    run = set(defs["RunSummary"]["properties"])
    assert {"id", "started", "finished", "inventory", "target_level"} <= run
    outcomes = set(defs["Outcome"]["enum"])
    assert outcomes == {
        "effective",
        "alternate_control",
        "ineffective",
        "no_visibility",
        "not_implemented",
        "not_applicable",
        "not_assessed",
    }
    assert set(defs["Reach"]["enum"]) == {
        "ok",
        "unreachable",
        "auth_failed",
        "host_key_refused",
        "timeout",
        "error",
    }
