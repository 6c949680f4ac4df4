"""The copies of input files an evidence bundle keeps under ``sources/``, with no secret in them.

A copy is redacted in two passes and then checked, failing closed:

1. line by line (:func:`~scanner.model.redaction.redact_lines`): ``key=value`` and ``key: value``
   under keys naming a secret, YAML block scalars and ``!tag value`` under them;
2. by meaning: the file is parsed the way e8scan reads it (JSON/YAML with anchors resolved, and
   INI with shell-style quoting), and every secret value found (under a key naming a secret at
   any depth, even a key written with escapes or a value on the line after its key; after
   ``sshpass -p``, ``--password=``…) is replaced wherever it occurs in the text.

The copy is then parsed again: when a key naming a secret still shows a value, a known secret is
still in the text, or a copy of a parseable file no longer parses, the whole copy is withheld
(:data:`WITHHELD`); the manifest still holds the original's SHA-256.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

from scanner.inventory.graph import InventoryGraph
from scanner.inventory.ini import IniInventoryReader, decode_lines
from scanner.inventory.yml import parse_yaml
from scanner.model.errors import InputError
from scanner.model.redaction import (
    REDACTED,
    contains_secret,
    redact_lines,
    redact_text,
    secret_values,
    unredacted_keys,
)

WITHHELD = (
    b"# e8scan withheld this copy: a secret in it could not be redacted line by line.\n"
    b"# The original's SHA-256 is in manifest.json (sources).\n"
)


def redact_secrets(data: bytes) -> bytes:
    """``data`` redacted line by line only (pass 1); see :func:`redact_source`."""
    text = data.decode("utf-8", errors="surrogateescape")
    return redact_lines(text).encode("utf-8", errors="surrogateescape")


def _parses(text: str) -> list[Any]:
    """What ``text`` is as data: JSON or YAML (anchors resolved), and INI host/group variables.
    A reading that fails is left out."""
    found: list[Any] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found.append(json.loads(text))
        except (ValueError, RecursionError):
            with contextlib.suppress(InputError, RecursionError, UnicodeError):
                found.append(parse_yaml(Path("copy"), text).data)
        graph = InventoryGraph()
        try:
            IniInventoryReader(graph, Path("copy")).read(
                decode_lines(Path("copy"), text.encode("utf-8", errors="surrogateescape"))
            )
        except (InputError, RecursionError, UnicodeError, ValueError):
            pass
        else:
            found.append([g.vars for g in graph.groups.values()])
            found.append([h.vars for h in graph.hosts.values()])
    return found


def redact_source(data: bytes) -> bytes:
    """A copy of an input file that shows no secret (or :data:`WITHHELD`)."""
    text = data.decode("utf-8", errors="surrogateescape")
    before = _parses(text)
    secrets = set().union(*(secret_values(d) for d in before)) - {REDACTED}
    copy = redact_text(redact_lines(text), secrets)
    after = _parses(copy)
    if len(after) < len(before) or contains_secret(copy, secrets):
        return WITHHELD
    for parsed in after:
        if unredacted_keys(parsed) or secret_values(parsed) - {REDACTED}:
            return WITHHELD
    return copy.encode("utf-8", errors="surrogateescape")
