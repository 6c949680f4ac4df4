"""sudoers: ``/etc/sudoers`` and every file in ``/etc/sudoers.d`` (root), each after a
``### <path>`` marker, reduced to the rules that let sudo skip or share authentication.

Comments and blank lines are ignored, ``\\`` continuations joined; ``#include`` / ``@include`` /
``#includedir`` / ``@includedir`` are recognised; files in an include directory whose names
contain ``.`` or end in ``~`` are skipped, as sudo skips them; include targets outside
``/etc/sudoers.d`` are listed as not collected. Aliases are not expanded (a ``NOPASSWD`` tag is
found on the user specification itself). Rules from LDAP/SSSD sudo providers are not visible.

``grants``: every user specification that lets someone run commands as root (no Runas list —
root is the default —, or a Runas list naming ``ALL``, ``root`` or ``#0``, directly or through a
``Runas_Alias``), with who it names: users, ``%groups`` (names with spaces escaped
``%domain\\ users`` or quoted ``%"domain users"`` are unescaped to ``%domain users``), ``#uid``,
``+netgroup`` and ``ALL``, ``User_Alias`` names expanded; negated entries (``!bob``) are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import first_line

_ALIAS = re.compile(r"^(User|Runas|Host|Cmnd|Cmd)_Alias\b")
_INCLUDE = re.compile(r"^[#@](include|includedir)\s+(\S+)")
_ALIAS_DEF = re.compile(r"^(User|Runas)_Alias\s+(.*)$")
_ROOT = {"all", "root", "#0"}


@dataclass(frozen=True)
class Grant:
    """A rule that lets ``principals`` run commands as root (``where``: ``file: rule``)."""

    where: str
    principals: tuple[str, ...]


@dataclass(frozen=True)
class Sudoers:
    """What the sudoers files grant that matters here, each as ``file: rule``."""

    nopasswd: list[str] = field(default_factory=list)
    no_authenticate: list[str] = field(default_factory=list)
    shared_password: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    uncollected: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)


def _logical_lines(text: str) -> list[str]:
    joined: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        joined.append((buf + line).strip())
        buf = ""
    if buf:
        joined.append(buf.strip())
    return joined


def _split(text: str, seps: str, raw: bool = False) -> list[str]:
    """``text`` cut at unquoted, unescaped ``seps``; quotes and backslashes removed unless
    ``raw`` (a first cut whose parts are split again)."""
    parts, buf, quoted, i = [], "", False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            buf += text[i : i + 2] if raw else text[i + 1]
            i += 2
            continue
        if c == '"':
            quoted = not quoted
            if raw:
                buf += c
        elif c in seps and not quoted:
            parts.append(buf.strip())
            buf = ""
        else:
            buf += c
        i += 1
    parts.append(buf.strip())
    return [x for x in parts if x]


def _user_list(line: str) -> tuple[str, str]:
    """A user specification cut into its user list and the rest (hosts, runas, commands)."""
    quoted, i = False, 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c.isspace() and not quoted:
            before = line[:i].rstrip()
            after = line[i:].lstrip()
            if not before.endswith(",") and not after.startswith(","):
                return line[:i], after
        i += 1
    return line, ""


def _aliases(lines: list[str]) -> dict[str, dict[str, list[str]]]:
    """``User_Alias`` and ``Runas_Alias`` definitions: kind → name → members."""
    found: dict[str, dict[str, list[str]]] = {"User": {}, "Runas": {}}
    for line in lines:
        if m := _ALIAS_DEF.match(line):
            for definition in _split(m.group(2), ":", raw=True):
                name, _, members = definition.partition("=")
                found[m.group(1)][name.strip()] = _split(members, ",")
    return found


def _expand(names: list[str], table: dict[str, list[str]], depth: int = 0) -> list[str]:
    out: list[str] = []
    for n in names:
        if n.startswith("!"):
            continue
        if n in table and depth < 8:
            out += _expand(table[n], table, depth + 1)
        else:
            out.append(n)
    return out


def _as_root(rest: str, runas: dict[str, list[str]]) -> bool:
    """Whether the rule's commands run as root: no Runas list (root is the default), or one that
    names ALL, root or #0."""
    _, _, after = rest.partition("=")
    lists = re.findall(r"\(([^)]*)\)", after)
    if not lists or not after.lstrip().startswith("("):
        return True
    for spec in lists:
        users = _expand(_split(spec.split(":", 1)[0], ","), runas)
        if any(u.lower() in _ROOT for u in users):
            return True
    return False


def parse(text: str) -> Sudoers | Unknown:
    """The ``### <path>`` sections; Unknown when no file was printed."""
    if "### " not in text:
        return Unknown(f"no sudoers file was printed ({first_line(text) or 'empty output'})")
    result = Sudoers()
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("### "):
            sections.append((line[4:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
    every = [ln for _, body in sections for ln in _logical_lines("\n".join(body))]
    aliases = _aliases(every)
    for path, body in sections:
        name = path.rsplit("/", 1)[-1]
        if path.startswith("/etc/sudoers.d/") and ("." in name or name.endswith("~")):
            result.skipped.append(path)
            continue
        result.files.append(path)
        for line in _logical_lines("\n".join(body)):
            if m := _INCLUDE.match(line):
                target = m.group(2)
                if not (target == "/etc/sudoers.d" or target.startswith("/etc/sudoers.d/")):
                    result.uncollected.append(target)
                continue
            if not line or line.startswith("#") or _ALIAS.match(line):
                continue
            line = line.split("#", 1)[0].strip() if " #" in line else line
            where = f"{path}: {' '.join(line.split())[:120]}"
            if line.startswith("Defaults"):
                flags = line.split(None, 1)[1] if " " in line else ""
                if re.search(r"(^|[\s,])!\s*authenticate\b", flags):
                    result.no_authenticate.append(where)
                if re.search(r"(^|[\s,])(rootpw|targetpw)\b", flags):
                    result.shared_password.append(where)
                continue
            users, rest = _user_list(line)
            if rest and "=" in rest and _as_root(rest, aliases["Runas"]):
                named = _expand(_split(users, ","), aliases["User"])
                result.grants.append(Grant(where=where, principals=tuple(named)))
            if "NOPASSWD" in line:
                scope = (
                    "ALL commands"
                    if re.search(r"NOPASSWD\s*:\s*ALL\b", line)
                    else "listed commands"
                )
                result.nopasswd.append(f"{where} [{scope}]")
    return result


SUDOERS = sh_fact(
    "linux.sudoers",
    'for f in /etc/sudoers /etc/sudoers.d/*; do [ -f "$f" ] || continue; '
    'echo "### $f"; cat "$f" 2>&1; done',
    parse,
    root=True,
    ok_codes=(0, 1),  # the loop ends with the last cat; a refusal is caught in the text
    stdout_denial=True,
)
