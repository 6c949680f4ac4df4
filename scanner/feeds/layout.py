"""The mirror layout: which files make up each feed, how each file is checked, and what a feed's
``snapshot.json`` entry (:class:`~scanner.model.feeds.FeedMeta`) says.

Every file is checked before it is accepted — size cap (``FeedSpec.max_bytes``), then its format:

* ``kev/known_exploited_vulnerabilities.json``: CISA's catalogue (:func:`parse_kev`); as of its
  ``dateReleased``; records = catalogue entries.
* ``endoflife/releases/<product>.json``: ``{"versions": {name: {"name", "date"}}}``;
  ``endoflife/products/<product>.md``: YAML front matter with a ``releases`` list of cycles.
  As of the newest date found in the data that is not after the fetch (a version's ``date``, a
  cycle's ``releaseDate`` or ``latestReleaseDate``: end-of-life dates lie in the future and say
  nothing of freshness); records = release cycles + versions.
* ``csaf-ot/index.txt`` (advisory paths, one a line) and each listed CSAF 2.0 advisory
  (``document.tracking.id`` / ``initial_release_date``, ``product_tree``, ``vulnerabilities``);
  as of the newest ``document.tracking.current_release_date``; records = advisories.

A problem raises :class:`FeedError` naming the file (or URL) and what was expected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from scanner.model.feeds import FEEDS, KEV_FILE, FeedError, FeedMeta, files_sha256, parse_kev
from scanner.model.input_files import load_yaml

CSAF_INDEX = "csaf-ot/index.txt"
EOL_PRODUCTS = "endoflife/products/"
EOL_RELEASES = "endoflife/releases/"
_NAME = r"[A-Za-z0-9][A-Za-z0-9._+-]{0,120}"
_PRODUCT = re.compile(rf"^{_NAME}$")
_ADVISORY = re.compile(rf"^(?:\d{{4}}/)?{_NAME}\.json$")


@dataclass(frozen=True)
class Checked:
    """One accepted file: how many records it holds and the newest date its data carries."""

    records: int
    newest: date | None


def feed_of(rel: str) -> str | None:
    """The feed a layout path belongs to (None: not a feed file)."""
    if rel == KEV_FILE:
        return "kev"
    if rel == CSAF_INDEX or (rel.startswith("csaf-ot/") and rel.endswith(".json")):
        return "csaf-ot"
    if (rel.startswith(EOL_PRODUCTS) and rel.endswith(".md")) or (
        rel.startswith(EOL_RELEASES) and rel.endswith(".json")
    ):
        return "endoflife"
    return None


def product_name(name: str, where: str) -> str:
    if not _PRODUCT.match(name) or ".." in name:
        raise FeedError(f"{where}: {name!r} is not a product name")
    return name


def parse_index(data: bytes, where: str) -> list[str]:
    """The advisory paths of a CSAF ``index.txt`` (relative to ``csaf-ot/``), checked to be plain
    ``<year>/<name>.json`` paths (never ``..``, never absolute)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FeedError(f"{where}: not UTF-8 text (expected advisory paths, one a line)") from None
    paths: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        p = line.strip().removeprefix("./")
        if not p or p.startswith("#"):
            continue
        if not _ADVISORY.match(p) or ".." in p:
            raise FeedError(f"{where}:{n}: {p[:80]!r} is not an advisory path (<year>/<id>.json)")
        paths.append(p)
    if not paths:
        raise FeedError(f"{where}: lists no advisories (expected <year>/<id>.json lines)")
    return sorted(set(paths))


def check_size(size: int, name: str, where: str) -> None:
    cap = FEEDS[name].max_bytes
    if size > cap:
        raise FeedError(f"{where}: {size:,} bytes, more than the {name} cap of {cap:,} bytes")


def _json(data: bytes, where: str, expected: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise FeedError(f"{where}: not JSON (expected {expected})") from None


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            return None
    return None


def check_releases(data: bytes, where: str) -> Checked:
    doc = _json(data, where, 'endoflife.date release data {"versions": {...}}')
    versions = doc.get("versions") if isinstance(doc, dict) else None
    if not isinstance(versions, dict):
        raise FeedError(f'{where}: no "versions" object (not endoflife.date release data)')
    newest: date | None = None
    for key, v in versions.items():
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            raise FeedError(f'{where}: versions["{key}"]: expected {{"name", "date"}}')
        d = _day(v.get("date"))
        if d is None:
            raise FeedError(f'{where}: versions["{key}"].date {v.get("date")!r} is not a date')
        newest = d if newest is None else max(newest, d)
    return Checked(len(versions), newest)


def check_product(data: bytes, where: str) -> Checked:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FeedError(f"{where}: not UTF-8 text (expected a product page)") from None
    parts = text.split("\n---", 1)
    if not text.startswith("---") or len(parts) < 2:
        raise FeedError(f"{where}: no YAML front matter (expected a product page between ---)")
    try:
        front = load_yaml(parts[0].removeprefix("---"), where)
    except (yaml.YAMLError, ValueError) as exc:
        problem = " ".join(str(exc).split())[:120]
        raise FeedError(f"{where}: front matter is not valid YAML ({problem})") from None
    releases = front.get("releases") if isinstance(front, dict) else None
    if not isinstance(releases, list) or not all(
        isinstance(r, dict) and "releaseCycle" in r for r in releases
    ):
        raise FeedError(f"{where}: no releases list of cycles (expected an endoflife.date page)")
    days = [
        d for r in releases for k in ("releaseDate", "latestReleaseDate") if (d := _day(r.get(k)))
    ]
    return Checked(len(releases), max(days, default=None))


def check_advisory(data: bytes, where: str) -> Checked:
    doc = _json(data, where, "a CSAF 2.0 advisory")
    tracking = doc.get("document", {}).get("tracking") if isinstance(doc, dict) else None
    if (
        not isinstance(tracking, dict)
        or not isinstance(tracking.get("id"), str)
        or _day(tracking.get("initial_release_date")) is None
        or not isinstance(doc.get("product_tree"), dict)
        or not isinstance(doc.get("vulnerabilities"), list)
    ):
        raise FeedError(
            f"{where}: not a CSAF 2.0 advisory (expected document.tracking.id and "
            "initial_release_date, product_tree, vulnerabilities)"
        )
    current = _day(tracking.get("current_release_date")) or _day(
        tracking.get("initial_release_date")
    )
    return Checked(1, current)


def check_file(rel: str, data: bytes, where: str) -> Checked:
    """Check one file of the layout (``rel``) — its size, then its format."""
    name = feed_of(rel)
    if name is None:
        raise FeedError(f"{where}: not a file of the feed layout")
    check_size(len(data), name, where)
    if rel == KEV_FILE:
        kev = parse_kev(data, where)
        return Checked(len(kev.entries), kev.released)
    if rel == CSAF_INDEX:
        parse_index(data, where)
        return Checked(0, None)
    if rel.startswith("csaf-ot/"):
        return check_advisory(data, where)
    if rel.startswith(EOL_PRODUCTS):
        return check_product(data, where)
    return check_releases(data, where)


def feed_files(root: Path, name: str) -> list[str]:
    """The files of feed ``name`` in the snapshot folder ``root`` (empty: feed absent)."""
    if name == "kev":
        return [KEV_FILE] if (root / KEV_FILE).is_file() else []
    if name == "endoflife":
        return sorted(
            p.relative_to(root).as_posix()
            for pattern in ("endoflife/products/*.md", "endoflife/releases/*.json")
            for p in root.glob(pattern)
            if p.is_file()
        )
    index = root / CSAF_INDEX
    if not index.is_file():
        return []
    return [CSAF_INDEX] + [f"csaf-ot/{p}" for p in parse_index(index.read_bytes(), str(index))]


def verify_feed(root: Path, name: str, source: str, fetched_at: datetime) -> FeedMeta | None:
    """Check every file of feed ``name`` in ``root`` and describe it (None: the feed is absent).

    The ``as_of`` date is the feed's own (see the module docstring), never after ``fetched_at``."""
    rels = feed_files(root, name)
    if not rels:
        return None
    records, newest = 0, None
    for rel in rels:
        path = root / rel
        if path.is_symlink() or not path.is_file():
            raise FeedError(f"{path}: missing or not a regular file (listed in the {name} feed)")
        check_size(path.stat().st_size, name, str(path))
        c = check_file(rel, path.read_bytes(), str(path))
        records += c.records
        if c.newest is not None and c.newest <= fetched_at.date():
            newest = c.newest if newest is None else max(newest, c.newest)
    if newest is None:
        raise FeedError(f"{root / name}: no dated data in the {name} feed")
    return FeedMeta(
        name=name,
        source=source,
        as_of=newest,
        fetched_at=fetched_at,
        records=records,
        sha256=files_sha256(root, rels),
    )
