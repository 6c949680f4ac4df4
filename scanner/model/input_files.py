"""Reading an input file the user named, with its cost bounded before any work is done.

Two guards every reader of user files shares:

* :func:`read_regular_file` reads a *regular* file only, and at most :data:`MAX_INPUT_BYTES`:
  a FIFO, socket or device (``-i /dev/stdin``, a named pipe left as ``group_vars/all``) is
  refused with one line instead of blocking forever, and the check happens on the opened file
  (``O_NONBLOCK``, then ``fstat``), so the path cannot be swapped in between.
* :func:`check_yaml_expansion` measures a composed YAML node graph before it is constructed:
  aliases (``*a``) and merge keys (``<<: *a``) may repeat nodes, and a 700-byte "billion
  laughs" file expands to billions of values. Expansion beyond the file's own nodes is capped
  at :data:`MAX_ALIAS_NODES`, counted in one linear pass over the distinct nodes.
  :func:`load_yaml` is ``yaml.safe_load`` with that check (and dates the calendar has).

:func:`read_utf8` and :func:`read_yaml` build on both for the small files a user gives (policy,
framework definition and tables): bytes that are not UTF-8, YAML errors and dates the calendar
does not have (``2026-02-30``) become one InputError naming the file and line.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from scanner.model.errors import InputError

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""The largest input file read (inventory, vars, policy, register, framework): 64 MiB."""
MAX_ALIAS_NODES = 1_000_000
"""How many nodes YAML aliases and merge keys may add to a document beyond its own."""
_SATURATE = 10**15  # expanded sizes are counted up to here (no huge integers)

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse_special(path: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise InputError(str(path), f"is {_kind(mode)}; expected a regular file")


def read_regular_file(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; else InputError."""
    try:
        _refuse_special(path, os.stat(path).st_mode)  # never even open a device or FIFO
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        try:
            info = os.fstat(fd)
            _refuse_special(path, info.st_mode)  # swapped after the stat above
            if info.st_size > limit:
                raise InputError(str(path), _too_big(info.st_size, limit))
            data = fh.read(info.st_size + 1)  # never a buffer of ``limit`` bytes up front
            if len(data) > info.st_size:  # grew since fstat (or a size-0 /proc file)
                data += fh.read(limit + 1 - len(data))
        except OSError as exc:
            raise InputError(str(path), f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > limit:  # grew while being read
        raise InputError(str(path), _too_big(len(data), limit))
    return data


def _too_big(size: int, limit: int) -> str:
    return f"the file is {size:,} bytes; input files are limited to {limit:,} bytes"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class YamlCycle(Exception):
    """A node that contains itself through an alias (``&a [*a]``); ``node`` is that node."""

    def __init__(self, node: yaml.Node) -> None:
        super().__init__("a YAML alias refers to its own anchor")
        self.node = node


def expansion(root: yaml.Node) -> tuple[int, int]:
    """(distinct nodes, nodes once every alias is expanded) of a composed document.

    One pass over the distinct nodes (sizes memoised by node), however far the aliases
    multiply. Raises :class:`YamlCycle` for a node that contains itself.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            sizes[key] = min(total, _SATURATE)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YamlCycle(node)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return len(sizes), sizes[id(root)]


def check_yaml_expansion(root: yaml.Node | None, where: str, allow_cycles: bool = False) -> None:
    """Refuse a document whose aliases expand it by more than :data:`MAX_ALIAS_NODES` nodes,
    and (unless ``allow_cycles``: the caller reports it) one with a self-referencing alias."""
    if root is None:
        return
    try:
        distinct, expanded = expansion(root)
    except YamlCycle as cycle:
        if allow_cycles:
            return
        line = f"{where}:{cycle.node.start_mark.line + 1}"
        raise InputError(line, "a YAML alias refers to its own anchor; expected data") from None
    if expanded - distinct > MAX_ALIAS_NODES:
        added = "over 10^15" if expanded >= _SATURATE else f"{expanded - distinct:,}"
        raise InputError(
            where,
            f"YAML aliases expand this document by {added} values (an alias bomb?); "
            f"expected at most {MAX_ALIAS_NODES:,}",
        )


def load_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load(text)`` with :func:`check_yaml_expansion` before anything is built.

    YAML errors propagate as ``yaml.YAMLError`` (callers name the line).
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        check_yaml_expansion(node, where)
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; a date the calendar does not have (2026-02-30) is refused at its line."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_utf8(path: Path, what: str) -> str:
    """The text of ``path`` (a regular file, see :func:`read_regular_file`); bytes that are not
    UTF-8 raise InputError naming the line."""
    raw = read_regular_file(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}", f"{what} is not valid UTF-8 text") from None


def read_yaml(path: Path, what: str) -> Any:
    """The YAML document in ``path``; every problem is one InputError line with the file:line."""
    text = read_utf8(path, what)
    try:
        return load_yaml(text, str(path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = " ".join(str(exc.problem or exc.context or "invalid syntax").split())
        raise InputError(where, f"not valid YAML ({problem})") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise InputError(f"{path}:{line}", f"not valid YAML ({exc.reason})") from None
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"not valid YAML ({' '.join(str(exc).split())})") from None
    except RecursionError:
        raise InputError(str(path), "the YAML is nested too deeply") from None
