"""Active Directory: does any computer in use run an operating system its vendor no longer supports?

**Collected (one read-only LDAP search over LDAPS):** every computer account (the ``COMPUTERS``
search of ``checks/facts/directory/objects.py``): name, ``userAccountControl``,
``lastLogonTimestamp``, and the two attributes each computer writes about itself,
``operatingSystem`` (``Windows 10 Enterprise``, ``Windows Server 2008 R2 Enterprise``,
``Ubuntu``) and ``operatingSystemVersion`` (``10.0 (19045)``, ``6.1 (7601)``, ``22.04``).

**Which computers:** every enabled computer account that logged on within 90 days
(``lastLogonTimestamp``), whatever its operating system, domain controllers included — and
whether or not the inventory lists it: the point is the computer nobody listed (an HMI, a
forgotten server). Disabled accounts and ones not seen for 90 days are named as not in use.

**Mapping to the vendor tables** (the ones the host checks use, whose rows name endoflife.date
cycles: the dates come from the run's endoflife.date snapshot as there, and from a stale snapshot
a computer is never "supported" and "ended" only when its ends had passed on the snapshot's own
date; a policy ``eol_overrides`` entry ``windows:<build>`` or ``linux:<distro> <version>``
replaces the end of support and needs no feed):
- Windows (``operatingSystem`` starts with "Windows"): the build is the number in brackets of
  ``operatingSystemVersion``; server when ``operatingSystem`` contains "Server", else client; the
  edition family from the words of ``operatingSystem``: LTSC/LTSB (with IoT: IoT LTSC),
  Enterprise, Pro/Professional/Home (Pro Education is serviced with Pro), Education; Datacenter,
  Standard and the other server editions share the server row; Azure Stack HCI / Azure Local
  has its own lifecycle (not in the table). Build, kind and family pick the row of
  ``windows_lifecycle.csv`` (``checks/_windows_patch.py`` ``lifecycle_row``, the lookup
  ``patch_os.windows_os_support`` uses). An edition the name does not settle ("IoT Enterprise"
  without LTSC, or no edition word) is judged only when every edition row of that build agrees.
  Windows Embedded editions have their own lifecycles and are not mapped.
- Linux: only when ``operatingSystem`` is an ``/etc/os-release`` ``NAME`` of a distribution in
  ``linux_eol.csv`` (``Ubuntu``, ``Debian GNU/Linux``, ``Red Hat Enterprise Linux``, ``Rocky
  Linux``, ``AlmaLinux``, ``CentOS Linux``, ``CentOS Stream``, ``Oracle Linux Server``,
  ``Amazon Linux``, ``SLES``) and ``operatingSystemVersion`` its ``VERSION_ID`` — what realmd
  writes when it joins — looked up as ``patch_os.linux_os_support`` does (``find_release``).
- Anything else (``Samba``, a NAS, a missing attribute, a build not in the table): not
  determinable.

**ISM-1501** (ML1-3, operating systems no longer supported by their vendor are replaced):
- ineffective: at least one such computer's release is past its end of support, with no paid
  extension (ESU, Ubuntu Pro ESM, RHEL ELS, SUSE LTSS, Oracle Extended Support) still running for
  it; each is named with its OS, version and end dates;
- no_visibility: none is definitely unsupported, but some cannot be determined: an unknown OS
  string or build, a release whose end the snapshot does not hold or a stale snapshot cannot
  state, an unreadable ``userAccountControl``, or
  a release past end of support whose paid extension still runs — enrolment (ESU, ESM, ELS, LTSS)
  is visible on the host only (``patch_os.windows_os_support``, ``patch_os.linux_os_support``),
  never in the directory;
- effective: every computer in use maps to a release within its vendor support;
- not_applicable: no enabled computer logged on within 90 days.

Evidence grade: fair (the directory's copy of what each computer last reported about itself; the
host checks read the operating system directly and can see ESU).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from checks._windows_patch import LIFECYCLE, dated, lifecycle_row
from checks.facts.directory.objects import (
    ACTIVE_DAYS,
    COMPUTERS,
    UF_ACCOUNTDISABLE,
    active_accounts,
)
from checks.facts.directory.search import Entry, filetime
from checks.facts.fact import Unknown
from checks.patch_os._linux_lifecycle import dated as dated_release
from checks.patch_os._linux_lifecycle import find_release
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.feeds import Snapshot
from scanner.model.policy import Policy
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ISM = "ISM-1501"
SCOPE = (
    "every computer account in the directory was considered, including computers absent from "
    "the inventory"
)
_NT_VERSION = re.compile(r"^\s*\d+\.\d+\s*\((\d+)\)\s*$")
# /etc/os-release NAME (what realmd writes to operatingSystem) → the distro key of linux_eol.csv
_LINUX_NAMES = {
    "ubuntu": "ubuntu",
    "debian gnu/linux": "debian",
    "red hat enterprise linux": "rhel",
    "red hat enterprise linux server": "rhel",
    "rocky linux": "rocky",
    "almalinux": "almalinux",
    "centos linux": "centos",
    "centos stream": "centos-stream",
    "oracle linux server": "ol",
    "amazon linux": "amzn",
    "sles": "sles",
}
_FAMILY_NAMES = {"home_pro": " Home/Pro", "enterprise": " Enterprise/Education"}
_EXTENSIONS = {
    "esm": "Ubuntu Pro ESM",
    "els": "RHEL ELS",
    "ltss": "SUSE LTSS",
    "extended": "Oracle Extended Support",
}

# What a computer's release is on the collection day.
SUPPORTED, ENDED, EXTENDED, UNKNOWN = "supported", "ended", "extension running", "unknown"


@dataclass(frozen=True)
class Support:
    """One release's vendor support as the tables and the endoflife.date snapshot hold it."""

    release: str
    support_end: date | None
    extended_end: date | None  # the paid extension's end (ESU, ESM, ELS, LTSS), if any
    extension: str  # its name
    source: str
    stale: str = ""  # why the snapshot that dated it cannot back "supported" (feed state)
    as_of: date | None = None  # that snapshot's date

    def _settled(self, day: date | None) -> bool:
        if day is None:
            return True
        return not self.stale or (self.as_of is not None and day <= self.as_of)

    def status(self, on: date) -> str:
        """From a stale snapshot a release is never "supported", and "ended" only when its
        ends had passed by the snapshot's date (``checks/patch_os/_eol_feed.py``)."""
        if self.support_end is None:
            return UNKNOWN
        if on <= self.support_end:
            return UNKNOWN if self.stale else SUPPORTED
        if self.extended_end is not None and on <= self.extended_end:
            return EXTENDED
        if self._settled(self.support_end) and self._settled(self.extended_end):
            return ENDED
        return UNKNOWN

    def unknown_why(self, on: date) -> str:
        """Why :meth:`status` is unknown."""
        if self.support_end is None:
            return self.stale or f"end of support not dated ({self.source})"
        return (
            f"{self.stale}; by it support ends {self.support_end}, which a stale snapshot can "
            "state only once past on its own date"
        )


Judgement = tuple[str, Support | None, str]  # status, the table's row, why undetermined


@dataclass(frozen=True)
class Judged:
    name: str
    os: str
    version: str
    status: str
    support: Support | None
    why: str = ""

    def label(self) -> str:
        return f"{self.name} ({self.os or 'no operatingSystem'}, {self.version or 'no version'})"

    def detail(self) -> str:
        s = self.support
        if s is None:
            return f"{self.label()}: {self.why}"
        ends = f"support ended {s.support_end}"
        if self.status == SUPPORTED:
            return f"{self.label()}: {s.release}, supported until {s.support_end}"
        if self.status == EXTENDED:
            return (
                f"{self.label()}: {s.release}, {ends}; {s.extension} runs to {s.extended_end} "
                f"({s.extension} enrolment is visible on the host only)"
            )
        if self.status == UNKNOWN:
            return f"{self.label()}: {s.release}, {self.why or 'end of support not known'}"
        tail = f", {s.extension} ended {s.extended_end}" if s.extended_end else ""
        return f"{self.label()}: {s.release}, {ends}{tail}"

    def observed(self) -> dict[str, Any]:
        s = self.support
        return {
            "name": self.name,
            "os": self.os or None,
            "version": self.version or None,
            "status": self.status,
            "release": s.release if s else None,
            "support_end": s.support_end.isoformat() if s and s.support_end else None,
            "extended_end": s.extended_end.isoformat() if s and s.extended_end else None,
            "source": s.source if s else None,
            "why": self.why or None,
        }


def _families(os_name: str, kind: str) -> tuple[str, ...] | None:
    """The edition families the ``operatingSystem`` text names; None: no edition word."""
    words = set(re.findall(r"[a-z]+", os_name.lower()))
    if kind == "server":
        return ("hci",) if "hci" in words or "azure local" in os_name.lower() else ("server",)
    ltsc = bool(words & {"ltsc", "ltsb"})
    if "iot" in words:
        # "IoT Enterprise" alone may be the general-availability edition or an LTSC one.
        return ("iot_ltsc",) if ltsc else ("enterprise", "iot_ltsc")
    if ltsc:
        return ("ltsc",)
    if "enterprise" in words:
        return ("enterprise",)
    if words & {"pro", "professional", "home"}:
        return ("home_pro",)
    if "education" in words:
        return ("enterprise",)
    return None


def _windows(
    os_name: str, version: str, at: datetime, policy: Policy, feeds: Snapshot
) -> Judgement:
    on = at.date()
    m = _NT_VERSION.match(version)
    if m is None:
        return UNKNOWN, None, "operatingSystemVersion carries no build number"
    if "embedded" in os_name.lower():
        return (
            UNKNOWN,
            None,
            "Windows Embedded editions have their own lifecycles, not in the table",
        )
    build = int(m.group(1))
    kind = "server" if "server" in os_name.lower() else "client"
    named = _families(os_name, kind)
    families = named or sorted({r.family for r in LIFECYCLE if r.build == build and r.kind == kind})
    rows = []
    for family in families:
        row = lifecycle_row(build, kind, family)
        if row is not None and row not in rows:
            rows.append(row)
    if not rows:
        return UNKNOWN, None, f"{kind} build {build} is not in windows_lifecycle.csv"
    override = policy.eol_override(f"windows:{build}")
    found = []
    for r in (dated(row, feeds, at) for row in rows):
        fc = r.feed
        found.append(
            Support(
                release=f"{r.release}{_FAMILY_NAMES.get(r.family, '')}",
                support_end=override or r.support_end,
                extended_end=r.esu_end,
                extension="ESU",
                source=f"policy eol_overrides ({r.source})" if override else r.source,
                stale="" if override or fc is None or fc.usable else fc.why,
                as_of=None if fc is None else fc.as_of,
            )
        )
    statuses = {s.status(on) for s in found}
    if len(statuses) > 1:
        editions = "; ".join(f"{s.release}: {s.status(on)}" for s in found)
        return (
            UNKNOWN,
            found[0],
            f"the name does not settle the edition, and they differ ({editions})",
        )
    status = statuses.pop()
    if len(found) == 1:
        return status, found[0], found[0].unknown_why(on) if status == UNKNOWN else ""
    # The editions agree; state the most generous date (latest end when ended, else earliest).
    latest = max(found, key=lambda s: s.extended_end or s.support_end or date.min)
    shown = latest if status != SUPPORTED else min(found, key=lambda s: s.support_end or date.max)
    return status, shown, f"the name does not settle the edition; all {len(found)} agree"


def _linux(os_name: str, version: str, at: datetime, policy: Policy, feeds: Snapshot) -> Judgement:
    on = at.date()
    distro = _LINUX_NAMES[os_name.strip().lower()]
    row = find_release(distro, version.strip()) if version.strip() else None
    if row is None:
        return UNKNOWN, None, f"{os_name} {version or '(no version)'} is not in linux_eol.csv"
    rel = dated_release(row, feeds, at)
    fc = rel.feed
    override = policy.eol_override(f"linux:{rel.distro} {rel.version}")
    support = Support(
        release=f"{os_name} {rel.version}",
        support_end=override or rel.support_end,
        extended_end=rel.extended_end,
        extension=_EXTENSIONS.get(rel.extended_kind, rel.extended_kind),
        source=f"policy eol_overrides ({rel.source})" if override else rel.source,
        stale="" if override or fc is None or fc.usable else fc.why,
        as_of=None if fc is None else fc.as_of,
    )
    status = support.status(on)
    return status, support, support.unknown_why(on) if status == UNKNOWN else ""


def judge_computer(c: Entry, at: datetime, policy: Policy, feeds: Snapshot) -> Judged:
    """One computer's release and its vendor support at ``at``, from its directory attributes
    (dates from the endoflife.date snapshot ``feeds``)."""
    name = c.name.rstrip("$")
    os_name = (c.first("operatingSystem") or "").strip()
    version = (c.first("operatingSystemVersion") or "").strip()
    if os_name.lower().startswith("windows"):
        status, support, why = _windows(os_name, version, at, policy, feeds)
    elif os_name.lower() in _LINUX_NAMES:
        status, support, why = _linux(os_name, version, at, policy, feeds)
    elif not os_name:
        status, support, why = UNKNOWN, None, "the computer object has no operatingSystem"
    else:
        status, support, why = (
            UNKNOWN,
            None,
            "the operatingSystem text matches no lifecycle table (Windows, or an os-release NAME)",
        )
    return Judged(name, os_name, version, status, support, why)


def _not_judged(computers: list[Entry], chosen: list[Entry], unread: list[str]) -> list[str]:
    """The computers left out, each with why (disabled, last logon, never logged on)."""
    picked = {id(c) for c in chosen}
    out = []
    for c in computers:
        if id(c) in picked or c.name in unread:
            continue
        last = filetime(c.integer("lastLogonTimestamp"))
        uac = c.integer("userAccountControl") or 0
        why = (
            "disabled"
            if uac & UF_ACCOUNTDISABLE
            else f"last logon {last.date()}"
            if last is not None
            else "no logon recorded"
        )
        out.append(f"{c.name.rstrip('$')} ({why})")
    return sorted(out, key=str.lower)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    computers = COMPUTERS.read(outputs.get("computers"))
    if isinstance(computers, Unknown):
        return [Finding(ism=ISM, outcome=Outcome.NO_VISIBILITY, evidence=computers.reason)]
    now = ctx.collected_at if ctx.collected_at.tzinfo else ctx.collected_at.replace(tzinfo=UTC)
    chosen, unread = active_accounts(computers, now, days=ACTIVE_DAYS)
    judged = [judge_computer(c, now, ctx.policy, ctx.feeds) for c in chosen]
    judged.sort(key=lambda j: j.name.lower())
    skipped = _not_judged(computers, chosen, unread)
    observed: dict[str, Any] = {
        "scope": SCOPE,
        "judged": [j.observed() for j in judged],
        "not_in_use": skipped,
        "account_state_unreadable": sorted(n.rstrip("$") for n in unread),
    }
    gone = f"not in use (disabled, or no logon within {ACTIVE_DAYS} days): "
    gone += ", ".join(skipped) or "none"
    if not judged and not unread:
        text = f"no enabled computer account logged on within {ACTIVE_DAYS} days; {gone}"
        return [Finding(ism=ISM, outcome=Outcome.NOT_APPLICABLE, evidence=text, observed=observed)]
    ended = [j for j in judged if j.status == ENDED]
    open_ = [j for j in judged if j.status in (UNKNOWN, EXTENDED)]
    fine = [j for j in judged if j.status == SUPPORTED]
    tail = []
    if open_:
        tail.append("cannot be determined: " + "; ".join(j.detail() for j in open_))
    if unread:
        names = ", ".join(sorted(n.rstrip("$") for n in unread))
        tail.append(f"whether in use cannot be determined (userAccountControl unreadable): {names}")
    if fine and (ended or open_ or unread):
        tail.append("supported: " + ", ".join(j.name for j in fine))
    tail.append(f"{len(judged)} computer(s) in use judged ({SCOPE})")
    tail.append(gone)
    rest = "; ".join(tail)
    if ended:
        head = "past vendor end of support, with no paid extension left: "
        text = head + "; ".join(j.detail() for j in ended) + f". {rest}"
        return [Finding(ism=ISM, outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed)]
    if open_ or unread:
        text = f"no computer in use is definitely past vendor support, but {rest}"
        return [Finding(ism=ISM, outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed)]
    head = "every computer in use runs a vendor-supported release: "
    text = head + "; ".join(j.detail() for j in fine) + f". {rest}"
    return [Finding(ism=ISM, outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)]


CHECK = Check(
    id="patch_os.directory_os_support",
    title="AD: no computer in use runs an operating system past vendor support",
    strategy=Strategy.PATCH_OS,
    ism=(ISM,),
    platforms=frozenset({Platform.DIRECTORY}),
    collect={"computers": COMPUTERS.cmd},
    judge=judge,
    version=2,
    grade=Grade.FAIR,
    doc=__doc__ or "",
)
