"""Linux: does the host check for operating system updates daily / fortnightly (host side of the scan)?

ISM-1701 (OS of internet-facing servers and network devices scanned for missing patches at least
daily) and ISM-1702 (OS of workstations and other servers at least fortnightly) are **partly**
host-checkable: how often an external vulnerability scanner runs is not visible on a host. What
the host can show is that it checks for its *own* OS updates at that frequency: its package
metadata is refreshed by scheduled automation. This outcome covers that host-side part only, and
the evidence says so; an external scanner's schedule needs the scanner's own records.

**Collected (read-only; nothing refreshes the metadata):**
- the package-metadata times per source (fact ``linux.package_metadata_time``, the same line as
  ``patch_os.linux_pending_updates``): mtime of ``/var/lib/apt/periodic/update-success-stamp``,
  every ``/var/lib/apt/lists/*InRelease`` / ``*_Release`` and the cached ``repomd.xml`` under
  ``/var/cache/dnf`` / ``/var/cache/yum``;
- the refresh automation: ``systemctl is-enabled`` for ``apt-daily.timer``,
  ``dnf-makecache.timer``, the ``dnf-automatic*.timer`` units and ``yum-cron.service``, and
  ``APT::Periodic::Update-Package-Lists`` from ``apt-config dump`` (days between refreshes; 0 turns
  the apt timer's refresh off).

**Which control applies:** ``e8_internet_facing: true`` → ISM-1701 (period: 36 h, a day plus the
timers' randomised delay; apt-daily runs twice a day with up to 12 h of jitter); otherwise
ISM-1702 (14 days). The other is not_applicable.

**Judgement:** effective when the metadata was refreshed within the period **and** a refresh is
scheduled (an enabled dnf-makecache / dnf-automatic timer or yum-cron, or an enabled
apt-daily.timer with ``Update-Package-Lists`` between 1 and the period in days); ineffective when
the newest metadata is older than the period (the host has not checked for OS updates within it);
no_visibility when the metadata time cannot be read, when a source is stale although the newest
list is fresh (the stalest apt security-suite list older than the period or
``package_cache_max_age_days``, whichever is longer, or apt lists without a security suite: apt
failed to fetch it, and the evidence names the file), or it is fresh but no schedule was found (a
one-off manual refresh does not show the frequency).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from checks._metadata_age import lists_age
from checks.facts.fact import Unknown
from checks.facts.linux.package_metadata import PACKAGE_METADATA
from checks.facts.linux.times import iso
from checks.facts.linux.update_automation import UPDATE_AUTOMATION
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def scheduled(states: Mapping[str, str], lists: str | None, period: timedelta) -> list[str]:
    """The enabled refresh schedules that run at least once per ``period``."""
    found = []
    for unit, state in states.items():
        if state not in ("enabled", "static", "enabled-runtime", "alias"):
            continue
        if unit == "apt-daily.timer":
            try:
                days = int(lists or "0")
            except ValueError:
                days = 0
            if days < 1 or timedelta(days=days) > max(period, timedelta(days=1)):
                continue
            found.append(f"apt-daily.timer with Update-Package-Lists {days}")
        else:
            found.append(unit)
    return found


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    applicable = "ISM-1701" if ctx.internet_facing else "ISM-1702"
    period = timedelta(hours=36) if ctx.internet_facing else timedelta(days=14)
    # The newest list shows the host refreshed at all (ineffective only when even that is old);
    # effective also needs every security suite fresh (the stalest apt security list; dnf: the
    # newest repomd.xml). A security list's time is the archive's publish time, republished at
    # least weekly, so it is held to the period or package_cache_max_age_days, the longer.
    meta = lists_age(
        PACKAGE_METADATA.read(outputs.get("cache")),
        now,
        max(period, timedelta(days=ctx.policy.package_cache_max_age_days)),
    )
    newest = meta.newest
    auto = UPDATE_AUTOMATION.read(outputs.get("automation"))
    states, lists = ({}, None) if isinstance(auto, Unknown) else (auto.units, auto.update_lists)
    schedules = scheduled(states, lists, period)
    observed = {
        "metadata_refreshed": iso(newest),
        "metadata_fresh_as_of": meta.fresh_as_of,
        "units": states,
        "update_package_lists": lists,
        "schedules": schedules,
        "period": "36 h" if period < timedelta(days=2) else f"{period.days} days",
    }
    note = "host-side part only: an external scanner's schedule is not visible on the host"
    findings = []
    for ism in ("ISM-1701", "ISM-1702"):
        if ism != applicable:
            klass = "internet-facing" if ctx.internet_facing else "non-internet-facing"
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NOT_APPLICABLE,
                    evidence=f"not applicable to a {klass} host",
                )
            )
            continue
        if newest is None:
            outcome = Outcome.NO_VISIBILITY
            evidence = meta.stale or "no package metadata time readable"
        elif now - newest > period:
            outcome = Outcome.INEFFECTIVE
            age = now - newest
            evidence = (
                f"package metadata last refreshed {iso(newest)} ({age.days} days "
                f"{age.seconds // 3600} h ago), beyond the {observed['period']} period; "
                f"schedules found: {', '.join(schedules) or 'none'} ({note})"
            )
        elif meta.stale is not None:
            outcome = Outcome.NO_VISIBILITY
            evidence = (
                f"package metadata refreshed {iso(newest)}, but {meta.stale}: the host may "
                f"not be fetching every source ({note})"
            )
        elif not schedules:
            outcome = Outcome.NO_VISIBILITY
            evidence = (
                f"package metadata refreshed {iso(newest)}, but no enabled refresh schedule "
                f"found, so the frequency cannot be shown ({note})"
            )
        else:
            outcome = Outcome.EFFECTIVE
            evidence = (
                f"package metadata refreshed {iso(newest)} (within {observed['period']}; lists "
                f"fresh as of {meta.fresh_as_of}) by scheduled automation: "
                f"{', '.join(schedules)} ({note})"
            )
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed))
    return findings


CHECK = Check(
    id="patch_os.linux_update_detection",
    title="Linux: host checks for OS updates daily (internet-facing) or fortnightly",
    strategy=Strategy.PATCH_OS,
    ism=("ISM-1701", "ISM-1702"),
    platforms=frozenset({Platform.LINUX}),
    collect={"cache": PACKAGE_METADATA.cmd, "automation": UPDATE_AUTOMATION.cmd},
    judge=judge,
    # v2: effective also needs the stalest apt security-suite list fresh (was: the newest list
    # only, so a security suite apt failed to fetch hid behind a fresh main suite)
    version=2,
)
