"""``e8scan feeds update``: fetch every feed file from a mirror or the public sources, check each
as it arrives, and install the result (:mod:`scanner.feeds.store`).

HTTP goes through urllib, which honours ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``. One
attempt per file, with a timeout: a source that fails is reported, not hammered. Any failure —
unreachable, an HTTP error, a body shorter than its Content-Length, a file over the feed's cap,
a file that is not what the feed's format says — stops the update with one line naming the URL
and what was expected; the previous snapshot stays installed.

Public sources (``shipped/SOURCES.md``): the raw files of cisagov/kev-data,
endoflife-date/endoflife.date (``products/``), endoflife-date/release-data (``releases/``) and
cisagov/CSAF (``csaf_files/OT/white/``, whose ``index.txt`` lists the advisories). A mirror
serves the same files under one base URL in the mirror layout (``kev/…``, ``endoflife/…``,
``csaf-ot/index.txt`` and ``csaf-ot/<year>/<id>.json``).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from scanner import __version__
from scanner.feeds.layout import (
    CSAF_INDEX,
    EOL_PRODUCTS,
    EOL_RELEASES,
    check_file,
    feed_of,
    parse_index,
)
from scanner.feeds.store import SHIPPED, data_dir, discard, install, new_staging, verify
from scanner.model.feeds import FEEDS, KEV_FILE, FeedError, SnapshotMeta

TIMEOUT_S = 30.0
_CHUNK = 1 << 16

# Layout folder → the public raw-file base that serves it.
PUBLIC = {
    "kev/": "https://raw.githubusercontent.com/cisagov/kev-data/main/",
    EOL_PRODUCTS: "https://raw.githubusercontent.com/endoflife-date/endoflife.date/master/products/",
    EOL_RELEASES: "https://raw.githubusercontent.com/endoflife-date/release-data/main/releases/",
    "csaf-ot/": "https://raw.githubusercontent.com/cisagov/CSAF/develop/csaf_files/OT/white/",
}


def url_for(rel: str, mirror: str | None) -> str:
    if mirror is not None:
        return mirror.rstrip("/") + "/" + rel
    for folder, base in PUBLIC.items():
        if rel.startswith(folder):
            return base + rel.removeprefix(folder)
    raise FeedError(f"{rel}: no public source")  # pragma: no cover - the layout is closed


def fetch(url: str, limit: int, timeout: float = TIMEOUT_S) -> bytes:
    """The body at ``url`` (at most ``limit`` bytes, complete per its Content-Length)."""
    request = urllib.request.Request(url, headers={"User-Agent": f"e8scan/{__version__}"})
    try:
        resp = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise FeedError(f"{url}: HTTP {exc.code} {exc.reason} (expected the feed file)") from None
    except urllib.error.URLError as exc:
        raise FeedError(f"{url}: unreachable ({exc.reason})") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise FeedError(f"{url}: unreachable ({exc})") from None
    with resp:
        header = resp.headers.get("Content-Length")
        length = int(header) if header and header.isdigit() else None
        if length is not None and length > limit:
            raise FeedError(f"{url}: {length:,} bytes, more than the cap of {limit:,} bytes")
        body = bytearray()
        try:
            while chunk := resp.read(_CHUNK):
                body += chunk
                if len(body) > limit:
                    raise FeedError(f"{url}: more than the cap of {limit:,} bytes")
        except http.client.IncompleteRead as exc:
            got = len(body) + len(exc.partial)
            raise FeedError(
                f"{url}: truncated (the connection closed after {got:,} bytes"
                + (f" of {length:,}; Content-Length mismatch)" if length is not None else ")")
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise FeedError(f"{url}: download failed ({exc})") from None
    if length is not None and len(body) != length:
        raise FeedError(
            f"{url}: truncated ({len(body):,} of {length:,} bytes; Content-Length mismatch)"
        )
    return bytes(body)


def shipped_products() -> tuple[list[str], list[str]]:
    """The endoflife products the shipped snapshot holds: (product pages, release-data files)."""
    pages = sorted(p.stem for p in (SHIPPED / EOL_PRODUCTS).glob("*.md"))
    releases = sorted(p.stem for p in (SHIPPED / EOL_RELEASES).glob("*.json"))
    return pages, releases


def _get(stage: Path, rel: str, mirror: str | None) -> bytes:
    name = feed_of(rel)
    assert name is not None
    url = url_for(rel, mirror)
    body = fetch(url, FEEDS[name].max_bytes)
    check_file(rel, body, url)
    (stage / rel).parent.mkdir(parents=True, exist_ok=True)
    (stage / rel).write_bytes(body)
    return body


def update(mirror: str | None = None, data: Path | None = None) -> tuple[Path, SnapshotMeta]:
    """Fetch every feed into a staging folder, verify it and install it."""
    if mirror is not None and not mirror.startswith(("http://", "https://")):
        raise FeedError(f"--mirror {mirror}: expected an http:// or https:// base URL")
    data = data_dir() if data is None else data
    stage = new_staging(data)
    try:
        fetched: dict[str, datetime] = {}
        _get(stage, KEV_FILE, mirror)
        fetched["kev"] = datetime.now(UTC)
        pages, releases = shipped_products()
        for p in pages:
            _get(stage, f"{EOL_PRODUCTS}{p}.md", mirror)
        for p in releases:
            _get(stage, f"{EOL_RELEASES}{p}.json", mirror)
        fetched["endoflife"] = datetime.now(UTC)
        index = _get(stage, CSAF_INDEX, mirror)
        for path in parse_index(index, url_for(CSAF_INDEX, mirror)):
            _get(stage, f"csaf-ot/{path}", mirror)
        fetched["csaf-ot"] = datetime.now(UTC)
        sources = {
            "kev": url_for(KEV_FILE, mirror).removesuffix(KEV_FILE.removeprefix("kev/")),
            "endoflife": (mirror.rstrip("/") + "/endoflife/")
            if mirror
            else FEEDS["endoflife"].source,
            "csaf-ot": url_for(CSAF_INDEX, mirror).removesuffix("index.txt"),
        }
        meta = verify(stage, sources, fetched, require=True)
        return install(stage, meta), meta
    except BaseException:
        discard(stage)
        raise
