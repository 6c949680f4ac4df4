"""The effective sshd configuration, ``sshd -T`` (root: sshd reads its host keys first).

``sshd -T`` prints every option, lowercase, one ``key value`` per line; repeated keys
(``listenaddress``, ``hostkey``, ``acceptenv``, ``allowusers`` …) are separate lines and all
kept. Without ``-C`` it does not evaluate ``Match`` blocks. A host without an sshd binary is a
value (``installed=False``), not an unknown: it has no SSH logon path.

``linux.sshd_config_files`` (root: RHEL keeps them 0600): ``/etc/ssh/sshd_config`` and
``/etc/ssh/sshd_config.d/*.conf`` (and RHEL's crypto-policy include,
``/etc/crypto-policies/back-ends/opensshserver.config``) as written, each after a ``### <path>``
marker, for what
``sshd -T`` does not show: the ``Match`` blocks and the ``Include`` directives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from checks.facts.fact import Unknown
from checks.facts.linux.sections import sections
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


@dataclass(frozen=True)
class MatchBlock:
    """A ``Match`` block: its criteria (as written) and its settings (lowercase key → values)."""

    path: str
    criteria: str
    options: dict[str, list[str]]


@dataclass(frozen=True)
class SshdFiles:
    """The sshd configuration files as written (``sshd -T`` shows the global view only):
    ``files`` the paths printed; ``matches`` every ``Match`` block; ``includes`` every
    ``Include`` argument (glob patterns, relative ones under ``/etc/ssh``)."""

    files: tuple[str, ...]
    matches: tuple[MatchBlock, ...]
    includes: tuple[str, ...]


def _key_value(line: str) -> tuple[str, str]:
    """``Keyword value`` or ``Keyword=value`` (sshd accepts both): lowercase keyword, value."""
    m = re.match(r"^(\S+?)\s*(?:=\s*|\s+)(.*)$", line)
    if not m:
        return line.lower(), ""
    return m.group(1).lower(), m.group(2).strip().strip('"')


def parse_files(text: str) -> SshdFiles | Unknown:
    """``### <path>`` marked files; ``/etc/ssh/sshd_config`` must be among them (sshd reads it,
    so a listing without it was not read)."""
    files = sections(text)
    if "/etc/ssh/sshd_config" not in files:
        return Unknown(
            f"/etc/ssh/sshd_config was not listed ({first_line(text) or 'empty output'})"
        )
    matches: list[MatchBlock] = []
    includes: list[str] = []
    for path, lines in files.items():
        block: MatchBlock | None = None
        for raw in lines:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            key, value = _key_value(line)
            if key == "match":
                block = MatchBlock(path, value, {})
                matches.append(block)
            elif key == "include":
                includes += [p if p.startswith("/") else f"/etc/ssh/{p}" for p in value.split()]
            elif block is not None:
                block.options.setdefault(key, []).append(value)
    return SshdFiles(files=tuple(files), matches=tuple(matches), includes=tuple(includes))


SSHD_FILES = sh_fact(
    "linux.sshd_config_files",
    "for f in /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf "
    "/etc/crypto-policies/back-ends/opensshserver.config; do "
    '[ -f "$f" ] && { echo "### $f"; cat "$f"; }; done; true',
    parse_files,
    root=True,
)
