"""BagIt (RFC 8493) tag files, so an evidence bundle is also a bag archives' tools can validate.

The bundle's payload (raw.json, results.json, hosts/, sources/) lives under ``data/``; at the bag's
root sit ``bagit.txt``, ``bag-info.txt``, ``manifest-sha256.txt`` (every payload file) and
``tagmanifest-sha256.txt`` (every other tag file), beside e8scan's own ``manifest.json`` and its
signature. Everything here is a pure function of its arguments, so ``verify`` can derive the
BagIt manifests again from the signed ``manifest.json`` and compare them byte for byte.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date

__all__ = [
    "BAGIT",
    "BAGIT_TXT",
    "BAG_INFO",
    "PAYLOAD",
    "PAYLOAD_MANIFEST",
    "TAG_MANIFEST",
    "bag_info",
    "encode_path",
    "manifest_text",
    "sha256",
]

BAGIT = "bagit.txt"
BAG_INFO = "bag-info.txt"
PAYLOAD_MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
PAYLOAD = "data/"
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def encode_path(name: str) -> str:
    """A path as a manifest line holds it (RFC 8493 2.1.3: CR, LF and % percent-encoded)."""
    return name.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def manifest_text(hashes: Mapping[str, str]) -> bytes:
    """A ``manifest-sha256.txt``/``tagmanifest-sha256.txt``: one ``<sha256>  <path>`` line per
    file, sorted by path."""
    return "".join(f"{hashes[n]}  {encode_path(n)}\n" for n in sorted(hashes)).encode("utf-8")


def _one_line(value: str) -> str:
    return " ".join(value.split())  # a tag value never starts a new element by a line break


def bag_info(
    *,
    bagging_date: date,
    payload: Mapping[str, bytes],
    description: str,
    identifier: str,
    agent: str,
    organization: str | None = None,
) -> bytes:
    """``bag-info.txt``: RFC 8493's reserved elements e8scan knows, Payload-Oxum included."""
    octets = sum(len(data) for data in payload.values())
    items = [
        ("Bag-Software-Agent", agent),
        ("Bagging-Date", bagging_date.isoformat()),
        ("External-Description", description),
        ("External-Identifier", identifier),
        ("Payload-Oxum", f"{octets}.{len(payload)}"),
    ]
    if organization:
        items.append(("Source-Organization", organization))
    return "".join(f"{k}: {_one_line(v)}\n" for k, v in items).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
