"""One LDAP search as a command line a change board can read: ``ldapsearch -b BASE -s SCOPE FILTER ATTR…``.

A directory check declares its searches as data, in the syntax of OpenLDAP's ``ldapsearch``
(the tool an administrator would use to repeat one), and the directory transport parses the
same line back before it runs anything. Only this shape exists: a base, a scope, a filter and
the attributes to return. There is no way to express an add, modify, delete or rename, so a
search line is read-only by construction; :func:`parse` refuses anything else.

The base may name a naming context read from the domain controller's rootDSE —
``{defaultNamingContext}``, ``{configurationNamingContext}``, ``{schemaNamingContext}`` — or
``{rootDSE}`` (the empty base, scope base). The line keeps the placeholder, so the plan, the raw
record and the evidence show one text for every domain; what it stood for on a given directory is
recorded with that directory's rootDSE.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

PLACEHOLDERS = (
    "{defaultNamingContext}",
    "{configurationNamingContext}",
    "{schemaNamingContext}",
    "{rootDSE}",
)
SCOPES = ("base", "one", "sub")
_ATTR = re.compile(r"^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$")  # a name or an OID (RFC 4512)


class SearchLineError(ValueError):
    """The line is not a search this product would run; the message says why."""


@dataclass(frozen=True)
class LdapSearch:
    """A parsed search. ``base`` may be one of :data:`PLACEHOLDERS`."""

    base: str
    scope: str
    filter: str
    attributes: tuple[str, ...]

    def line(self) -> str:
        """The canonical command line (what :func:`parse` reads back)."""
        words = ["ldapsearch", "-b", self.base, "-s", self.scope, self.filter, *self.attributes]
        return " ".join(shlex.quote(w) for w in words)

    def resolve(self, contexts: dict[str, str]) -> str:
        """The base DN on one directory: a placeholder replaced from its rootDSE."""
        if self.base == "{rootDSE}":
            return ""
        if self.base in PLACEHOLDERS:
            name = self.base.strip("{}")
            value = contexts.get(name, "")
            if not value:
                raise SearchLineError(f"the directory's rootDSE did not give {name}")
            return value
        return self.base


def parse(line: str) -> LdapSearch:
    """The search a line declares; :class:`SearchLineError` for anything else."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise SearchLineError(f"cannot split the line: {exc}") from None
    if not words or words[0] != "ldapsearch":
        raise SearchLineError("a directory command must be an ldapsearch line")
    base: str | None = None
    scope = "sub"
    rest: list[str] = []
    i = 1
    while i < len(words):
        w = words[i]
        if w in ("-b", "-s"):
            if i + 1 >= len(words):
                raise SearchLineError(f"{w} needs a value")
            if w == "-b":
                base = words[i + 1]
            else:
                scope = words[i + 1]
            i += 2
            continue
        if w.startswith("-"):
            raise SearchLineError(f"option {w} is not allowed (only -b BASE and -s SCOPE)")
        rest.append(w)
        i += 1
    if base is None:
        raise SearchLineError("the search names no base (-b)")
    if scope not in SCOPES:
        raise SearchLineError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    if not rest:
        raise SearchLineError("the search has no filter")
    flt, attrs = rest[0], tuple(rest[1:])
    _check_filter(flt)
    for a in attrs:
        if not _ATTR.match(a):
            raise SearchLineError(f"{a!r} is not an attribute name")
    if not attrs:
        raise SearchLineError("the search names no attributes (every attribute is never asked for)")
    if "{" in base and base not in PLACEHOLDERS:
        raise SearchLineError(f"unknown placeholder in base {base!r}")
    if base == "{rootDSE}" and scope != "base":
        raise SearchLineError("the rootDSE is read with scope base")
    return LdapSearch(base=base, scope=scope, filter=flt, attributes=attrs)


def _check_filter(flt: str) -> None:
    """A filter in parentheses with balanced nesting (RFC 4515's outer shape; the server parses
    the rest and refuses what it cannot read)."""
    if not (flt.startswith("(") and flt.endswith(")")):
        raise SearchLineError(f"filter {flt!r} is not in parentheses")
    depth = 0
    escaped = False
    for ch in flt:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                break
    if depth != 0:
        raise SearchLineError(f"filter {flt!r} has unbalanced parentheses")
