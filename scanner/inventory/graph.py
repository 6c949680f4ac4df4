"""The inventory graph the INI and YAML readers build: groups, hosts, edges and inline vars.

It behaves like Ansible's ``InventoryData``: groups 'all' and 'ungrouped' always exist, a host
keeps the first port it was given, later inline values replace earlier ones, and
:meth:`InventoryGraph.reconcile` hangs parentless groups under 'all' and parentless hosts under
'ungrouped'. Group depth (for variable precedence) is the longest path from 'all'.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scanner.inventory.vault import VaultedText
from scanner.model.errors import InputError

ALL = "all"
UNGROUPED = "ungrouped"
PRIORITY_VAR = "ansible_group_priority"
MAX_HOSTS = 100_000
"""The most hosts one inventory (all ``-i`` sources together) may define."""


class InventoryWarning(UserWarning):
    """Something Ansible accepts but that is probably a mistake (a host redefined with other
    values, a name used for both a host and a group, an ignored YAML key)."""


@dataclass
class GroupNode:
    """One group: its direct hosts and child groups (in the order added), inline vars and
    where each var was last set. Hosts, children and parents are ordered sets (dicts with
    ``None`` values): adding a member is one lookup, so reading N hosts costs O(N), not O(N^2)."""

    name: str
    hosts: dict[str, None] = field(default_factory=dict)
    children: dict[str, None] = field(default_factory=dict)
    parents: dict[str, None] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    priority: int = 1


@dataclass
class HostNode:
    """One host: its direct groups, inline vars and where each var was last set."""

    name: str
    groups: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)


class UnsafeText(str):
    """Text that Ansible must never template (YAML ``!unsafe``); behaves as a plain string."""

    __slots__ = ()


def plain_value(value: Any) -> Any:
    """``value`` as JSON-like data, converted the way ``ansible-inventory --list`` prints it.

    Dates become ISO text, tuples and sets lists, bytes text, complex numbers and ``...``
    their text. ``UnsafeText`` is kept (it is a ``str``), and so is ``VaultedText``.
    """
    if value is None or isinstance(value, str | bool | int | float | VaultedText):
        return value
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_value(v) for v in value]
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if value is Ellipsis:
        return "..."
    return str(value)


def _check_var_name(key: object, where: str) -> str:
    if not isinstance(key, str):
        raise InputError(where, f"variable name {key!r} is a {type(key).__name__}; expected text")
    return key


class InventoryGraph:
    """Groups and hosts in the order first seen, with Ansible's add/merge rules."""

    def __init__(self) -> None:
        self.groups: dict[str, GroupNode] = {}
        self.hosts: dict[str, HostNode] = {}
        self._members: dict[str, list[str]] = {}
        self._depths: dict[str, int] | None = None
        self.add_group(ALL, "<built-in>")
        self.add_group(UNGROUPED, "<built-in>")
        self.add_child(ALL, UNGROUPED, "<built-in>")

    # --- building ------------------------------------------------------------------------------

    def add_group(self, name: object, where: str) -> str:
        """Create group ``name`` unless it exists; return the name."""
        if not isinstance(name, str) or not name:
            raise InputError(where, f"group name {name!r} is not valid; expected non-empty text")
        if name not in self.groups:
            self.groups[name] = GroupNode(name)
            self._members.clear()
            self._depths = None
        return name

    def add_host(self, name: str, group: str, port: int | None, where: str) -> None:
        """Add host ``name`` (created with ``ansible_port`` = ``port`` if new) to ``group``."""
        if not name:
            raise InputError(where, "empty host name; expected a host name or address")
        host = self.hosts.get(name)
        if host is None:
            if len(self.hosts) >= MAX_HOSTS:
                raise InputError(
                    where, f"the inventory defines more than {MAX_HOSTS:,} hosts; expected fewer"
                )
            host = self.hosts[name] = HostNode(name)
            if port:
                self.set_host_var(name, "ansible_port", port, where)
        elif port and host.vars.get("ansible_port") != port:
            old = host.where.get("ansible_port", "its first entry")
            warnings.warn(
                f"{where}: host {name!r} given port {port} again; Ansible keeps the port "
                f"from {old}",
                InventoryWarning,
                stacklevel=2,
            )
        node = self.groups[group]
        if name not in node.hosts:
            node.hosts[name] = None
            host.groups.append(group)
            self._members.clear()

    def add_child(self, parent: str, child: str, where: str) -> None:
        """Make group ``child`` a child of group ``parent``; refuse loops."""
        if parent == child:
            raise InputError(where, f"group {child!r} is listed as a child of itself")
        if child in self.ancestors(parent):
            raise InputError(
                where, f"making {child!r} a child of {parent!r} creates a loop of child groups"
            )
        self.groups[parent].children[child] = None
        self.groups[child].parents[parent] = None
        self._members.clear()
        self._depths = None

    def set_group_var(self, group: str, key: object, value: Any, where: str) -> None:
        """Set an inline group var; ``ansible_group_priority`` sets the priority instead."""
        name = _check_var_name(key, where)
        if name != PRIORITY_VAR:
            self.groups[group].vars[name] = plain_value(value)
            self.groups[group].where[name] = where
            return
        try:
            self.groups[group].priority = int(value)
        except (TypeError, ValueError, OverflowError):
            raise InputError(
                where, f"{PRIORITY_VAR} is {value!r}; expected a whole number"
            ) from None

    def set_host_var(self, host: str, key: object, value: Any, where: str) -> None:
        """Set an inline host var; warn (naming both places) when it overrides another value."""
        name = _check_var_name(key, where)
        value = plain_value(value)
        node = self.hosts[host]
        if name in node.vars and node.vars[name] != value:
            warnings.warn(
                f"{where}: host {host!r} sets {name!r} again, conflicting with "
                f"{node.where[name]}; the later value wins (as in Ansible)",
                InventoryWarning,
                stacklevel=2,
            )
        node.vars[name] = value
        node.where[name] = where

    def reconcile(self) -> None:
        """Put parentless groups under 'all' and hosts without a real group in 'ungrouped'."""
        for name, node in list(self.groups.items()):
            if name != ALL and not node.parents:
                self.add_child(ALL, name, "<built-in>")
        ungrouped = self.groups[UNGROUPED]
        for name in self.hosts:
            closure = self.host_groups(name)
            if UNGROUPED in closure and closure - {ALL, UNGROUPED}:
                if name in ungrouped.hosts:
                    del ungrouped.hosts[name]
                    self.hosts[name].groups.remove(UNGROUPED)
            elif not closure - {ALL}:
                self.add_host(name, UNGROUPED, None, "<built-in>")
        for name in sorted(self.groups.keys() & self.hosts.keys()):
            warnings.warn(
                f"{name!r} is both a host and a group name; --limit {name} selects the host only",
                InventoryWarning,
                stacklevel=2,
            )
        self._members.clear()

    # --- queries -------------------------------------------------------------------------------

    def ancestors(self, group: str) -> set[str]:
        """Every group above ``group`` (not itself)."""
        seen: set[str] = set()
        todo = list(self.groups[group].parents)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(self.groups[name].parents)
        return seen

    def host_groups(self, host: str) -> set[str]:
        """Every group ``host`` is in, directly or through a child group."""
        direct = self.hosts[host].groups
        return set(direct).union(*(self.ancestors(g) for g in direct))

    def depths(self) -> dict[str, int]:
        """Each group's depth: the longest chain of parents up to a root ('all' is 0).

        Computed once per shape of the graph (every host's variables are sorted with it)."""
        if self._depths is None:
            self._depths = self._compute_depths()
        return self._depths

    def _compute_depths(self) -> dict[str, int]:
        depth: dict[str, int] = {}
        for start in self.groups:
            stack = [start]
            while stack:
                parents = self.groups[stack[-1]].parents
                waiting = [p for p in parents if p not in depth]
                if waiting:  # the graph has no loops (add_child refuses them)
                    stack.extend(waiting)
                    continue
                depth[stack.pop()] = max((depth[p] + 1 for p in parents), default=0)
        return depth

    def ordered_descendants(self, group: str) -> list[str]:
        """``group``, its children, then deeper levels breadth first (Ansible's walk)."""
        ordered = [group, *self.groups[group].children]
        seen: set[str] = {group}
        level = list(dict.fromkeys(self.groups[group].children))
        while level:
            seen.update(level)
            nxt: dict[str, None] = {}
            for child in (c for g in level for c in self.groups[g].children):
                nxt[child] = None
                if child not in seen:
                    ordered.append(child)
            level = [g for g in nxt if g not in seen]
        return ordered

    # HostTree protocol (scanner.inventory.patterns)
    def group_names(self) -> list[str]:
        """Every group name in the order first seen."""
        return list(self.groups)

    def host_names(self) -> list[str]:
        """Every host name in the order first seen."""
        return list(self.hosts)

    def hosts_in_group(self, group: str) -> list[str]:
        """The hosts of ``group`` and its descendants, without repeats, in Ansible's order."""
        if group not in self._members:
            walk = self.ordered_descendants(group)
            names = (h for g in walk for h in self.groups[g].hosts)
            self._members[group] = list(dict.fromkeys(names))
        return self._members[group]

    def sorted_groups(self, names: Iterable[str]) -> list[str]:
        """``names`` in variable-precedence order: by depth, then priority, then name."""
        depth = self.depths()
        return sorted(names, key=lambda g: (depth[g], self.groups[g].priority, g))
