"""Web browsers installed on a Linux host and their managed policy files (no root needed).

- ``linux.browsers``: ``command -v`` of the Chrome, Chromium, Edge and Firefox binaries
  (``bin <name> <path>``), their packages from ``dpkg-query -W`` or ``rpm -q`` with the IcedTea
  Java browser plug-in (``pkg <name> <version> <status>``, installed ones kept), and the
  ``/snap/firefox`` / ``/snap/chromium`` snaps (``snap <name>``).
- ``linux.browser_policies``: every managed policy file, printed after an ``@@@ FILE <path>``
  marker (Chrome/Chromium/Edge ``…/policies/managed/*.json``; Firefox ``policies.json`` under
  ``/etc`` and the install's ``distribution`` folder). ``…/policies/recommended`` files are
  user-changeable and not read. A file ``cat`` cannot read fails the whole read (its refusal is
  on stderr); a file that is not a JSON object is listed in ``invalid``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from checks.facts.linux.shell import sh_fact


@dataclass(frozen=True)
class BrowserInventory:
    binaries: frozenset[str] = frozenset()
    packages: dict[str, str] = field(default_factory=dict)  # installed package → version
    snaps: frozenset[str] = frozenset()


def parse_inventory(text: str) -> BrowserInventory:
    bins, pkgs, snaps = set(), {}, set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "bin":
            bins.add(parts[1])
        elif (
            len(parts) >= 3 and parts[0] == "pkg" and line.rstrip().endswith("install ok installed")
        ):
            pkgs[parts[1]] = parts[2]
        elif len(parts) == 2 and parts[0] == "snap":
            snaps.add(parts[1])
    return BrowserInventory(frozenset(bins), pkgs, frozenset(snaps))


BROWSERS = sh_fact(
    "linux.browsers",
    "for b in google-chrome google-chrome-stable chromium chromium-browser microsoft-edge"
    ' microsoft-edge-stable firefox firefox-esr; do p=$(command -v "$b" 2>/dev/null) && echo "bin $b $p";'
    " done; if command -v dpkg-query >/dev/null 2>&1; then dpkg-query -W"
    " -f='pkg ${Package} ${Version} ${Status}\\n' google-chrome-stable chromium chromium-browser"
    " microsoft-edge-stable firefox firefox-esr icedtea-plugin icedtea-web 2>/dev/null;"
    " elif command -v rpm >/dev/null 2>&1; then rpm -q --qf 'pkg %{NAME} %{VERSION} install ok installed\\n'"
    " google-chrome-stable chromium microsoft-edge-stable firefox icedtea-web 2>/dev/null | grep '^pkg';"
    ' fi; for s in firefox chromium; do [ -d /snap/$s ] && echo "snap $s"; done; true',
    parse_inventory,
)


@dataclass(frozen=True)
class PolicyFiles:
    """``files``: path → its JSON object; ``invalid``: paths whose content is not a JSON object."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: tuple[str, ...] = ()


def parse_policy_files(text: str) -> PolicyFiles:
    files: dict[str, dict[str, Any]] = {}
    bad: list[str] = []
    for chunk in re.split(r"^@@@ FILE ", text, flags=re.MULTILINE)[1:]:
        path, _, body = chunk.partition("\n")
        try:
            doc = json.loads(body) if body.strip() else {}
        except ValueError:
            bad.append(path.strip())
            continue
        if isinstance(doc, dict):
            files[path.strip()] = doc
        else:
            bad.append(path.strip())
    return PolicyFiles(files, tuple(bad))


BROWSER_POLICIES = sh_fact(
    "linux.browser_policies",
    "for f in /etc/opt/chrome/policies/managed/*.json /etc/chromium/policies/managed/*.json"
    " /etc/chromium-browser/policies/managed/*.json /etc/opt/edge/policies/managed/*.json"
    " /etc/firefox/policies/policies.json /etc/firefox-esr/policies/policies.json"
    " /usr/lib/firefox/distribution/policies.json /usr/lib64/firefox/distribution/policies.json"
    ' /usr/lib/firefox-esr/distribution/policies.json; do [ -f "$f" ] && { echo "@@@ FILE $f";'
    ' cat "$f"; echo; }; done; true',
    parse_policy_files,
)
