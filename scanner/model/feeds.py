"""Reference data as feeds: what each feed is, and a snapshot of them read from disk.

A **snapshot** is a folder in the mirror layout (the layout of the public sources as the project
copies them, ``../shared/feeds``)::

    kev/known_exploited_vulnerabilities.json      CISA Known Exploited Vulnerabilities
    endoflife/products/<product>.md               endoflife.date release cycles (YAML front matter)
    endoflife/releases/<product>.json             endoflife.date release-data versions and dates
    csaf-ot/index.txt, csaf-ot/<year>/<id>.json   CISA's ICS advisories, CSAF 2.0

plus ``snapshot.json``, written when the snapshot was installed: per feed its source, the date its
data is as of, when it was fetched, its record count and the sha256 of its files. Judges read a
snapshot through :class:`Snapshot` (handed to them in the judging context, like the policy), never
the network; the same raw record and the same snapshot give the same results.

Each parsed feed is loaded once, on first use, and checked against its limits; a feed that is
missing, malformed or older than its ``max_age_days`` gives :class:`FeedState` with the reason,
which the checks turn into no_visibility — never into a pass.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from scanner.model.csaf import CsafFeed, parse_csaf_feed

if TYPE_CHECKING:
    from scanner.model.endoflife import Cycle

SNAPSHOT_FILE = "snapshot.json"


@dataclass(frozen=True)
class FeedSpec:
    """One feed: where its files live in the layout, where it comes from, how stale is too stale."""

    name: str
    title: str
    source: str  # the public URL of the source's base (the mirror layout's folder of this feed)
    licence: str
    max_age_days: int  # default; the policy's ``feed_max_age_days`` overrides
    max_bytes: int  # per file; a bigger download is refused


FEEDS: dict[str, FeedSpec] = {
    f.name: f
    for f in (
        FeedSpec(
            "kev",
            "CISA Known Exploited Vulnerabilities",
            "https://raw.githubusercontent.com/cisagov/kev-data/main/",
            "US Government work (public domain)",
            max_age_days=30,
            max_bytes=32 << 20,
        ),
        FeedSpec(
            "endoflife",
            "endoflife.date release cycles and versions",
            "https://raw.githubusercontent.com/endoflife-date/",
            "MIT (endoflife.date contributors)",
            max_age_days=90,
            max_bytes=16 << 20,
        ),
        FeedSpec(
            "csaf-ot",
            "CISA ICS advisories (CSAF 2.0)",
            "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/",
            "US Government work (public domain)",
            max_age_days=90,
            max_bytes=8 << 20,
        ),
    )
}


class FeedMeta(BaseModel):
    """What ``snapshot.json`` says of one feed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    source: str
    as_of: date = Field(description="The date the feed's data is as of (its own release date).")
    fetched_at: datetime
    records: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SnapshotMeta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = "e8scan-feeds"
    schema_version: int = 1
    feeds: dict[str, FeedMeta]


@dataclass(frozen=True)
class FeedState:
    """Whether a feed can back a judgement at a moment; ``reason`` says why not."""

    usable: bool
    reason: str = ""
    meta: FeedMeta | None = None


class KevEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    cve: str
    vendor: str
    product: str
    name: str
    date_added: date
    due_date: date | None = None
    ransomware: bool = False


@dataclass(frozen=True)
class Kev:
    catalog_version: str
    released: date
    entries: dict[str, KevEntry]


class FeedError(ValueError):
    """A feed's files are not what the feed's format says (the message names file and field)."""


def files_sha256(root: Path, rel_paths: list[str]) -> str:
    """The sha256 over a feed's files, in path order (path, NUL, content, NUL each)."""
    h = hashlib.sha256()
    for rel in sorted(rel_paths):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return h.hexdigest()


def parse_kev(data: bytes, where: str = "kev/known_exploited_vulnerabilities.json") -> Kev:
    """CISA's KEV JSON → :class:`Kev`; FeedError naming the entry and field that are wrong."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"{where}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        raise FeedError(f"{where}: no vulnerabilities list (not the KEV catalogue)")
    try:
        released = datetime.fromisoformat(str(doc["dateReleased"]).replace("Z", "+00:00")).date()
        version = str(doc["catalogVersion"])
    except (KeyError, ValueError) as exc:
        raise FeedError(f"{where}: catalogVersion/dateReleased missing or bad ({exc})") from None
    entries: dict[str, KevEntry] = {}
    for i, v in enumerate(doc["vulnerabilities"]):
        try:
            e = KevEntry(
                cve=str(v["cveID"]).upper(),
                vendor=str(v.get("vendorProject", "")),
                product=str(v.get("product", "")),
                name=str(v.get("vulnerabilityName", "")),
                date_added=date.fromisoformat(str(v["dateAdded"])),
                due_date=date.fromisoformat(str(v["dueDate"])) if v.get("dueDate") else None,
                ransomware=str(v.get("knownRansomwareCampaignUse", "")).lower() == "known",
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise FeedError(f"{where}: vulnerabilities[{i}]: {exc}") from None
        if not e.cve.startswith("CVE-"):
            raise FeedError(f"{where}: vulnerabilities[{i}].cveID {e.cve!r} is not a CVE id")
        entries[e.cve] = e
    return Kev(catalog_version=version, released=released, entries=entries)


class Snapshot:
    """An installed snapshot (or none: ``root`` None). Feeds are parsed on first use, once.

    A plain class, not a model: judges share one per run, and its parsed feeds are cached."""

    def __init__(
        self,
        root: Path | None,
        meta: SnapshotMeta | None = None,
        max_age_days: dict[str, int] | None = None,
    ) -> None:
        self.root = root
        self.meta = meta
        self.max_age_days = dict(max_age_days or {})
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Snapshot({self.root})"

    @classmethod
    def load(cls, root: Path | None, max_age_days: dict[str, int] | None = None) -> Snapshot:
        """The snapshot in ``root`` (its ``snapshot.json`` read and validated); a missing folder
        or file is a snapshot without feeds, whose every state says so."""
        ages = {**{n: f.max_age_days for n, f in FEEDS.items()}, **(max_age_days or {})}
        if root is None or not (root / SNAPSHOT_FILE).is_file():
            return cls(root=root, meta=None, max_age_days=ages)
        try:
            meta = SnapshotMeta.model_validate_json((root / SNAPSHOT_FILE).read_bytes())
        except ValueError as exc:
            raise FeedError(f"{root / SNAPSHOT_FILE}: {str(exc).splitlines()[0]}") from None
        return cls(root=root, meta=meta, max_age_days=ages)

    def state(self, name: str, at: datetime) -> FeedState:
        """Can feed ``name`` back a judgement of evidence collected ``at``?"""
        spec = FEEDS[name]
        if self.meta is None or name not in self.meta.feeds:
            return FeedState(False, f"no {spec.title} snapshot installed (e8scan feeds update)")
        meta = self.meta.feeds[name]
        when = at if at.tzinfo else at.replace(tzinfo=UTC)
        age = (when.date() - meta.as_of).days
        limit = self.max_age_days.get(name, spec.max_age_days)
        if age > limit:
            return FeedState(
                False,
                f"{name} snapshot {age} days old (as of {meta.as_of.isoformat()}; more than "
                f"{limit} days before the collection)",
                meta,
            )
        return FeedState(True, "", meta)

    def describe(self) -> list[dict[str, Any]]:
        """Each installed feed's name, as-of date and sha256 (what results.json records)."""
        if self.meta is None:
            return []
        return [
            {"name": m.name, "as_of": m.as_of.isoformat(), "sha256": m.sha256, "source": m.source}
            for m in self.meta.feeds.values()
        ]

    def kev(self) -> Kev | None:
        """The KEV catalogue, or None when the snapshot has none (check :meth:`state` first)."""
        found: Kev | None = self._parsed(
            "kev", lambda root: parse_kev((root / KEV_FILE).read_bytes())
        )
        return found

    def advisories(self) -> CsafFeed | None:
        """CISA's ICS advisories (:mod:`scanner.model.csaf`), or None without the feed."""
        found: CsafFeed | None = self._parsed("csaf-ot", parse_csaf_feed)
        return found

    def releases(self, product: str) -> dict[str, date] | None:
        """endoflife.date versions of ``product`` → release date; None when the snapshot has
        no endoflife feed or no release-data file for the product (check :meth:`state` first)."""
        from scanner.model.endoflife import RELEASES_DIR, parse_releases

        rel = f"{RELEASES_DIR}/{product}.json"
        found: dict[str, date] | None = self._parsed(
            "endoflife",
            lambda root: (
                parse_releases((root / rel).read_bytes(), rel) if (root / rel).is_file() else None
            ),
            key=rel,
        )
        return found

    def cycles(self, product: str) -> list[Cycle] | None:
        """endoflife.date release cycles of ``product`` (its page's ``releases:``); None when
        the snapshot has no endoflife feed or no page for the product."""
        from scanner.model.endoflife import PRODUCTS_DIR, parse_cycles

        rel = f"{PRODUCTS_DIR}/{product}.md"
        found: list[Cycle] | None = self._parsed(
            "endoflife",
            lambda root: (
                parse_cycles((root / rel).read_bytes(), rel) if (root / rel).is_file() else None
            ),
            key=rel,
        )
        return found

    def _parsed(self, name: str, parse: Any, key: str | None = None) -> Any:
        """Feed ``name``'s file(s) parsed once (``key`` names one file of a many-file feed)."""
        if self.root is None or self.meta is None or name not in self.meta.feeds:
            return None
        key = key or name
        with self._lock:
            if key not in self._cache:
                self._cache[key] = parse(self.root)
            return self._cache[key]


KEV_FILE = "kev/known_exploited_vulnerabilities.json"
