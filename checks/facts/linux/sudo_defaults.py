"""The ``Defaults`` lines of ``/etc/sudoers`` and ``/etc/sudoers.d/*`` (root)."""

from __future__ import annotations

from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact


@dataclass(frozen=True)
class SudoDefaults:
    """``sudoers_found``: False when grep found no file to read and no ``Defaults`` line."""

    sudoers_found: bool
    defaults: tuple[str, ...]


def parse(text: str) -> SudoDefaults | Unknown:
    """Unknown when grep printed nothing at all: every shipped sudoers sets some ``Defaults``,
    and a missing file prints ``No such file``, so silence means nothing was read."""
    if not text.strip():
        return Unknown("grep printed neither a Defaults line nor an error: nothing was read")
    defaults = tuple(ln.strip() for ln in text.splitlines() if ln.strip().startswith("Defaults"))
    return SudoDefaults(
        sudoers_found=bool(defaults) or "No such file" not in text, defaults=defaults
    )


SUDO_DEFAULTS = sh_fact(
    "linux.sudo_defaults",
    "grep -hE '^[[:space:]]*Defaults' /etc/sudoers /etc/sudoers.d/* 2>&1; true",
    parse,
    root=True,
    stdout_denial=True,
)
