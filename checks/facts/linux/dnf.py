"""What dnf (or yum) lists as pending, from its cache only (``-C``: no metadata refresh).

- ``linux.dnf_security_advisories``: ``updateinfo info`` — one advisory per security notice,
  with its severity, issue date and the CVE ids of its ``CVEs`` field (one id per line, the
  following ones on ``            : CVE-…`` continuation lines; shape: dnf 4's
  ``dnf/cli/commands/updateinfo.py`` ``display_info`` and a real ``yum updateinfo`` capture of
  RHSA-2019:0163 on RHEL 7, where yum 3 also prints ``Updated : … UTC       Bugs : …`` on one
  line — ids in ``Bugs`` titles and the description are not read);
- ``linux.dnf_security_list``: ``updateinfo list`` — advisory, severity word, package NEVRA rows
  (one per package an advisory fixes; the name ``-EPOCH:`` form is kept as printed);
- ``linux.dnf_upgrades``: ``list --upgrades`` / ``list updates`` — every upgradable package with
  its repository (``No matching packages`` with exit 1 is an empty list).

A host with neither dnf nor yum is Unknown; so is a failed cache read (``-C`` with no cache).
``updateinfo info`` with nothing pending prints nothing at all under ``-q``, so that command
echoes ``E8_DNF_DONE`` once dnf/yum exited 0: output without it (lost, or the tool never ran)
is Unknown, never "no advisories".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from checks.facts.fact import Fact, Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import not_readable
from scanner.checking.api import Output

_DNF = (
    "if command -v dnf >/dev/null 2>&1; then LC_ALL=C dnf -C -q {dnf} 2>&1; "
    "elif command -v yum >/dev/null 2>&1; then LC_ALL=C yum -C -q {yum} 2>&1; "
    "else echo E8_NO_DNF; fi"
)
NO_DNF = Unknown("neither dnf nor yum is installed")
T = TypeVar("T")


@dataclass(frozen=True)
class Advisory:
    """``severity``: critical | other | unknown (none given)."""

    ident: str
    severity: str
    released: datetime | None
    cves: tuple[str, ...] = ()


@dataclass(frozen=True)
class AdvisoryPackage:
    """One ``updateinfo list`` row: advisory, its severity word, the package it fixes."""

    ident: str
    severity: str
    nevra: str

    @property
    def package(self) -> str:
        """The package name (arch, version and release removed)."""
        base = re.sub(r"\.(x86_64|noarch|i686|aarch64|ppc64le|s390x|src)$", "", self.nevra)
        parts = base.rsplit("-", 2)
        return parts[0] if len(parts) == 3 else base


@dataclass(frozen=True)
class Upgrade:
    """One ``list --upgrades`` row."""

    name: str
    version: str
    repo: str


def _date(value: str) -> datetime | None:
    """``2026-11-15 03:00:00`` (dnf 4), ``2019-01-29 15:21:23 UTC`` (yum 3) or a bare date."""
    m = re.match(r"\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?(?:\s+UTC)?\s*$", value)
    if not m:
        return None
    when = m.group(1) + " " + (m.group(2) or "00:00:00")
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(when, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b")


def parse_info(text: str) -> list[Advisory]:
    """``updateinfo info`` blocks (separated by ``=====`` rules) → one entry per security advisory."""
    found: dict[str, Advisory] = {}
    for block in re.split(r"^={20,}\s*$", text, flags=re.M):
        fields: dict[str, str] = {}
        cves: list[str] = []
        label = ""
        for line in block.splitlines():
            m = re.match(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s(.*)$", line)
            if m:
                label = m.group(1)
                fields.setdefault(label, m.group(2).strip())
                value = m.group(2)
            elif (c := re.match(r"^\s*:\s?(.*)$", line)) is not None:
                value = c.group(1)  # a continuation line of ``label``
            else:
                label, value = "", ""
            if label == "CVEs":
                cves += [x for x in _CVE.findall(value.upper()) if x not in cves]
        ident = fields.get("Update ID")
        if not ident or fields.get("Type", "security").lower() != "security":
            continue
        sev = fields.get("Severity", "").lower()
        severity = (
            "critical" if sev == "critical" else "unknown" if sev in ("", "none") else "other"
        )
        released = _date(fields.get("Issued", "") or fields.get("Updated", ""))
        found[ident] = Advisory(ident, severity, released, tuple(cves))
    return list(found.values())


def parse_list(text: str) -> list[AdvisoryPackage]:
    return [
        AdvisoryPackage(parts[0], parts[1], parts[-1].strip())
        for parts in map(str.split, text.splitlines())
        if len(parts) >= 3 and re.match(r"^[A-Z]+[A-Z0-9-]*-\d{4}[:-]", parts[0])
    ]


def parse_upgrades(text: str) -> list[Upgrade]:
    return [
        Upgrade(parts[0].rsplit(".", 1)[0], parts[1], parts[2])
        for parts in map(str.split, text.splitlines())
        if len(parts) == 3 and "." in parts[0] and not parts[0].endswith(":")
    ]


def _dnf_fact(
    name: str, dnf: str, yum: str, parse: Callable[[str], T], *, done: bool = False
) -> Fact[T]:
    """``dnf {dnf}`` or else ``yum {yum}`` from the cache, as root; a host with neither is
    Unknown before ``parse`` sees the text. ``done``: the tool's success is marked with
    ``E8_DNF_DONE`` and output without the mark is Unknown."""

    def read(text: str) -> T | Unknown:
        if "E8_NO_DNF" in text:
            return NO_DNF
        if done and "E8_DNF_DONE" not in text:
            return Unknown("dnf/yum did not report finishing (no E8_DNF_DONE): output incomplete")
        return parse(text)

    template = _DNF.replace("} 2>&1;", "} 2>&1 && echo E8_DNF_DONE;") if done else _DNF
    line = template.format(dnf=dnf, yum=yum)
    return sh_fact(name, line, read, root=True, stdout_denial=True)


DNF_ADVISORIES = _dnf_fact(
    "linux.dnf_security_advisories",
    "updateinfo info --security --available",
    "updateinfo info security",
    parse_info,
    done=True,
)
DNF_ADVISORY_LIST = _dnf_fact(
    "linux.dnf_security_list",
    "updateinfo list --security --available",
    "updateinfo list security",
    parse_list,
)


def _upgrades_fact() -> Fact[list[Upgrade]]:
    """dnf exits 1 with "No matching packages to list" when nothing is upgradable: a value; an
    empty answer with exit 0 is not what dnf or yum print, so it is Unknown."""
    strict = _dnf_fact("linux.dnf_upgrades", "list --upgrades", "list updates", parse_upgrades)

    def read(out: Output) -> list[Upgrade] | Unknown:
        nothing = out.exit_code == 1 and "no matching packages" in out.text.lower()
        if nothing and not_readable(out, stdout_denial=True) is None and not out.truncated:
            return []
        if out.ran and not out.timed_out and not out.text.strip() and out.exit_code == 0:
            # dnf/yum list print "No matching Packages to list" when nothing is pending
            return Unknown("dnf list --upgrades printed nothing (the listing did not run)")
        return strict.read(out)

    return Fact(strict.name, strict.platform, strict.cmd, read)


DNF_UPGRADES = _upgrades_fact()
