"""The bastions an OpenSSH client config names, so a host it would route is refused, never ignored.

Ansible's ``ssh`` connection runs OpenSSH, which reads ``~/.ssh/config``: a ``Host`` block there
with ``ProxyJump`` or ``ProxyCommand`` sends the connection through a bastion without a word in
the inventory. e8scan connects with paramiko and reads no ssh_config (``Match exec`` would run
programs; ``Include`` pulls in more files), so such a host would be contacted directly — the
route a site forbids. :func:`routes` reads only what is needed to notice: ``Host`` patterns and
the ``ProxyJump`` / ``ProxyCommand`` lines under them (a ``Match`` block is not evaluated and is
taken to apply; ``Include`` files are not followed); :func:`route_for` says whether one of them applies to a host, by
OpenSSH's rules (first value wins; ``*``/``?`` wildcards; ``!`` negation; matched against the
name the client is given, i.e. ``ansible_host`` or the inventory name). The plan makes that
host's problem an input error naming the file and line; a bastion the inventory names itself
(``e8_jump_host``, ``-J``, ``ProxyJump=none``) wins, as a command-line option wins in OpenSSH.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ConfigRoute", "cached_routes", "default_path", "route_for", "routes"]

_LINE = re.compile(r"^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*?)\s*$")
MAX_BYTES = 1 << 20  # a client config is small; a larger file is read no further


@dataclass(frozen=True)
class ConfigRoute:
    """A ``ProxyJump`` / ``ProxyCommand`` line and the ``Host`` patterns it sits under
    (``patterns`` None: under a ``Match`` block, which is not evaluated)."""

    path: str
    line: int
    keyword: str
    value: str
    patterns: tuple[str, ...] | None

    @property
    def none(self) -> bool:
        """``ProxyJump none``: no bastion (and, being first, no later line counts)."""
        return self.keyword == "ProxyJump" and self.value.lower() == "none"

    def applies_to(self, name: str) -> bool:
        """Do this line's ``Host`` patterns take ``name``? A ``Match`` block cannot be evaluated
        here (``exec`` would run a program), so it is taken to apply: refused, never ignored."""
        if self.patterns is None:
            return True
        name = name.lower()
        hit = False
        for pat in self.patterns:
            negated = pat.startswith("!")
            if fnmatch.fnmatchcase(name, pat.lstrip("!").lower()):
                if negated:
                    return False
                hit = True
        return hit

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def default_path() -> Path:
    """The client config OpenSSH reads for the user running e8scan."""
    return Path(os.path.expanduser("~")) / ".ssh" / "config"


def routes(path: Path) -> tuple[ConfigRoute, ...]:
    """Every ProxyJump/ProxyCommand line of ``path`` (none when it does not exist or cannot be
    read: OpenSSH would not read it either)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_BYTES)
    except OSError:
        return ()
    found: list[ConfigRoute] = []
    patterns: tuple[str, ...] | None = ("*",)  # before any Host line: every host
    seen: set[str] = set()  # per block: OpenSSH takes the first value
    for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        text = raw.split("#", 1)[0] if not raw.lstrip().startswith("#") else ""
        m = _LINE.match(text)
        if not m:
            continue
        key, value = m.group(1).lower(), m.group(2).strip().strip('"')
        if key == "host":
            patterns, seen = tuple(value.split()), set()
        elif key == "match":
            patterns, seen = (("*",) if value.lower() == "all" else None), set()
        elif key in ("proxyjump", "proxycommand") and "proxy" not in seen:
            seen.add("proxy")
            keyword = "ProxyJump" if key == "proxyjump" else "ProxyCommand"
            found.append(ConfigRoute(str(path), number, keyword, value, patterns))
    return tuple(found)


def route_for(names: tuple[str, ...], found: tuple[ConfigRoute, ...]) -> ConfigRoute | None:
    """The route OpenSSH would take for a host known by any of ``names`` (the first line that
    applies), else None (none applies, or the first that does is ``ProxyJump none``)."""
    for route in found:
        if any(route.applies_to(n) for n in names if n):
            return None if route.none else route
    return None


_CACHE: dict[tuple[str, int, int], tuple[ConfigRoute, ...]] = {}


def cached_routes(path: Path) -> tuple[ConfigRoute, ...]:
    """:func:`routes`, read once per file version for a sweep of many hosts."""
    try:
        st = path.stat()
    except OSError:
        return ()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = routes(path)
    return _CACHE[key]
