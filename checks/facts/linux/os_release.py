"""``/etc/os-release`` (``/usr/lib/os-release`` as the fallback the spec names): which distribution
and release the host runs, as ``KEY → value`` with shell quoting removed."""

from __future__ import annotations

import shlex

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact


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
