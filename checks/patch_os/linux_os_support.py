"""Linux: is the operating system release still vendor-supported, and is it a current release?

**Collected (read-only, no root):** ``/etc/os-release`` (``ID``, ``VERSION_ID``, ``NAME``),
``/etc/debian_version`` and ``uname -r`` (recorded as evidence), and the package sources that
show a paid extension is active: ``esm.ubuntu.com/infra`` apt sources (Ubuntu Pro ESM) and the
enabled sections of ``/etc/yum.repos.d/*.repo`` / ``/etc/zypp/repos.d/*.repo`` (RHEL ``*-els-*``
ELS repositories, SUSE ``LTSS`` repositories).

**Vendor data** (a policy ``eol_overrides`` entry ``linux:<id> <version>`` replaces a row's end
of support, e.g. for a contracted extension the host cannot show): ``linux_eol.csv`` beside this
module (Ubuntu, Debian, RHEL, Rocky, AlmaLinux,
CentOS Linux and Stream, Oracle Linux, Amazon Linux, SLES), one row per release with its release
date, end of vendor support, the paid extension and its end, and the source of every date. Ubuntu
and Debian rows come from Debian's ``distro-info-data`` 0.58+deb12u6; the others from the
endoflife.date product pages (commit a70eca33 of 2026-08-22, the copy shipped in
``scanner/feeds/shipped/endoflife``): end of vendor support is the page's ``eol``, the paid
extension's end its ``eoes``. For Debian the end of vendor support is the end of Debian LTS (a Debian
project effort); Freexian's commercial ELTS is a third party and is not counted. The table was
last reviewed on 2026-11-25; a release published after that is unknown to it.

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

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from importlib.resources import files

from checks.facts.fact import Unknown
from checks.facts.linux.distribution import (
    DEBIAN_VERSION,
    EXTENDED_SUPPORT_SOURCES,
    KERNEL_RELEASE,
)
from checks.facts.linux.os_release import OS_RELEASE
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

TABLE_REVIEWED = date(2026, 11, 25)
TABLE_MAX_AGE = timedelta(days=400)


@dataclass(frozen=True)
class Release:
    distro: str
    version: str
    line: str
    track: str
    released: date
    support_end: date | None
    extended_kind: str
    extended_end: date | None
    source: str
    note: str


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


def _load() -> tuple[Release, ...]:
    text = files(__package__ or "checks.patch_os").joinpath("linux_eol.csv").read_text("utf-8")
    rows = []
    for row in csv.DictReader(text.splitlines()):
        released = _date(row["released"])
        if released is None:
            raise ValueError(f"linux_eol.csv: {row['distro']} {row['version']} has no release date")
        rows.append(
            Release(
                distro=row["distro"],
                version=row["version"],
                line=row["line"],
                track=row["track"],
                released=released,
                support_end=_date(row["support_end"]),
                extended_kind=row["extended_kind"],
                extended_end=_date(row["extended_end"]),
                source=row["source"],
                note=row["note"],
            )
        )
    return tuple(rows)


RELEASES = _load()

# The distribution key used in linux_eol.csv for an os-release ID.
_ID_ALIASES = {"sles_sap": "sles", "sled": "sles", "rhel": "rhel", "almalinux": "almalinux"}


def _distro_key(osr: Mapping[str, str]) -> str:
    distro = osr.get("ID", "").lower()
    if distro == "centos" and "stream" in osr.get("NAME", "").lower():
        return "centos-stream"
    return _ID_ALIASES.get(distro, distro)


def find_release(distro: str, version_id: str) -> Release | None:
    """The table row for a host: exact VERSION_ID, else its major version (RHEL 9.4 → 9)."""
    candidates = [r for r in RELEASES if r.distro == distro]
    for wanted in (version_id, version_id.split(".")[0]):
        for r in candidates:
            if r.version == wanted:
                return r
    return None


def _extension_active(rel: Release, lines: list[str]) -> bool:
    if rel.extended_kind == "esm":
        return any("esm.ubuntu.com/infra" in ln for ln in lines)
    if rel.extended_kind == "els":
        return any("-els-" in ln.lower() and ln.startswith("[") for ln in lines)
    if rel.extended_kind == "ltss":
        return any("ltss" in ln.lower() and ln.startswith("[") for ln in lines)
    return False


def _line_key(line: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", line))


def _line_rank(rel: Release, on: date) -> tuple[int, list[str]]:
    """The newer release lines of the same distribution and track out on ``on``, oldest first."""
    lines = {
        r.line
        for r in RELEASES
        if r.distro == rel.distro and r.track == rel.track and r.released <= on
    }
    newer = sorted((ln for ln in lines if _line_key(ln) > _line_key(rel.line)), key=_line_key)
    return len(newer), newer


def _distro_discontinued(rel: Release, on: date) -> bool:
    """No release of the distribution is vendor-supported any more (CentOS Linux)."""
    return all(
        r.support_end is not None
        and r.support_end < on
        and (r.extended_end is None or r.extended_end < on)
        for r in RELEASES
        if r.distro == rel.distro
    )


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
    distro = _distro_key(osr)
    version_id = osr.get("VERSION_ID", "")
    name = osr.get("PRETTY_NAME") or f"{distro} {version_id}"
    rel = find_release(distro, version_id) if version_id else None
    if rel is None:
        reason = (
            f"{name} (ID={distro}, VERSION_ID={version_id or 'none'}) is not in the vendor "
            "end-of-life table; support status unknown"
        )
        return [
            Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=reason, observed=observed)
            for i in CHECK_ISM
        ]
    override = ctx.policy.eol_override(f"linux:{rel.distro} {rel.version}")
    if override is not None:
        rel = replace(
            rel, support_end=override, source=f"policy eol_overrides (table: {rel.source})"
        )
    observed.update(
        release=f"{rel.distro} {rel.version}",
        support_end=rel.support_end.isoformat() if rel.support_end else None,
        extended_kind=rel.extended_kind,
        extended_end=rel.extended_end.isoformat() if rel.extended_end else None,
        source=rel.source,
    )
    ext = EXTENDED_SUPPORT_SOURCES.read(outputs.get("extended"))
    ext_lines = [] if isinstance(ext, Unknown) else ext
    ext_why = ext.reason if isinstance(ext, Unknown) else None
    return [
        _support(rel, name, on, ext_lines, ext_why, observed),
        _currency(rel, name, on, observed),
    ]


def _support(
    rel: Release,
    name: str,
    on: date,
    ext_lines: list[str],
    ext_why: str | None,
    observed: dict[str, object],
) -> Finding:
    if rel.support_end is None:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"{name}: end of vendor support not recorded in the table ({rel.note})",
            observed=observed,
        )
    if on <= rel.support_end:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.EFFECTIVE,
            evidence=f"{name} is vendor-supported until {rel.support_end} ({rel.source})",
            observed=observed,
        )
    active = _extension_active(rel, ext_lines)
    observed["extension_active"] = active
    if rel.extended_end is not None and on <= rel.extended_end and active:
        return Finding(
            ism="ISM-1501",
            outcome=Outcome.EFFECTIVE,
            evidence=(
                f"{name}: standard support ended {rel.support_end}; covered by "
                f"{rel.extended_kind.upper()} until {rel.extended_end} (repository enabled)"
            ),
            observed=observed,
        )
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
        )
    if rel.extended_end is not None and on <= rel.extended_end:
        tail = (
            f"{rel.extended_kind.upper()} runs to {rel.extended_end} but no active "
            f"{rel.extended_kind.upper()} repository is configured"
        )
    else:
        tail = "no vendor support remains"
    return Finding(
        ism="ISM-1501",
        outcome=Outcome.INEFFECTIVE,
        evidence=f"{name}: vendor support ended {rel.support_end}; {tail}",
        observed=observed,
    )


def _currency(rel: Release, name: str, on: date, observed: dict[str, object]) -> Finding:
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
    rank, newer = _line_rank(rel, on)
    obs.update(newer_releases=newer, rank=rank)
    track = f" {rel.track.upper()}" if rel.distro == "ubuntu" else ""
    if _distro_discontinued(rel, on):
        return Finding(
            ism="ISM-1407",
            outcome=Outcome.INEFFECTIVE,
            evidence=f"{name}: no release of this distribution is vendor-supported any more",
            observed=obs,
        )
    if rank <= 1:
        which = "the latest" if rank == 0 else "the previous"
        return Finding(
            ism="ISM-1407",
            outcome=Outcome.EFFECTIVE,
            evidence=f"{name} is {which}{track} release line",
            observed=obs,
        )
    return Finding(
        ism="ISM-1407",
        outcome=Outcome.INEFFECTIVE,
        evidence=(
            f"{name} is {rank} releases behind; newer{track} releases: {', '.join(newer)} "
            "(only the latest or previous release is allowed at ML3)"
        ),
        observed=obs,
    )


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
    version=2,
)
