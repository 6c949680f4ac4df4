"""Windows: are browser, office, PDF, Java and other application updates installed in time?

**Collected (read-only; never ``Win32_Product``):** the Uninstall registry inventory (the same
line as ``windows_unsupported_apps``: HKLM 64- and 32-bit views and loaded ``HKEY_USERS`` hives;
``DisplayName``, ``DisplayVersion``, ``Publisher``, ``InstallDate``) and the Microsoft 365 Apps
Click-to-Run configuration ``HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\Configuration``
(``VersionToReport``, ``UpdateChannel``, ``CDNBaseUrl``, ``UpdatesEnabled``, ``ProductReleaseIds``)
— facts ``windows.uninstall_inventory`` and ``windows.click_to_run``. The Click-to-Run read only
adds an application: when it fails, the reason is kept in ``observed`` and the judgement rests on
the Uninstall inventory (where Click-to-Run Office also registers, as an office-class entry).

**Reference data:** release dates per product, from one of two sources, named in the evidence:
- the **endoflife.date feed** (``ctx.feeds``, files ``endoflife/releases/<product>.json``) for
  Mozilla Firefox (release channel: versions X.0 and X.0.Y), Firefox ESR (the installed ESR line)
  and Oracle Java 8 (``8uNNN`` = DisplayVersion ``8.0.NNN0``). The feed must be usable at the
  collection (``feeds.state("endoflife")``: installed, not older than the policy's
  ``feed_max_age_days``, default 90); otherwise these products are no_visibility with the
  feed's reason (app_releases.csv no longer has rows for them). Releases dated after the
  collection do not count;
- ``patch_applications/app_releases.csv`` (table date 2025-10-15, a source per row) for the
  products the feed does not date per version: Chrome and Edge (the feed has only Chrome's major
  releases), 7-Zip. *This table must be maintained*; a product in neither source (Microsoft 365
  Apps, Acrobat/Reader, Thunderbird, LibreOffice…) can only be no_visibility.

Either source must reach ``collected_at - window``: the feed's data date (snapshot as-of) or the
table date; before that no newer release can be shown not to have been missed.

**Rule per installed product and control (window W):** the releases of the product (an ``esrNNN``
channel only for installed major NNN) newer than the installed version are missing. Ineffective
when one of them was released more than W before collection (a release counts from the end of its
release day, UTC). Effective when none is, the version is known and the source reaches at least
``collected_at - W``. Otherwise no_visibility with the reason (no version, no release data for
the product or channel, table too old).

**Controls:** the high-risk class (office suites, browsers, email clients, PDF software, security
products, Java — ``app_classes.csv``): ISM-1691 (ML1-2, two weeks), ISM-1692 (ML3, critical or
exploited, 48 h) and ISM-1901 (ML3, other, two weeks); severity is not visible from a version, so
every missed release is treated as possibly critical (ISM-1692 fails 48 h after it; CISA KEV is
not consulted: no version ↔ CVE mapping is in the feed snapshot, and it could not make the
48-hour verdict stricter). ISM-1693
(ML2-3, other applications, one month): judged over *every* other application in the inventory;
one whose update state cannot be assessed (no version, no release rows) leaves the control
no_visibility, with the count and names of what was not assessable (a few current applications
do not show the rest patched). The high-risk controls are not_applicable when none of those applications is installed.
ISM-1876/ISM-1690 (online services): not_applicable unless ``e8_internet_facing``; on an
internet-facing host no_visibility, because which installed product serves the internet cannot be
read from the Uninstall inventory.

Windows policy values: ``patch_critical_hours`` (48 h), ``patch_internet_facing_days`` (the two
weeks), ``patch_other_days`` (one month). no_visibility for all controls when the inventory cannot
be read (PowerShell 2.0 without ``ConvertTo-Json``, access denied).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta

from checks.facts.fact import Unknown
from checks.facts.software import App
from checks.facts.windows.click_to_run import CLICK_TO_RUN, ClickToRun
from checks.facts.windows.uninstall import UNINSTALL_INVENTORY
from checks.patch_applications._judging import (
    HIGH_RISK,
    TABLE_DATE,
    app_class,
    release_data,
    summary,
    vkey,
    windows_inventory,
)
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.feeds import Snapshot
from scanner.model.vocabulary import Outcome, Platform, Strategy

CHECK_ISM = ("ISM-1691", "ISM-1692", "ISM-1901", "ISM-1693", "ISM-1876", "ISM-1690")


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"


def _c2r(read: ClickToRun | None | Unknown) -> App | None:
    if read is None or isinstance(read, Unknown):
        return None
    return App(
        name="Microsoft 365 Apps (Click-to-Run)",
        version=read.version,
        where=f"ClickToRun {read.channel}",
    )


def _c2r_observed(read: ClickToRun | None | Unknown) -> dict[str, object] | None:
    if isinstance(read, Unknown):
        return {"unread": read.reason}
    if read is None:
        return None
    return {
        "version": read.version,
        "channel": read.channel,
        "updates_enabled": read.updates_enabled,
        "products": read.products,
    }


def assess(app: App, window: timedelta, now: datetime, feeds: Snapshot) -> tuple[str, str]:
    """(late | ok | unknown, reason) for one installed product."""
    if not app.version or not vkey(app.version):
        return "unknown", f"{app.name}: no version recorded"
    data = release_data(app, feeds, now)
    if data.why is not None:
        return "unknown", data.why
    if not data.rows:
        return "unknown", f"{app.label}: no release data for this product or channel"
    installed = vkey(app.version)
    newer = sorted(
        (r for r in data.rows if vkey(r.version) > installed and r.released <= now.date()),
        key=lambda r: (r.released, vkey(r.version)),
    )
    for r in newer:
        available = datetime.combine(r.released, time(23, 59, 59), tzinfo=UTC)
        if now - available > window:
            feed = f" ({r.source})" if r.source.startswith("endoflife.date") else ""
            return "late", (
                f"{app.label} lacks {r.product} {r.version} released {r.released} "
                f"({_span(now - available)} ago, window {_span(window)}){feed}"
            )
    if data.until is None or (now - window).date() > data.until:
        return "unknown", (
            f"{app.label}: release data ({data.source}) ends {data.until}; releases up to "
            f"{(now - window).date()} unknown (refresh "
            + ("the feed snapshot)" if data.source.startswith("endoflife") else "app_releases.csv)")
        )
    pending = f"; newer {newer[0].version} still inside the window" if newer else ""
    return "ok", f"{app.label} current per {data.source}{pending}"


def _feed_observed(ctx: Context) -> dict[str, object]:
    state = ctx.feeds.state("endoflife", ctx.collected_at)
    if state.usable and state.meta is not None:
        return {"endoflife": {"as_of": state.meta.as_of.isoformat(), "usable": True}}
    return {"endoflife": {"usable": False, "reason": state.reason}}


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    apps, why = windows_inventory(outputs.get("uninstall"))
    c2r = CLICK_TO_RUN.read(outputs.get("c2r"))
    c2r_app = _c2r(c2r)
    if why is not None:
        return [
            Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=f"inventory unreadable: {why}")
            for i in CHECK_ISM
        ]
    if c2r_app is not None:
        apps = [*apps, c2r_app]
    high = [a for a in apps if app_class("windows", a.name) in HIGH_RISK]
    other = [a for a in apps if a not in high]
    p = ctx.policy
    crit = timedelta(hours=p.patch_critical_hours)
    fortnight = timedelta(days=p.patch_internet_facing_days)
    rules = {
        "ISM-1691": (high, fortnight),
        "ISM-1692": (high, crit),
        "ISM-1901": (high, fortnight),
        "ISM-1693": (other, timedelta(days=p.patch_other_days)),
    }
    base: dict[str, object] = {
        "release_table_date": TABLE_DATE.isoformat(),
        "release_feed": _feed_observed(ctx),
        "high_risk_installed": [a.label for a in high][:30],
        "click_to_run": _c2r_observed(c2r),
    }
    findings = []
    for ism in CHECK_ISM:
        if ism in ("ISM-1876", "ISM-1690"):
            if not ctx.internet_facing:
                outcome = Outcome.NOT_APPLICABLE
                evidence = "online-service control: the host is not marked e8_internet_facing"
            else:
                outcome = Outcome.NO_VISIBILITY
                evidence = (
                    "internet-facing host: which installed product provides the online service "
                    "cannot be read from the Uninstall inventory; judge the service's version "
                    "against the vendor's releases"
                )
            findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=base))
            continue
        scope, window = rules[ism]
        obs = {**base, "window": _span(window)}
        if not scope:
            if ism == "ISM-1693":
                outcome = Outcome.NO_VISIBILITY
                evidence = (
                    "no application outside the high-risk class in the Uninstall inventory; "
                    "an empty list does not show that other applications are patched"
                )
            else:
                outcome = Outcome.NOT_APPLICABLE
                evidence = (
                    "no office suite, browser, email client, PDF software, security product or "
                    f"Java installed ({len(apps)} Uninstall entries seen)"
                )
            findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=obs))
            continue
        results = [(a, *assess(a, window, now, ctx.feeds)) for a in scope]
        late = [r for _, s, r in results if s == "late"]
        unknown = [r for _, s, r in results if s == "unknown"]
        ok = [r for _, s, r in results if s == "ok"]
        obs["results"] = [f"{s}: {r}" for _, s, r in results][:30]
        if late:
            outcome, evidence = Outcome.INEFFECTIVE, summary(late, 3)
        elif unknown:
            outcome = Outcome.NO_VISIBILITY
            evidence = (
                f"{len(unknown)} of {len(results)} applications could not be assessed: "
                f"{summary(unknown, 3)}"
            )
            if ok:
                evidence += f"; {len(ok)} current within {_span(window)}: {summary(ok, 3)}"
        else:
            outcome = Outcome.EFFECTIVE
            evidence = f"{len(ok)} applications current within {_span(window)}: {summary(ok, 3)}"
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=obs))
    return findings


CHECK = Check(
    id="patch_applications.windows_app_updates",
    title="Windows: browser, office, PDF, Java and other application updates applied in time",
    strategy=Strategy.PATCH_APPLICATIONS,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.WINDOWS}),
    collect={"uninstall": UNINSTALL_INVENTORY.cmd, "c2r": CLICK_TO_RUN.cmd},
    # The Click-to-Run read only adds an application to judge (Click-to-Run Office also
    # registers in the Uninstall inventory, where it is judged, as an office-class entry):
    # every verdict rests on the Uninstall inventory.
    rests_on=dict.fromkeys(("ISM-1691", "ISM-1692", "ISM-1901", "ISM-1693"), ("uninstall",)),
    judge=judge,
    # v2: ISM-1693 over every other application, not only those with release data;
    # v3: Firefox, Firefox ESR and Java 8 releases from the endoflife.date feed
    version=3,
)
