"""One spelling for machine output (issue 16 "The CLI"): ``--format`` on every command that
prints something a script reads, only with the formats the command writes, default ``text``;
the old spellings (``diff --json``, ``checks list --format table``) still work and say on stderr
that they are deprecated, so cron jobs written for them keep working."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click
from builders import linux_host, scored
from click.testing import CliRunner, Result
from test_cli_help import commands

from scanner.cli.main import main
from scanner.model.vocabulary import Reach
from scanner.runs.history import History

DEPRECATED = "e8scan: warning: --json is deprecated; use --format json"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
    return result


def history(tmp_path: Path) -> Path:
    hist = tmp_path / "h.sqlite"
    first = scored([linux_host("web01", Reach.OK)], [])
    second = scored([linux_host("web01", Reach.UNREACHABLE)], [])
    later = {"id": "r2", "finished": first.run.finished + timedelta(hours=1)}
    with History.open(hist) as h:
        h.add(first)
        h.add(second.model_copy(update={"run": second.run.model_copy(update=later)}))
    return hist


def test_no_command_spells_machine_output_another_way() -> None:
    # every visible option that picks an output format is --format, a Choice whose first (the
    # default) is text; --json/--csv/--md flags exist only hidden, as deprecated aliases
    for path, cmd in commands(main):
        for p in cmd.params:
            if not isinstance(p, click.Option):
                continue
            if "--format" in p.opts:
                assert isinstance(p.type, click.Choice), path
                assert p.default == "text" and list(p.type.choices)[0] == "text", path
                assert set(p.type.choices) <= {"text", "json", "md"}, path
            for spelling in ("--json", "--csv", "--md", "--markdown", "--table"):
                assert spelling not in p.opts or p.hidden, (path, spelling)
    formats = {path for path, cmd in commands(main) for p in cmd.params if "--format" in p.opts}
    assert {"e8scan plan", "e8scan diff", "e8scan checks list", "e8scan inventory"} <= formats
    assert "e8scan history" in formats


def test_diff_json_is_a_deprecated_alias_of_format_json(tmp_path: Path) -> None:
    hist = history(tmp_path)
    runs = [r.id for r in History.open(hist, create=False).runs()]
    new = run("diff", *runs, "--history", str(hist), "--format", "json")
    old = run("diff", *runs, "--history", str(hist), "--json")
    assert new.exit_code == old.exit_code == 5, (new.output, old.output)  # web01 regressed
    assert json.loads(new.stdout) == json.loads(old.stdout)
    assert json.loads(new.stdout)["regressed"]
    assert new.stderr == ""
    assert old.stderr.splitlines() == [DEPRECATED]
    text = run("diff", *runs, "--history", str(hist))
    assert not text.stdout.lstrip().startswith("{") and text.stderr == ""
    clash = run("diff", *runs, "--history", str(hist), "--json", "--format", "text")
    assert clash.exit_code == 2 and "--json contradicts --format text" in clash.stderr


def test_checks_list_format_table_still_works_as_text() -> None:
    text = ok(run("checks", "list"))
    old = ok(run("checks", "list", "--format", "table"))
    assert old.stdout == text.stdout and "patch_os." in text.stdout
    assert old.stderr.splitlines() == [
        "e8scan: warning: --format table is deprecated; use --format text"
    ]
    bad = run("checks", "list", "--format", "csv")
    assert bad.exit_code == 2
    assert "'text', 'md', 'json'" in bad.stderr and "table" not in bad.stderr


def test_only_formats_a_command_writes_are_offered(tmp_path: Path) -> None:
    inv = tmp_path / "i.ini"
    inv.write_text("[web]\nweb1 ansible_host=192.0.2.1\n")
    for args in (["plan", "-i", str(inv)], ["diff", "a", "b"], ["inventory", "-i", str(inv)]):
        bad = run(*args, "--format", "md")
        assert bad.exit_code == 2 and "'md' is not one of 'text', 'json'" in bad.stderr, args


def test_inventory_format_json_is_the_ansible_list(tmp_path: Path) -> None:
    inv = tmp_path / "i.ini"
    inv.write_text("[web]\nweb1 ansible_host=192.0.2.1\n")
    listed = json.loads(ok(run("inventory", "-i", str(inv), "--list")).stdout)
    assert json.loads(ok(run("inventory", "-i", str(inv), "--format", "json")).stdout) == listed
    assert listed["web"]["hosts"] == ["web1"]
    assert ok(run("inventory", "-i", str(inv))).stdout == "web1\tweb\n"


def test_history_format_json(tmp_path: Path) -> None:
    hist = history(tmp_path)
    runs = json.loads(ok(run("history", "--history", str(hist), "--format", "json")).stdout)
    assert [r["hosts"] for r in runs] == [1, 1] and [r["unreachable"] for r in runs] == [0, 1]
    assert runs[0]["finished"].startswith("20")
    trend = json.loads(
        ok(run("history", "--history", str(hist), "--host", "web01", "--format", "json")).stdout
    )
    assert [t["reach"] for t in trend] == ["ok", "unreachable"]
    assert [t["run_id"] for t in trend] == [r["id"] for r in runs]


def test_checks_show_prints_one_check_in_full() -> None:
    from scanner.checking.loader import load_checks

    check = next(c for c in load_checks() if c.id == "mfa.linux_ssh_mfa")
    text = ok(run("checks", "show", check.id)).stdout
    assert text.startswith(f"### {check.id}\n") and "# e8scan check catalogue" not in text
    assert all(f"**{i}**" in text for i in check.ism)
    assert all(cmd.line in text for cmd in check.collect.values())
    both = ok(run("checks", "show", "mfa.linux_ssh_mfa", "patch_os.linux_pending_updates")).stdout
    assert both.count("\n### ") == 1 and "\n\n### patch_os.linux_pending_updates\n" in both
    listed = json.loads(ok(run("checks", "show", "patch_os", "--format", "json")).stdout)
    assert listed and all(c["id"].startswith("patch_os.") for c in listed)
    bad = run("checks", "show", "mfa.linux_ssh_mf")
    assert bad.exit_code == 2 and "did you mean mfa.linux_ssh_mfa" in bad.stderr
