"""What the application patching checks share: the app tables, inventory parsers, version order.

- ``patch_applications/app_classes.csv`` (:data:`CLASSES`): which installed applications are in the
  high-risk class of the model (office suites, browsers, email clients, PDF software, Adobe Flash,
  security products; Java runtimes are counted with them for patching, as the e8 reference §2.2
  does) per platform, matched on the Windows Uninstall ``DisplayName`` or the Linux package name.
  Each row names its ``supplier``: ``vendor`` (every Windows entry; a vendor's own Linux
  repository) or ``distribution`` (supported with the distribution release).
- ``patch_applications/app_lines.csv`` (:data:`LINES`): product lines the vendor supports at the
  current release only (Microsoft Edge, Microsoft 365 Apps, Acrobat continuous track), with a
  source per row; :func:`unreferenced` lists the ISM-1704-class entries nothing speaks for.
- ``patch_applications/app_eol.csv`` (:data:`EOL`): product pattern, class, version range and the
  date support ended, with a source per row, for products the endoflife.date feed does not cover
  (:data:`FEED_CYCLES` names those it does: Office and Oracle Java on Windows, Firefox ESR;
  :func:`feed_eol`).
  Browser rows carry a "minimum supported major" as of :data:`TABLE_DATE` (browser versions far
  behind stable cannot be dated individually). Every row's ``source`` names the page (vendor,
  endoflife.date or the shipped endoflife.date snapshot) stating its date; rows no source could be
  found for were removed (issue 14), so those products are not judged. The ``verify`` column is
  kept for the format and is empty.
- ``patch_applications/app_releases.csv`` (:data:`RELEASES`): per Windows product and channel, the
  releases known up to :data:`TABLE_DATE` and their dates, for products the endoflife.date feed
  does not date per version; :data:`FEED_RELEASES` names those it does (Firefox, Firefox ESR,
  Oracle Java 8) and :func:`release_data` picks the source for an installed product.
- :func:`windows_inventory` / :func:`linux_inventory`: the Uninstall-key and dpkg/rpm inventories
  (facts ``windows.uninstall_inventory`` and ``linux.packages``) as
  :class:`checks.facts.software.App` values, or why they cannot be read.
- :func:`vkey`: a numeric sort key for version strings (epoch and Debian revision ignored).
- :func:`judge_unsupported`: the ISM-1704 / ISM-0304 judgement both unsupported-app checks use.

Why one ~630-line module: the four tables, the two inventory parsers and the version order
(:func:`vkey`) are read together by every application check; split, each check would import the
same five pieces from five modules and the tables' loaders would still share the version rules.

Every table is only as good as its last review: the checks refuse to call a host "effective" on
a table that cannot cover the collection date (see each check's docstring). Pure functions and
import-time data only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.resources import files
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.linux.packages import PACKAGES
from checks.facts.software import App
from checks.facts.windows.uninstall import UNINSTALL_INVENTORY
from scanner.checking.api import Context, Finding, Output
from scanner.model.feeds import FeedError, Snapshot
from scanner.model.vocabulary import Outcome

# The app tables describe support as of this date (each row names its source).
TABLE_DATE = date(2025, 10, 15)
# An EOL table older than this at collection time no longer proves "nothing unsupported".
EOL_TABLE_MAX_AGE_DAYS = 365

HIGH_RISK = frozenset({"office", "browser", "email", "pdf", "flash", "security", "java"})
# ISM-1704 names office suites, browsers, email clients, PDF software, Flash and security
# products; Java is not named there, so an unsupported Java runtime falls under ISM-0304.
ISM_1704_CLASSES = frozenset({"office", "browser", "email", "pdf", "flash", "security"})


@dataclass(frozen=True)
class EolRow:
    product: str
    platform: str
    match: re.Pattern[str]
    klass: str
    version_from: str
    version_below: str
    unsupported_from: date
    source: str
    verify: bool

    def covers(self, app: App) -> bool:
        if not self.match.search(app.name):
            return False
        if not (self.version_from or self.version_below):
            return True
        if not app.version or "snap" in app.version:
            # a version range cannot judge an unversioned entry, nor Ubuntu's transitional
            # debs (firefox 1:1snap1, chromium-browser) that install the snap
            return False
        key = vkey(app.version)
        if self.version_from and key < vkey(self.version_from):
            return False
        return not (self.version_below and key >= vkey(self.version_below))


@dataclass(frozen=True)
class Release:
    product: str
    klass: str
    match: re.Pattern[str]
    channel: str
    version: str
    released: date
    source: str
    verify: bool


def vkey(version: str) -> tuple[int, ...]:
    """Numeric sort key: ``1:141.0.7390.54-1~deb12u1`` → (141, 0, 7390, 54)."""
    text = version.strip()
    text = re.sub(r"^\d+:", "", text)  # Debian/RPM epoch
    text = re.split(r"[-~+]", text, maxsplit=1)[0]  # Debian revision / RPM release
    return tuple(int(p) for p in re.findall(r"\d+", text))


def _csv(name: str) -> list[dict[str, str]]:
    text = files("checks.patch_applications").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _load_classes() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    return tuple(
        (r["platform"], re.compile(r["match"], re.I), r["class"]) for r in _csv("app_classes.csv")
    )


def _load_vendor_supplied() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (r["platform"], re.compile(r["match"], re.I))
        for r in _csv("app_classes.csv")
        if r["supplier"] == "vendor"
    )


@dataclass(frozen=True)
class Line:
    """A product line its vendor supports continuously (``app_lines.csv``): only the current
    release is supported, so the line itself is never "no longer supported"; whether an installed
    copy is current is what the patching rows judge."""

    product: str
    platform: str
    match: re.Pattern[str]
    klass: str
    support: str
    source: str


def _load_lines() -> tuple[Line, ...]:
    return tuple(
        Line(
            product=r["product"],
            platform=r["platform"],
            match=re.compile(r["match"], re.I),
            klass=r["class"],
            support=r["support"],
            source=r["source"],
        )
        for r in _csv("app_lines.csv")
    )


def _load_eol() -> tuple[EolRow, ...]:
    return tuple(
        EolRow(
            product=r["product"],
            platform=r["platform"],
            match=re.compile(r["match"], re.I),
            klass=r["class"],
            version_from=r["version_from"],
            version_below=r["version_below"],
            unsupported_from=date.fromisoformat(r["unsupported_from"]),
            source=r["source"],
            verify=r["verify"] == "verify",
        )
        for r in _csv("app_eol.csv")
    )


def _load_releases() -> tuple[Release, ...]:
    return tuple(
        Release(
            product=r["product"],
            klass=r["class"],
            match=re.compile(r["match"], re.I),
            channel=r["channel"],
            version=r["version"],
            released=date.fromisoformat(r["released"]),
            source=r["source"],
            verify=r["verify"] == "verify",
        )
        for r in _csv("app_releases.csv")
    )


CLASSES = _load_classes()
VENDOR_SUPPLIED = _load_vendor_supplied()
LINES = _load_lines()
EOL = _load_eol()
RELEASES = _load_releases()


@dataclass(frozen=True)
class FeedReleases:
    """A Windows product whose releases come from the endoflife.date feed, not app_releases.csv.

    ``line``: only feed versions sharing the installed version's first ``line`` numbers count
    (Firefox ESR: its major); ``display`` turns a feed version into the installed DisplayVersion scheme, or
    None for a version of another channel.

    Not LibreOffice: the snapshot's libreoffice release data ends 2026-03-22, five months before
    the snapshot, so it cannot show that no newer release was missed (the table has no rows for
    it either: no_visibility, as before)."""

    product: str
    match: re.Pattern[str]
    feed: str
    line: int
    display: Callable[[str], str | None]


def _firefox_release(v: str) -> str | None:
    parts = v.split(".")
    # Release-channel versions are X.0 and X.0.Y; X.N.0 (N >= 1) are ESR point releases
    return v if len(parts) >= 2 and parts[1] == "0" else None


def _java8(v: str) -> str | None:
    m = re.fullmatch(r"8u(\d+)", v)  # 8u461 is DisplayVersion 8.0.4610(.x)
    return f"8.0.{m[1]}0" if m else None


FEED_RELEASES = (
    FeedReleases(
        "Mozilla Firefox", re.compile(r"^Mozilla Firefox (?!ESR)\(?", re.I), "firefox", 0,
        _firefox_release,
    ),
    FeedReleases("Mozilla Firefox ESR", re.compile(r"^Mozilla Firefox ESR", re.I), "firefox", 1,
                 lambda v: v),
    FeedReleases("Oracle Java 8", re.compile(r"^Java 8 Update", re.I), "oracle-jdk", 0, _java8),
)  # fmt: skip


@dataclass(frozen=True)
class ReleaseData:
    """What is known of one installed product's releases, and from where."""

    rows: list[Release]
    until: date | None  # the releases are complete up to this date
    source: str  # "endoflife.date firefox, snapshot 2026-08-20" | "app_releases.csv of 2025-10-15"
    why: str | None = None  # why nothing is known (feed unusable, product without rows)


def release_data(app: App, feeds: Snapshot, at: datetime) -> ReleaseData:
    """The releases of ``app``'s product: from the endoflife.date feed when the feed covers the
    product and is usable at ``at``; otherwise the sourced rows of app_releases.csv."""
    spec = next((f for f in FEED_RELEASES if f.match.search(app.name)), None)
    table = f"app_releases.csv of {TABLE_DATE}"
    if spec is None:
        return ReleaseData(_table_rows(app), TABLE_DATE, table)
    state = feeds.state("endoflife", at)
    if not state.usable or state.meta is None:
        return ReleaseData([], None, "", f"{app.label}: no release data ({state.reason})")
    try:
        versions = feeds.releases(spec.feed)
    except FeedError as exc:
        return ReleaseData([], None, "", f"{app.label}: release data unreadable ({exc})")
    source = f"endoflife.date {spec.feed}, snapshot {state.meta.as_of}"
    if not versions:
        return ReleaseData([], None, "", f"{app.label}: {source} lists no versions")
    installed = vkey(app.version)[: spec.line]
    rows = []
    for name, released in versions.items():
        shown = spec.display(name)
        if shown is None or (spec.line and vkey(shown)[: spec.line] != installed):
            continue
        rows.append(
            Release(
                product=spec.product,
                klass=app_class("windows", app.name) or "other",
                match=spec.match,
                channel=spec.feed,
                version=shown,
                released=released,
                source=f"endoflife.date {spec.feed} {name} released {released}, snapshot "
                f"{state.meta.as_of}",
                verify=False,
            )
        )
    return ReleaseData(rows, state.meta.as_of, source)


def _table_rows(app: App) -> list[Release]:
    rows = [r for r in RELEASES if r.match.search(app.name) and r.source]
    major = vkey(app.version)[:1]
    out = []
    for r in rows:
        if (
            r.channel.startswith("esr")
            and r.channel[3:].isdigit()
            and major != (int(r.channel[3:]),)
        ):
            continue
        out.append(r)
    return out


@dataclass(frozen=True)
class FeedCycles:
    """Installed products whose end of support comes from the endoflife.date feed's cycles, not
    app_eol.csv: ``cycle`` names the installed entry's cycle on the product's page."""

    product: str
    platform: str
    match: re.Pattern[str]
    klass: str
    feed: str
    cycle: Callable[[App], str | None]


def _named(pattern: str) -> Callable[[App], str | None]:
    rx = re.compile(pattern, re.I)

    def cycle(app: App) -> str | None:
        m = rx.search(app.name)
        return m[1] if m else None

    return cycle


def _major(app: App) -> str | None:
    key = vkey(app.version) if app.version else ()
    return str(key[0]) if key else None


FEED_CYCLES = (
    FeedCycles(
        "Microsoft Office", "windows",
        re.compile(r"^Microsoft Office\b.*\b(2003|2007|2010|2013|2016|2019|2021|2024)\b", re.I),
        "office", "office", _named(r"\b(2003|2007|2010|2013|2016|2019|2021|2024)\b"),
    ),
    FeedCycles(
        "Oracle Java", "windows", re.compile(r"^Java(\(TM\))? \d+ Update\b|^Java\(TM\) \d+\b", re.I),
        "java", "oracle-jdk", _named(r"^Java(?:\(TM\))? (\d+)\b"),
    ),
    # An ESR line is a cycle of its own on the firefox page (lts), ending with its last point
    # release (115 ESR, kept for Windows 7-8.1, ends 2027-03-31)
    FeedCycles(
        "Mozilla Firefox ESR", "windows", re.compile(r"^Mozilla Firefox ESR", re.I), "browser",
        "firefox", _major,
    ),
    FeedCycles(
        "Mozilla Firefox ESR", "linux", re.compile(r"^firefox-esr$", re.I), "browser", "firefox",
        _major,
    ),
)  # fmt: skip


def feed_eol(
    platform: str, apps: list[App], ctx: Context
) -> tuple[list[tuple[App, EolRow]], list[tuple[App, str, str]], set[int]]:
    """Per installed product the feed covers: (unsupported hits, (app, class, why not judged),
    ids of the apps the feed covers). Support ends at the cycle's last support tier the vendor
    sells (endoflife.date ``eoes`` when dated, else ``eol``); a policy ``app:<product> <cycle>``
    override replaces it."""
    on = ctx.collected_at.date()
    hits: list[tuple[App, EolRow]] = []
    unknown: list[tuple[App, str, str]] = []
    covered: set[int] = set()
    state = ctx.feeds.state("endoflife", ctx.collected_at)
    for app in apps:
        spec = next(
            (f for f in FEED_CYCLES if f.platform == platform and f.match.search(app.name)), None
        )
        if spec is None:
            continue
        covered.add(id(app))
        if not state.usable or state.meta is None:
            unknown.append((app, spec.klass, f"{app.label}: {state.reason}"))
            continue
        try:
            cycles = ctx.feeds.cycles(spec.feed) or []
        except FeedError as exc:
            unknown.append((app, spec.klass, f"{app.label}: {exc}"))
            continue
        key = spec.cycle(app)
        cycle = next((c for c in cycles if c.cycle == key), None)
        where = f"endoflife.date {spec.feed}"
        if cycle is None:
            unknown.append((app, spec.klass, f"{app.label}: no cycle {key!r} on {where}"))
            continue
        end = cycle.eoes if isinstance(cycle.eoes, date) else cycle.eol
        tier = "eoes" if isinstance(cycle.eoes, date) else "eol"
        name = f"{spec.product} {cycle.cycle}"
        override = (ctx.policy.eol_overrides or {}).get(f"app:{name}")
        if override is not None:
            end = override
        if end is True or (isinstance(end, date) and end <= on):
            ended = end if isinstance(end, date) else on
            hits.append(
                (
                    app,
                    EolRow(
                        product=name,
                        platform=platform,
                        match=spec.match,
                        klass=spec.klass,
                        version_from="",
                        version_below="",
                        unsupported_from=ended,
                        source=f"{where} {cycle.cycle} {tier} {end}, snapshot {state.meta.as_of}",
                        verify=False,
                    ),
                )
            )
        elif end is None:
            unknown.append((app, spec.klass, f"{app.label}: {where} {cycle.cycle} has no end"))
    return hits, unknown, covered


def unreferenced(
    platform: str, apps: list[App]
) -> tuple[list[tuple[App, str]], list[tuple[App, Line]]]:
    """ISM-1704-class entries a vendor ships that no reference data speaks about (no EOL row
    matches their name; the feed's products are left out by the caller), and those that belong to
    a continuously supported line (:data:`LINES`). A distribution's own packages are supported
    with the release (``patch_os.linux_os_support``), so only vendor-supplied ones count: an
    unknown browser, PDF reader or security product cannot be called supported."""
    unknown: list[tuple[App, str]] = []
    lines: list[tuple[App, Line]] = []
    for app in apps:
        klass = app_class(platform, app.name)
        if klass not in ISM_1704_CLASSES:
            continue
        if not any(p == platform and m.search(app.name) for p, m in VENDOR_SUPPLIED):
            continue
        if any(r.platform == platform and r.match.search(app.name) for r in EOL):
            continue
        line = next(
            (ln for ln in LINES if ln.platform == platform and ln.match.search(app.name)), None
        )
        if line is not None:
            lines.append((app, line))
        else:
            unknown.append((app, klass))
    return unknown, lines


def app_class(platform: str, name: str) -> str | None:
    """The class of an installed application or package, or None for "other"."""
    for plat, pattern, klass in CLASSES:
        if plat == platform and pattern.search(name):
            return klass
    return None


def eol_hits(
    platform: str, apps: list[App], on: date, overrides: Mapping[str, date] | None = None
) -> list[tuple[App, EolRow]]:
    """Installed applications whose support had ended by ``on`` (policy ``app:<product>`` overrides)."""
    ended = [
        row
        for row in EOL
        if row.platform == platform
        and (overrides or {}).get(f"app:{row.product}", row.unsupported_from) <= on
    ]  # once per host, not once per installed package (hundreds of them)
    hits = []
    for app in apps:
        for row in ended:
            if row.covers(app):
                hits.append((app, row))
                break
    return hits


def windows_inventory(out: Output | None) -> tuple[list[App], str | None]:
    """Uninstall-key entries (fact ``windows.uninstall_inventory``), or why they are unreadable."""
    apps = UNINSTALL_INVENTORY.read(out)
    if isinstance(apps, Unknown):
        return [], apps.reason
    return apps, None


def linux_inventory(out: Output | None) -> tuple[list[App], str | None]:
    """dpkg/rpm packages (fact ``linux.packages``) as apps, or why they are unreadable."""
    packages = PACKAGES.read(out)
    if isinstance(packages, Unknown):
        return [], packages.reason
    return [p.app for p in packages], None


def summary(items: list[str], limit: int = 6) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def observed_apps(apps: list[App], limit: int = 30) -> list[dict[str, Any]]:
    return [
        {"name": a.name, "version": a.version, "publisher": a.publisher or None, "where": a.where}
        for a in apps[:limit]
    ]


def judge_unsupported(
    apps: list[App], why: str | None, platform: str, ctx: Context
) -> list[Finding]:
    """ISM-1704 and ISM-0304 from an inventory; shared with the Linux check."""
    if why is not None:
        unread = [
            Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=f"inventory unreadable: {why}")
            for i in ("ISM-1704", "ISM-0304")
        ]
        return [*unread, _online_services(unread, ctx)]
    today = ctx.collected_at.date()
    from_feed, unjudged, covered = feed_eol(platform, apps, ctx)
    tabled = [a for a in apps if id(a) not in covered]
    hits = from_feed + eol_hits(platform, tabled, today, ctx.policy.eol_overrides)
    unknown, lines = unreferenced(platform, tabled)
    unjudged = unjudged + [
        (a, k, f"{a.label} ({k}): no support data for this product") for a, k in unknown
    ]
    stale = today - TABLE_DATE > timedelta(days=EOL_TABLE_MAX_AGE_DAYS)
    findings = []
    for ism in ("ISM-1704", "ISM-0304"):
        mine: list[tuple[App, EolRow]] = [
            (a, r) for a, r in hits if (r.klass in ISM_1704_CLASSES) == (ism == "ISM-1704")
        ]
        blind = [w for _, k, w in unjudged if (k in ISM_1704_CLASSES) == (ism == "ISM-1704")]
        observed = {
            "applications_seen": len(apps),
            "eol_table_date": TABLE_DATE.isoformat(),
            "eol_feed": _feed_state(ctx),
            "not_judged": blind[:20],
            "current_release_lines": [
                {
                    "application": a.label,
                    "line": ln.product,
                    "support": ln.support,
                    "source": ln.source,
                }
                for a, ln in lines[:20]
                if (ln.klass in ISM_1704_CLASSES) == (ism == "ISM-1704")
            ],
            "unsupported": [
                {
                    "application": a.label,
                    "where": a.where or None,
                    "product": r.product,
                    "class": r.klass,
                    "unsupported_from": r.unsupported_from.isoformat(),
                    "source": r.source,
                    "verify": r.verify,
                }
                for a, r in mine[:20]
            ],
        }
        scope = (
            "office suite, browser, email client, PDF software, Flash or security product"
            if ism == "ISM-1704"
            else "other application (Java included)"
        )
        if mine:
            names = [
                f"{a.label} ({r.product}, unsupported since {r.unsupported_from}"
                + (f"; {r.source})" if r.source.startswith("endoflife.date") else ")")
                for a, r in mine
            ]
            outcome = Outcome.INEFFECTIVE
            evidence = f"unsupported {scope} installed: {summary(names, 4)}"
        elif blind:
            outcome = Outcome.NO_VISIBILITY
            evidence = f"end of support not known for {summary(blind, 3)}"
        elif stale:
            outcome = Outcome.NO_VISIBILITY
            evidence = (
                f"no listed product is unsupported, but the EOL table ({TABLE_DATE}) is more than "
                f"{EOL_TABLE_MAX_AGE_DAYS} days old at collection; refresh app_eol.csv"
            )
        else:
            outcome = Outcome.EFFECTIVE
            evidence = (
                f"none of {len(apps)} installed entries is an unsupported {scope} "
                f"per the EOL table of {TABLE_DATE}"
            )
            feed = _feed_state(ctx)
            if feed["usable"]:
                evidence += f" and the endoflife.date snapshot of {feed['as_of']}"
            if ism == "ISM-0304":
                evidence += " (partly: applications not in the table are not judged)"
            else:
                current = sorted({ln.product for _, ln in lines if ln.klass in ISM_1704_CLASSES})
                if current:
                    evidence += (
                        f"; {', '.join(current)}: supported while current (their patch age is "
                        "judged under ISM-1691/1692)"
                    )
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed))
    findings.append(_online_services(findings, ctx))
    return findings


def _feed_state(ctx: Context) -> dict[str, object]:
    state = ctx.feeds.state("endoflife", ctx.collected_at)
    if state.usable and state.meta is not None:
        return {"usable": True, "as_of": state.meta.as_of.isoformat()}
    return {"usable": False, "reason": state.reason}


def _online_services(findings: list[Finding], ctx: Context) -> Finding:
    """ISM-1905 (online services no longer supported are removed), for internet-facing hosts.

    The host cannot say which installed application serves the internet, so on an internet-facing
    host any unsupported application counts against it (stricter than the control, documented).
    """
    if not ctx.internet_facing:
        return Finding(
            ism="ISM-1905", outcome=Outcome.NOT_APPLICABLE, evidence="not an internet-facing host"
        )
    outcomes = {f.outcome for f in findings}
    if Outcome.INEFFECTIVE in outcomes:
        bad = "; ".join(f.evidence for f in findings if f.outcome is Outcome.INEFFECTIVE)
        return Finding(
            ism="ISM-1905",
            outcome=Outcome.INEFFECTIVE,
            evidence=f"internet-facing host runs unsupported software: {bad}",
        )
    if Outcome.NO_VISIBILITY in outcomes:
        return Finding(
            ism="ISM-1905",
            outcome=Outcome.NO_VISIBILITY,
            evidence="; ".join(f.evidence for f in findings if f.outcome is Outcome.NO_VISIBILITY),
        )
    return Finding(
        ism="ISM-1905",
        outcome=Outcome.EFFECTIVE,
        evidence="internet-facing host: no listed product is unsupported (partly: applications "
        "not in the EOL table are not judged)",
    )
