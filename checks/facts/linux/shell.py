"""Linux facts: a literal ``sh`` command line and a parser of its text.

The command is exactly what runs on the host (inside the batch's ``sh -c``, under ``timeout``),
shellchecked in CI. ``root`` commands go through ``sudo -n`` on hosts with ``ansible_become``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from checks.facts.fact import Fact, Unknown
from checks.facts.reading import first_line, not_readable
from scanner.checking.api import Cmd, Output
from scanner.model.vocabulary import Platform

T = TypeVar("T")


def sh_fact(
    name: str,
    line: str,
    parse: Callable[[str], T | Unknown],
    *,
    root: bool = False,
    ok_codes: Iterable[int] = (0,),
    stdout_denial: bool = False,
    args_var: str | None = None,
) -> Fact[T]:
    """A Linux fact whose parser needs only stdout: refusals, time-outs, exit codes outside
    ``ok_codes`` and truncated output are Unknown before ``parse`` sees the text."""
    codes = frozenset(ok_codes)

    def read(out: Output) -> T | Unknown:
        why = not_readable(out, stdout_denial=stdout_denial)
        if why is not None:
            return Unknown(why)
        if out.exit_code not in codes:
            detail = first_line(out.err) or first_line(out.text) or "no message"
            return Unknown(f"exit code {out.exit_code}: {detail}")
        if out.truncated:
            return Unknown("the output was cut at the size limit, so it is incomplete")
        return parse(out.text)

    return Fact(
        name=name,
        platform=Platform.LINUX,
        cmd=Cmd(line=line, root=root, args_var=args_var),
        parse=read,
    )
