"""Windows: installed industrial (ICS/OT) software patched against CISA's ICS advisories in time?

**Collected (read-only; no new command):** the Uninstall registry inventory
(fact ``windows.uninstall_inventory``, the same line as ``windows_app_updates``):
``DisplayName``, ``DisplayVersion``, ``Publisher`` per entry.

**Reference data:** the ``csaf-ot`` feed of the installed snapshot (CISA's ICS advisories in
CSAF 2.0, parsed by :mod:`scanner.model.csaf`: advisory id, initial release date, vendor, product,
affected version range, CVEs, vendor fix) and the mapping table
``patch_applications/ics_products.csv``: an anchored, case-insensitive ``DisplayName`` pattern
(gated on the ``Publisher`` pattern when the entry has a publisher) → the advisories' vendor and
product name patterns, with the advisories that name the product and the public source of the
DisplayName string (a recorded Uninstall inventory or a maintained scanner's detection rule,
repository, path and commit). Four products have such a source: FactoryTalk Services Platform,
TIA Portal, STEP 7 and WebAccess (``WebAccess Node``); the tests match the real DisplayName
strings of ``tests/data/ics_displaynames.csv`` against the table. A CSAF product name
ending in ``V<n>`` (``SIMATIC STEP 7 V5``) only matches an installed version starting with n.

**Control:** ISM-1693 (ML2-3, "other applications": fixes applied within one month of release;
policy ``patch_other_days``). ICS engineering, HMI and historian software is none of the
high-risk classes of ISM-1691/1692/1901 (office, browser, email, PDF, security products), so
the reference places it under "other applications". Per identified product and advisory product:
- version in an affected range of an advisory with a ``vendor_fix`` for that product, the advisory
  first released more than the window before collection → **ineffective** (advisory id, CVEs,
  release date, installed and fixed version in the evidence);
- in range but released within the window → not yet due (noted; effective if nothing else fails);
- in range of an advisory without a vendor fix (mitigations only) → not a missed patch (noted);
- not in any affected range → fine for that product;
- version unparseable, or an affected range with a fix that is not parseable (``<V7.5_SP2_Update_15``,
  ``<=2023_R2_P01``) → that product cannot be judged: **no_visibility** unless another fails.
Advisories released after the collection are ignored. The advisory's *initial release date* is
taken as the fix's release date (CSAF remediations carry no date in this data); a vendor fix that
keeps the DisplayVersion (Rockwell patch roll-ups) is not visible, and the evidence says so.

**Not identified is never effective:** an Uninstall entry whose Publisher or DisplayName names an
advisory vendor (Rockwell, Siemens, AVEVA/Wonderware/OSIsoft, Schneider Electric, Mitsubishi
Electric/ICONICS, Honeywell, Delta Electronics, Advantech, GE, Emerson, ABB, Yokogawa, Omron…),
or whose DisplayName names a product of the 2024 advisories that has no sourced row (FactoryTalk,
RSLogix, GENESIS64, GX Works, WinCC, InTouch, PI Server, AVEVA Edge, Experion, Ecodial,
DIAEnergie…), but that no table row identifies leaves the control **no_visibility** (listed in
the evidence).
**not_applicable** only when the inventory was read and holds no entry of any such vendor.
no_visibility when the inventory cannot be read, or when the ``csaf-ot`` feed is not usable for
the collection date (missing or older than its limit): the reason is the feed's. Effective means
"no advisory of the snapshot (its as-of date in the evidence) names an unpatched installed
version past the window" — the snapshot bounds what it can show.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from importlib.resources import files

from checks.facts.software import App
from checks.facts.windows.uninstall import UNINSTALL_INVENTORY
from checks.patch_applications._judging import summary, windows_inventory
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.csaf import Advisory, AdvisoryProduct, CsafFeed, compare, version_key
from scanner.model.feeds import FeedError
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISM = "ISM-1693"

# Publishers of the advisory vendors whose software runs on Windows hosts (2024 CSAF OT feed).
ICS_VENDORS = re.compile(
    r"\b(Rockwell|Allen-Bradley|Siemens|AVEVA|Wonderware|OSIsoft|Schneider Electric|"
    r"Mitsubishi Electric|MELSOFT|ICONICS|Honeywell|Delta Electronics|Advantech|GE Digital|"
    r"GE Vernova|General Electric|Emerson|ABB|Yokogawa|Omron|Hitachi Energy|Johnson Controls|"
    r"Fuji Electric|Phoenix Contact|Beckhoff|Moxa|Inductive Automation|Kepware)\b",
    re.I,
)
# Product names of the 2024 advisories (CSAF product_name) whose DisplayName has no sourced table
# row: such an entry is "not identified" (no_visibility) even when its Publisher is empty or names
# no vendor above. Used only to withhold a pass, never to judge a version.
ICS_PRODUCTS = re.compile(
    r"\b(FactoryTalk|RSLogix|GENESIS64|GX Works[23]?|WinCC|STEP 7|TIA Portal|"
    r"Totally Integrated Automation Portal|InTouch|PI Server|AVEVA Edge|Experion|Ecodial|"
    r"DIAEnergie|WebAccess)\b",
    re.I,
)
_NAME_V = re.compile(r"\bV(\d+(?:\.\d+)*)$")


@dataclass(frozen=True)
class Row:
    id: str
    match: re.Pattern[str]
    publisher: re.Pattern[str]
    vendor: re.Pattern[str]
    products: re.Pattern[str]
    advisories: str
    source: str
    verify: bool


def _load() -> tuple[Row, ...]:
    text = files("checks.patch_applications").joinpath("ics_products.csv").read_text("utf-8")
    return tuple(
        Row(
            id=r["id"],
            match=re.compile(r["match"], re.I),
            publisher=re.compile(r["publisher"], re.I),
            vendor=re.compile(r["vendor"], re.I),
            products=re.compile(r["products"], re.I),
            advisories=r["advisories"],
            source=r["displayname_source"],
            verify=r["verify"] == "verify",
        )
        for r in csv.DictReader(text.splitlines())
    )


ROWS = _load()


def identify(app: App) -> Row | None:
    """The table row naming this Uninstall entry (DisplayName, gated on Publisher when set)."""
    for row in ROWS:
        if row.match.search(app.name) and (
            not app.publisher or row.publisher.search(app.publisher)
        ):
            return row
    return None


def _name_version_ok(product: str, key: tuple[int, ...]) -> bool:
    m = _NAME_V.search(product)
    if not m:
        return True
    want = tuple(int(p) for p in m.group(1).split("."))
    return compare(key[: len(want)], want) == 0


def _candidates(
    feed: CsafFeed, row: Row, key: tuple[int, ...] | None
) -> list[tuple[Advisory, AdvisoryProduct]]:
    out = []
    for adv in feed.advisories:
        for p in adv.products:
            if (
                row.vendor.search(p.vendor)
                and row.products.search(p.product)
                and (key is None or _name_version_ok(p.product, key))
            ):
                out.append((adv, p))
    return out


def assess(app: App, row: Row, feed: CsafFeed, window: timedelta, now: datetime) -> tuple[str, str]:
    """(late | unknown | ok, reason) for one identified product."""
    key = version_key(app.version) if app.version else None
    if key is None:
        return "unknown", f"{app.label}: version {app.version or '(none)'!r} cannot be compared"
    notes: list[str] = []
    late: list[str] = []
    unknown: list[str] = []
    for adv, p in _candidates(feed, row, key):
        if adv.released > now.date():
            continue  # published after the collection
        inside = p.range.contains(key, app.version)
        cves = ", ".join(p.cves[:4]) + (" …" if len(p.cves) > 4 else "")
        if inside is None:
            if p.vendor_fix:
                unknown.append(f"{adv.id} range {p.range.text!r} for {p.product} not comparable")
            continue
        if not inside:
            continue
        if not p.vendor_fix:
            notes.append(f"{adv.id} ({cves}): no vendor fix, mitigations only")
            continue
        available = datetime.combine(adv.released, time(23, 59, 59), tzinfo=UTC)
        fixed = p.range.fixed_version or ", ".join(p.fixed_versions) or "see the advisory"
        text = (
            f"{app.label} in {adv.id} ({p.vendor} {p.product} {p.range.text}; {cves}) released "
            f"{adv.released}, fixed: {fixed}"
        )
        if now - available > window:
            late.append(text)
        else:
            notes.append(f"{text} — still inside the window")
    if late:
        return "late", "; ".join(late[:2]) + (f" and {len(late) - 2} more" if len(late) > 2 else "")
    if unknown:
        return "unknown", f"{app.label}: " + "; ".join(unknown[:2])
    tail = f" ({'; '.join(notes[:2])})" if notes else ""
    return "ok", f"{app.label}: no unpatched affected range past the window{tail}"


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    apps, why = windows_inventory(outputs.get("uninstall"))
    if why is not None:
        return [
            Finding(ism=ISM, outcome=Outcome.NO_VISIBILITY, evidence=f"inventory unreadable: {why}")
        ]
    identified = [(a, r) for a in apps if (r := identify(a)) is not None]
    vendor_apps = [
        a
        for a in apps
        if identify(a) is None
        and (
            ICS_VENDORS.search(a.publisher)
            or ICS_VENDORS.search(a.name)
            or ICS_PRODUCTS.search(a.name)
        )
    ]
    obs: dict[str, object] = {
        "identified": [f"{a.name} {a.version}".strip() for a, _ in identified][:30],
        "not_identified": [f"{a.name} ({a.publisher})" for a in vendor_apps][:30],
    }
    if not identified and not vendor_apps:
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.NOT_APPLICABLE,
                evidence=(
                    f"no industrial software of an ICS advisory vendor among {len(apps)} "
                    "Uninstall entries"
                ),
                observed=obs,
            )
        ]
    state = ctx.feeds.state("csaf-ot", ctx.collected_at)
    reason = state.reason
    feed = None
    if state.usable:
        try:
            feed = ctx.feeds.advisories()
        except FeedError as exc:
            reason = f"csaf-ot feed unreadable: {exc}"
    if feed is None:
        reason = reason or "csaf-ot feed could not be read"
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"industrial software installed but the ICS advisories cannot be used: {reason}",
                observed=obs,
            )
        ]
    window = timedelta(days=ctx.policy.patch_other_days)
    meta = state.meta
    obs["feed"] = {
        "as_of": meta.as_of.isoformat() if meta else None,
        "advisories": len(feed.advisories),
        "ranges_parsed": f"{feed.ranges_parsed}/{feed.products}",
    }
    obs["window_days"] = window.days
    results = [(a, *assess(a, r, feed, window, ctx.collected_at)) for a, r in identified]
    obs["results"] = [f"{s}: {t}" for _, s, t in results][:30]
    late = [t for _, s, t in results if s == "late"]
    unknown = [t for _, s, t in results if s == "unknown"]
    ok = [t for _, s, t in results if s == "ok"]
    as_of = f" (advisories as of {meta.as_of})" if meta else ""
    if late:
        outcome = Outcome.INEFFECTIVE
        evidence = (
            f"vendor fix not applied within {window.days} days: {summary(late, 3)}"
            " (a Rockwell-style patch roll-up that keeps DisplayVersion is not visible here)"
        )
    elif unknown or vendor_apps:
        outcome = Outcome.NO_VISIBILITY
        parts = []
        if unknown:
            parts.append(f"{len(unknown)} product(s) cannot be judged: {summary(unknown, 3)}")
        if vendor_apps:
            names = [a.name for a in vendor_apps]
            parts.append(
                f"{len(vendor_apps)} industrial software entr(y/ies) (an ICS vendor or advisory product) not "
                "identified by ics_products.csv: "
                f"{summary(names, 4)}"
            )
        evidence = "; ".join(parts)
        if ok:
            evidence += f"; {len(ok)} identified product(s) fine{as_of}"
    else:
        outcome = Outcome.EFFECTIVE
        evidence = (
            f"{len(ok)} identified ICS product(s) outside every fixable advisory range past the "
            f"window{as_of}: {summary(ok, 3)}"
        )
    return [Finding(ism=ISM, outcome=outcome, evidence=evidence, observed=obs)]


CHECK = Check(
    id="patch_applications.windows_ics_advisories",
    title="Windows: industrial (ICS) software patched against CISA's ICS advisories within a month",
    strategy=Strategy.PATCH_APPLICATIONS,
    ism=(ISM,),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"uninstall": UNINSTALL_INVENTORY.cmd},
    judge=judge,
    version=1,
)
