"""Linux: are application fixes applied within ASD's deadlines (browsers, mail, PDF, office, AV…)?

**Collected (read-only; nothing refreshes the package metadata; the same command lines as
``patch_os.linux_pending_updates``, so the runner runs them once):**
- ``/etc/os-release``; the installed packages (dpkg/rpm, as ``linux_unsupported_apps``);
- Debian/Ubuntu: ``apt-get -s -o Debug::NoLocking=1 dist-upgrade`` (simulation) — each ``Inst``
  line gives package, new version and origin;
- RHEL family (root): ``dnf -C -q updateinfo info --security --available`` (advisory, severity,
  date), ``dnf -C -q updateinfo list --security --available`` (advisory → package) and
  ``dnf -C -q list --upgrades`` (every pending package, for vendor repositories such as Google's or
  Microsoft's that publish no advisories); ``yum -C`` equivalents on RHEL 7;
- package metadata age and the last Debian upgrade pass (apt history, unattended-upgrades stamp).

**Classes** (``patch_applications/app_classes.csv``): the *high-risk class* is office suites
(libreoffice…), browsers (firefox, firefox-esr, chromium, google-chrome-*, microsoft-edge-*…),
email clients (thunderbird, evolution…), PDF software (evince, okular, atril, xpdf, poppler…),
Flash plug-ins, security products (clamav, falcon-sensor, mdatp…) and Java runtimes (openjdk,
following the e8 reference §2.2). Every other package is an *other application*: a Linux
distribution does not separate applications from the OS, so these fixes are also judged by
``patch_os.linux_pending_updates`` with the host-class window.

**A pending fix** is a ``-security`` package (Debian/Ubuntu) or a package of a pending security
advisory (RHEL family); for the high-risk class also any pending update from a vendor repository
outside the distribution (browser vendors ship only security releases on their stable channels).

**Controls and windows** (policy: ``patch_critical_hours`` 48 h, ``patch_internet_facing_days``
two weeks, ``patch_other_days`` one month):
- ISM-1691 (ML1-2): high-risk class, every fix, two weeks;
- ISM-1692 (ML3): high-risk class, critical fixes, 48 h; ISM-1901 (ML3): non-critical, two weeks;
- ISM-1693 (ML2-3): other applications, every fix, one month;
- ISM-1876 / ISM-1690 (online services: critical 48 h / other two weeks): only on hosts with
  ``e8_internet_facing: true`` (not_applicable elsewhere). *Partly:* which packages provide the
  listening services needs ``ss -ltnp`` as root and a port → package mapping this check does not
  make, so every pending security fix on an internet-facing host is judged (stricter).
- the high-risk controls are not_applicable when no high-risk package is installed.

"Critical" is the vendor's severity (RHEL ``Severity: Critical``); a fix of unknown severity
(every Debian/Ubuntu fix; vendor repositories) counts as possibly critical *and* as non-critical.
Working-exploit status is not visible from the host (no KEV feed).

**Judgement per control (the rules of ``patch_os.linux_pending_updates``):** ineffective when a
fix in scope is provably older than the window: an advisory by its date; an undated fix when the
package lists it came from were fetched longer ago than the window, or (Debian/Ubuntu) when no
upgrade pass ran within the window (nothing shows the fix was released inside it). Effective when
no fix in scope is overdue and the metadata is fresh (younger than ``package_cache_max_age_days``);
an undated fix younger than the last upgrade pass is taken as in time (the evidence says so).
no_visibility when the package tool failed or sudo was refused, the metadata is stale or of
unknown age, the distribution is not handled, a CentOS host shows no advisories, or (RHEL family)
an undated vendor-repository update is pending with no way to date it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from checks._app_patch import HIGH_RISK, LINUX_INVENTORY, app_class, linux_inventory, summary
from checks._linux import first_line, from_epoch, iso, parse_os_release, unreadable
from checks.patch_os.linux_pending_updates import CHECK as _OS_CHECK
from checks.patch_os.linux_pending_updates import parse_updateinfo
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

DEB_IDS = {"debian", "ubuntu", "raspbian", "linuxmint", "pop", "kali"}
RPM_IDS = {"rhel", "centos", "rocky", "almalinux", "ol", "amzn", "fedora", "scientific"}
DISTRO_ORIGINS = ("debian", "ubuntu", "raspbian", "kali", "linuxmint", "pop")

CHECK_ISM = ("ISM-1691", "ISM-1692", "ISM-1901", "ISM-1693", "ISM-1876", "ISM-1690")
HIGH_RISK_ISM = ("ISM-1691", "ISM-1692", "ISM-1901")
ONLINE_ISM = ("ISM-1876", "ISM-1690")


@dataclass(frozen=True)
class Fix:
    package: str
    high_risk: bool
    severity: str  # critical | other | unknown
    released: datetime | None
    ident: str


def _family(osr: Mapping[str, str]) -> str | None:
    ids = {osr.get("ID", "").lower(), *osr.get("ID_LIKE", "").lower().split()}
    if ids & DEB_IDS:
        return "deb"
    if ids & RPM_IDS:
        return "rpm"
    return None


def _high(name: str) -> bool:
    return app_class("linux", name) in HIGH_RISK


_INST = re.compile(r"^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+) (.*?) \[[^\]]*\]\)")


def apt_fixes(text: str) -> list[Fix]:
    fixes = []
    for line in text.splitlines():
        m = _INST.match(line)
        if not m:
            continue
        name, version, origin = m.group(1), m.group(3), m.group(4)
        high = _high(name)
        third_party = not origin.lower().startswith(DISTRO_ORIGINS)
        if "-security" in origin or (high and third_party):
            fixes.append(Fix(name, high, "unknown", None, f"{name} {version} ({origin})"))
    return fixes


def _rpm_name(nevra: str) -> str:
    base = re.sub(r"\.(x86_64|noarch|i686|aarch64|ppc64le|s390x|src)$", "", nevra.strip())
    parts = base.rsplit("-", 2)
    return parts[0] if len(parts) == 3 else base


def rpm_fixes(info: str, listing: str, upgrades: str) -> list[Fix]:
    advisories = {f.ident: f for f in parse_updateinfo(info)}
    fixes: list[Fix] = []
    covered: set[str] = set()
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) < 3 or not re.match(r"^[A-Z]+[A-Z0-9-]*-\d{4}[:-]", parts[0]):
            continue
        name = _rpm_name(parts[-1])
        covered.add(name)
        adv = advisories.get(parts[0])
        sev = (
            adv.severity
            if adv
            else ("critical" if parts[1].lower().startswith("crit") else "unknown")
        )
        fixes.append(Fix(name, _high(name), sev, adv.released if adv else None, parts[0]))
    for line in upgrades.splitlines():
        parts = line.split()
        if len(parts) != 3 or "." not in parts[0] or parts[0].endswith(":"):
            continue
        name = parts[0].rsplit(".", 1)[0]
        if name in covered or not _high(name):
            continue
        repo = parts[2].lower()
        if repo.startswith(("baseos", "appstream", "rhel-", "updates", "base", "epel", "extras")):
            continue  # a distribution repository: its security fixes come with advisories
        fixes.append(Fix(name, True, "unknown", None, f"{name} {parts[1]} ({parts[2]})"))
    return fixes


def _newest_epoch(text: str) -> datetime | None:
    times = [from_epoch(line.split(" ", 1)[0]) for line in text.splitlines() if line.strip()]
    return max((t for t in times if t is not None), default=None)


def _last_upgrade_pass(text: str) -> datetime | None:
    offset: timezone = UTC
    found: list[datetime] = []
    for line in text.splitlines():
        if m := re.match(r"^tz ([+-])(\d\d)(\d\d)$", line.strip()):
            delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
            offset = timezone(delta if m.group(1) == "+" else -delta)
    for line in text.splitlines():
        if line.startswith("apt-history "):
            try:
                local = datetime.strptime(line[12:].strip(), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
            found.append(local.replace(tzinfo=offset))
        elif line.strip().endswith("unattended-upgrades-stamp"):
            moment = from_epoch(line.split(" ", 1)[0])
            if moment is not None:
                found.append(moment)
    return max(found, default=None)


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"


def _rules(ctx: Context) -> dict[str, tuple[str, str, timedelta]]:
    """ISM → (package class: high | other | all, severity scope, window)."""
    p = ctx.policy
    crit = timedelta(hours=p.patch_critical_hours)
    fortnight = timedelta(days=p.patch_internet_facing_days)
    month = timedelta(days=p.patch_other_days)
    return {
        "ISM-1691": ("high", "all", fortnight),
        "ISM-1692": ("high", "critical", crit),
        "ISM-1901": ("high", "other", fortnight),
        "ISM-1693": ("other", "all", month),
        "ISM-1876": ("all", "critical", crit),
        "ISM-1690": ("all", "other", fortnight),
    }


def _blind_rpm(outputs: Mapping[str, Output]) -> str | None:
    for name in ("dnf_security", "dnf_security_list", "dnf_upgrades"):
        out = outputs.get(name)
        why = unreadable(out, stdout_denial=True)
        if why is not None:
            return why
        assert out is not None
        nothing = name == "dnf_upgrades" and "no matching packages" in out.text.lower()
        if "E8_NO_DNF" in out.text or (not out.ok and not nothing):
            return f"dnf/yum failed: {first_line(out.text) or first_line(out.err)}"
    return None


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    osr_out = outputs.get("os_release")
    osr = (
        parse_os_release(osr_out.text)
        if osr_out is not None and unreadable(osr_out) is None
        else {}
    )
    family = _family(osr)
    apps, inv_why = linux_inventory(outputs.get("packages"))
    high_installed = sorted({a.name for a in apps if _high(a.name)})
    observed: dict[str, object] = {
        "os": osr.get("PRETTY_NAME") or osr.get("ID"),
        "high_risk_installed": high_installed[:30],
    }

    blind: str | None = None
    fixes: list[Fix] = []
    if family is None:
        blind = f"distribution {osr.get('ID') or 'unknown'} is not handled by this check"
    elif family == "deb":
        out = outputs.get("apt_upgrade")
        blind = unreadable(out, stdout_denial=True)
        if blind is None and out is not None and (not out.ok or "E8_NO_APT" in out.text):
            blind = f"apt-get simulation failed: {first_line(out.text) or first_line(out.err)}"
        if blind is None and out is not None:
            fixes = apt_fixes(out.text)
    else:
        blind = _blind_rpm(outputs)
        if blind is None:
            fixes = rpm_fixes(
                outputs["dnf_security"].text,
                outputs["dnf_security_list"].text,
                outputs["dnf_upgrades"].text,
            )
            if not fixes and osr.get("ID", "").lower() == "centos":
                blind = (
                    "CentOS repositories publish no security errata; an empty list proves nothing"
                )
    observed["pending_fixes"] = [
        f"{f.ident} [{'high-risk' if f.high_risk else 'other'}, {f.severity}, {iso(f.released)}]"
        for f in fixes[:30]
    ]

    cache_out = outputs.get("cache")
    cache_time = _newest_epoch(cache_out.text) if cache_out is not None and cache_out.ran else None
    cache_age = now - cache_time if cache_time is not None else None
    if cache_age is None:
        stale: str | None = "package metadata age unknown; pending-update view unreliable"
    elif cache_age > timedelta(days=ctx.policy.package_cache_max_age_days):
        stale = f"package metadata {cache_age.days} days old; pending-update view unreliable"
    else:
        stale = None
    last_out = outputs.get("last_upgrade")
    last_pass = _last_upgrade_pass(last_out.text) if family == "deb" and last_out else None
    observed.update(metadata_fetched=iso(cache_time), last_upgrade_pass=iso(last_pass))

    findings = []
    for ism, (klass, scope, window) in _rules(ctx).items():
        obs = {**observed, "window": _span(window), "class": klass, "severity_scope": scope}
        if ism in ONLINE_ISM and not ctx.internet_facing:
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NOT_APPLICABLE,
                    evidence="online-service control: the host is not marked e8_internet_facing",
                    observed=obs,
                )
            )
            continue
        if ism in HIGH_RISK_ISM and inv_why is None and not high_installed:
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NOT_APPLICABLE,
                    evidence="no office suite, browser, email client, PDF software, security "
                    f"product or Java runtime installed ({len(apps)} packages seen)",
                    observed=obs,
                )
            )
            continue
        in_scope = [
            f
            for f in fixes
            if (klass == "all" or f.high_risk == (klass == "high"))
            and (scope == "all" or f.severity in (scope, "unknown"))
        ]
        overdue: list[str] = []
        late = sorted(
            (f.released, f.ident, f.package, f.severity)
            for f in in_scope
            if f.released is not None and now - f.released > window
        )
        if late:
            released, ident, package, severity = late[0]
            overdue.append(
                f"{len(late)} fixes pending beyond {_span(window)}; oldest {ident} for {package} "
                f"({severity}, {released.date()}) is {_span(now - released)} old"
            )
        undated = [f for f in in_scope if f.released is None]
        undated_unknown: str | None = None
        if undated:
            names = summary([f.ident.split(" (")[0] for f in undated], 5)
            if cache_age is not None and cache_age > window:
                overdue.append(
                    f"{len(undated)} fixes pending ({names}) were already in package lists "
                    f"fetched {_span(cache_age)} ago, beyond {_span(window)}"
                )
            elif family == "deb" and (last_pass is None or now - last_pass > window):
                since = (
                    f"last upgrade pass {last_pass.date()}"
                    if last_pass
                    else "no upgrade run on record"
                )
                overdue.append(
                    f"{len(undated)} fixes pending ({names}), release dates not available "
                    f"locally and no upgrade pass within {_span(window)} ({since})"
                )
            elif family == "rpm":
                undated_unknown = (
                    f"{len(undated)} vendor-repository updates pending ({names}) with no "
                    "release date on the host; cannot tell whether they are within the window"
                )
        if overdue:
            outcome, evidence = Outcome.INEFFECTIVE, "; ".join(overdue)
        elif blind is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, blind
        elif stale is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, stale
        elif undated_unknown is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, undated_unknown
        else:
            outcome = Outcome.EFFECTIVE
            what = {
                "high": "high-risk application",
                "other": "other application",
                "all": "security",
            }[klass]
            if in_scope:
                note = (
                    f"; published after the last upgrade pass ({last_pass.date()}), so inside the "
                    "window (release dates not available locally)"
                    if undated and last_pass is not None
                    else ""
                )
                evidence = (
                    f"{len(in_scope)} {what} fixes pending, none beyond {_span(window)}{note}"
                )
            else:
                evidence = f"no pending {what} fixes; package metadata fetched {iso(cache_time)}"
            if ism in ONLINE_ISM:
                evidence += (
                    " (partly: all pending security fixes judged; services not mapped to packages)"
                )
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=obs))
    return findings


_DNF = (
    "if command -v dnf >/dev/null 2>&1; then LC_ALL=C dnf -C -q {dnf} 2>&1; "
    "elif command -v yum >/dev/null 2>&1; then LC_ALL=C yum -C -q {yum} 2>&1; "
    "else echo E8_NO_DNF; fi"
)

_OS = _OS_CHECK.collect

CHECK = Check(
    id="patch_applications.linux_pending_app_updates",
    title="Linux: application fixes (browsers, mail, PDF, office, AV, others) applied in time",
    strategy=Strategy.PATCH_APPLICATIONS,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.LINUX}),
    # Commands shared with patch_os.linux_pending_updates are taken from it, so they can never
    # drift apart: identical commands are collected once per host.
    collect={
        "os_release": _OS["os_release"],
        "packages": Cmd(line=LINUX_INVENTORY),
        "apt_upgrade": _OS["apt_upgrade"],
        "dnf_security": _OS["dnf_security"],
        "dnf_security_list": Cmd(
            line=_DNF.format(
                dnf="updateinfo list --security --available", yum="updateinfo list security"
            ),
            root=True,
        ),
        "dnf_upgrades": Cmd(line=_DNF.format(dnf="list --upgrades", yum="list updates"), root=True),
        "cache": _OS["cache"],
        "last_upgrade": _OS["last_upgrade"],
    },
    judge=judge,
    version=1,
)
