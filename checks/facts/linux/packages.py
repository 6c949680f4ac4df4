"""Installed packages from dpkg (status ``ii``/``hi``) and rpm: manager, name, version.

Both databases are asked when both tools exist (an rpm tool on Debian lists nothing). No package
from either is Unknown: the inventory could not be read.
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.software import App


@dataclass(frozen=True)
class Package:
    """``manager``: deb | rpm; ``version``: as the database prints it (rpm: VERSION-RELEASE)."""

    manager: str
    name: str
    version: str

    @property
    def app(self) -> App:
        """This package as installed software (``where`` is the manager)."""
        return App(name=self.name, version=self.version, where=self.manager)


def parse(text: str) -> list[Package] | Unknown:
    found = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] in ("deb", "rpm") and parts[1]:
            found.append(Package(parts[0], parts[1].strip(), parts[2].strip()))
    if not found:
        return Unknown("no package database could be read (neither dpkg nor rpm answered)")
    return found


PACKAGES = sh_fact(
    "linux.packages",
    "if command -v dpkg-query >/dev/null 2>&1; then "
    "dpkg-query -W -f='${db:Status-Abbrev}\\t${Package}\\t${Version}\\n' 2>/dev/null | "
    "awk -F'\\t' '$1 ~ /^[hi]i/ {print \"deb\\t\" $2 \"\\t\" $3}'; fi; "
    "if command -v rpm >/dev/null 2>&1; then "
    "rpm -qa --qf 'rpm\\t%{NAME}\\t%{VERSION}-%{RELEASE}\\n' 2>/dev/null; fi; true",
    parse,
)
