"""Linux: is the operating system release still vendor-supported, and is it a current release?

**Collected (read-only, no root):** ``/etc/os-release`` (``ID``, ``VERSION_ID``, ``NAME``),
``/etc/debian_version`` and ``uname -r`` (recorded as evidence), and the package sources that
show a paid extension is active: ``esm.ubuntu.com/infra`` apt sources (Ubuntu Pro ESM) and the
enabled sections of ``/etc/yum.repos.d/*.repo`` / ``/etc/zypp/repos.d/*.repo`` (RHEL ``*-els-*``
ELS repositories, SUSE ``LTSS`` repositories).

**Vendor data:** ``linux_eol.csv`` beside this module maps each release (Ubuntu, Debian, RHEL,
Rocky, AlmaLinux, CentOS Linux and Stream, Oracle Linux, Amazon Linux, SLES; the distribution key
from os-release ``ID``, the version from ``VERSION_ID`` or its major) to its release line, track
(Ubuntu LTS/interim), kind of paid extension and **endoflife.date cycle** (``eol_cycle``:
``ubuntu:22.04``, ``rhel:9``, ``sles:15.7``). Release date, end of vendor support and the paid
extension's end come from the endoflife.date feed snapshot the run is judged with: end of vendor
support is the cycle's ``eol`` and the extension's end its ``eoes``, except Debian, where ``eol`` is
the security team's end and ``eoes`` the end of Debian LTS, a Debian project effort counted as
vendor support (Freexian's commercial ELTS is a third party and is not counted). The evidence
names the cycle and the snapshot's date. The rows' notes give the dates Debian's
``distro-info-data`` 0.58+deb12u6 (the table's source before the feed) has where they differ. A
policy ``eol_overrides`` entry ``linux:<id> <version>`` replaces the end of support (e.g. a
contracted extension the host cannot show) and needs no feed. The release list was last reviewed
on 2026-11-25; a release published after that is unknown to it.

**Feed state** (``checks/patch_os/_eol_feed.py``): a missing snapshot, or one without the
release's cycle, is no_visibility with the reason. A snapshot older than the policy's
``feed_max_age_days`` never makes a host supported or current; it still makes it unsupported when
the end had passed on the snapshot's own date and no extension the snapshot does not date could
be in use, and "two or more behind" when those newer lines were out by that date.

**ISM-1501** (ML1-3, unsupported OS replaced):
- effective: the collection date is on or before the end of vendor support, or after it but within
  a paid extension (Ubuntu Pro ESM, RHEL ELS, SUSE LTSS) whose repository is configured and enabled
  on the host;
- ineffective: support has ended and no active extension is visible (Oracle Extended Support
  cannot be seen from the host: record an exception if it is contracted); no_visibility instead
  when a paid extension still runs but the package sources could not be read;
- no_visibility: os-release unreadable, or the distribution/version is not in the table (for
  example a preview such as Amazon Linux 2022, Debian testing, Fedora), or its end date is not
  recorded.

**ISM-1407** (ML3, latest or previous release in use): the host's release line (RHEL/Rocky/Alma
major version, SLES major version, Ubuntu/Debian release) is compared, by version, with the lines
of the same distribution *and track* that had been published by the collection date; the newest
(rank 0) or the one before it (rank 1) is effective, anything older is ineffective, and so is any
release of a distribution that has no supported release left (CentOS Linux). Ubuntu LTS hosts are
ranked among LTS releases only (interim releases are a separate, 9-month track). Minor releases
(RHEL 9.4 → 9.6, SLES service packs) are updates within a line and are left to the patching
checks. Unknown distribution/version, or a collection date more than 400 days after the table's
review, gives no_visibility (the table may be missing a newer release).

Evidence grade: good (the OS reports its own identity; the dates are vendor lifecycle data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta

from checks.facts.fact import Unknown
from checks.facts.linux.distribution import (
    DEBIAN_VERSION,
    EXTENDED_SUPPORT_SOURCES,
    KERNEL_RELEASE,
)
from checks.facts.linux.os_release import OS_RELEASE
from checks.patch_os._eol_feed import stale_finding
from checks.patch_os._linux_lifecycle import (
    RELEASES,
    Release,
    dated,
    distro_key,
    find_release,
    line_key,
    unmapped_lines,
)
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.feeds import Snapshot
from scanner.model.vocabulary import Outcome, Platform, Strategy

TABLE_REVIEWED = date(2026, 11, 25)
TABLE_MAX_AGE = timedelta(days=400)


def _extension_active(rel: Release, lines: list[str]) -> bool:
    if rel.extended_kind == "esm":
        return any("esm.ubuntu.com/infra" in ln for ln in lines)
    if rel.extended_kind == "els":
        return any("-els-" in ln.lower() and ln.startswith("[") for ln in lines)
    if rel.extended_kind == "ltss":
        return any("ltss" in ln.lower() and ln.startswith("[") for ln in lines)
    return False


def _line_rank(
    rel: Release, line: list[Release], on: date
) -> tuple[list[str], list[str], list[str]]:
    """The newer release lines of the same distribution and track out on ``on`` (oldest first),
    those of them whose release date is settled, and newer lines whose date is not known."""
    mine = line_key(rel.line)
    out: dict[str, bool] = {}
    unknown = set()
    for r in line:
        if r.track != rel.track or line_key(r.line) <= mine:
            continue
        if r.released is None:
            unknown.add(r.line)
        elif r.released <= on:
            out[r.line] = out.get(r.line, False) or r.settled(r.released)
    newer = sorted(out, key=line_key)
    return newer, [ln for ln in newer if out[ln]], sorted(unknown - set(out), key=line_key)


def _distro_discontinued(line: list[Release], on: date) -> bool | None:
    """No release of the distribution is vendor-supported any more (CentOS Linux); None when an
    end is not known."""
    if any(r.support_end is None for r in line):
        return None
    return all(
        r.support_end is not None
        and r.support_end < on
        and (r.extended_end is None or r.extended_end < on)
        for r in line
    )


def _no_date(name: str, rel: Release, what: str) -> str:
    if rel.feed is not None and rel.feed.cycle is None:
        return f"{name}: {what} not known: {rel.why}"
    if rel.feed is not None:
        return f"{name}: {what} not known: {rel.feed.where()} gives no date"
    return f"{name}: {what} not recorded in the table ({rel.note})"


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    on = ctx.collected_at.date()
    read = OS_RELEASE.read(outputs.get("os_release"))
    why = read.reason if isinstance(read, Unknown) else None
    osr = {} if isinstance(read, Unknown) else read
    deb = DEBIAN_VERSION.read(outputs.get("debian_version"))
    kernel = KERNEL_RELEASE.read(outputs.get("kernel"))
    observed: dict[str, object] = {
        "id": osr.get("ID"),
        "version_id": osr.get("VERSION_ID"),
        "pretty_name": osr.get("PRETTY_NAME"),
        "debian_version": None if isinstance(deb, Unknown) else deb,
        "kernel": None if isinstance(kernel, Unknown) else kernel,
    }
    if why is not None:
        reason = f"OS identity not readable: {why}"
        return [
            Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason, observed=observed)
            for i in CHECK_ISM
        ]
    distro = distro_key(osr)
    version_id = osr.get("VERSION_ID", "")
    name = osr.get("PRETTY_NAME") or f"{distro} {version_id}"
    row = find_release(distro, version_id) if version_id else None
    if row is None:
        reason = (
            f"{name} (ID={distro}, VERSION_ID={version_id or 'none'}) is not in the vendor "
            "end-of-life table; support status unknown"
        )
        return [
            Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason, observed=observed)
            for i in CHECK_ISM
        ]
    rel = dated(row, ctx.feeds, ctx.collected_at)
    observed.update(
        release=f"{rel.distro} {rel.version}",
        eol_cycle=rel.eol_cycle or None,
        released=rel.released.isoformat() if rel.released else None,
        support_end=rel.support_end.isoformat() if rel.support_end else None,
        extended_kind=rel.extended_kind,
        extended_end=rel.extended_end.isoformat() if rel.extended_end else None,
        source=rel.source,
        feed=None
        if rel.feed is None
        else {
            "name": "endoflife",
            "cycle": rel.feed.ref,
            "as_of": rel.feed.as_of.isoformat() if rel.feed.as_of else None,
            "usable": rel.feed.usable,
            "reason": rel.feed.why or None,
        },
    )
    # A policy override is the organisation's own date: it needs no feed.
    held = rel
    override = ctx.policy.eol_override(f"linux:{rel.distro} {rel.version}")
    if override is not None:
        held = replace(
            rel, support_end=override, source=f"policy eol_overrides ({rel.source})", feed=None
        )
        observed.update(support_end=override.isoformat(), source=held.source)
    ext = EXTENDED_SUPPORT_SOURCES.read(outputs.get("extended"))
    ext_lines = [] if isinstance(ext, Unknown) else ext
    ext_why = ext.reason if isinstance(ext, Unknown) else None
    line = [dated(r, ctx.feeds, ctx.collected_at) for r in RELEASES if r.distro == rel.distro]
    return [
        _support(held, name, on, ext_lines, ext_why, observed),
        _currency(rel, line, name, on, observed, ctx.feeds),
    ]


def _support(
    rel: Release,
    name: str,
    on: date,
    ext_lines: list[str],
    ext_why: str | None,
    observed: dict[str, object],
) -> Finding:
    """ISM-1501; from a stale snapshot only an end already past on the snapshot's date counts
    (``checks/patch_os/_eol_feed.py``): effective becomes no_visibility, and so does an
    ineffective resting on a later date or on an extension the host does use."""
    if rel.support_end is None:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.NO_VISIBILITY,
            evidence=_no_date(name, rel, "end of vendor support"),
            observed=observed,
        )
    found, rests = _support_verdict(rel, name, on, ext_lines, ext_why, observed)
    if rel.usable or found.outcome is not Outcome.INEFFECTIVE:
        return (
            found
            if rel.usable or found.outcome is not Outcome.EFFECTIVE
            else stale_finding(found, rel)
        )
    if not all(rel.settled(d) for d in rests if d):
        return stale_finding(found, rel)
    unknown_ext = rel.extended_kind != "none" and rel.extended_end is None
    if unknown_ext and (ext_why or _extension_active(rel, ext_lines)):
        # an extension the stale snapshot does not date may be what the host runs on
        return stale_finding(found, rel)
    return found


def _support_verdict(
    rel: Release,
    name: str,
    on: date,
    ext_lines: list[str],
    ext_why: str | None,
    observed: dict[str, object],
) -> tuple[Finding, tuple[date | None, ...]]:
    """The ISM-1501 verdict from the row's dates, and the dates an ineffective one rests on."""
    assert rel.support_end is not None
    if on <= rel.support_end:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.EFFECTIVE,
            evidence=f"{name} is vendor-supported until {rel.support_end} ({rel.source})",
            observed=observed,
        ), ()
    active = _extension_active(rel, ext_lines)
    observed["extension_active"] = active
    if rel.extended_end is not None and on <= rel.extended_end and active:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.EFFECTIVE,
            evidence=(
                f"{name}: standard support ended {rel.support_end}; covered by "
                f"{rel.extended_kind.upper()} until {rel.extended_end} (repository enabled; "
                f"{rel.source})"
            ),
            observed=observed,
        ), ()
    if rel.extended_end is not None and on <= rel.extended_end and ext_why is not None:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"{name}: standard support ended {rel.support_end}; whether "
                f"{rel.extended_kind.upper()} (to {rel.extended_end}) is active cannot be read: "
                f"{ext_why}"
            ),
            observed=observed,
        ), ()
    if rel.extended_end is not None and on <= rel.extended_end:
        tail = (
            f"{rel.extended_kind.upper()} runs to {rel.extended_end} but no active "
            f"{rel.extended_kind.upper()} repository is configured"
        )
        rests: tuple[date | None, ...] = (rel.support_end,)
    else:
        tail = "no vendor support remains"
        rests = (rel.support_end, rel.extended_end)
    return Finding(
        ism="ISM-1501",
        outcome=Outcome.INEFFECTIVE,
        evidence=f"{name}: vendor support ended {rel.support_end}; {tail} ({rel.source})",
        observed=observed,
    ), rests


def _currency(
    rel: Release,
    line: list[Release],
    name: str,
    on: date,
    observed: dict[str, object],
    feeds: Snapshot,
) -> Finding:
    """ISM-1407. From a stale snapshot an effective verdict is no_visibility (it may miss a newer
    release); "two or more behind" stands when two newer lines were out by its date, and "no
    release supported" when every end had passed by it. A newer line the snapshot lists but the
    table does not map (a snapshot newer than the table) is unaccounted for: never "latest or
    previous" while it could make the host two behind."""
    obs = dict(observed)
    if on - TABLE_REVIEWED > TABLE_MAX_AGE:
        return Finding(
            ism="ISM-1407",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"release table last reviewed {TABLE_REVIEWED}, more than {TABLE_MAX_AGE.days} "
                "days before collection: a newer release may be missing"
            ),
            observed=obs,
        )
    if rel.released is None:
        return Finding(
            ism="ISM-1407",
            outcome=Outcome.NO_VISIBILITY,
            evidence=_no_date(name, rel, "release date"),
            observed=obs,
        )
    newer, settled, unknown = _line_rank(rel, line, on)
    rank = len(newer)
    obs.update(newer_releases=newer, rank=rank, release_date_unknown=unknown)
    track = f" {rel.track.upper()}" if rel.distro == "ubuntu" else ""
    source = f"release dates: endoflife.date, snapshot {rel.feed.as_of}" if rel.feed else ""
    tail = f" ({source})" if source else ""
    gone = _distro_discontinued(line, on)
    if gone:
        found = Finding(
            ism="ISM-1407",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"{name}: no release of this distribution is vendor-supported any more{tail}"
            ),
            observed=obs,
        )
        ends = [d for r in line for d in (r.support_end, r.extended_end) if d]
        if rel.usable or all(r.settled(d) for r in line for d in ends):
            return found
        return stale_finding(found, rel)
    if rank >= 2:
        found = Finding(
            ism="ISM-1407",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"{name} is {rank} releases behind; newer{track} releases: {', '.join(newer)} "
                f"(only the latest or previous release is allowed at ML3){tail}"
            ),
            observed=obs,
        )
        return found if rel.usable or len(settled) >= 2 else stale_finding(found, rel)
    unmapped = unmapped_lines(rel, line, feeds, on)
    obs["unmapped_newer_lines"] = sorted(unmapped, key=line_key)
    if rank + len(unknown) + len(unmapped) >= 2:
        why = [
            f"the release date of {ln} is not known ({next(r.why for r in line if r.line == ln)})"
            for ln in unknown
        ] + [unmapped[ln] for ln in sorted(unmapped, key=line_key)]
        return Finding(
            ism="ISM-1407",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"{name} is {'the latest' if rank == 0 else 'the previous'}{track} release line "
                f"the table knows of, but {'; '.join(why)}: one more newer release would make "
                "it two behind"
            ),
            observed=obs,
        )
    which = "the latest" if rank == 0 else "the previous"
    found = Finding(
        ism="ISM-1407",
        outcome=Outcome.EFFECTIVE,
        evidence=f"{name} is {which}{track} release line{tail}",
        observed=obs,
    )
    return found if rel.usable else stale_finding(found, rel)


CHECK_ISM = ("ISM-1501", "ISM-1407")

CHECK = Check(
    id="patch_os.linux_os_support",
    title="Linux OS release is vendor-supported and current",
    strategy=Strategy.PATCH_OS,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.LINUX}),
    collect={
        "os_release": OS_RELEASE.cmd,
        "debian_version": DEBIAN_VERSION.cmd,
        "kernel": KERNEL_RELEASE.cmd,
        "extended": EXTENDED_SUPPORT_SOURCES.cmd,
    },
    # Both verdicts rest on os-release alone: ``debian_version`` and ``kernel`` are recorded as
    # evidence only, and ``extended`` is read only once standard support has ended, where only
    # an enabled extension repository it shows can make ISM-1501 effective (a broken read shows
    # none, so it can never keep the control effective).
    rests_on={"ISM-1501": ("os_release",), "ISM-1407": ("os_release",)},
    judge=judge,
    version=3,
)
