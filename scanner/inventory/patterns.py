"""Host names and host patterns as Ansible reads them.

Three jobs, all pure string work:

* :func:`parse_address` splits an inventory host entry into a name and an optional port
  (``web01:2222``, ``[2001:db8::1]:22``) the way Ansible's inventory plugins do;
* :func:`expand_host_range` expands ranges (``web[01:20].example.com``, ``db-[a:f]``,
  strides ``[1:10:2]``; leading zeros are kept);
* :func:`select_hosts` evaluates a ``--limit`` pattern: names, group names, globs (``web*``),
  ``~regex``, unions with ``,`` or ``:``, intersections ``:&``, exclusions ``:!``, ``all`` / ``*``,
  subscripts (``web[0]``, ``web[1:3]``) and ``@file`` lists.

Errors raise :class:`PatternError` (a ``ValueError``) with a message only; callers know the
file and line and turn it into an :class:`~scanner.model.errors.InputError`.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import string
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from scanner.model.errors import InputError
from scanner.model.input_files import read_regular_file

MAX_RANGE_HOSTS = 100_000
"""Refuse a host entry that expands to more hosts than this (a typo such as ``[0:9999999]``)."""


class PatternError(ValueError):
    """A host entry or ``--limit`` pattern that cannot be understood; ``str()`` says why."""


# --- addresses ---------------------------------------------------------------------------------

_NUM_RANGE = r"\[[0-9]+:[0-9]+(?::[0-9]+)?\]"
_HEX_RANGE = r"\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]"
_ALNUM_RANGE = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_OCTET = rf"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{_NUM_RANGE})"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}", re.I)
_LABEL = rf"(?:\w|{_ALNUM_RANGE})(?:[\w-]|{_ALNUM_RANGE})*(?<![_-])"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.I)
_HEX_RANGE_RE = re.compile(_HEX_RANGE, re.I)
_BRACKETED_PORT = re.compile(r"\[(.+)\]:([0-9]+)")
_TRAILING_PORT = re.compile(r"((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)")


def _is_ipv6(text: str) -> bool:
    candidate = _HEX_RANGE_RE.sub("0", text)
    if "%" in candidate:  # Ansible does not accept zone ids
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def parse_address(entry: str) -> tuple[str, int | None]:
    """Split ``entry`` into (host, port) like Ansible; ranges are allowed and left unexpanded.

    The port is a ``:NN`` suffix on a name or IPv4 address, or on any ``[bracketed]`` host.
    Raises :class:`PatternError` when what is left is not an IPv4/IPv6 address or host name.
    """
    host, port = entry, None
    for pattern in (_BRACKETED_PORT, _TRAILING_PORT):  # Ansible tries both, in this order
        m = pattern.fullmatch(host)
        if m:
            host, port = m.group(1), int(m.group(2))
    if _IPV4.fullmatch(host) or _HOSTNAME.fullmatch(host) or _is_ipv6(host):
        return host, port
    raise PatternError(f"not a valid host name or address: {entry!r}")


# --- ranges ------------------------------------------------------------------------------------


_MAX_BOUND_DIGITS = 18
"""Range bounds longer than this are refused before being read as numbers."""


class _Range:
    """One ``begin:end[:step]`` range, measured before anything is expanded."""

    def __init__(self, spec: str) -> None:
        bounds = spec.split(":")
        if len(bounds) not in (2, 3):
            raise PatternError(f"host range [{spec}] must be [begin:end] or [begin:end:step]")
        begin = bounds[0] or "0"
        end = bounds[1]
        step_text = bounds[2] if len(bounds) == 3 else "1"
        if not end:
            raise PatternError(f"host range [{spec}] has no end value")
        if len(step_text) > _MAX_BOUND_DIGITS or max(len(begin), len(end)) > _MAX_BOUND_DIGITS:
            raise PatternError(
                f"host range [{spec[:40]}] has a bound over {_MAX_BOUND_DIGITS} digits; "
                f"expected at most {MAX_RANGE_HOSTS} hosts"
            )
        if not step_text.isascii() or not step_text.isdigit() or int(step_text) < 1:
            raise PatternError(
                f"host range [{spec}] has step {step_text!r}; expected a number >= 1"
            )
        step = int(step_text)
        letters = string.ascii_letters
        self.width = 0
        if len(begin) == 1 and len(end) == 1 and begin in letters and end in letters:
            self.letters = True
            self.values = range(letters.index(begin), letters.index(end) + 1, step)
            return
        if not all(b.isascii() and b.isdigit() for b in (begin, end)):
            raise PatternError(
                f"host range [{spec}] mixes or misuses bounds; expected numbers (01:20) "
                "or single letters (a:f)"
            )
        self.width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
        if self.width and len(end) != self.width:
            raise PatternError(
                f"host range [{spec}] pads {begin!r} to {self.width} digits but not {end!r}; "
                "begin and end need the same width"
            )
        self.letters = False
        self.values = range(int(begin), int(end) + 1, step)  # a range object: nothing built yet

    def texts(self) -> list[str]:
        if self.letters:
            return [string.ascii_letters[i] for i in self.values]
        return [str(v).zfill(self.width) for v in self.values]


def _split_ranges(entry: str) -> list[str | _Range]:
    """``entry`` as literal text and measured ranges, in order."""
    parts: list[str | _Range] = []
    rest = entry
    while (start := rest.find("[")) >= 0:
        if "]" in rest[:start]:
            raise PatternError(f"unbalanced ']' in host entry {entry!r}")
        stop = rest.find("]", start)
        if stop < 0:
            raise PatternError(f"unterminated host range in {entry!r}; expected [begin:end]")
        rng = _Range(rest[start + 1 : stop])
        if not rng.values:
            raise PatternError(f"host range in {entry!r} is empty; expected begin <= end")
        parts += [rest[:start], rng]
        rest = rest[stop + 1 :]
    return [*parts, rest]


def range_size(entry: str) -> int:
    """How many host names ``entry`` expands to, computed without expanding it."""
    total = 1
    for part in _split_ranges(entry):
        if isinstance(part, _Range):
            total *= len(part.values)
            if total > MAX_RANGE_HOSTS:
                raise PatternError(f"{entry!r} expands to more than {MAX_RANGE_HOSTS} hosts")
    return total


def expand_host_range(entry: str) -> list[str]:
    """Expand every ``[begin:end[:step]]`` range in ``entry`` (no range: ``[entry]``).

    Raises :class:`PatternError` for a malformed or empty range (``web[5:1]``, ``web[a:3]``,
    ``web[01:``) and for an entry expanding to more than :data:`MAX_RANGE_HOSTS` names; the
    count is computed from the bounds before any name is made.
    """
    range_size(entry)
    names = [""]
    for part in _split_ranges(entry):
        if isinstance(part, _Range):
            texts = part.texts()
            names = [n + t for n in names for t in texts]
        else:
            names = [n + part for n in names]
    return names


# --- --limit patterns --------------------------------------------------------------------------


class HostTree(Protocol):
    """What pattern matching needs to know about an inventory."""

    def group_names(self) -> Sequence[str]:
        """Every group, 'all' and 'ungrouped' included, in inventory order."""
        ...

    def host_names(self) -> Sequence[str]:
        """Every host in inventory order."""
        ...

    def hosts_in_group(self, group: str) -> Sequence[str]:
        """The hosts of ``group`` and of all its descendants, in Ansible's order."""
        ...


_SUBSCRIPT = re.compile(r"(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]")
_COLON_PARTS = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")


def split_host_pattern(pattern: str) -> list[str]:
    """Split a ``--limit`` value into single patterns, as Ansible does (',' first, else ':')."""
    if "," in pattern:
        parts = pattern.split(",")
    else:
        try:
            parse_address(pattern)
            parts = [pattern]
        except PatternError:
            parts = _COLON_PARTS.findall(pattern)
    return [p.strip() for p in parts if p.strip()]


def _read_limit_file(item: str) -> list[str]:
    path = Path(item[1:])
    if not path.is_file():
        raise PatternError(f"limit file {str(path)!r} not found (or not a file)")
    try:
        text = read_regular_file(path).decode("utf-8")
    except InputError as exc:
        raise PatternError(f"cannot read limit file {str(path)!r}: {exc.message}") from None
    except UnicodeDecodeError as exc:
        raise PatternError(f"cannot read limit file {str(path)!r}: {exc}") from None
    return [line.strip() for line in text.split("\n")]


def _compile(expr: str) -> re.Pattern[str]:
    try:
        return re.compile(expr[1:] if expr.startswith("~") else fnmatch.translate(expr))
    except re.error as exc:
        raise PatternError(f"invalid pattern {expr!r}: {exc}") from exc


def _enumerate(expr: str, tree: HostTree) -> list[str]:
    """Hosts matched by one bare pattern: matching groups' hosts, then matching host names."""
    rx = _compile(expr)
    groups = [g for g in tree.group_names() if rx.match(g)]
    found = [h for g in groups for h in tree.hosts_in_group(g)]
    if not groups or expr.startswith("~") or any(c in expr for c in ".?*["):
        found.extend(h for h in tree.host_names() if rx.match(h))
    return found


def _match_one(pattern: str, tree: HostTree) -> list[str]:
    expr = pattern[1:] if pattern[0] in "&!" else pattern
    m = None if expr.startswith("~") else _SUBSCRIPT.fullmatch(expr)
    if not m:
        return _enumerate(expr, tree)
    hosts = _enumerate(m.group(1), tree)
    if not hosts:
        return hosts
    try:
        if m.group(2) is not None:
            return [hosts[int(m.group(2))]]
        start, end = int(m.group(3)), int(m.group(5) or -1)
        if end:  # Ansible: x:0 selects the single host x, x: runs to the last host
            return hosts[start : (len(hosts) - 1 if end == -1 else end) + 1]
        return [hosts[start]]
    except (IndexError, ValueError):  # ValueError: an index too long to read as a number
        raise PatternError(
            f"subscript in {pattern[:80]!r} is beyond the {len(hosts)} hosts"
        ) from None


def select_hosts(limit: str, tree: HostTree, warn: Callable[[str], None]) -> set[str]:
    """The names of the hosts that ``limit`` selects (unordered; callers keep inventory order).

    ``warn`` is called for each single pattern that matches nothing (Ansible warns and ignores
    it). Raises :class:`PatternError` for an invalid regex, subscript or limit file.
    """
    patterns: list[str] = []
    for item in split_host_pattern(limit):
        patterns.extend(_read_limit_file(item) if item.startswith("@") else [item])
    patterns = [p for p in patterns if p]
    regular = [p for p in patterns if p[0] not in "&!"] or ["all"]
    known = set(tree.host_names())
    chosen: dict[str, None] = {}
    for p in regular:
        matched = [p] if p in known else _match_one(p, tree)
        if not matched and p != "all":
            warn(f"--limit: {p!r} matches no host or group")
        chosen.update(dict.fromkeys(matched))
    for p in (p for p in patterns if p[0] == "&"):
        keep = set(_match_one(p, tree))
        chosen = {h: None for h in chosen if h in keep}
    for p in (p for p in patterns if p[0] == "!"):
        drop = set(_match_one(p, tree))
        chosen = {h: None for h in chosen if h not in drop}
    return set(chosen)
