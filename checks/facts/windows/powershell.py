"""The one PowerShell JSON reader, and facts whose command is a ``.ps1`` file.

Windows commands run as PowerShell snippets inside the host's batch
(``scanner/collect/ps_batch.py``); each ends in ``ConvertTo-Json`` so parsers read data, never
formatted tables. The snippet lives in a ``.ps1`` file beside the fact's module, where
PowerShell linters and parsers reach it; its text (less one final newline) is the exact command.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources import files
from typing import Any, TypeVar

from checks.facts.fact import Fact, Unknown
from checks.facts.reading import NOT_RUN, NOTHING, TIMED_OUT, denial, first_line
from scanner.checking.api import Cmd, Output
from scanner.model.vocabulary import Platform

T = TypeVar("T")

_NOT_RECOGNIZED = "is not recognized as the name of a cmdlet"
ACCESS_DENIED = "access denied: the scanning account needs local administrator rights for this read"
_PS2_ERA = ("convertto-json", "get-ciminstance", "get-localgroupmember")


def script(package: str, name: str) -> str:
    """The text of ``name`` (a ``.ps1`` file in ``package``), as it is sent to the host."""
    text = files(package).joinpath(name).read_text(encoding="utf-8")
    return text.removesuffix("\n")


def missing_cmdlet(err: str) -> str | None:
    """Why the host lacks a cmdlet the snippet used (PowerShell 2.0-era hosts), or None."""
    if _NOT_RECOGNIZED not in err.lower():
        return None
    missing = err.split("'")[1] if err.count("'") >= 2 else "a cmdlet"
    if missing.lower() in _PS2_ERA:
        return f"{missing} is not available (PowerShell 2.0 / Windows 7-era host)"
    return f"{missing} is not available on this host"


def read_json(out: Output) -> Any | Unknown:
    """What a snippet printed, as JSON data, or why it cannot be used.

    Any error record fails the read: partial data from a snippet that reported errors could show
    a control as met when the failed part would have shown otherwise.
    """
    if not out.ran:
        return Unknown(NOT_RUN)
    if out.timed_out:
        return Unknown(TIMED_OUT)
    if denial(out.err) is not None:
        return Unknown(ACCESS_DENIED)
    lacking = missing_cmdlet(out.err)
    if lacking is not None:
        return Unknown(lacking)
    if not out.ok:
        detail = first_line(out.err) or first_line(out.text) or f"exit code {out.exit_code}"
        return Unknown(f"the read failed: {detail}")
    if out.truncated:
        return Unknown("the output was cut at the size limit, so it is incomplete")
    text = out.text.lstrip("\ufeff").strip()
    if not text:
        return Unknown(NOTHING)
    try:
        return json.loads(text)
    except ValueError:
        return Unknown(f"the output is not JSON: {first_line(out.text)!r}")


def as_list(value: Any) -> list[Any]:
    """ConvertTo-Json prints one object bare, several as an array, and Windows PowerShell may wrap
    an array as ``{"value": [...], "Count": n}``: always a list here (``None`` is empty)."""
    if isinstance(value, dict) and "value" in value and "Count" in value:
        value = value["value"]
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ps_fact(
    name: str,
    package: str,
    ps1: str | tuple[str, ...],
    parse: Callable[[Any], T | Unknown],
    *,
    args_var: str | None = None,
    empty: Callable[[], T | Unknown] | None = None,
) -> Fact[T]:
    """A Windows fact: the snippet in ``package``/``ps1``, its JSON handed to ``parse``.

    ``ps1`` may name several files (each one complete PowerShell): the command is their texts
    joined by newlines, so a part several snippets share is written once. ``empty`` gives the
    value (or a more precise Unknown) when a clean run printed nothing, for a snippet whose
    ``ConvertTo-Json`` receives nothing when there is nothing to report.
    """
    names = (ps1,) if isinstance(ps1, str) else ps1

    def read(out: Output) -> T | Unknown:
        data = read_json(out)
        if isinstance(data, Unknown):
            return empty() if empty is not None and data.reason == NOTHING else data
        return parse(data)

    return Fact(
        name=name,
        platform=Platform.WINDOWS,
        cmd=Cmd(line="\n".join(script(package, n) for n in names), args_var=args_var),
        parse=read,
    )
