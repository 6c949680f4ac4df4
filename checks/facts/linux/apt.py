"""What ``apt-get -s dist-upgrade`` would install: one entry per ``Inst`` line, with the origin
apt would fetch it from (``Debian-Security:12/stable-security``, a third-party repository …).

Simulation only (``-s``, ``Debug::NoLocking``): nothing is installed and the lists are not
refreshed, so the answer is as fresh as the last ``apt-get update`` (see
``linux.package_metadata_time``). A host without apt-get is Unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact

_INST = re.compile(r"^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+) (.*?) \[[^\]]*\]\)")


@dataclass(frozen=True)
class Pending:
    """One package apt would upgrade or install: name, new version, origin(s)."""

    name: str
    version: str
    origin: str

    @property
    def security(self) -> bool:
        return "-security" in self.origin


def parse(text: str) -> list[Pending] | Unknown:
    if "E8_NO_APT" in text:
        return Unknown("apt-get is not installed")
    if not text.strip():
        # apt-get -s always prints its "Reading package lists..." and summary lines
        return Unknown("apt-get printed nothing (the simulation did not run)")
    pending = []
    for line in text.splitlines():
        m = _INST.match(line)
        if m:
            pending.append(Pending(name=m.group(1), version=m.group(3), origin=m.group(4)))
    return pending


APT_PENDING = sh_fact(
    "linux.apt_pending",
    "if command -v apt-get >/dev/null 2>&1; then "
    "LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>&1; "
    "else echo E8_NO_APT; fi",
    parse,
    stdout_denial=True,
)
