"""Windows: is the operating system release vendor-supported, and is it a current release?

**Collected (read-only PowerShell, no admin rights needed):**
- ``HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion``: ``CurrentBuild``, ``UBR``, ``EditionID``,
  ``InstallationType``, ``ProductName``, ``DisplayVersion`` (``ReleaseId`` on older builds);
- ``Get-WmiObject Win32_OperatingSystem``: ``Caption``, ``Version``, ``BuildNumber``,
  ``ProductType`` (1 workstation, 2 domain controller, 3 server), ``OSArchitecture``,
  ``LastBootUpTime``. ``Get-WmiObject`` is used rather than ``Get-CimInstance`` because it exists
  from PowerShell 2.0 to 5.1.

The host is identified by build number, client/server (``InstallationType``, else
``ProductType``) and edition family from ``EditionID`` (Home/Pro, Enterprise/Education, LTSC,
IoT LTSC, Server). The registry ``ProductName`` is only evidence: it still says "Windows 10" on
Windows 11, which is told apart by ``CurrentBuild >= 22000`` (the build picks the table row).

**Vendor data:** ``windows_lifecycle.csv`` beside this module maps per build, kind and edition
family to the release name, its servicing channel and its endoflife.date release cycle
(``eol_cycle``: ``windows:11-24h2-e``, ``windows:10-21h2-iot-lts``, ``windows-server:2022``); the
release date, end of support (``eol``) and end of paid Extended Security Updates (``eoes``) come
from the **endoflife.date feed snapshot** the run is judged with, and the evidence names the cycle
and the snapshot's date. IoT Enterprise LTSB 2015/2016 and LTSC 2019 share the Enterprise LTSB/LTSC
cycle (its link is Microsoft's "Enterprise and IoT Enterprise LTSB/LTSC editions" table); IoT
Enterprise LTSC 2021 and 2024 have cycles of their own. Windows 11 26H2 (build 26300) is announced
(2026-06-19, DataForGeeks ``releases.json``) but no source gives its dates: its rows name the
cycles a snapshot will hold (``11-26h2-w``/``-e``) and until one does, a 26300 host is
no_visibility and 26H2 counts as a possible newer release for older hosts.

**Feed state:** a missing snapshot, or one without the host's cycle, is no_visibility with the
reason. A snapshot older than the policy's ``feed_max_age_days`` (90 days by default) never makes
the host supported or current; it still makes it unsupported when the end of support had already
passed on the snapshot's own date (such ends do not move; an end that fell after it might have been
extended since, so that is no_visibility) and no ESU-only update is installed, and two releases
behind when two newer releases were out by that date. A policy ``eol_overrides`` date needs no feed.

**ISM-1501** (ML1-3, unsupported operating systems replaced):
- effective: the collection date is on or before the end of support for the host's release and
  edition family; or support has ended, ESU is still running, and the installed UBR proves an
  ESU-only monthly security update is installed (an update from ``windows_ubr.csv`` released
  after the end of support, or a UBR newer than the whole table);
- ineffective: support has ended and ESU has ended or none exists, or ESU is running but no
  ESU-only update is installed. ESU enrolment cannot be seen from the host itself, so it counts
  only once its updates are installed (the e8 reference, section 2.1); a host enrolled but not yet
  patched should carry an exception;
- no_visibility: identity unreadable (PowerShell 2.0 has no ``ConvertTo-Json``; access denied),
  a build/edition not in the table (Insider builds, Azure Stack HCI/Azure Local), a release whose
  dates the feed snapshot does not hold (26H2), or the snapshot state above.

**ISM-1407** (ML3, the latest or previous release is used): the host's release is ranked among
the releases of its servicing channel (Windows client general availability, Windows client LTSC,
Windows Server LTSC, Server Semi-Annual, Server Annual) released by the collection date, newest
first, by release date; a Windows 10 release never outranks a Windows 11 one. Rank 0 or 1 is
effective, 2 or more ineffective, and so is any release of a channel with no supported release
left (Server Semi-Annual Channel). Windows 11 26H1 ships only on new devices and is not counted
as a newer release for others (our judgement). A release whose general-availability date is
unknown (26H2, or a mapped cycle the snapshot does not hold), a release of the channel the
snapshot lists but no table row maps to a build yet (a snapshot newer than the table), or a
collection more than a year after the release list was last reviewed (2026-09-29; Microsoft ships
about one client release a year), may add one unseen newer release: when that could move the host
from "previous" to "two behind" the outcome is no_visibility.

Evidence grade: good (the OS reports its own build and edition; dates are vendor lifecycle data).

A policy ``eol_overrides`` entry ``windows:<build>`` (e.g. ``windows:19045: 2028-10-10`` for a
contracted ESU the host cannot show) replaces the feed's end of support for that build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from checks._windows_patch import (
    Lifecycle,
    Update,
    WinOs,
    host_os,
    lifecycle_for,
    updates_for,
)
from checks.facts.windows.os_identity import CURRENT_VERSION, WIN32_OS
from checks.patch_os._eol_feed import stale_finding
from checks.patch_os._windows_currency import currency, name_of, no_date
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

CHECK_ISM = ("ISM-1501", "ISM-1407")


def _quirk(host: WinOs) -> str:
    """The Windows 11 ProductName quirk, said once so an auditor is not misled by winver text."""
    if host.build >= 22000 and "windows 10" in host.product_name.lower():
        return (
            f" (the registry ProductName says {host.product_name!r}; build {host.build} is "
            "22000 or later, so this is Windows 11)"
        )
    return ""


def esu_update(host: WinOs, lc: Lifecycle) -> Update | None:
    """A monthly security update only ESU customers receive, installed on the host; else None."""
    if host.ubr is None or lc.support_end is None:
        return None
    rows = [u for u in updates_for(host.build, host.kind) if not u.hotpatch]
    after = [u for u in rows if u.security and u.released > lc.support_end]
    if not after:
        return None
    installed = [u for u in after if u.ubr <= host.ubr]
    if installed:
        return max(installed, key=lambda u: u.ubr)
    if host.ubr > max(u.ubr for u in rows):
        return max(after, key=lambda u: u.ubr)
    return None


def _support(host: WinOs, lc: Lifecycle, on: date, observed: dict[str, Any]) -> Finding:
    """ISM-1501; from a stale snapshot only an end already past on the snapshot's date counts
    (``checks/patch_os/_eol_feed.py``): effective becomes no_visibility, and so does an
    ineffective resting on a date after the snapshot's."""
    name = name_of(host, lc)
    if lc.support_end is None:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.NO_VISIBILITY,
            evidence=no_date(name, lc, "end of support"),
            observed=observed,
        )
    found, rests = _support_verdict(host, lc, on, observed)
    if lc.usable:
        return found
    if found.outcome is Outcome.EFFECTIVE or not all(lc.settled(d) for d in rests if d):
        return stale_finding(found, lc)
    if lc.esu_end is None and esu_update(host, lc) is not None:
        # an ESU programme the stale snapshot does not know of may be what installed it
        return stale_finding(found, lc)
    return found


def _support_verdict(
    host: WinOs, lc: Lifecycle, on: date, observed: dict[str, Any]
) -> tuple[Finding, tuple[date | None, ...]]:
    """The ISM-1501 verdict from the row's dates, and the dates an ineffective one rests on."""
    name = name_of(host, lc)
    assert lc.support_end is not None
    if on <= lc.support_end:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.EFFECTIVE,
            evidence=f"{name} is supported until {lc.support_end} ({lc.source})",
            observed=observed,
        ), ()
    if lc.esu_end is not None and on <= lc.esu_end:
        esu = esu_update(host, lc)
        observed["esu_update"] = esu.label if esu else None
        if esu is not None:
            return Finding(
                ism="ISM-1501",
                outcome=Outcome.EFFECTIVE,
                evidence=(
                    f"{name}: support ended {lc.support_end}, but the ESU-only update "
                    f"{esu.label} is installed, so the host receives paid Extended Security "
                    f"Updates (available to {lc.esu_end}; {lc.source}); keep the ESU licence as "
                    "evidence"
                ),
                observed=observed,
            ), ()
        seen = (
            "no update released after that date (only ESU customers receive them) is installed"
            if updates_for(host.build, host.kind)
            else "ESU updates for this build are not in windows_ubr.csv, so enrolment cannot be seen"
        )
        # Rests on the end of support only: ESU counts once installed, whenever it ends.
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"{name}: support ended {lc.support_end}; {seen}. Paid Extended Security Updates "
                f"(to {lc.esu_end}) count only once their updates are installed: enrol and patch, "
                f"upgrade, or record an exception ({lc.source})"
            ),
            observed=observed,
        ), (lc.support_end,)
    tail = f"; Extended Security Updates ended {lc.esu_end}" if lc.esu_end else ""
    return Finding(
        ism="ISM-1501",
        outcome=Outcome.INEFFECTIVE,
        evidence=(
            f"{name}: vendor support ended {lc.support_end}{tail}; upgrade or replace it "
            f"({lc.source})"
        ),
        observed=observed,
    ), (lc.support_end, lc.esu_end)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    on = ctx.collected_at.date()
    host = host_os(
        CURRENT_VERSION.read(outputs.get("current_version")), WIN32_OS.read(outputs.get("os"))
    )
    if isinstance(host, str):
        reason = f"OS identity not readable: {host}"
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason) for i in CHECK_ISM]
    observed: dict[str, Any] = {"kind": host.kind, "family": host.family, **host.observed()}
    lc = lifecycle_for(host, ctx.feeds, ctx.collected_at)
    if lc is None:
        reason = (
            f"{name_of(host, None)}: build {host.build} ({host.kind}, edition family "
            f"{host.family or 'unknown'}) is not in windows_lifecycle.csv; support status "
            f"unknown{_quirk(host)}"
        )
        return [
            Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason, observed=observed)
            for i in CHECK_ISM
        ]
    observed.update(
        release=lc.release,
        eol_cycle=lc.eol_cycle or None,
        released=lc.released.isoformat() if lc.released else None,
        support_end=lc.support_end.isoformat() if lc.support_end else None,
        esu_end=lc.esu_end.isoformat() if lc.esu_end else None,
        source=lc.source,
        feed=_feed_observed(lc),
    )
    # A policy override is the organisation's own date: it needs no feed (ESU stays the feed's).
    override = ctx.policy.eol_override(f"windows:{host.build}")
    held = lc
    if override is not None:
        held = replace(
            lc, support_end=override, source=f"policy eol_overrides ({lc.source})", feed=None
        )
        observed.update(support_end=override.isoformat(), source=held.source)
    quirk = _quirk(host)
    return [
        f.model_copy(update={"evidence": f.evidence + quirk})
        for f in (_support(host, held, on, dict(observed)), currency(host, lc, ctx, observed))
    ]


def _feed_observed(lc: Lifecycle) -> dict[str, Any] | None:
    """Which snapshot dated the row, and whether it could back every verdict."""
    if lc.feed is None:
        return None
    fc = lc.feed
    return {
        "name": "endoflife",
        "cycle": fc.ref,
        "as_of": fc.as_of.isoformat() if fc.as_of else None,
        "usable": fc.usable,
        "reason": fc.why or None,
    }


CHECK = Check(
    id="patch_os.windows_os_support",
    title="Windows release is vendor-supported and current",
    strategy=Strategy.PATCH_OS,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.WINDOWS}),
    collect={
        "current_version": CURRENT_VERSION.cmd,
        "os": WIN32_OS.cmd,
    },
    # The identity comes from either read: the registry (CurrentBuild, InstallationType,
    # EditionID) or WMI (BuildNumber, ProductType, Caption) alone gives build and kind, so the
    # two are alternatives; breaking both leaves no identity (no_visibility).
    rests_on={"ISM-1501": ("current_version|os",), "ISM-1407": ("current_version|os",)},
    judge=judge,
    version=2,
)
