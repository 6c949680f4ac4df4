"""endoflife.date data as typed values: per-version release dates and per-cycle lifecycles.

Two files per product in the mirror layout (see :mod:`scanner.model.feeds`):

- ``endoflife/releases/<product>.json`` (repository endoflife-date/release-data):
  ``{"versions": {"154.0": {"name": "154.0", "date": "2026-08-18"}, …}}`` — every version the
  project tracks automatically, with its release date (:func:`parse_releases`);
- ``endoflife/products/<product>.md`` (repository endoflife-date/endoflife.date): a page whose
  YAML front matter (between the first two ``---`` lines) holds ``releases:``, one entry per
  release cycle with ``releaseCycle``, ``releaseDate``, ``eol`` (a date, or true/false when the
  date is not known), ``eoas``, ``eoes``, ``lts``, ``latest``, ``latestReleaseDate``
  (:func:`parse_cycles`).

Malformed files raise :class:`~scanner.model.feeds.FeedError` naming the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

from scanner.model.feeds import FeedError

RELEASES_DIR = "endoflife/releases"
PRODUCTS_DIR = "endoflife/products"


@dataclass(frozen=True)
class Cycle:
    """One release cycle of a product (a major version, an LTS line, an OS release).

    ``eol``/``eoas``/``eoes`` are a date, ``True`` (ended, date unknown), ``False`` (not ended,
    no date announced) or None (the page does not say)."""

    cycle: str
    released: date | None
    eol: date | bool | None
    eoas: date | bool | None = None
    eoes: date | bool | None = None
    lts: date | bool | None = None
    latest: str | None = None
    latest_released: date | None = None

    def ended(self, on: date) -> bool | None:
        """Had this cycle's support ended by ``on``? None when the page does not say."""
        if isinstance(self.eol, bool):
            return self.eol
        if self.eol is None:
            return None
        return self.eol <= on


def _date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FeedError(f"{where}: {value!r} is not a date")


def _date_or_bool(value: Any, where: str) -> date | bool | None:
    if value is None or isinstance(value, bool):
        return value
    return _date(value, where)


def parse_releases(data: bytes, where: str) -> dict[str, date]:
    """release-data JSON → version → release date (empty when the product has no versions)."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"{where}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("versions"), dict):
        raise FeedError(f"{where}: no versions object (not an endoflife.date release-data file)")
    out: dict[str, date] = {}
    for key, rec in doc["versions"].items():
        field = f"{where}: versions[{key!r}]"
        if not isinstance(rec, dict) or "date" not in rec:
            raise FeedError(f"{field}.date missing")
        out[str(rec.get("name") or key)] = _date(rec["date"], f"{field}.date")
    return out


def front_matter(text: str, where: str) -> dict[str, Any]:
    """The YAML between the first two ``---`` lines of a product page, as a mapping."""
    lines = text.splitlines()
    marks = [i for i, line in enumerate(lines) if line.strip() == "---"][:2]
    if len(marks) < 2 or marks[0] != 0:
        raise FeedError(f"{where}: no front matter (two '---' lines)")
    try:
        doc = yaml.safe_load("\n".join(lines[marks[0] + 1 : marks[1]]))
    except yaml.YAMLError as exc:
        raise FeedError(f"{where}: front matter is not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise FeedError(f"{where}: front matter is not a mapping")
    return doc


def parse_cycles(data: bytes, where: str) -> list[Cycle]:
    """A product page → its release cycles, newest first as the page lists them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FeedError(f"{where}: not UTF-8 ({exc})") from None
    doc = front_matter(text, where)
    releases = doc.get("releases")
    if not isinstance(releases, list):
        raise FeedError(f"{where}: releases: missing or not a list")
    cycles = []
    for i, rec in enumerate(releases):
        field = f"{where}: releases[{i}]"
        if not isinstance(rec, dict) or rec.get("releaseCycle") is None:
            raise FeedError(f"{field}.releaseCycle missing")
        rel = rec.get("releaseDate")
        latest_rel = rec.get("latestReleaseDate")
        cycles.append(
            Cycle(
                cycle=str(rec["releaseCycle"]),
                released=None if rel is None else _date(rel, f"{field}.releaseDate"),
                eol=_date_or_bool(rec.get("eol"), f"{field}.eol"),
                eoas=_date_or_bool(rec.get("eoas"), f"{field}.eoas"),
                eoes=_date_or_bool(rec.get("eoes"), f"{field}.eoes"),
                lts=_date_or_bool(rec.get("lts"), f"{field}.lts"),
                latest=None if rec.get("latest") is None else str(rec["latest"]),
                latest_released=(
                    None if latest_rel is None else _date(latest_rel, f"{field}.latestReleaseDate")
                ),
            )
        )
    return cycles
