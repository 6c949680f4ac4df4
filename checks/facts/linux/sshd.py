"""The effective sshd configuration, ``sshd -T`` (root: sshd reads its host keys first).

``sshd -T`` prints every option, lowercase, one ``key value`` per line; repeated keys
(``listenaddress``, ``hostkey``, ``acceptenv``, ``allowusers`` …) are separate lines and all
kept. Without ``-C`` it does not evaluate ``Match`` blocks. A host without an sshd binary is a
value (``installed=False``), not an unknown: it has no SSH logon path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import first_line


@dataclass(frozen=True)
class Sshd:
    """``options``: lowercase key → every value given for it, in order."""

    installed: bool
    options: dict[str, list[str]] = field(default_factory=dict)

    def value(self, *keys: str, default: str = "") -> str:
        """The first value of the first key present (older OpenSSH names as fallbacks)."""
        return option(self.options, *keys, default=default)

    def entries(self, key: str) -> list[str]:
        """Every entry of a multi-valued option (one per line; tolerate space-joined ones)."""
        return [e for value in self.options.get(key, []) for e in value.split() if e]


def parse_options(text: str) -> dict[str, list[str]]:
    """``sshd -T`` lines: lowercase key → every value given for it (repeated keys kept)."""
    conf: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or " " not in line:
            continue
        key, _, value = line.partition(" ")
        if not re.fullmatch(r"[a-z0-9]+", key):
            continue
        conf.setdefault(key, []).append(value.strip())
    return conf


def option(conf: Mapping[str, list[str]], *keys: str, default: str = "") -> str:
    """The first value of the first key present in ``conf``."""
    for key in keys:
        if conf.get(key):
            return conf[key][0]
    return default


def parse(text: str) -> Sshd | Unknown:
    """Not installed (``sh: sshd: not found``), or the options; Unknown when none was printed
    (``sshd -T`` always prints ``permitrootlogin``)."""
    if "sshd: not found" in text:
        return Sshd(installed=False)
    conf = parse_options(text)
    if "permitrootlogin" not in conf:
        return Unknown(f"sshd -T printed no configuration ({first_line(text) or 'empty output'})")
    return Sshd(installed=True, options=conf)


SSHD = sh_fact(
    "linux.sshd_config",
    'PATH="$PATH:/usr/sbin:/sbin" sshd -T 2>&1',
    parse,
    root=True,
    ok_codes=(0, 127),
    stdout_denial=True,
)
