"""Linux: are operating system security fixes applied within ASD's deadlines?

**Collected (read-only; nothing refreshes the package metadata):**
- ``/etc/os-release`` to tell Debian/Ubuntu from the RHEL family;
- Debian/Ubuntu: ``apt-get -s -o Debug::NoLocking=1 dist-upgrade`` (a simulation; ``dist-upgrade``
  rather than ``upgrade`` so that kernel fixes that need new packages are not hidden as "kept
  back"). Each ``Inst`` line whose origin contains ``-security`` is a pending security fix;
- RHEL family (root, because dnf/yum keep a per-user cache otherwise):
  ``dnf -C -q updateinfo info --security --available`` (``yum -C`` on RHEL 7), giving each
  pending advisory's ``Severity``, date (``Issued`` on yum; dnf 4 prints ``Updated``, the last
  revision of the advisory, which can make an advisory look younger than it is) and CVE ids
  (``CVEs``, matched against CISA KEV; see below);
- package metadata age, per source (fact ``linux.package_metadata_time``): the mtime of every
  ``/var/lib/apt/lists/*InRelease`` / ``*_Release``, of ``update-success-stamp`` and of the cached
  ``repomd.xml`` files. The pending-update view is as fresh as the *stalest apt security-suite
  list* (apt sets a list's mtime to the archive's publish time, and a suite apt failed to fetch
  keeps its old list) or, on dnf/yum, the newest ``repomd.xml``; a pending fix is dated by the
  newest time of all (it was in lists published no later);
- Debian/Ubuntu upgrade history: the last ``Start-Date`` of an ``Upgrade:`` stanza in
  ``/var/log/apt/history.log`` (and ``.1.gz``), plus the ``unattended-upgrades-stamp`` (touched
  whenever unattended-upgrades ran, even with nothing to install), with the host's UTC offset;
- reboot state: running kernel (``uname -r``/``-v``), ``/var/run/reboot-required`` and its mtime,
  the newest installed ``kernel`` RPM and its install time, installed ``linux-image-*`` packages,
  and ``needs-restarting -r``.

**Which controls apply (host class from the inventory):** ``e8_internet_facing: true`` →
ISM-1877 (critical fixes within ``patch_critical_hours``, 48 h) and ISM-1694 (other fixes within
``patch_internet_facing_days``, 2 weeks); otherwise (workstations, non-internet-facing servers and
network devices) → ISM-1695 (every fix within ``patch_other_days``, one month, ML1-2), ISM-1696
(critical fixes within 48 h, ML3) and ISM-1902 (other fixes within one month, ML3). The rest are
not_applicable.

**Judgement, per applicable control:**
- ineffective when a pending security fix in the control's scope is provably older than its
  window: RHEL-family advisories by their date; "critical" means vendor severity Critical, and
  an advisory without a severity counts as possibly critical.
- Debian and Ubuntu publish no per-package release dates locally, so every ``-security`` fix is
  treated as of unknown severity (in scope for every control) and unknown age. Such a fix is
  ineffective when (a) the package lists it came from were fetched longer ago than the window (it
  was published before then), (b) no upgrade pass has run within the window, or (c) the lists it
  came from were fetched before the last upgrade pass, which therefore saw the fix and left it
  uninstalled (held, blacklisted, or failing). An upgrade pass is an unattended-upgrades run or an
  apt ``upgrade``/``dist-upgrade``/``full-upgrade`` in the history; an ``Upgrade:`` line from an
  ``apt install`` that pulled a newer dependency is not one. When the lists were refreshed after
  the last pass, a pending fix may have arrived since (due at the next pass) or may have been
  left behind: that cannot be told from the host, so the control is no_visibility. Packages apt
  keeps back (``apt-mark hold``) are not simulated at all; their origin is unknown, so any kept
  back package makes the control no_visibility too.
- a fix installed but not in use is not applied: a newer kernel installed than the one running
  (``rpm`` install time, or a Debian kernel package whose version differs from the running
  build), ``/var/run/reboot-required`` or ``needs-restarting -r`` exit 1 make the control
  ineffective once the reboot has been pending longer than its window, or at once when the time
  it became pending is unknown. (``needs-restarting`` is known to report false positives on
  AlmaLinux 8.8; the evidence names the source.) Every control rests on the reboot read: when
  it cannot show the running kernel is the newest installed (probe unreadable, no kernel package
  to compare with), an installed fix may not be in effect and the control is no_visibility.
- no_visibility when the pending-update view cannot be trusted and nothing already proves
  ineffectiveness: package metadata older than ``package_cache_max_age_days`` ("package metadata N
  days old: <the stale list>; pending-update view unreliable"), metadata age unknown, apt lists
  with no security suite among them, the package tool failed or was
  refused (sudo), the distribution family is not handled (SUSE, unknown), or a CentOS host shows no
  advisories (CentOS repositories publish no security errata metadata).
- effective otherwise: nothing pending (RHEL family: no advisory pending beyond the window),
  fresh metadata, the running kernel shown to be current (or its reboot within the window).

**Known exploited vulnerabilities (CISA KEV feed, ``ctx.feeds``):** the 48-hour rows (ISM-1877,
ISM-1696) cover critical fixes *and* fixes for a vulnerability with a working exploit. On the RHEL
family each pending advisory's CVE ids come from the same ``updateinfo info`` output (its
``CVEs`` field; local metadata only). A non-critical advisory fixing a CVE on the KEV catalogue
is due ``max(release, KEV dateAdded) + 48 h`` (the e8 reference's rule; the 48 h clock starts
when the exploit became known, and never before the fix was released): past that, the 48-hour
row is ineffective, the evidence naming the advisory, the CVE, the KEV date added and "known
ransomware campaign use" when KEV says so. The base-window rows (ISM-1694, ISM-1902, ISM-1695)
keep their own rule. A 48-hour row that would be effective while non-critical advisories are
pending rests on "none of them is exploited": it is no_visibility when the KEV snapshot is
missing or older than ``feed_max_age_days`` (default 30 days before the collection), or when a
pending advisory names no CVE. A host with no pending non-critical advisory does not need KEV.

Debian/Ubuntu: exploit status is not visible on apt hosts. The simulation names packages, not
CVEs; the CVE lists are in the package changelogs, which ``apt-get changelog`` fetches from the
network (not allowed: read-only, no network during a scan), and nothing offline maps a pending
package to its CVEs. Every Debian/Ubuntu fix is already judged as possibly critical (the 48-hour
window), so KEV could not make the judgement stricter; it is left unchanged and the evidence says
the exploit status was not read. Evidence grade: good for the RHEL family (vendor advisory dates),
fair for Debian/Ubuntu (release dates inferred, see above).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from checks._kev import NO_APT_EXPLOIT_STATUS, exploit_judgement, kev_observed
from checks._metadata_age import lists_age
from checks.facts.fact import Unknown
from checks.facts.linux.apt import APT_PENDING
from checks.facts.linux.dnf import DNF_ADVISORIES
from checks.facts.linux.os_release import OS_RELEASE, package_family
from checks.facts.linux.package_metadata import PACKAGE_METADATA
from checks.facts.linux.reboot import REBOOT, Reboot
from checks.facts.linux.times import iso
from checks.facts.linux.upgrade_history import UPGRADE_HISTORY
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

INTERNET_FACING = ("ISM-1877", "ISM-1694")
OTHER_HOSTS = ("ISM-1695", "ISM-1696", "ISM-1902")
CHECK_ISM = ("ISM-1877", "ISM-1694", "ISM-1695", "ISM-1696", "ISM-1902")


@dataclass(frozen=True)
class Fix:
    """A pending security fix: advisory (or package) id, severity, release date if known."""

    ident: str
    severity: str  # critical | other | unknown
    released: datetime | None
    cves: tuple[str, ...] = ()


def _applicable(ctx: Context) -> tuple[str, ...]:
    return INTERNET_FACING if ctx.internet_facing else OTHER_HOSTS


def _windows(ctx: Context) -> dict[str, tuple[timedelta, str]]:
    p = ctx.policy
    crit = timedelta(hours=p.patch_critical_hours)
    month = timedelta(days=p.patch_other_days)
    return {
        "ISM-1877": (crit, "critical"),
        "ISM-1694": (timedelta(days=p.patch_internet_facing_days), "other"),
        "ISM-1695": (month, "all"),
        "ISM-1696": (crit, "critical"),
        "ISM-1902": (month, "other"),
    }


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    applicable = _applicable(ctx)
    klass = "internet-facing" if ctx.internet_facing else f"non-internet-facing {ctx.role}"
    na = {
        i: Finding(
            ism=i,
            outcome=Outcome.NOT_APPLICABLE,
            evidence=f"not applicable to a {klass} host",
        )
        for i in CHECK_ISM
        if i not in applicable
    }

    read = OS_RELEASE.read(outputs.get("os_release"))
    osr = {} if isinstance(read, Unknown) else read
    family = package_family(osr)
    observed: dict[str, object] = {"os": osr.get("PRETTY_NAME") or osr.get("ID"), "family": family}
    # What the package tool shows as pending, or why it cannot be seen.
    blind: str | None = None
    held: str | None = None
    fixes: list[Fix] = []
    if family is None:
        blind = f"distribution {osr.get('ID') or 'unknown'} is not handled by this check"
    elif family == "deb":
        apt = APT_PENDING.read(outputs.get("apt_upgrade"))
        if isinstance(apt, Unknown):
            blind = f"apt-get simulation failed: {apt.reason}"
        else:
            security = [f"{p.name} {p.version}" for p in apt.pending if p.security]
            fixes = [Fix(s, "unknown", None) for s in security]
            observed.update(
                security_pending=security[:20],
                other_pending=len(apt.pending) - len(security),
                kept_back=apt.kept_back[:20],
            )
            if apt.kept_back or apt.not_upgraded:
                names = ", ".join(apt.kept_back[:5]) or f"{apt.not_upgraded} packages"
                held = (
                    f"apt keeps back {names} (held or blocked): their origin is not simulated, "
                    "so whether they carry security fixes cannot be told"
                )
    else:
        advisories = DNF_ADVISORIES.read(outputs.get("dnf_security"))
        if isinstance(advisories, Unknown):
            blind = f"dnf/yum updateinfo failed: {advisories.reason}"
        else:
            fixes = [Fix(a.ident, a.severity, a.released, a.cves) for a in advisories]
            observed["advisories_pending"] = [
                f"{f.ident} {f.severity} {iso(f.released)}" for f in fixes[:20]
            ]
            if not fixes and osr.get("ID", "").lower() == "centos":
                blind = (
                    "CentOS repositories publish no security errata; an empty list proves nothing"
                )
    lists = lists_age(
        PACKAGE_METADATA.read(outputs.get("cache")),
        now,
        timedelta(days=ctx.policy.package_cache_max_age_days),
    )
    cache_time, stale = lists.newest, lists.stale
    cache_age = now - cache_time if cache_time is not None else None
    last_pass, pass_kind = (None, "")
    runs = UPGRADE_HISTORY.read(outputs.get("last_upgrade"))
    if family == "deb" and not isinstance(runs, Unknown) and (newest := runs.last_pass()):
        last_pass, pass_kind = newest
    read_reboot = REBOOT.read(outputs.get("reboot"))
    reboot = Reboot(False, None, "") if isinstance(read_reboot, Unknown) else read_reboot
    observed.update(
        metadata_fetched=iso(cache_time),
        metadata_fresh_as_of=lists.fresh_as_of,
        last_upgrade_pass=iso(last_pass),
        reboot_pending=reboot.detail or None,
    )
    reboot_blind: str | None = None
    if isinstance(read_reboot, Unknown):
        observed["reboot_unknown"] = read_reboot.reason
        reboot_blind = (
            f"reboot state not readable ({read_reboot.reason}): an installed fix may not be "
            "in effect until a reboot"
        )
    findings = []
    for ism in CHECK_ISM:
        if ism in na:
            findings.append(na[ism])
            continue
        window, scope = _windows(ctx)[ism]
        in_scope = [
            f for f in fixes if scope == "all" or f.severity == "unknown" or f.severity == scope
        ]
        overdue: list[str] = []
        late = sorted(
            (f.released, f.ident, f.severity)
            for f in in_scope
            if f.released is not None and now - f.released > window
        )
        if late:
            released, ident, severity = late[0]
            overdue.append(
                f"{len(late)} advisories pending beyond {_span(window)}; oldest {ident} "
                f"({severity}, {released.date()}) is {_span(now - released)} old"
            )
        undated = [f for f in in_scope if f.released is None]
        unsure: str | None = None
        if undated:
            names = ", ".join(f.ident.split()[0] for f in undated[:5])
            pending = f"{len(undated)} security fixes pending ({names})"
            if cache_age is not None and cache_age > window:
                overdue.append(
                    f"{pending} were already in package lists fetched {_span(cache_age)} ago, "
                    f"beyond {_span(window)}"
                )
            elif last_pass is None or now - last_pass > window:
                since = (
                    f"last {pass_kind} {last_pass.date()}"
                    if last_pass
                    else "no upgrade run on record"
                )
                overdue.append(
                    f"{pending}, release dates not available locally and no upgrade pass "
                    f"within {_span(window)} ({since})"
                )
            elif cache_time is not None and cache_time <= last_pass:
                overdue.append(
                    f"{pending} were in package lists fetched {iso(cache_time)}, before the last "
                    f"{pass_kind} ({iso(last_pass)}), which left them uninstalled (held back, "
                    "blacklisted or failing)"
                )
            else:
                unsure = (
                    f"{pending} from package lists refreshed {iso(cache_time)}, after the last "
                    f"{pass_kind} ({iso(last_pass)}): whether they arrived since that run or "
                    "were left behind by it cannot be told (release dates not available locally)"
                )
        if reboot.pending:
            if reboot.since is None:
                overdue.append(f"{reboot.detail}; pending since an unknown time, fix not applied")
            elif now - reboot.since > window:
                overdue.append(
                    f"{reboot.detail}; reboot pending {_span(now - reboot.since)}, fix not applied"
                )
        kev_blind: str | None = None
        kev_note = ""
        if scope == "critical" and family == "rpm":
            kev_overdue, kev_blind, kev_note = exploit_judgement(fixes, ctx, window)
            overdue += kev_overdue
        elif scope == "critical" and family == "deb":
            kev_note = f"; {NO_APT_EXPLOIT_STATUS}"
        obs = {**observed, "window": _span(window), "scope": scope}
        if scope == "critical" and family == "rpm":
            obs["kev"] = kev_observed(fixes, ctx, window)
        elif scope == "critical" and family == "deb":
            obs["kev"] = NO_APT_EXPLOIT_STATUS
        if overdue:
            outcome, evidence = Outcome.INEFFECTIVE, "; ".join(overdue)
        elif blind is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, blind
        elif stale is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, stale
        elif (why := unsure or held or reboot_blind or kev_blind) is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, why
        else:
            outcome = Outcome.EFFECTIVE
            if in_scope:
                evidence = (
                    f"{len(in_scope)} security advisories pending, each released within "
                    f"{_span(window)}"
                )
            else:
                evidence = (
                    f"no pending security fixes in scope ({scope}); "
                    f"package lists fresh as of {lists.fresh_as_of}"
                )
            if reboot.pending:
                evidence += f"; {reboot.detail} (within the window)"
            evidence += kev_note
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=obs))
    return findings


CHECK = Check(
    id="patch_os.linux_pending_updates",
    title="Linux OS security fixes applied within the deadline",
    strategy=Strategy.PATCH_OS,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.LINUX}),
    collect={
        "os_release": OS_RELEASE.cmd,
        "apt_upgrade": APT_PENDING.cmd,
        "dnf_security": DNF_ADVISORIES.cmd,
        "cache": PACKAGE_METADATA.cmd,
        "last_upgrade": UPGRADE_HISTORY.cmd,
        "reboot": REBOOT.cmd,
    },
    # An effective verdict needs: the distribution (which tool to read), the pending list from
    # apt or dnf (alternatives: os_release picks one; the other prints E8_NO_*), fresh metadata
    # and the reboot read (an installed fix is not applied until the reboot). ``last_upgrade``
    # only tells ineffective from no_visibility when fixes are pending; an effective verdict
    # never rests on it.
    rests_on=dict.fromkeys(
        CHECK_ISM, ("os_release", "apt_upgrade|dnf_security", "cache", "reboot")
    ),
    judge=judge,
    # v4: the package lists are as fresh as the stalest apt security-suite list (was: the newest
    # list, so a security suite apt failed to fetch hid behind a fresh main suite); v3: CISA KEV
    version=4,
)
