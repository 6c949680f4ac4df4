"""Find checks: every package registered in the ``e8scan.checks`` entry-point group.

The built-in ``checks`` package is registered the same way a third-party package would be
(``[project.entry-points."e8scan.checks"] builtin = "checks"``). Each submodule that defines a
module-level ``CHECK`` contributes one check; its id must equal the module's path inside the
registered package (``checks/patch_os/linux_os_support.py`` → ``patch_os.linux_os_support``) and
must be unique across every source. The module docstring becomes the check's ``doc`` unless the
check brings its own (one check shared by several strategies).

Every package, built-in or plug-in, passes the same read-only lint (:mod:`scanner.checking.readonly`)
at load: a check that declares a command able to change its target is refused with one line
naming the check, the command and why. This is what lets an OT site install a third-party check
package without re-reading its commands for safety.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.metadata import entry_points
from types import ModuleType

from pydantic import ValidationError

from scanner.checking.api import Check
from scanner.checking.readonly import mutations

GROUP = "e8scan.checks"


class CheckLoadError(Exception):
    """A check package or module is broken: named, with what was expected."""


def _walk(package: ModuleType) -> Iterable[ModuleType]:
    if not hasattr(package, "__path__"):
        yield package
        return
    prefix = package.__name__ + "."
    for info in sorted(pkgutil.walk_packages(package.__path__, prefix), key=lambda i: i.name):
        try:
            yield importlib.import_module(info.name)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "CHECK"
            raise CheckLoadError(f"check module {info.name}: {field}: {err['msg']}") from exc
        except Exception as exc:
            raise CheckLoadError(f"check module {info.name}: cannot import: {exc}") from exc


def checks_in(package_name: str) -> list[Check]:
    """Every CHECK in one package, validated."""
    try:
        package = importlib.import_module(package_name)
    except Exception as exc:
        raise CheckLoadError(f"check package {package_name}: cannot import: {exc}") from exc
    found = []
    for module in _walk(package):
        obj = getattr(module, "CHECK", None)
        if obj is None:
            continue
        where = f"check module {module.__name__}"
        if not isinstance(obj, Check):
            raise CheckLoadError(
                f"{where}: CHECK is a {type(obj).__name__}, expected scanner.checking.api.Check"
            )
        expected = module.__name__.removeprefix(package_name + ".")
        if obj.id != expected:
            raise CheckLoadError(
                f"{where}: CHECK.id is {obj.id!r}, expected {expected!r} (the module path)"
            )
        if not (module.__doc__ or "").strip():
            raise CheckLoadError(f"{where}: needs a module docstring (it feeds the catalogue)")
        doc = obj.doc or (module.__doc__ or "").strip()  # a shared check may bring its own text
        if not obj.id.startswith(obj.strategy.value + "."):
            raise CheckLoadError(
                f"{where}: a {obj.strategy.value} check must live in the {obj.strategy.value}/ folder"
            )
        _refuse_mutations(where, obj)
        found.append(obj.model_copy(update={"doc": doc}))
    return found


def _refuse_mutations(where: str, check: Check) -> None:
    """CheckLoadError when any command of ``check`` may change its target, on any platform."""
    for name, cmd in check.collect.items():
        for platform in sorted(check.platforms):
            why = mutations(cmd.line, platform)
            if why:
                text = " ".join(cmd.line.split())
                shown = text if len(text) <= 100 else text[:99] + "…"
                raise CheckLoadError(
                    f"{where}: check {check.id} is refused: command {name!r} is not read-only "
                    f"on {platform.value} ({'; '.join(why)}): {shown}"
                )


@cache
def load_checks(extra_packages: tuple[str, ...] = ()) -> tuple[Check, ...]:
    """All checks from the entry-point group (plus ``extra_packages``), sorted by id."""
    packages = [ep.value for ep in entry_points(group=GROUP)] + list(extra_packages)
    by_id: dict[str, tuple[str, Check]] = {}
    for pkg in dict.fromkeys(packages):
        for check in checks_in(pkg):
            if check.id in by_id:
                raise CheckLoadError(
                    f"check id {check.id!r} is defined twice: in {by_id[check.id][0]} and in {pkg}"
                )
            by_id[check.id] = (pkg, check)
    return tuple(c for _, (_, c) in sorted(by_id.items()))


COSTS_FILE = "command_costs.json"
"""Beside a check package's ``__init__``: the measured target CPU of its commands (written by
``tests/bench/bench_target.py --write-costs``), shown in the catalogue."""


@dataclass(frozen=True)
class CommandCosts:
    """Milliseconds of the scanned host's CPU per run, by declared command line, and how that
    was measured (one line per package that ships a costs file)."""

    ms: Mapping[str, float]
    measured: tuple[str, ...]
    resolution_ms: float = 0.0  # a cost below this shows as "< resolution"


@cache
def command_costs(extra_packages: tuple[str, ...] = ()) -> CommandCosts:
    """The measured command costs every registered check package ships (none: empty)."""
    packages = [ep.value for ep in entry_points(group=GROUP)] + list(extra_packages)
    ms: dict[str, float] = {}
    measured: list[str] = []
    resolution = 0.0
    for pkg in dict.fromkeys(packages):
        try:
            source = resources.files(pkg) / COSTS_FILE
            if not source.is_file():
                continue
            doc = json.loads(source.read_text(encoding="utf-8"))
            m = doc["measured"]
            measured.append(f"{pkg}: {m['date']}, {m['host']}; {m['machine']}")
            resolution = max(resolution, float(m.get("resolution_ms", 0.0)))
            for line, cost in doc["commands"].items():
                ms[str(line)] = float(cost["cpu_ms"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CheckLoadError(
                f"check package {pkg}: {COSTS_FILE}: expected {{'measured': {{date, host, "
                f"machine}}, 'commands': {{line: {{'cpu_ms': number}}}}}} ({exc})"
            ) from None
    return CommandCosts(ms, tuple(measured), resolution)
