"""Ansible INI inventories: ``[group]``, ``[group:children]``, ``[group:vars]`` and host lines.

Values follow ansible-core 2.19 exactly: a value on a host line *and* in a ``:vars`` section
is read with :func:`ast.literal_eval` when it is a Python literal (``8080`` is a number,
``True`` a boolean, ``'[1, 2]'`` a list) and kept as text otherwise. Host lines are split
like a shell line (quotes group words, ``#`` starts a comment); a ``:vars`` line is one
``key=value`` with everything after ``=`` the value. A ``[g:vars]`` or ``[g:children]`` entry
may name a group defined later in the file; one never defined is an error, as in Ansible.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.inventory.graph import UNGROUPED, InventoryGraph, UnsafeText
from scanner.inventory.yml import expand_entry
from scanner.model.errors import InputError
from scanner.model.redaction import names_secret, redact_line

_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?")
_SECTION_START = re.compile(r"\[[^:\]\s]+(?::\w+)?\]\s*[^\s:]")
_GROUP_NAME = re.compile(r"([^:\]\s]+)\s*(?:#.*)?")
_STATES = ("hosts", "children", "vars")


def _coerce(value: Any) -> Any:
    """Ansible's clean-up of a literal: sequences become lists, ``...`` and complex numbers
    text, bytes text that must not be templated."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | set):
        return [_coerce(v) for v in value]
    if isinstance(value, dict):
        return {k: _coerce(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return UnsafeText(value.decode("utf-8", "surrogateescape"))
    if value is Ellipsis or isinstance(value, complex):
        return "..." if value is Ellipsis else str(value)
    return value


def _shown(line: str) -> str:
    """``line`` as an error message may quote it: secret values redacted (and anything after a
    secret's name when no ``=`` says where its value is), at most 120 characters."""
    shown = redact_line(line)[0]
    if shown == line:
        words = line.split()
        for i, word in enumerate(words):
            if names_secret(re.split(r"[=:]", word, maxsplit=1)[0]):
                shown = " ".join([*words[: i + 1], "…"]) if i + 1 < len(words) else line
                break
    return repr(shown[:120])


def parse_value(text: str, where: str, key: str = "") -> Any:
    """An INI value: a Python literal when ``text`` is one, else the text itself (``key``, the
    variable it is for, keeps a secret's text out of the error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _coerce(ast.literal_eval(text))
        except (ValueError, SyntaxError):
            return text
        except (TypeError, MemoryError, RecursionError) as exc:
            shown = "of " + key if names_secret(key) else repr(text[:60])
            raise InputError(where, f"cannot read value {shown}: {exc}") from None


_BLANK = " \t\r\n"
_PLAIN_RUN = re.compile(r"[^ \t\r\n#\\'\"]*")
_QUOTED_RUN = re.compile(r'[^"\\]*')


def split_host_line(line: str) -> list[str]:
    """``shlex.split(line, comments=True)``, token for token, in one linear pass.

    ``shlex`` grows each token one character at a time (``token = token + c``), so a single
    1 MB word took 35 s; this keeps its POSIX rules: blanks split words, ``'...'`` is literal,
    ``"..."`` honours ``\\"`` and ``\\\\``, a backslash outside quotes escapes any character, and
    ``#`` starts a comment even inside a word. Raises ValueError as shlex does.
    """
    tokens: list[str] = []
    word: list[str] = []
    in_word = False  # a word has started (an empty quoted word '' counts)
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in _BLANK:
            if in_word:
                tokens.append("".join(word))
                word, in_word = [], False
            i += 1
        elif c == "#":
            break
        elif c == "\\":
            if i + 1 >= n:
                raise ValueError("No escaped character")
            word.append(line[i + 1])
            in_word, i = True, i + 2
        elif c == "'":
            stop = line.find("'", i + 1)
            if stop < 0:
                raise ValueError("No closing quotation")
            word.append(line[i + 1 : stop])
            in_word, i = True, stop + 1
        elif c == '"':
            i = _double_quoted(line, i + 1, word)
            in_word = True
        else:
            stop = _run_end(_PLAIN_RUN, line, i)
            word.append(line[i:stop])
            in_word, i = True, stop
    if in_word:
        tokens.append("".join(word))
    return tokens


def _run_end(run: re.Pattern[str], line: str, i: int) -> int:
    """Where the run of characters ``run`` matches from ``line[i]`` ends."""
    found = run.match(line, i)
    return found.end() if found else i


def _double_quoted(line: str, i: int, word: list[str]) -> int:
    """Append the body of a ``"..."`` starting at ``line[i]`` to ``word``; return the index after
    the closing quote."""
    n = len(line)
    while i < n:
        c = line[i]
        if c == '"':
            return i + 1
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("No escaped character")
            nxt = line[i + 1]
            word.append(nxt if nxt in '"\\' else c + nxt)
            i += 2
            continue
        stop = _run_end(_QUOTED_RUN, line, i)
        word.append(line[i:stop])
        i = stop
    raise ValueError("No closing quotation")


def decode_lines(path: Path, raw: bytes) -> list[str]:
    """The lines of an INI file; comment lines may hold any bytes, other lines must be UTF-8.

    A UTF-8 byte order mark (Windows editors) is dropped.
    """
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        pass
    lines = []
    for number, line in enumerate(raw.splitlines(), 1):
        if line[:1] in (b"#", b";"):
            lines.append("")
            continue
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"{path}:{number}", "the line is not valid UTF-8 text") from None
    return lines


@dataclass
class _Pending:
    """A group named in ``[g:vars]`` or ``[p:children]`` before its own section."""

    where: str
    state: str
    parents: list[tuple[str, str]] = field(default_factory=list)


class IniInventoryReader:
    """Reads one INI inventory file into a graph, line by line."""

    def __init__(self, graph: InventoryGraph, path: Path) -> None:
        self.graph = graph
        self.path = path
        self.group = UNGROUPED
        self.state = "hosts"
        self.pending: dict[str, _Pending] = {}

    def read(self, lines: list[str]) -> None:
        """Add the hosts, groups and vars of ``lines`` to the graph."""
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if line and line[0] not in "#;":
                self._line(line, f"{self.path}:{number}")
        self._report_pending()

    def _line(self, line: str, where: str) -> None:
        header = _SECTION.fullmatch(line)
        if header:
            self._section(header.group(1), header.group(2) or "hosts", where)
        elif line.startswith("[") and (
            line.endswith("]") or "]" not in line or _SECTION_START.match(line)
        ):
            raise InputError(
                where,
                f"bad section header {_shown(line)}; expected [group], [group:children] or "
                "[group:vars] (no spaces inside the brackets)",
            )
        elif self.state == "hosts":
            self._host_line(line, where)
        elif self.state == "vars":
            self._vars_line(line, where)
        else:
            self._child_line(line, where)

    def _section(self, name: str, state: str, where: str) -> None:
        if state not in _STATES:
            raise InputError(
                where,
                f"section [{name}:{state}] has unknown type {state!r}; expected "
                "[group], [group:children] or [group:vars]",
            )
        self.group, self.state = name, state
        if name not in self.graph.groups:
            if state == "vars" and name not in self.pending:
                self.pending[name] = _Pending(where, state)
            self.graph.add_group(name, where)
        if name in self.pending and state != "vars":
            if self.pending[name].state == "children":
                self._adopt(name)
            else:
                del self.pending[name]

    def _adopt(self, name: str) -> None:
        """Group ``name`` is now defined: attach it to the parents that listed it earlier."""
        for parent, where in self.pending[name].parents:
            self.graph.add_child(parent, name, where)
            if parent in self.pending and self.pending[parent].state == "children":
                self._adopt(parent)
        self.pending.pop(name, None)

    def _host_line(self, line: str, where: str) -> None:
        try:
            tokens = split_host_line(line)
        except ValueError as exc:
            raise InputError(where, f"cannot split host line {_shown(line)}: {exc}") from None
        if not tokens:
            raise InputError(where, f"expected a host name, found {_shown(line)}")
        entry = tokens[0]
        names, port = expand_entry(entry, where)
        if entry.strip().endswith(":") and port is None:
            raise InputError(where, f"host {entry!r} ends with ':'; expected host or host:port")
        if "---" in names:
            raise InputError(where, "found '---', a YAML document start; expected INI host lines")
        values: dict[str, Any] = {}
        for token in tokens[1:]:
            if "=" not in token:
                raise InputError(where, f"expected key=value after host {entry!r}, found {token!r}")
            key, text = token.split("=", 1)
            values[key] = parse_value(text, where, key)
        for name in names:
            self.graph.add_host(name, self.group, port, where)
            for key, value in values.items():
                self.graph.set_host_var(name, key, value, where)

    def _vars_line(self, line: str, where: str) -> None:
        if "=" not in line:
            raise InputError(
                where, f"expected key=value in [{self.group}:vars], found {_shown(line)}"
            )
        key, text = (part.strip() for part in line.split("=", 1))
        self.graph.set_group_var(self.group, key, parse_value(text, where, key), where)

    def _child_line(self, line: str, where: str) -> None:
        match = _GROUP_NAME.fullmatch(line)
        if not match:
            raise InputError(
                where, f"expected one group name in [{self.group}:children], found {_shown(line)}"
            )
        child = match.group(1)
        if child in self.graph.groups:
            self.graph.add_child(self.group, child, where)
        else:
            self.pending.setdefault(child, _Pending(where, "children")).parents.append(
                (self.group, where)
            )

    def _report_pending(self) -> None:
        for name, decl in self.pending.items():
            if decl.state == "vars":
                raise InputError(
                    decl.where,
                    f"[{name}:vars] is for group {name!r}, which is never defined; expected a "
                    f"[{name}] or [{name}:children] section",
                )
            parent = decl.parents[-1][0]
            hint = " (variables go in a [group:vars] section)" if "=" in name else ""
            shown = _shown(name)
            raise InputError(
                decl.where,
                f"[{parent}:children] lists {shown}, which is never defined as a group; "
                f"expected a [{shown[1:-1]}] or [{shown[1:-1]}:children] section{hint}",
            )


def read_ini_inventory(path: Path, raw: bytes, graph: InventoryGraph) -> None:
    """Parse the INI inventory ``raw`` (the bytes of ``path``, decrypted if it was a vault) into
    ``graph``."""
    IniInventoryReader(graph, path).read(decode_lines(path, raw))
