"""Usage errors exit 2 with click's usage block and one ``Error:`` line (issue 16 "The CLI"):
a --checks id that matches nothing (with the closest ids), report with no output, and a
history --host in no recorded run (a bad value, as click's own BadParameter)."""

from __future__ import annotations

from pathlib import Path

from builders import linux_host, scored
from click.testing import CliRunner, Result

from scanner.cli.main import main
from scanner.model.vocabulary import Reach
from scanner.runs.history import History


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def usage_error(result: Result, *needles: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    lines = result.stderr.splitlines()  # the usage error alone: no warning before it
    errors = [ln for ln in lines if ln.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert lines[0].startswith("Usage: "), result.stderr
    for n in needles:
        assert n in errors[0], (n, errors[0])
    return errors[0]


def inventory(tmp_path: Path) -> Path:
    inv = tmp_path / "u.ini"
    inv.write_text("[web]\nweb1\n")
    return inv


def test_misspelt_check_prefix_suggests_the_closest_and_exits_2(tmp_path: Path) -> None:
    line = usage_error(
        run("plan", "-i", str(inventory(tmp_path)), "--checks", "patch_oss"),
        "--checks",
        "'patch_oss'",
        "did you mean patch_os",
    )
    # the closest few, not every id
    assert line.count(",") <= 2, line
    assert "mfa." not in line


def test_unknown_check_id_on_scan_exits_2(tmp_path: Path) -> None:
    usage_error(
        run("scan", "-i", str(inventory(tmp_path)), "--checks", "mfa.linux_ssh_mf", "-q"),
        "did you mean mfa.linux_ssh_mfa",
    )


def test_check_far_from_any_id_points_at_checks_list(tmp_path: Path) -> None:
    usage_error(
        run("plan", "-i", str(inventory(tmp_path)), "--checks", "zzzz"), "e8scan checks list"
    )


def test_report_without_an_output_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{}")  # never read: the usage error comes first
    usage_error(run("report", str(tmp_path / "results.json")), "--xlsx, --html or --junit")


def test_history_host_in_no_run_is_a_bad_value(tmp_path: Path) -> None:
    hist = tmp_path / "h.sqlite"
    with History.open(hist) as h:
        h.add(scored([linux_host("web01", Reach.OK)], []))
    usage_error(
        run("history", "--history", str(hist), "--host", "web1"),
        "--host",
        "'web1' is in no recorded run",
        "did you mean web01?",
    )
    trend = run("history", "--history", str(hist), "--host", "web01")
    assert trend.exit_code == 0, trend.output
    assert "trend for web01" in trend.stdout


def test_keys_generate_without_a_destination_is_a_usage_error(tmp_path: Path) -> None:
    for args in (["keys", "generate"], ["keys", "generate", "--private", str(tmp_path / "k")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "give --out DIR" in result.output
