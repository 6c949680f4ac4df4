"""CISA's ICS advisories (CSAF 2.0, feed ``csaf-ot``) as typed records.

:func:`parse_csaf_feed` reads ``csaf-ot/index.txt`` and every advisory it lists, and gives one
:class:`Advisory` per file with its products (:class:`AdvisoryProduct`): the vendor and product
name from the ``product_tree`` branches (vendor → [product_family →] product_name →
product_version / product_version_range), the affected version range, the CVEs whose
``product_status.known_affected`` (or ``first_affected``/``last_affected``) names the product,
whether a ``vendor_fix`` remediation covers it, and the fixed version where the range shows it
(the bound of ``<X`` is the first fixed version) or ``product_status.fixed`` names one.

Version ranges (:class:`VersionRange`) are parsed from the ``vers:`` strings of the data
(``vers:all/*``, ``vers:generic/>=1.2|<1.4``, ``vers:intdot/<2.1.0``) and from the plain forms
CISA's generator also writes (``<v6.4``, ``<=v9.0``, ``>=2023|<2023_P03``, ``12.0|13.0|14.0``,
``v12.0``, ``All versions < V23Q4``). A bound is parsed only when it is a dotted number (an
optional leading ``V`` and one trailing letter as Mitsubishi writes ``1.11M``); anything else —
``V7.5_SP2_Update_15``, ``2023_R2_P01``, ``R510.2_HF14`` — keeps the range as text with
``parsed`` False: :meth:`VersionRange.contains` then answers None ("cannot tell"), never "not
affected". Pure functions; a malformed advisory file raises :class:`~scanner.model.feeds.FeedError`
naming it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

INDEX_FILE = "csaf-ot/index.txt"

Key = tuple[int, ...]

_NUM = re.compile(r"^[vV]?(\d+(?:\.\d+)*)([A-Za-z])?$")
_OPS = ("<=", ">=", "!=", "<", ">", "=")


def version_key(text: str) -> Key | None:
    """``v1.10.00.005`` → (1, 10, 0, 5); ``1.11M`` → (1, 11, 13); anything else → None.

    A trailing letter (Mitsubishi's ``1.11M``) counts as one more component (A=1 … Z=26)."""
    t = text.strip().rstrip("._ ")
    m = _NUM.match(t)
    if not m:
        return None
    nums = tuple(int(p) for p in m.group(1).split("."))
    if m.group(2):
        nums += (ord(m.group(2).upper()) - 64,)
    return nums


def decimal_key(text: str) -> Key | None:
    """The same version read as vendors that write ``6.4`` for ``6.40`` mean it: every component
    after the first is a decimal fraction (``6.30.00`` → (6, 300000, 0); ``6.4`` → (6, 400000)).

    Rockwell writes ``6.30.00`` for what its advisory bounds as ``<v6.4``: read as integers 6.30 is
    above 6.4 (not affected), read as decimals below it (affected). Where the two readings of an
    installed version against a bound disagree, :meth:`VersionRange.contains` cannot tell."""
    t = text.strip().rstrip("._ ")
    m = _NUM.match(t)
    if not m:
        return None
    first, *rest = m.group(1).split(".")
    nums = (int(first), *(int(p[:6].ljust(6, "0")) for p in rest))
    if m.group(2):
        nums += (ord(m.group(2).upper()) - 64,)
    return nums


def compare(a: Key, b: Key) -> int:
    """-1/0/1, missing components counting as 0 (``12.0`` = ``12.00.00``)."""
    n = max(len(a), len(b))
    pa, pb = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (pa > pb) - (pa < pb)


@dataclass(frozen=True)
class VersionRange:
    """One affected range as the advisory writes it, and what of it could be parsed."""

    text: str
    parsed: bool
    all_versions: bool = False
    exact: tuple[Key, ...] = ()  # OR of these versions
    lower: tuple[str, Key] | None = None  # (">=" | ">", key)
    upper: tuple[str, Key] | None = None  # ("<" | "<=", key)
    upper_text: str = ""  # the upper bound as written (for "<X": the first fixed version)
    # the bounds read as decimals (see decimal_key), in the order exact…, lower, upper
    decimal: tuple[Key, ...] = ()

    def contains(self, version: Key, written: str | None = None) -> bool | None:
        """Is ``version`` in the range? None when the range could not be parsed, or when
        ``written`` (the installed version as registered) is given and reading the versions as
        decimals (:func:`decimal_key`) gives another answer than reading them as integers."""
        if not self.parsed:
            return None
        plain = self._contains(version)
        if written is None or self.all_versions:
            return plain
        dec = decimal_key(written)
        if dec is None or not self.decimal:
            return None
        exact = self.decimal[: len(self.exact)]
        bounds = iter(self.decimal[len(self.exact) :])
        other = VersionRange(
            self.text,
            True,
            exact=exact,
            lower=(self.lower[0], next(bounds)) if self.lower is not None else None,
            upper=(self.upper[0], next(bounds)) if self.upper is not None else None,
        )._contains(dec)
        return plain if other == plain else None

    def _contains(self, version: Key) -> bool:
        if self.all_versions:
            return True
        if self.exact:
            return any(compare(version, k) == 0 for k in self.exact)
        if self.lower is not None:
            c = compare(version, self.lower[1])
            if c < 0 or (c == 0 and self.lower[0] == ">"):
                return False
        if self.upper is not None:
            c = compare(version, self.upper[1])
            if c > 0 or (c == 0 and self.upper[0] == "<"):
                return False
        return True

    @property
    def fixed_version(self) -> str:
        """The first fixed version where the range says it (``<X`` → X), else ""."""
        return self.upper_text if self.upper is not None and self.upper[0] == "<" else ""


def _unparsed(text: str) -> VersionRange:
    return VersionRange(text=text, parsed=False)


def parse_range(text: str, exact_version: bool = False) -> VersionRange:
    """A ``product_version_range`` (or, ``exact_version``, a ``product_version``) → range."""
    raw = text.strip()
    if exact_version:
        k, d = version_key(raw), decimal_key(raw)
        if k is None or d is None:
            return _unparsed(raw)
        return VersionRange(raw, True, exact=(k,), decimal=(d,))
    body = raw
    if body.startswith("vers:"):
        scheme_rest = body[5:].split("/", 1)
        if len(scheme_rest) != 2:
            return _unparsed(raw)
        body = scheme_rest[1]
    body = re.sub(r"^All versions\s*", "", body, flags=re.I).strip()
    if body == "*":
        return VersionRange(raw, True, all_versions=True)
    parts = [p.strip() for p in body.split("|") if p.strip()]
    if not parts:
        return _unparsed(raw)
    exact: list[Key] = []
    dec_exact: list[Key] = []
    dec_bounds: dict[str, Key] = {}
    lower: tuple[str, Key] | None = None
    upper: tuple[str, Key] | None = None
    upper_text = ""
    for part in parts:
        op = next((o for o in _OPS if part.startswith(o)), "=")
        value = part[len(op) :].strip() if part.startswith(op) else part
        k, d = version_key(value), decimal_key(value)
        if k is None or d is None or op == "!=":
            return _unparsed(raw)
        if op == "=":
            exact.append(k)
            dec_exact.append(d)
        elif op in (">", ">="):
            if lower is not None:
                return _unparsed(raw)
            lower = (op, k)
            dec_bounds["lower"] = d
        else:
            if upper is not None:
                return _unparsed(raw)
            upper, upper_text = (op, k), value.strip().rstrip("._ ")
            dec_bounds["upper"] = d
    if exact and (lower or upper):
        return _unparsed(raw)  # a mix of versions and intervals: not a form the data uses
    decimal = (*dec_exact, *(dec_bounds[b] for b in ("lower", "upper") if b in dec_bounds))
    return VersionRange(
        raw,
        True,
        exact=tuple(exact),
        lower=lower,
        upper=upper,
        upper_text=upper_text,
        decimal=decimal,
    )


@dataclass(frozen=True)
class AdvisoryProduct:
    product_id: str
    vendor: str
    product: str
    range: VersionRange
    cves: tuple[str, ...]
    vendor_fix: bool
    fix_details: str = ""
    fixed_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Advisory:
    id: str
    title: str
    released: date
    current: date
    products: tuple[AdvisoryProduct, ...]
    path: str = ""


@dataclass(frozen=True)
class CsafFeed:
    advisories: tuple[Advisory, ...]
    files: int
    products: int
    ranges_parsed: int
    errors: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        return (
            f"{len(self.advisories)} of {self.files} advisories parsed, {self.products} products, "
            f"{self.ranges_parsed} ranges parsed"
        )


def _date(value: Any, where: str) -> date:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        raise ValueError(f"{where}: bad date {value!r}") from None


def _walk(
    node: dict[str, Any], trail: dict[str, str], out: list[tuple[str, str, str, str, bool]]
) -> None:
    """Collect (product_id, vendor, product name, version text, is_exact) from branches."""
    for b in node.get("branches") or []:
        if not isinstance(b, dict):
            continue
        cat, name = str(b.get("category", "")), str(b.get("name", ""))
        here = dict(trail)
        if cat in ("vendor", "product_name", "product_family"):
            here[cat] = name
        prod = b.get("product")
        if isinstance(prod, dict) and prod.get("product_id"):
            vendor = here.get("vendor", "")
            pname = here.get("product_name") or here.get("product_family") or name
            if cat in ("product_version", "product_version_range"):
                out.append((str(prod["product_id"]), vendor, pname, name, cat == "product_version"))
            else:  # a product without a version branch: every version
                out.append((str(prod["product_id"]), vendor, pname, "vers:all/*", False))
        _walk(b, here, out)


def parse_advisory(data: bytes, where: str) -> Advisory:
    """One CSAF 2.0 advisory → :class:`Advisory`; ValueError naming the field that is wrong."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("document"), dict):
        raise ValueError(f"{where}: not a CSAF document")
    tracking = doc["document"].get("tracking") or {}
    adv_id = str(tracking.get("id") or "")
    if not adv_id:
        raise ValueError(f"{where}: document.tracking.id missing")
    released = _date(tracking.get("initial_release_date"), f"{where}: initial_release_date")
    current = _date(
        tracking.get("current_release_date") or tracking.get("initial_release_date"),
        f"{where}: current_release_date",
    )
    leaves: list[tuple[str, str, str, str, bool]] = []
    _walk(doc.get("product_tree") or {}, {}, leaves)
    cves: dict[str, list[str]] = {}
    fixes: dict[str, list[str]] = {}
    fixed_ids: set[str] = set()
    for vuln in doc.get("vulnerabilities") or []:
        cve = str(vuln.get("cve") or "")
        status = vuln.get("product_status") or {}
        for key in ("known_affected", "first_affected", "last_affected"):
            for pid in status.get(key) or []:
                if cve and cve not in cves.setdefault(str(pid), []):
                    cves[str(pid)].append(cve)
        fixed_ids.update(str(p) for p in status.get("fixed") or [])
        for rem in vuln.get("remediations") or []:
            if rem.get("category") == "vendor_fix":
                for pid in rem.get("product_ids") or []:
                    fixes.setdefault(str(pid), []).append(str(rem.get("details") or ""))
    names = {pid: (vendor, pname, text) for pid, vendor, pname, text, _ in leaves}
    products = []
    for pid, vendor, pname, text, exact in leaves:
        if pid in fixed_ids:
            continue  # a fixed version is no affected product
        fixed = tuple(
            names[f][2] for f in sorted(fixed_ids) if f in names and names[f][:2] == (vendor, pname)
        )
        products.append(
            AdvisoryProduct(
                product_id=pid,
                vendor=vendor,
                product=pname,
                range=parse_range(text, exact_version=exact),
                cves=tuple(cves.get(pid, ())),
                vendor_fix=pid in fixes,
                fix_details=(fixes.get(pid) or [""])[0][:300],
                fixed_versions=fixed,
            )
        )
    return Advisory(
        id=adv_id,
        title=str(doc["document"].get("title") or ""),
        released=released,
        current=current,
        products=tuple(products),
        path=where,
    )


def parse_csaf_feed(root: Path) -> CsafFeed:
    """Every advisory listed in ``csaf-ot/index.txt`` under ``root``.

    A file that does not parse is counted in ``errors`` (by path and reason), not fatal: one
    odd advisory must not blind the whole feed; the count is part of the feed's description."""
    from scanner.model.feeds import FeedError

    index = root / INDEX_FILE
    if not index.is_file():
        raise FeedError(f"{INDEX_FILE}: missing")
    rels = [line.strip() for line in index.read_text("utf-8").splitlines() if line.strip()]
    advisories: list[Advisory] = []
    errors: list[str] = []
    for rel in rels:
        path = root / "csaf-ot" / rel
        try:
            advisories.append(parse_advisory(path.read_bytes(), f"csaf-ot/{rel}"))
        except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            errors.append(f"csaf-ot/{rel}: {exc}")
    if rels and not advisories:
        raise FeedError(f"{INDEX_FILE}: none of {len(rels)} advisories parsed ({errors[0]})")
    n_products = sum(len(a.products) for a in advisories)
    n_parsed = sum(1 for a in advisories for p in a.products if p.range.parsed)
    return CsafFeed(
        advisories=tuple(advisories),
        files=len(rels),
        products=n_products,
        ranges_parsed=n_parsed,
        errors=tuple(errors),
    )
