"""What the e8scan commands share: one-line errors instead of tracebacks, reading raw.json and
results.json with errors that name the file, line and field, the output folder, writing a run's
outputs, the terminal summary and ``--framework``."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from scanner.assess.results import (
    RESULTS_SCHEMA_VERSION,
    DirectoryCoverage,
    Results,
    level_problem,
)
from scanner.assess.target import EXIT_ERROR, fleet_meets, unseen
from scanner.checking.loader import CheckLoadError
from scanner.model.errors import InputError, field_where
from scanner.model.framework import Framework, builtin
from scanner.model.framework_file import load_framework
from scanner.model.terminal import printable, printable_lines
from scanner.model.vocabulary import Reach, Strategy
from scanner.record.jsonstream import ItemError, read_model
from scanner.record.raw import RAW_SCHEMA_VERSION, RawRecord
from scanner.report.files import write_json_atomic
from scanner.report.xlsx.workbook import write_xlsx

F = TypeVar("F", bound=Callable[..., Any])
INPUT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
"""An option naming a file e8scan reads: a missing one is a usage error (exit 2) naming the
option; what is wrong inside it is the loader's one-line file:line:field error (exit 1)."""
DEFAULT_HISTORY = Path("reports") / "history.sqlite"
history_option = click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    default=DEFAULT_HISTORY,
    show_default=True,
    help="The SQLite run history (scan, import and merge record their run in it).",
)


def examples(*lines: str) -> str:
    """A command's epilog: "Examples:" and ``lines`` (real command lines, each optionally with a
    ``# comment``), kept as written by click (``\\b``); tests/unit/test_cli_help.py parses every
    one, and runs those that need no host."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def say(text: str = "", err: bool = False, nl: bool = True) -> None:
    """Print ``text`` (a line or a block of lines): every e8scan output line goes through here,
    so no control character from host or file data (``ESC]0;…BEL``, ``ESC[2J``, colours, a
    carriage return, a bidi override) ever reaches the terminal; they are shown escaped."""
    click.echo(printable_lines(text), err=err, nl=nl)


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null, so later writes and the interpreter's last flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@contextlib.contextmanager
def terminal_may_close() -> Iterator[None]:
    """Lines for the terminal only: if its reader has gone, drop the rest and carry on."""
    try:
        yield
    except BrokenPipeError:
        _stdout_to_devnull()


def friendly(fn: F) -> F:
    """Turn bad input into one line on stderr and exit 1 — never a traceback. A usage error
    (``click.UsageError``/``BadParameter``) is click's to show: exit 2, as for a bad option."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (InputError, CheckLoadError) as exc:
            say(f"e8scan: error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
        except BrokenPipeError:
            # the reader went away (`e8scan plan | head`): stop quietly, as other tools do
            _stdout_to_devnull()
            sys.exit(EXIT_ERROR)
        except Exception as exc:
            if os.environ.get("E8SCAN_DEBUG"):
                raise
            if isinstance(exc, OSError) and exc.filename is not None:
                # the machine said no (disk full, read-only file system, permissions): no bug
                say(f"e8scan: error: {exc.filename}: {exc.strerror or exc}", err=True)
            else:
                say(
                    f"e8scan: internal error: {type(exc).__name__}: {exc} "
                    "(a bug: please report it; E8SCAN_DEBUG=1 shows the traceback)",
                    err=True,
                )
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


framework_option = click.option(
    "--framework",
    "framework_file",
    type=INPUT_FILE,
    default=None,
    help="Framework definition (README 'Frameworks'); default the built-in Essential Eight.",
)


def load_framework_option(path: Path | None, target_level: int | None = None) -> Framework:
    """The framework ``--framework`` names (the built-in Essential Eight when not given), with
    ``--target-level`` checked against its levels."""
    fw = builtin() if path is None else load_framework(path)
    if target_level is not None and target_level > fw.top:
        raise InputError(
            "--target-level", f"ML{target_level} is above {fw.id}'s top level ML{fw.top}"
        )
    return fw


def report_options(fn: F) -> F:
    """``--html`` and ``--junit``: the same options on ``scan`` and ``report``."""
    fn = click.option(
        "--junit",
        "junit_file",
        type=click.Path(path_type=Path),
        default=None,
        help="Write JUnit XML here (one test case per host × control).",
    )(fn)
    return click.option(
        "--html",
        "html_file",
        type=click.Path(path_type=Path),
        default=None,
        help="Write the self-contained HTML report here.",
    )(fn)


def writable_dir(out: Path | None, option: str = "--out", what: str = "output folder") -> Path:
    """``out`` made if missing and tried for writing; without ``out``, a new folder of its own
    under reports/ (two cron scans started in the same second never share one)."""
    path = out or Path("reports") / datetime.now(UTC).strftime("scan-%Y%m%dT%H%M%SZ")
    try:
        if out is None:
            path = _fresh_dir(path)
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".e8scan-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{option} {path}", f"{what} not writable ({exc.strerror})") from None
    return path


def _fresh_dir(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``…: the first that this process could create itself."""
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise InputError(str(base), "a thousand scans started in this second already have a folder")


def write_outputs(
    out: Path, raw: RawRecord | None, results: Results, write_raw: bool = True
) -> None:
    """results.json and the workbook (its evidence index needs the raw record), and raw.json."""
    if raw is not None and write_raw:
        write_json_atomic(out / "raw.json", raw, "hosts")
    write_json_atomic(out / "results.json", results, "hosts")
    write_xlsx(results, out / "e8-report.xlsx", raw)


SHORT = dict(
    zip(
        Strategy,
        ("appctl", "patchA", "macros", "harden", "admin", "patchOS", "mfa", "backup"),
        strict=True,
    )
)


def _cell(level: int | None, not_applicable: bool) -> str:
    return "n/a" if not_applicable else "-" if level is None else str(level)


def print_summary(results: Results, out: Path | None) -> None:
    """Host × strategy levels on the terminal; '-' is "not assessed"."""
    names = [printable(h.name) for h in results.hosts]  # host and file data: escaped
    width = max([4] + [len(n) for n in names])
    groups = results.framework.groups
    head = " ".join(f"{SHORT[s]:>7}" for s in groups)
    say(f"{'host':<{width}}  {'reach':<16} {head}  overall")
    for name, h in zip(names, results.hosts, strict=True):
        lv = " ".join(f"{_cell(h.levels[s], s in h.not_applicable):>7}" for s in groups)
        overall = "-" if h.level is None else f"ML{h.level}"
        say(f"{name:<{width}}  {h.reach.value:<16} {lv}  {overall}")
        if h.reach is not Reach.OK:
            say(f"{'':<{width}}  {printable(h.reach_detail)}")
    fl = results.fleet_level
    say(
        f"fleet level (lowest over assessed hosts): {'not assessed' if fl is None else f'ML{fl}'}; "
        f"target ML{results.run.target_level} {fleet_meets(results)}; "
        "'-' = not assessed, 'n/a' = not applicable"
    )
    if unseen(results):
        say(f"{unseen(results)} in-scope host(s) not seen: they do not meet the target")
    for d in results.coverage:
        say(directory_line(d))
    if out is not None:
        say(f"wrote {out}/raw.json, {out}/results.json, {out}/e8-report.xlsx")


def directory_line(d: DirectoryCoverage) -> str:
    """One terminal line on a directory's coverage (its name and reason escaped)."""
    name = printable(d.directory)
    if not d.read:
        return f"directory {name}: computers could not be read ({printable(d.reason)})"
    line = f"directory {name}: {len(d.not_scanned)} active computers not in the inventory"
    if d.not_in_directory:
        line += f", {len(d.not_in_directory)} Windows host(s) of the inventory not in the directory"
    return line + " (see Not scanned)"


def extra_reports(results: Results, html_file: Path | None, junit_file: Path | None) -> None:
    if html_file is not None:
        from scanner.report.html import write_html

        write_html(results, html_file)
    if junit_file is not None:
        from scanner.report.junit import write_junit

        write_junit(results, junit_file)


def copy_file(src: Path, fh: IO[bytes]) -> None:
    with src.open("rb") as fin:
        shutil.copyfileobj(fin, fh, 1 << 20)


def read_model_file(path: Path, model: type[RawRecord] | type[Results], what: str) -> Any:
    from pydantic import ValidationError

    try:
        parsed = read_model(path, model, "hosts")
    except OSError as exc:
        raise InputError(str(path), f"cannot read {what}: {exc.strerror}") from None
    except ItemError as exc:
        raise InputError(
            f"{path}:{exc.line}: field {exc.loc}", f"not a valid {what}: {exc.msg}"
        ) from None
    except ValidationError as exc:
        where, msg = field_where(str(path), exc)
        raise InputError(where, f"not a valid {what}: {msg}") from None
    except RecursionError:
        raise InputError(str(path), f"not a valid {what}: nested too deeply") from None
    if isinstance(parsed, Results) and (problem := level_problem(parsed)) is not None:
        raise InputError(f"{path}: field {problem[0]}", f"not a valid {what}: {problem[1]}")
    newest = RAW_SCHEMA_VERSION if model is RawRecord else RESULTS_SCHEMA_VERSION
    if parsed.schema_version > newest:
        raise InputError(
            f"{path}: field schema_version",
            f"{what} schema {parsed.schema_version} was written by a newer e8scan "
            f"(this one reads up to {newest}); upgrade e8scan",
        )
    return parsed
