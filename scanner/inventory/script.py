"""Dynamic inventory scripts: an executable inventory file (exec bit and ``#!``) is run with
``--list`` as Ansible's ``script`` inventory plugin runs it, and its JSON read into the graph.

The JSON: ``{GROUP: {"hosts": [...], "vars": {...}, "children": [...]} | [HOST, ...],
"_meta": {"hostvars": {HOST: {...}}}}``. Without ``_meta``, each host's vars come from
``SCRIPT --host HOST``, as Ansible does. A script that fails, runs past its time, or prints
anything but a JSON object is a one-line error naming the script.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from scanner.inventory.graph import InventoryGraph
from scanner.model.errors import InputError

SCRIPT_TIMEOUT = 60.0
"""Seconds an inventory script may run (each call)."""
MAX_OUTPUT = 64 * 1024 * 1024


def is_inventory_script(path: Path) -> bool:
    """An executable regular file that starts with ``#!``."""
    if not path.is_file() or not os.access(path, os.X_OK):
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return False


def _run(path: Path, args: list[str]) -> tuple[Any, str, bytes]:
    where = f"{path} {' '.join(args)}"
    try:
        proc = subprocess.run(
            [str(path), *args],
            capture_output=True,
            timeout=SCRIPT_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(where, f"the inventory script ran past {SCRIPT_TIMEOUT:g} s") from None
    except OSError as exc:
        raise InputError(where, f"cannot run the inventory script: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        said = f": {err[-1][:200]}" if err else ""
        raise InputError(where, f"the inventory script exited with status {proc.returncode}{said}")
    if len(proc.stdout) > MAX_OUTPUT:
        raise InputError(where, "the inventory script printed more than 64 MiB")
    try:
        data = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError(where, "the inventory script did not print valid JSON") from None
    if not isinstance(data, dict):
        raise InputError(where, f"expected a JSON object, found {type(data).__name__}")
    return data, hashlib.sha256(proc.stdout).hexdigest(), proc.stdout


def _mapping(value: Any, where: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(where, f"{what} is a {type(value).__name__}; expected a JSON object")
    return value


def read_inventory_script(path: Path, graph: InventoryGraph) -> tuple[str, bytes]:
    """Run ``path --list`` and add its groups, hosts and vars to ``graph``; return the SHA-256 of
    the JSON it printed, and that JSON."""
    data, digest, printed = _run(path, ["--list"])
    where = f"{path} --list"
    meta = _mapping(data.pop("_meta", None), where, "_meta")
    has_meta = "hostvars" in meta
    hostvars = _mapping(meta.get("hostvars"), where, "_meta.hostvars")
    hosts: list[str] = []
    for group, body in data.items():
        gwhere = f"{where}: {group}"
        name = graph.add_group(group, gwhere)
        if isinstance(body, list):
            body = {"hosts": body}
        body = _mapping(body, gwhere, f"group {group!r}")
        for host in body.get("hosts") or []:
            if not isinstance(host, str):
                raise InputError(gwhere, f"host {host!r} is not text")
            graph.add_host(host, name, None, gwhere)
            hosts.append(host)
        for var, value in _mapping(body.get("vars"), gwhere, "vars").items():
            graph.set_group_var(name, var, value, f"{gwhere}.vars.{var}")
        for child in body.get("children") or []:
            graph.add_child(name, graph.add_group(child, gwhere), gwhere)
    for host in dict.fromkeys(hosts):
        if has_meta:
            values = _mapping(hostvars.get(host), where, f"_meta.hostvars.{host}")
            hwhere = f"{where}: _meta.hostvars.{host}"
        else:
            values, _, _ = _run(path, ["--host", host])
            hwhere = f"{path} --host {host}"
        for var, value in values.items():
            graph.set_host_var(host, var, value, f"{hwhere}.{var}")
    return digest, printed
