"""What ``apt-get -s dist-upgrade`` would install: one entry per ``Inst`` line, with the origin
apt would fetch it from (``Debian-Security:12/stable-security``, a third-party repository …),
and what it would *not* upgrade: the ``kept back`` list and the ``N not upgraded`` count.

Simulation only (``-s``, ``Debug::NoLocking``): nothing is installed and the lists are not
refreshed, so the answer is as fresh as the last ``apt-get update`` (see
``linux.package_metadata_time``). A host without apt-get is Unknown; so is output with neither
an ``Inst`` line nor apt's ``N upgraded, …`` summary (apt did not finish, or printed nothing:
"nothing pending" needs the summary that says so).

Held packages (``apt-mark hold``) never appear as ``Inst``: they are listed as kept back, with no
origin, so whether a held package carries a security fix cannot be told from the simulation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import first_line

_INST = re.compile(r"^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+) (.*?) \[[^\]]*\]\)")
_SUMMARY = re.compile(r"^(\d+) upgraded, \d+ newly installed, \d+ to remove and (\d+) not upgraded")


@dataclass(frozen=True)
class Pending:
    """One package apt would upgrade or install: name, new version, origin(s)."""

    name: str
    version: str
    origin: str

    @property
    def security(self) -> bool:
        return "-security" in self.origin


@dataclass(frozen=True)
class AptSimulation:
    """``pending``: the ``Inst`` lines; ``kept_back``: packages apt would not upgrade (held, or
    blocked by dependencies), origin unknown; ``not_upgraded``: apt's own count of them (None
    when the summary line was not printed)."""

    pending: list[Pending]
    kept_back: list[str]
    not_upgraded: int | None


def parse(text: str) -> AptSimulation | Unknown:
    if "E8_NO_APT" in text:
        return Unknown("apt-get is not installed")
    pending = []
    kept: list[str] = []
    not_upgraded: int | None = None
    in_kept = False
    for line in text.splitlines():
        if in_kept and line.startswith(" "):
            kept += line.split()
            continue
        in_kept = line.startswith("The following packages have been kept back")
        m = _INST.match(line)
        if m:
            pending.append(Pending(name=m.group(1), version=m.group(3), origin=m.group(4)))
        elif s := _SUMMARY.match(line):
            not_upgraded = int(s.group(2))
    if not pending and not_upgraded is None:
        return Unknown(
            "apt-get printed no Inst line and no upgrade summary "
            f"({first_line(text) or 'no output'})"
        )
    return AptSimulation(pending, kept, not_upgraded)


APT_PENDING = sh_fact(
    "linux.apt_pending",
    "if command -v apt-get >/dev/null 2>&1; then "
    "LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>&1; "
    "else echo E8_NO_APT; fi",
    parse,
    stdout_denial=True,
)
