"""YAML (and JSON) files of an inventory: YAML inventories and group_vars/host_vars files.

Files are read like Ansible's loader reads them: JSON first, then YAML 1.1 (PyYAML's safe
loader) with Ansible's ``!unsafe`` and ``!vault`` tags. Every mapping remembers the line of
each key so that structure errors name ``file:line`` (JSON files, parsed without positions,
name ``file:field.path`` instead).
"""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from scanner.inventory.graph import InventoryGraph, InventoryWarning, UnsafeText
from scanner.inventory.patterns import PatternError, expand_host_range, parse_address
from scanner.inventory.vault import VaultedText, VaultKeys, decrypt, is_vaulted
from scanner.model.errors import InputError
from scanner.model.input_files import check_yaml_expansion, read_regular_file

_SECTIONS = ("vars", "children", "hosts")


def _mark_unsafe(value: Any) -> Any:
    if isinstance(value, str):
        return UnsafeText(value)
    if isinstance(value, list):
        return [_mark_unsafe(v) for v in value]
    if isinstance(value, dict):
        return {k: _mark_unsafe(v) for k, v in value.items()}
    return value


class _Loader(yaml.SafeLoader):
    """Safe loader that records the line of every mapping key and sequence."""

    def __init__(
        self, stream: str, path: Path | None = None, keys: VaultKeys | None = None
    ) -> None:
        super().__init__(stream)
        self.lines: dict[int, tuple[int, dict[Any, int]]] = {}
        self.path = path
        self.keys = keys

    def construct_yaml_map(self, node: yaml.MappingNode) -> Generator[dict[Any, Any], None, None]:
        data: dict[Any, Any] = {}
        yield data
        data.update(self.construct_mapping(node))
        keys = {self.construct_object(k): k.start_mark.line + 1 for k, _ in node.value}
        self.lines[id(data)] = (node.start_mark.line + 1, keys)

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Generator[list[Any], None, None]:
        data: list[Any] = []
        yield data
        data.extend(self.construct_sequence(node))
        self.lines[id(data)] = (node.start_mark.line + 1, {})

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date the calendar does not have (2026-02-30) is refused at its line."""
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from None

    def construct_unsafe(self, node: yaml.Node) -> Any:
        clone = copy.copy(node)
        clone.tag = self.resolve(type(node), node.value, (True, False))  # type: ignore[no-untyped-call]
        return _mark_unsafe(self.construct_object(clone, deep=True))

    def construct_vault(self, node: yaml.Node) -> VaultedText:
        if not isinstance(node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "!vault must tag a block of vault text", node.start_mark
            )
        where = f"{self.path}:{node.start_mark.line + 1}"
        return VaultedText(str(self.construct_scalar(node)), where, self.keys)


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_yaml_seq)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)
_Loader.add_constructor("!unsafe", _Loader.construct_unsafe)
_Loader.add_constructor("!vault", _Loader.construct_vault)


@dataclass
class Document:
    """A parsed file plus the line of each mapping key (empty for JSON)."""

    path: Path
    data: Any
    root_line: int = 1
    lines: dict[int, tuple[int, dict[Any, int]]] = field(default_factory=dict)
    sha256: str = ""
    """SHA-256 of the bytes parsed (set by :func:`load_document`)."""
    raw: bytes = field(default=b"", repr=False)
    """The bytes parsed, as read (set by :func:`load_document`; the evidence bundle copies them)."""

    def where(self, container: object, key: object = None, crumbs: tuple[str, ...] = ()) -> str:
        """``file:line`` of ``key`` in ``container`` (or of the container), else ``file:field``."""
        line, keys = self.lines.get(id(container), (0, {}))
        if key is not None and isinstance(container, dict):
            line = keys.get(key, line)
        if line:
            return f"{self.path}:{line}"
        if container is self.data and key is None:
            return f"{self.path}:{self.root_line}"
        dotted = ".".join([*crumbs, *([] if key is None else [str(key)])])
        return f"{self.path}:{dotted or self.root_line}"


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}", "the file is not valid UTF-8 text") from None


def _find_cycle(value: Any, open_ids: set[int], done: set[int]) -> Any:
    """A list or mapping that contains itself (a recursive YAML alias), else None."""
    if not isinstance(value, dict | list) or id(value) in done:
        return None
    if id(value) in open_ids:
        return value
    open_ids.add(id(value))
    for item in value.values() if isinstance(value, dict) else value:
        if (found := _find_cycle(item, open_ids, done)) is not None:
            return found
    open_ids.discard(id(value))
    done.add(id(value))
    return None


def parse_yaml(path: Path, text: str, keys: VaultKeys | None = None) -> Document:
    """Parse ``text`` (the contents of ``path``) as YAML, keeping key lines; ``!vault`` values
    become :class:`VaultedText` that open with ``keys``."""
    loader = None
    try:
        loader = _Loader(text, path, keys)
        node = loader.get_single_node()
        check_yaml_expansion(node, str(path), allow_cycles=True)  # before anything is built
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "invalid syntax"
        raise InputError(where, f"invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else str(exc.character)
        raise InputError(f"{path}:{line}", f"invalid YAML: {exc.reason} ({char})") from None
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"invalid YAML: {exc}") from None
    except RecursionError:
        raise InputError(str(path), "the YAML is nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    root_line = node.start_mark.line + 1 if node is not None else 1
    doc = Document(path, data, root_line, loader.lines)
    try:
        cycle = _find_cycle(data, set(), set())
    except RecursionError:
        raise InputError(str(path), "the YAML is nested too deeply") from None
    if cycle is not None:
        raise InputError(doc.where(cycle), "a YAML alias refers to its own anchor; expected data")
    return doc


def load_document(path: Path, keys: VaultKeys | None = None) -> Document:
    """Parse ``path`` as JSON if it is JSON, else as YAML (Ansible's order). A vault-encrypted
    file is decrypted with ``keys`` first (InputError without a password that opens it)."""
    raw = read_regular_file(path)
    text = _decode(path, raw)
    digest = hashlib.sha256(raw).hexdigest()
    if is_vaulted(text):
        text = decrypt(text, keys, f"{path}:1")
    try:
        return Document(path, json.loads(text), sha256=digest, raw=raw)
    except (ValueError, RecursionError):
        return replace(parse_yaml(path, text, keys), sha256=digest, raw=raw)


def load_vars_document(
    path: Path, keys: VaultKeys | None = None
) -> tuple[dict[str, Any], Document]:
    """A group_vars/host_vars file as a mapping, with the document that says where each key is
    (``doc.where(data, key)``)."""
    doc = load_document(path, keys)
    if not doc.data:
        return {}, doc
    if not isinstance(doc.data, dict):
        found = type(doc.data).__name__
        raise InputError(doc.where(doc.data), f"expected a mapping of variables, found a {found}")
    for key in doc.data:
        if not isinstance(key, str):
            raise InputError(doc.where(doc.data, key), f"variable name {key!r} is not text")
    return doc.data, doc


# --- YAML inventories --------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "string" if isinstance(value, str) else type(value).__name__


class YamlInventoryReader:
    """Reads one YAML inventory (``all: {hosts:, children:, vars:}``) into a graph."""

    def __init__(self, graph: InventoryGraph, doc: Document) -> None:
        self.graph = graph
        self.doc = doc

    def read(self) -> None:
        """Add every group, host and var of the document to the graph."""
        data = self.doc.data
        if not data:
            raise InputError(f"{self.doc.path}:{self.doc.root_line}", "the YAML inventory is empty")
        if not isinstance(data, dict):
            raise InputError(
                self.doc.where(data),
                f"expected a mapping of group names (such as 'all:'), found a {_type_name(data)}",
            )
        if data.get("plugin"):
            raise InputError(
                self.doc.where(data, "plugin"),
                "inventory plugin configurations are not supported; expected a YAML inventory",
            )
        for name, body in data.items():
            self._group(name, body, data, ())

    def _group(self, name: object, body: object, parent: object, crumbs: tuple[str, ...]) -> str:
        where = self.doc.where(parent, name, crumbs)
        if body is not None and not isinstance(body, dict):
            raise InputError(
                where,
                f"group {name!r} is a {_type_name(body)}; expected a mapping with "
                "'hosts', 'children' and/or 'vars'",
            )
        group = self.graph.add_group(name, where)
        if body is None:
            return group
        crumbs = (*crumbs, group)
        for section in _SECTIONS:
            if isinstance(body.get(section), str):
                body[section] = {body[section]: None}
            if section in body and not isinstance(body[section], dict | None):
                raise InputError(
                    self.doc.where(body, section, crumbs),
                    f"'{section}' of group {group!r} is a {_type_name(body[section])}; "
                    "expected a mapping",
                )
        for key, value in body.items():
            self._section(group, body, key, value, crumbs)
        return group

    def _section(
        self, group: str, body: dict[Any, Any], key: Any, value: Any, crumbs: tuple[str, ...]
    ) -> None:
        if value is None:
            return
        sub = (*crumbs, str(key))
        if key == "vars":
            for var, val in value.items():
                self.graph.set_group_var(group, var, val, self.doc.where(value, var, sub))
        elif key == "children":
            for child, child_body in value.items():
                name = self._group(child, child_body, value, sub)
                self.graph.add_child(group, name, self.doc.where(value, child, sub))
        elif key == "hosts":
            for entry, hvars in value.items():
                self._hosts(group, value, entry, hvars, sub)
        else:
            warnings.warn(
                f"{self.doc.where(body, key, crumbs)}: ignoring key {key!r} in group {group!r}; "
                "only 'hosts', 'children' and 'vars' are read (as in Ansible)",
                InventoryWarning,
                stacklevel=2,
            )

    def _hosts(
        self,
        group: str,
        hosts: dict[Any, Any],
        entry: object,
        hvars: object,
        crumbs: tuple[str, ...],
    ) -> None:
        where = self.doc.where(hosts, entry, crumbs)
        if not isinstance(entry, str):
            raise InputError(where, f"host entry {entry!r} must be text; quote numbers")
        if hvars and not isinstance(hvars, dict):
            raise InputError(
                where, f"host {entry!r} has a {_type_name(hvars)}; expected a mapping of variables"
            )
        names, port = expand_entry(entry, where)
        values: dict[Any, Any] = hvars if isinstance(hvars, dict) else {}
        crumbs = (*crumbs, entry)
        for name in names:
            self.graph.add_host(name, group, port, where)
            for var, val in values.items():
                self.graph.set_host_var(name, var, val, self.doc.where(values, var, crumbs))


def expand_entry(entry: str, where: str) -> tuple[list[str], int | None]:
    """Host names and port of one inventory host entry (``web[1:3]:2222``)."""
    try:
        pattern, port = parse_address(entry)
    except PatternError:
        pattern, port = entry, None
    try:
        return expand_host_range(pattern), port
    except PatternError as exc:
        raise InputError(where, str(exc)) from None


def read_yaml_inventory(
    path: Path, graph: InventoryGraph, keys: VaultKeys | None = None
) -> Document:
    """Parse the YAML/JSON inventory at ``path`` into ``graph``; return its document (with the
    bytes read and their SHA-256)."""
    doc = load_document(path, keys)
    YamlInventoryReader(graph, doc).read()
    return doc
