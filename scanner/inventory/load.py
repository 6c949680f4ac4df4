"""The inventory: Ansible INI/YAML sources read into hosts with fully resolved variables.

``load_inventory(["site.ini", "extra.yml"])`` reads each ``-i`` source in order into one graph
(files, directories of inventory files, or ``host1,host2`` lists), then resolves every host's
variables with Ansible's precedence (ansible-core 2.19, default settings):

1. inline vars of group ``all``;
2. inline vars of the host's other groups, sorted by depth, ``ansible_group_priority``, name;
3. ``group_vars/all`` beside each source; 4. ``group_vars/<group>`` beside each source (same
   group order); 5. inline host vars; 6. ``host_vars/<host>`` beside each source.

``group_vars/NAME`` may be a file ``NAME``, ``NAME.yml``, ``NAME.yaml`` or ``NAME.json`` (first
found) or a directory ``NAME/`` whose files are merged in sorted order.
Each host's ``e8_`` variables are then validated into a typed
:class:`~scanner.inventory.profile.HostProfile`; a bad value fails here, naming the file and line
that set it. ``Inventory.to_ansible_list`` prints what ``ansible-inventory --list`` prints (the
raw values); ``Inventory.select`` applies ``--limit``.

Why ~480 lines: Ansible's variable precedence (groups by depth, then name, group_vars before
host_vars, several inventories merged) is one algorithm; the file formats it reads live in
:mod:`~scanner.inventory.ini`, :mod:`~scanner.inventory.yml` and :mod:`~scanner.inventory.graph`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from scanner.inventory.graph import (
    ALL,
    UNGROUPED,
    InventoryGraph,
    InventoryWarning,
    UnsafeText,
    plain_value,
)
from scanner.inventory.ini import read_ini_inventory
from scanner.inventory.patterns import PatternError, parse_address, select_hosts
from scanner.inventory.profile import HostProfile, parse_profile
from scanner.inventory.script import is_inventory_script, read_inventory_script
from scanner.inventory.vault import HEADER, VaultedText, VaultKeys, decrypt
from scanner.inventory.yml import (
    YamlInventoryReader,
    load_vars_document,
    parse_yaml,
    read_yaml_inventory,
)
from scanner.model.errors import InputError
from scanner.model.input_files import read_regular_file
from scanner.model.redaction import secret_values

__all__ = [
    "FileRead",
    "Inventory",
    "InventoryHost",
    "InventoryWarning",
    "UnsafeText",
    "load_inventory",
]

VARS_EXTENSIONS = (".yml", ".yaml", ".json")
CAP_VAR = "e8_max_concurrency"
# Directory inventories skip these names, as Ansible does by default.
_IGNORED_IN_DIR = re.compile(
    r"^\.|^host_vars$|^group_vars$|^vars_plugins$"
    r"|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.cfg|\.retry)$"
)
# Variables that ``ansible-inventory --list`` never prints (its magic and internal names).
INTERNAL_VARS = frozenset(
    {
        *("ansible_async_path", "ansible_collection_name", "ansible_config_file"),
        *("ansible_dependent_role_names", "ansible_diff_mode", "ansible_facts", "ansible_forks"),
        *("ansible_inventory_sources", "ansible_limit", "ansible_play_batch"),
        *("ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_role_names"),
        *("ansible_playbook_python", "ansible_role_name", "ansible_role_names"),
        *("ansible_run_tags", "ansible_skip_tags", "ansible_verbosity", "ansible_version"),
        *("inventory_dir", "inventory_file", "inventory_hostname", "inventory_hostname_short"),
        *("groups", "group_names", "hostvars", "playbook_dir", "play_hosts"),
        *("role_name", "role_names", "role_path", "role_uuid"),
    }
)


class InventoryHost(BaseModel):
    """One host with its variables resolved as Ansible resolves them."""

    model_config = ConfigDict(frozen=True)

    name: str
    vars: dict[str, Any]
    groups: tuple[str, ...]
    """Every group the host is in (direct and inherited), sorted, without all/ungrouped."""
    profile: HostProfile = HostProfile()
    """The ``e8_`` variables, typed (``vars`` keeps the raw values, for ``--list``)."""
    secrets: frozenset[str] = Field(default=frozenset(), repr=False, exclude=True)
    """Every secret value of every layer the host's variables were merged from, overridden
    ones included: a value an alias copied from a secret overridden later is still a secret."""


class Inventory:
    """The hosts of one or more ``-i`` sources, in Ansible's inventory order."""

    def __init__(
        self,
        hosts: dict[str, InventoryHost],
        sources: list[Path],
        graph: InventoryGraph,
        caps: dict[str, int] | None = None,
        files_read: Sequence[FileRead] = (),
        host_lists: Sequence[str] = (),
    ) -> None:
        self.hosts = hosts
        self.sources = sources
        self._graph = graph
        self._caps = dict(caps or {})
        self.reads = list(files_read)
        """Every file the inventory was read from, in reading order, with the bytes parsed: the
        ``-i`` files, the files of ``-i`` folders and every group_vars/host_vars file (the
        evidence bundle copies exactly these)."""
        self.files_read = [(f.path, f.sha256) for f in self.reads]
        """The same files with the SHA-256 of the bytes parsed (``--resume`` refuses a journal
        written when any of them differed)."""
        self.host_lists = list(host_lists)
        """The ``-i host1,host2`` sources (text, not files)."""

    def group_caps(self) -> dict[str, int]:
        """Group name -> ``e8_max_concurrency`` for every group whose own vars set it
        (inline or in its group_vars file; a parent's cap bounds all hosts below it)."""
        return dict(self._caps)

    def select(self, pattern: str | None) -> list[InventoryHost]:
        """The hosts ``--limit PATTERN`` selects, in inventory order (``None``: every host).

        Raises InputError("--limit", ...) for a bad pattern or one that selects no host.
        """
        if pattern is None:
            return list(self.hosts.values())
        unmatched: list[str] = []
        try:
            names = select_hosts(pattern, self._graph, unmatched.append)
        except PatternError as exc:
            raise InputError("--limit", str(exc)) from None
        chosen = [host for name, host in self.hosts.items() if name in names]
        if not chosen:
            raise InputError("--limit", f"{pattern!r} matches no host in the inventory")
        for message in unmatched:
            _warn(message)
        return chosen

    def to_ansible_list(self, limit: str | None = None) -> dict[str, Any]:
        """Exactly what ``ansible-inventory --list [--limit LIMIT]`` prints, as JSON data."""
        chosen = {h.name for h in self.select(limit)} if limit else set(self.hosts)
        hostvars = {}
        for name in self.hosts:
            shown = {k: v for k, v in self.hosts[name].vars.items() if k not in INTERNAL_VARS}
            if name in chosen and shown:
                hostvars[name] = _to_json(shown)
        result: dict[str, Any] = {"_meta": {"hostvars": hostvars, "profile": "inventory_legacy"}}
        for group in self._graph.ordered_descendants(ALL):
            node = self._graph.groups[group]
            entry: dict[str, Any] = {}
            hosts = [h for h in node.hosts if h in chosen] if group != ALL else []
            if hosts:
                entry["hosts"] = hosts
            if node.children:
                entry["children"] = list(node.children)
            if entry:
                result[group] = entry
        return result


def _warn(message: str) -> None:
    warnings.warn(message, InventoryWarning, stacklevel=3)


def _json_key(key: object) -> str:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)
    return str(key)


def _to_json(value: Any) -> Any:
    """``value`` as ansible-inventory prints it (``!unsafe`` text wrapped, keys as text)."""
    if isinstance(value, UnsafeText):
        return {"__ansible_unsafe": str(value)}
    if isinstance(value, VaultedText):
        return {"__ansible_vault": value.envelope}
    if isinstance(value, dict):
        return {_json_key(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    return value


# --- sources -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FileRead:
    """One file the inventory was read from, as the loader read it."""

    path: Path
    """The path the loader opened (a ``-i`` path as given, a file of a ``-i`` folder, a
    group_vars/host_vars file), never resolved: a link is named by its own path."""
    sha256: str
    """SHA-256 of :attr:`data`."""
    data: bytes = field(repr=False)
    """The bytes parsed (vault-encrypted as on disk); for an inventory script, the JSON its
    ``--list`` printed."""
    target: str | None = None
    """Where :attr:`path` really leads when a symbolic link is on the way (resolved as it was
    read), else None."""
    script: bool = False
    """Whether :attr:`path` is an inventory script (:attr:`data` is its output)."""

    @classmethod
    def of(cls, path: Path, data: bytes, sha256: str = "", script: bool = False) -> FileRead:
        real = os.path.realpath(path)
        return cls(
            path,
            sha256 or hashlib.sha256(data).hexdigest(),
            data,
            target=real if real != os.path.abspath(path) else None,
            script=script,
        )


Read = list[FileRead]
"""Files read so far, each with the bytes parsed and their SHA-256."""


def _read_file(path: Path, graph: InventoryGraph, read: Read, keys: VaultKeys | None) -> None:
    """Parse one inventory file, choosing the reader the way Ansible's plugins would."""
    ext = os.path.splitext(path)[1]
    if is_inventory_script(path):  # Ansible's script plugin comes before yaml and ini
        digest, printed = read_inventory_script(path, graph)
        read.append(FileRead.of(path, printed, digest, script=True))
        return
    if ext in VARS_EXTENSIONS:
        parsed = read_yaml_inventory(path, graph, keys)
        read.append(FileRead.of(path, parsed.raw, parsed.sha256))
        return
    if ext == ".toml":
        raise InputError(str(path), "TOML inventories are not supported; expected INI or YAML")
    raw = read_regular_file(path)
    read.append(FileRead.of(path, raw))
    if raw.lstrip().startswith(HEADER.encode()):  # Ansible decrypts any inventory file first
        raw = _decrypted(path, raw, keys)
    if not ext:  # Ansible tries its YAML plugin first on files without an extension
        try:
            doc = parse_yaml(path, raw.decode("utf-8"), keys)
        except (InputError, UnicodeDecodeError):
            doc = None
        if doc is not None and isinstance(doc.data, dict) and doc.data:
            YamlInventoryReader(graph, doc).read()
            return
    read_ini_inventory(path, raw, graph)


def _decrypted(path: Path, raw: bytes, keys: VaultKeys | None) -> bytes:
    """The plaintext of a vault-encrypted inventory file (InputError naming it otherwise)."""
    try:
        envelope = raw.decode("ascii")
    except UnicodeDecodeError:
        raise InputError(f"{path}:1", "damaged vault text; expected ASCII hex") from None
    return decrypt(envelope, keys, f"{path}:1").encode("utf-8")


def _read_host_list(source: str, graph: InventoryGraph) -> None:
    for entry in (e.strip() for e in source.split(",")):
        if not entry:
            continue
        try:
            name, port = parse_address(entry)
        except PatternError:
            name, port = entry, None
        if "[" in name:
            name, port = entry, None
        if name not in graph.hosts:
            graph.add_host(name, UNGROUPED, port, f"-i {source}")


def _list_dir(path: Path) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        raise InputError(str(path), f"cannot list the directory: {exc.strerror or exc}") from None


def _read_dir(
    path: Path,
    graph: InventoryGraph,
    read: Read,
    keys: VaultKeys | None,
    seen: set[str] | None = None,
) -> None:
    seen = set() if seen is None else seen
    real = os.path.realpath(path)
    if real in seen:
        return  # a symlink back up the tree
    seen.add(real)
    for name in _list_dir(path):
        if _IGNORED_IN_DIR.search(name):
            continue
        full = path / name
        if full.is_dir():
            _read_dir(full, graph, read, keys, seen)
        else:
            _read_file(full, graph, read, keys)


def _read_source(
    source: str | Path, graph: InventoryGraph, read: Read, lists: list[str], keys: VaultKeys | None
) -> Path | None:
    """Read one ``-i`` source; return the directory its group_vars/host_vars live in.

    Files read are appended to ``read``, host-list sources to ``lists``."""
    text = str(source)
    path = Path(source)
    if not path.exists():
        if "," in text:
            _read_host_list(text, graph)
            lists.append(text)
            return None
        raise InputError(
            text,
            "inventory source not found; expected an INI or YAML file, a directory "
            "or a comma-separated host list",
        )
    if path.is_dir():
        _read_dir(path, graph, read, keys)
        return Path(os.path.realpath(path))
    _read_file(path, graph, read, keys)
    return Path(os.path.realpath(os.path.dirname(os.path.abspath(path))))


# --- group_vars / host_vars --------------------------------------------------------------------


def _dir_files(folder: Path, seen: frozenset[str] = frozenset()) -> list[Path]:
    """Vars files under ``folder`` in sorted order (hidden files and backups skipped)."""
    real = os.path.realpath(folder)
    if real in seen:
        return []  # a symlink back up the tree
    found: list[Path] = []
    for name in _list_dir(folder):
        if name.startswith(".") or name.endswith("~"):
            continue
        full, ext = folder / name, os.path.splitext(name)[1]
        if full.is_dir() and not ext:
            found.extend(_dir_files(full, seen | {real}))
        elif full.is_file() and (not ext or ext in VARS_EXTENSIONS):
            found.append(full)
    return found


class VarsFiles:
    """group_vars/ and host_vars/ files beside the inventory sources, each read once."""

    def __init__(self, dirs: list[Path], keys: VaultKeys | None = None) -> None:
        self.dirs = dirs
        self.keys = keys
        self._cache: dict[tuple[Path, str, str], dict[str, Any]] = {}
        self.origin: dict[tuple[Path, str], str] = {}
        """(base/kind/name folder, variable) -> ``file:line`` of the file that set it last."""
        self.read: Read = []
        """Every vars file read (with its SHA-256), in reading order."""

    def lookup(self, base: Path, kind: str, name: str) -> dict[str, Any]:
        """The merged vars of ``base/kind/name`` ({} when there is no such file)."""
        key = (base, kind, name)
        if key not in self._cache:
            self._cache[key] = self._load(base / kind, name)
        return self._cache[key]

    def _load(self, folder: Path, name: str) -> dict[str, Any]:
        if not folder.is_dir():
            if folder.exists():
                _warn(f"{folder} is not a directory; skipping it")
            return {}
        if name in (".", "..") or "/" in name or "\\" in name:
            return {}  # never look outside group_vars/host_vars
        files: list[Path] = []
        for ext in ("", *VARS_EXTENSIONS):
            candidate = folder / f"{name}{ext}"
            if candidate.exists():
                files = _dir_files(candidate) if candidate.is_dir() else [candidate]
                break
        merged: dict[str, Any] = {}
        for file in files:
            loaded, doc = load_vars_document(file, self.keys)
            self.read.append(FileRead.of(file, doc.raw, doc.sha256))
            merged |= {k: plain_value(v) for k, v in loaded.items()}
            self.origin.update({(folder / name, k): doc.where(loaded, k) for k in loaded})
        return merged

    def where(self, kind: str, name: str, key: str) -> str | None:
        """``file:line`` of ``key`` in the last file among the sources that set it for ``name``."""
        found = [self.origin.get((base / kind / name, key)) for base in self.dirs]
        last = [f for f in found if f is not None]
        return last[-1] if last else None

    def last_where(self, kind: str, names: Sequence[str], key: str) -> str | None:
        """``file:line`` that gives ``key`` its value in :meth:`merged` of the same names."""
        found = (self.origin.get((base / kind / n, key)) for base in self.dirs for n in names)
        last = [f for f in found if f is not None]
        return last[-1] if last else None

    def layers(self, kind: str, names: Sequence[str]) -> list[dict[str, Any]]:
        """The vars of each name in ``names`` from each source directory, in merging order."""
        return [self.lookup(base, kind, name) for base in self.dirs for name in names]

    def merged(self, kind: str, names: Sequence[str]) -> dict[str, Any]:
        """Vars of every name in ``names`` from every source directory, later ones winning."""
        result: dict[str, Any] = {}
        for base in self.dirs:
            for name in names:
                result |= self.lookup(base, kind, name)
        return result


def _secrets(layers: Sequence[dict[str, Any]], cache: dict[int, frozenset[str]]) -> frozenset[str]:
    """The secret values of every layer (each layer's are found once, however many hosts)."""
    found: set[str] = set()
    for layer in layers:
        if id(layer) not in cache:
            named = secret_values(layer) - {VaultedText.PLACEHOLDER}
            cache[id(layer)] = frozenset(named) | _vault_plaintexts(layer)
        found |= cache[id(layer)]
    return frozenset(found)


def _resolve(
    graph: InventoryGraph, files: VarsFiles, name: str, cache: dict[int, frozenset[str]]
) -> InventoryHost:
    """One host's variables with Ansible's precedence (see the module docstring)."""
    member_of = graph.host_groups(name)
    ordered = graph.sorted_groups(member_of - {ALL})
    resolved = dict(graph.groups[ALL].vars)
    for group in ordered:
        resolved |= graph.groups[group].vars
    resolved |= files.merged("group_vars", [ALL])
    resolved |= files.merged("group_vars", ordered)
    resolved |= graph.hosts[name].vars
    resolved |= files.merged("host_vars", [name])
    groups = tuple(sorted(member_of - {ALL, UNGROUPED}))

    def where(key: str) -> str:
        """Where ``key`` got the value it resolved to (the same layers, last first)."""
        found = (
            files.last_where("host_vars", [name], key)
            or graph.hosts[name].where.get(key)
            or files.last_where("group_vars", ordered, key)
            or files.last_where("group_vars", [ALL], key)
        )
        for group in (*reversed(ordered), ALL):
            found = found or graph.groups[group].where.get(key)
        return found or f"host {name}"

    for key, value in resolved.items():
        if (
            isinstance(value, VaultedText)
            and key not in VAULT_READ
            and key.startswith(READ_PREFIXES)
        ):
            raise InputError(
                where(key),
                f"{key} is vault-encrypted; e8scan opens vaulted passwords only "
                f"({', '.join(sorted(VAULT_READ))}): give this value in clear or through a "
                "variable e8scan reads from the environment",
            )
    profile = parse_profile(resolved, where)
    layers = [
        graph.groups[ALL].vars,
        *(graph.groups[g].vars for g in ordered),
        *files.layers("group_vars", [ALL, *ordered]),
        graph.hosts[name].vars,
        *files.layers("host_vars", [name]),
    ]
    return InventoryHost(
        name=name,
        vars=resolved,
        groups=groups,
        profile=profile,
        secrets=_secrets(layers, cache),
    )


def _group_caps(graph: InventoryGraph, files: VarsFiles) -> dict[str, int]:
    """``e8_max_concurrency`` of each group that sets it, checked to be a whole number >= 1."""
    caps: dict[str, int] = {}
    for name, node in graph.groups.items():
        from_files = files.merged("group_vars", [name])
        if CAP_VAR in from_files:
            value, where = from_files[CAP_VAR], files.where("group_vars", name, CAP_VAR)
        elif CAP_VAR in node.vars:
            value, where = node.vars[CAP_VAR], node.where[CAP_VAR]
        else:
            continue
        try:
            cap = int(value) if not isinstance(value, bool | float) else 0
        except (TypeError, ValueError):
            cap = 0
        if cap < 1:
            raise InputError(
                where or name,
                f"{CAP_VAR} of group {name!r} is {value!r}; expected a whole number >= 1",
            )
        caps[name] = cap
    return caps


# The variables e8scan reads (connection and host profile) start so; of them, only the
# passwords are opened from a vault (scanner.inventory.connection): any other vaulted one would
# silently become the text "<vault-encrypted>", so it is refused where it was set.
READ_PREFIXES = ("ansible_", "e8_")
VAULT_READ = frozenset({"ansible_password", "ansible_ssh_pass"})


def _vault_plaintexts(layer: dict[str, Any]) -> frozenset[str]:
    """The plaintext of every ``!vault`` value in ``layer`` (when a password was given): each
    is a secret, whatever its variable is called. As in Ansible, a value no password opens is
    an error only where it is used (:func:`~scanner.inventory.connection.spec_for`)."""
    found: set[str] = set()
    stack: list[tuple[str, Any]] = list(layer.items())
    while stack:
        name, value = stack.pop()
        if isinstance(value, VaultedText) and value.can_reveal:
            with contextlib.suppress(InputError):  # unopened, it cannot leak; using it fails
                found.add(value.reveal(name))
        elif isinstance(value, dict):
            stack.extend((f"{name}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((name, v) for v in value)
    return frozenset(found)


def load_inventory(paths: Sequence[str | Path], vault: VaultKeys | None = None) -> Inventory:
    """Read every ``-i`` source in order, merged as Ansible merges them.

    Raises InputError (naming file:line and what was expected) for any bad input. Warns
    (``InventoryWarning``) where Ansible accepts something suspicious, such as a host
    defined twice with conflicting values (the later value wins, as in Ansible).
    """
    if not paths:
        raise InputError("-i", "no inventory given; expected an INI or YAML inventory")
    try:
        return _load(paths, vault)
    except RecursionError:
        where = ", ".join(str(p) for p in paths)
        raise InputError(where, "the inventory is nested too deeply") from None


def _load(paths: Sequence[str | Path], keys: VaultKeys | None) -> Inventory:
    graph = InventoryGraph()
    read: Read = []
    lists: list[str] = []
    sources = (_read_source(p, graph, read, lists, keys) for p in paths)
    dirs = [d for d in sources if d is not None]
    graph.reconcile()
    files = VarsFiles(dirs, keys)
    cache: dict[int, frozenset[str]] = {}
    hosts = {n: _resolve(graph, files, n, cache) for n in graph.hosts_in_group(ALL)}
    caps = _group_caps(graph, files)
    every = {(f.path, f.sha256): f for f in [*read, *files.read]}  # each read once
    return Inventory(hosts, [Path(p) for p in paths], graph, caps, list(every.values()), lists)
