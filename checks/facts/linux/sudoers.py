"""sudoers: ``/etc/sudoers`` and every file in ``/etc/sudoers.d`` (root), each after a
``### <path>`` marker, reduced to the rules that let sudo skip or share authentication.

Comments and blank lines are ignored, ``\\`` continuations joined; ``#include`` / ``@include`` /
``#includedir`` / ``@includedir`` are recognised; files in an include directory whose names
contain ``.`` or end in ``~`` are skipped, as sudo skips them; include targets outside
``/etc/sudoers.d`` are listed as not collected. Aliases are not expanded (a ``NOPASSWD`` tag is
found on the user specification itself). Rules from LDAP/SSSD sudo providers are not visible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import first_line

_ALIAS = re.compile(r"^(User|Runas|Host|Cmnd|Cmd)_Alias\b")
_INCLUDE = re.compile(r"^[#@](include|includedir)\s+(\S+)")


@dataclass(frozen=True)
class Sudoers:
    """What the sudoers files grant that matters here, each as ``file: rule``."""

    nopasswd: list[str] = field(default_factory=list)
    no_authenticate: list[str] = field(default_factory=list)
    shared_password: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    uncollected: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


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
