"""Reading an OSCAL resolved-profile catalog of ISM controls (ASD's ISM OSCAL, JSON).

Only what a framework needs: each control's ISM id and statement text, and the catalog's own
title and version. Groups and controls are walked recursively, so the ISM's chapter/section
nesting (and any control enhancements) is not assumed. The ISM id is the control's ``id``
(``ism-1690`` → ``ISM-1690``); ASD's files carry no separate label property, but one is used if
present. The statement is the prose of the ``statement`` part and any parts nested in it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.model.errors import InputError
from scanner.model.input_files import read_regular_file

_ISM = re.compile(r"^ism-(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Catalog:
    path: Path
    title: str
    version: str
    sha256: str
    statements: Mapping[str, str]  # ISM id (ISM-1690) → statement text, in catalog order


def read_catalog(path: Path) -> Catalog:
    """Read one catalog; a missing file, bad JSON or a control without an ISM id or statement
    raises InputError naming the file and the control."""
    data = read_regular_file(path)
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise InputError(str(path), f"not valid JSON ({exc})") from None
    except RecursionError:
        raise InputError(str(path), "not valid JSON (nested too deeply)") from None
    cat = doc.get("catalog") if isinstance(doc, dict) else None
    if not isinstance(cat, dict):
        raise InputError(str(path), "not an OSCAL catalog (no top-level 'catalog' object)")
    meta = cat.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InputError(f"{path}: field catalog.metadata", "expected an object")
    statements: dict[str, str] = {}
    try:
        for ctl in _controls(cat):
            ism = _ism_id(ctl)
            if ism is None:
                raise InputError(
                    f"{path}: control {ctl.get('id')!r}", "no ISM id (expected ism-NNNN)"
                )
            text = _statement(ctl)
            if not text:
                raise InputError(f"{path}: control {ctl.get('id')}", "has no statement part")
            if ism in statements:
                raise InputError(f"{path}: control {ctl.get('id')}", "appears twice in the catalog")
            statements[ism] = text
    except _Shape as exc:
        raise InputError(str(path), f"not an OSCAL catalog ({exc})") from None
    except RecursionError:
        raise InputError(str(path), "not an OSCAL catalog (nested too deeply)") from None
    if not statements:
        raise InputError(str(path), "the catalog holds no controls")
    return Catalog(
        path=path,
        title=str(meta.get("title", "")),
        version=str(meta.get("version", "")),
        sha256=hashlib.sha256(data).hexdigest(),
        statements=statements,
    )


class _Shape(Exception):
    """Part of the catalog is not the OSCAL shape (a list of objects where one is expected)."""


def _objects(node: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """``node[key]``: a list of JSON objects (absent or empty: none)."""
    value = node.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _Shape(
            f"'{key}' of {node.get('id') or node.get('title') or 'an object'!r} "
            "is not a list of objects"
        )
    return value


def _controls(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for ctl in _objects(node, "controls"):
        yield ctl
        yield from _controls(ctl)
    for group in _objects(node, "groups"):
        yield from _controls(group)


def _ism_id(ctl: Mapping[str, Any]) -> str | None:
    for prop in _objects(ctl, "props"):
        if prop.get("name") == "label" and (m := _ISM.match(str(prop.get("value", "")))):
            return f"ISM-{m.group(1)}"
    m = _ISM.match(str(ctl.get("id", "")))
    return f"ISM-{m.group(1)}" if m else None


def _statement(ctl: Mapping[str, Any]) -> str:
    parts = [p for p in _objects(ctl, "parts") if p.get("name") == "statement"]
    return "\n".join(t for p in parts for t in _prose(p)).strip()


def _prose(part: Mapping[str, Any]) -> Iterator[str]:
    if part.get("prose"):
        yield str(part["prose"]).strip()
    for sub in _objects(part, "parts"):
        yield from _prose(sub)
