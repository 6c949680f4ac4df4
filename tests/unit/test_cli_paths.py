"""Options and arguments that name a file e8scan reads are click paths (issue 16 "The CLI"): a missing file
(or a folder where a file belongs) is a usage error — exit 2, click's usage block, one
``Error:`` line naming the option and the file — while what is wrong *inside* a file stays the
loaders' one-line ``file:line: field`` error with exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli_usage import usage_error

from scanner.cli.main import main

# (command words, option) for every option naming an input file; "{inv}" is a real inventory
CASES = [
    *((["scan", "-i", "{inv}"], o) for o in ("--policy", "--exceptions", "--attestations")),
    (["scan", "-i", "{inv}"], "--framework"),
    (["scan", "-i", "{inv}"], "--known-hosts"),
    (["scan", "-i", "{inv}", "--evidence", "{tmp}/ev"], "--sign-key"),
    (["scan", "-i", "{inv}"], "--vault-password-file"),
    *(
        (["rescore", "{tmp}/raw.json", "--out", "{tmp}/o"], o)
        for o in ("--policy", "--exceptions", "--attestations", "--framework", "--feeds")
    ),  # fmt: skip
    *(
        (["import", "{tmp}/kit.out", "--out", "{tmp}/o"], o)
        for o in ("--policy", "--exceptions", "--attestations")
    ),  # fmt: skip
    (["plan", "-i", "{inv}"], "--vault-password-file"),
    (["inventory", "-i", "{inv}"], "--vault-password-file"),
    (["kit", "-i", "{inv}", "--out", "{tmp}/k"], "--vault-password-file"),
    (["checks", "list"], "--framework"),
    (["verify", "{tmp}/bundle"], "--pubkey"),
    (["history"], "--history"),
]


@pytest.mark.parametrize(("words", "option"), CASES, ids=[" ".join(c[0][:1]) + c[1] for c in CASES])
def test_a_missing_input_file_is_a_usage_error_naming_the_option(
    tmp_path: Path, words: list[str], option: str
) -> None:
    inv = tmp_path / "i.ini"
    inv.write_text("[web]\nweb1 ansible_host=192.0.2.1\n")
    args = [w.format(inv=inv, tmp=tmp_path) for w in words]
    missing = tmp_path / "nosuch.yml"
    line = usage_error(
        CliRunner().invoke(main, [*args, option, str(missing)]),
        f"'{option}'",
        "nosuch.yml",
        "does not exist",
    )
    assert line.count("\n") == 0
    assert not (tmp_path / "o").exists() and not (tmp_path / "k").exists()


ARGUMENTS = [
    (["rescore", "{missing}", "--out", "{tmp}/o"], "RAW_FILE"),
    (["report", "{missing}", "--xlsx", "{tmp}/o/r.xlsx"], "RESULTS_FILE"),
    (["verify", "{missing}"], "BUNDLE"),
    (["import", "{missing}", "--out", "{tmp}/o"], "FILES..."),
    (["merge", "{missing}", "{missing}", "--out", "{tmp}/o"], "INPUTS..."),
    (["feeds", "import", "{missing}"], "BUNDLE"),
]


@pytest.mark.parametrize(
    ("words", "name"), ARGUMENTS, ids=[a[0][0] for a in ARGUMENTS[:-1]] + ["feeds"]
)
def test_a_missing_input_argument_is_a_usage_error(
    tmp_path: Path, words: list[str], name: str
) -> None:
    args = [w.format(missing=tmp_path / "nosuch.json", tmp=tmp_path) for w in words]
    usage_error(CliRunner().invoke(main, args), f"'{name}'", "nosuch.json", "does not exist")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("option", ["--policy", "--exceptions", "--attestations"])
def test_a_folder_is_not_a_file(tmp_path: Path, option: str) -> None:
    inv = tmp_path / "i.ini"
    inv.write_text("[web]\nweb1 ansible_host=192.0.2.1\n")
    usage_error(
        CliRunner().invoke(main, ["scan", "-i", str(inv), option, str(tmp_path)]),
        f"'{option}'",
        "is a directory",
    )


def test_bad_content_is_still_the_one_line_file_error(tmp_path: Path) -> None:
    inv = tmp_path / "i.ini"
    inv.write_text("[web]\nweb1 ansible_host=192.0.2.1\n")
    policy = tmp_path / "policy.yml"
    policy.write_text("patch_os_days: 14\npatch_other_days: -3\n")
    result = CliRunner().invoke(
        main, ["scan", "-i", str(inv), "--policy", str(policy), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"e8scan: error: {policy}: field patch_other_days"), (
        result.stderr
    )
    assert len(result.stderr.splitlines()) == 1 and "Usage:" not in result.stderr
