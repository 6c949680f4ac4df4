"""``/etc/os-release`` (``/usr/lib/os-release`` as the fallback the spec names): which distribution
and release the host runs, as ``KEY → value`` with shell quoting removed."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact

DEB_IDS = frozenset({"debian", "ubuntu", "raspbian", "linuxmint", "pop", "kali"})
RPM_IDS = frozenset({"rhel", "centos", "rocky", "almalinux", "ol", "amzn", "fedora", "scientific"})


def package_family(values: Mapping[str, str]) -> str | None:
    """``deb`` or ``rpm`` by ``ID`` / ``ID_LIKE``; None for a distribution not listed here."""
    ids = {values.get("ID", "").lower(), *values.get("ID_LIKE", "").lower().split()}
    if ids & DEB_IDS:
        return "deb"
    if ids & RPM_IDS:
        return "rpm"
    return None


def parse(text: str) -> dict[str, str] | Unknown:
    """``KEY=value`` lines; Unknown when there is no ``ID`` (nothing to identify the host by)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        values[key.strip()] = " ".join(parts)
    if not values.get("ID"):
        return Unknown("/etc/os-release has no ID")
    return values


OS_RELEASE = sh_fact(
    "linux.os_release", "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release", parse
)
