"""Linux: are operating system security fixes applied within ASD's deadlines?

**Collected (read-only; nothing refreshes the package metadata):**
- ``/etc/os-release`` to tell Debian/Ubuntu from the RHEL family;
- Debian/Ubuntu: ``apt-get -s -o Debug::NoLocking=1 dist-upgrade`` (a simulation; ``dist-upgrade``
  rather than ``upgrade`` so that kernel fixes that need new packages are not hidden as "kept
  back"). Each ``Inst`` line whose origin contains ``-security`` is a pending security fix;
- RHEL family (root, because dnf/yum keep a per-user cache otherwise):
  ``dnf -C -q updateinfo info --security --available`` (``yum -C`` on RHEL 7), giving each
  pending advisory's ``Severity`` and date (``Issued`` on yum; dnf 4 prints ``Updated``, the last
  revision of the advisory, which can make an advisory look younger than it is);
- package metadata age: newest mtime of ``/var/lib/apt/lists/*InRelease``,
  ``/var/lib/apt/periodic/update-success-stamp`` or the cached ``repomd.xml`` files;
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
  was published before then), or (b) no upgrade pass has run within the window (no
  unattended-upgrades run, no upgrade in the apt history): nothing shows it was released inside
  the window, so it cannot be shown to be in time. When an upgrade pass ran within the window the
  pending fix is taken to have been published after it (in time); the evidence says so. This
  assumption fails for held packages; an assessor should read the listed package names.
- a fix installed but not in use is not applied: a newer kernel installed than the one running
  (``rpm`` install time, or a Debian kernel package whose version differs from the running
  build), ``/var/run/reboot-required`` or ``needs-restarting -r`` exit 1 make the control
  ineffective once the reboot has been pending longer than its window, or at once when the time
  it became pending is unknown. (``needs-restarting`` is known to report false positives on
  AlmaLinux 8.8; the evidence names the source.)
- no_visibility when the pending-update view cannot be trusted and nothing already proves
  ineffectiveness: package metadata older than ``package_cache_max_age_days`` ("package metadata N
  days old; pending-update view unreliable"), metadata age unknown, the package tool failed or was
  refused (sudo), the distribution family is not handled (SUSE, unknown), or a CentOS host shows no
  advisories (CentOS repositories publish no security errata metadata).
- effective otherwise: nothing pending (or nothing pending beyond the window), fresh metadata,
  no overdue reboot.

Working-exploit status is not visible from the host (no KEV feed): a non-critical fix with a
known exploit is judged against the longer window. Evidence grade: good for the RHEL family
(vendor advisory dates), fair for Debian/Ubuntu (release dates inferred, see above).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from checks._linux import first_line, from_epoch, iso, unreadable
from checks.facts.fact import Unknown
from checks.facts.linux.os_release import OS_RELEASE
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

DEB_IDS = {"debian", "ubuntu", "raspbian", "linuxmint", "pop", "kali"}
RPM_IDS = {"rhel", "centos", "rocky", "almalinux", "ol", "amzn", "fedora", "scientific"}

INTERNET_FACING = ("ISM-1877", "ISM-1694")
OTHER_HOSTS = ("ISM-1695", "ISM-1696", "ISM-1902")
CHECK_ISM = ("ISM-1877", "ISM-1694", "ISM-1695", "ISM-1696", "ISM-1902")


@dataclass(frozen=True)
class Fix:
    ident: str
    severity: str  # critical | other | unknown
    released: datetime | None


@dataclass(frozen=True)
class Reboot:
    pending: bool
    since: datetime | None
    detail: str


def _family(osr: Mapping[str, str]) -> str | None:
    ids = {osr.get("ID", "").lower(), *osr.get("ID_LIKE", "").lower().split()}
    if ids & DEB_IDS:
        return "deb"
    if ids & RPM_IDS:
        return "rpm"
    return None


_INST = re.compile(r"^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+) (.*?) \[[^\]]*\]\)")


def parse_apt(text: str) -> tuple[list[str], list[str]]:
    """``apt-get -s`` output → (security packages, other packages), each ``name new-version``."""
    security: list[str] = []
    other: list[str] = []
    for line in text.splitlines():
        m = _INST.match(line)
        if not m:
            continue
        entry = f"{m.group(1)} {m.group(3)}"
        (security if "-security" in m.group(4) else other).append(entry)
    return security, other


def _dnf_date(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def parse_updateinfo(text: str) -> list[Fix]:
    """``dnf/yum updateinfo info`` blocks → one Fix per security advisory."""
    fixes: dict[str, Fix] = {}
    for block in re.split(r"^={20,}\s*$", text, flags=re.M):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            m = re.match(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s(.*)$", line)
            if m and m.group(1) not in fields:
                fields[m.group(1)] = m.group(2).strip()
        ident = fields.get("Update ID")
        if not ident or fields.get("Type", "security").lower() != "security":
            continue
        sev = fields.get("Severity", "").lower()
        severity = (
            "critical" if sev == "critical" else "unknown" if sev in ("", "none") else "other"
        )
        released = _dnf_date(fields.get("Issued", "") or fields.get("Updated", ""))
        fixes[ident] = Fix(ident, severity, released)
    return list(fixes.values())


def _newest_epoch(text: str) -> datetime | None:
    times = [from_epoch(line.split(" ", 1)[0]) for line in text.splitlines() if line.strip()]
    return max((t for t in times if t is not None), default=None)


def _last_upgrade_pass(text: str) -> tuple[datetime | None, str]:
    """Newest of the apt history upgrade and the unattended-upgrades stamp."""
    offset: timezone = UTC
    found: list[tuple[datetime, str]] = []
    for line in text.splitlines():
        if m := re.match(r"^tz ([+-])(\d\d)(\d\d)$", line.strip()):
            sign = 1 if m.group(1) == "+" else -1
            delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
            offset = timezone(sign * delta)
    for line in text.splitlines():
        if line.startswith("apt-history "):
            try:
                local = datetime.strptime(line[12:].strip(), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
            found.append((local.replace(tzinfo=offset), "apt history upgrade"))
        elif line.strip().endswith("unattended-upgrades-stamp"):
            moment = from_epoch(line.split(" ", 1)[0])
            if moment is not None:
                found.append((moment, "unattended-upgrades run"))
    if not found:
        return None, ""
    return max(found)


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def parse_reboot(text: str) -> Reboot:
    running = build = ""
    flag: datetime | None = None
    pkgs: list[str] = []
    rpm_kernel: tuple[datetime | None, str] | None = None
    images: dict[str, str] = {}
    needs: tuple[int, str] | None = None
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        rest = rest.strip()
        if head == "running":
            running = rest
        elif head == "build":
            build = rest
        elif head == "flag":
            flag = from_epoch(rest)
        elif head == "pkg":
            pkgs.append(rest)
        elif head == "rpmkernel":
            epoch, _, ver = rest.partition(" ")
            rpm_kernel = (from_epoch(epoch), ver.strip())
        elif head == "dpkg":
            parts = rest.split()
            if len(parts) >= 3 and parts[0] == "ii":
                images[parts[1].removeprefix("linux-image-")] = parts[2]
        elif head == "needs-restarting":
            code, _, msg = rest.partition(" ")
            if code.isdigit():
                needs = (int(code), msg.strip())
    if rpm_kernel is not None and running and rpm_kernel[1] and rpm_kernel[1] != running:
        return Reboot(
            True,
            rpm_kernel[0],
            f"kernel {rpm_kernel[1]} installed {iso(rpm_kernel[0])} but {running} is running",
        )
    if images and running:
        flavour = re.sub(r"\d+", "#", running)
        newer = [
            abi
            for abi in images
            if re.sub(r"\d+", "#", abi) == flavour and _version_key(abi) > _version_key(running)
        ]
        if newer:
            best = max(newer, key=_version_key)
            return Reboot(True, flag, f"kernel {best} installed but {running} is running")
        m = re.search(r"Debian (\S+)", build)
        if running in images and m and m.group(1) != images[running]:
            return Reboot(
                True,
                flag,
                f"kernel package {images[running]} installed but build {m.group(1)} is running",
            )
    if flag is not None:
        what = ", ".join(pkgs[:5]) or "unnamed packages"
        return Reboot(True, flag, f"/var/run/reboot-required present since {iso(flag)} ({what})")
    if needs is not None and needs[0] == 1 and "reboot is required" in needs[1].lower():
        return Reboot(True, None, "needs-restarting -r reports a reboot is required")
    return Reboot(False, None, "")


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
    family = _family(osr)
    observed: dict[str, object] = {"os": osr.get("PRETTY_NAME") or osr.get("ID"), "family": family}

    # What the package tool shows as pending, or why it cannot be seen.
    blind: str | None = None
    fixes: list[Fix] = []
    if family is None:
        blind = f"distribution {osr.get('ID') or 'unknown'} is not handled by this check"
    elif family == "deb":
        out = outputs["apt_upgrade"]
        blind = unreadable(out, stdout_denial=True)
        if blind is None and (not out.ok or "E8_NO_APT" in out.text):
            blind = f"apt-get simulation failed: {first_line(out.text) or first_line(out.err)}"
        if blind is None:
            security, other = parse_apt(out.text)
            fixes = [Fix(s, "unknown", None) for s in security]
            observed.update(security_pending=security[:20], other_pending=len(other))
    else:
        out = outputs["dnf_security"]
        blind = unreadable(out, stdout_denial=True)
        if blind is None and (not out.ok or "E8_NO_DNF" in out.text):
            blind = f"dnf/yum updateinfo failed: {first_line(out.text) or first_line(out.err)}"
        if blind is None:
            fixes = parse_updateinfo(out.text)
            observed["advisories_pending"] = [
                f"{f.ident} {f.severity} {iso(f.released)}" for f in fixes[:20]
            ]
            if not fixes and osr.get("ID", "").lower() == "centos":
                blind = (
                    "CentOS repositories publish no security errata; an empty list proves nothing"
                )

    cache_time = _newest_epoch(outputs["cache"].text) if outputs["cache"].ran else None
    cache_age = now - cache_time if cache_time is not None else None
    max_age = timedelta(days=ctx.policy.package_cache_max_age_days)
    if cache_age is None:
        stale: str | None = "package metadata age unknown; pending-update view unreliable"
    elif cache_age > max_age:
        stale = f"package metadata {cache_age.days} days old; pending-update view unreliable"
    else:
        stale = None
    last_pass, pass_kind = (None, "")
    if family == "deb":
        last_pass, pass_kind = _last_upgrade_pass(outputs["last_upgrade"].text)
    reboot = parse_reboot(outputs["reboot"].text)
    observed.update(
        metadata_fetched=iso(cache_time),
        last_upgrade_pass=iso(last_pass),
        reboot_pending=reboot.detail or None,
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
        if undated:
            names = ", ".join(f.ident.split()[0] for f in undated[:5])
            if cache_age is not None and cache_age > window:
                overdue.append(
                    f"{len(undated)} security fixes pending ({names}) were already in package "
                    f"lists fetched {_span(cache_age)} ago, beyond {_span(window)}"
                )
            elif last_pass is None or now - last_pass > window:
                since = (
                    f"last {pass_kind} {last_pass.date()}"
                    if last_pass
                    else "no upgrade run on record"
                )
                overdue.append(
                    f"{len(undated)} security fixes pending ({names}), release dates not "
                    f"available locally and no upgrade pass within {_span(window)} ({since})"
                )
        if reboot.pending:
            if reboot.since is None:
                overdue.append(f"{reboot.detail}; pending since an unknown time, fix not applied")
            elif now - reboot.since > window:
                overdue.append(
                    f"{reboot.detail}; reboot pending {_span(now - reboot.since)}, fix not applied"
                )
        obs = {**observed, "window": _span(window), "scope": scope}
        if overdue:
            outcome, evidence = Outcome.INEFFECTIVE, "; ".join(overdue)
        elif blind is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, blind
        elif stale is not None:
            outcome, evidence = Outcome.NO_VISIBILITY, stale
        else:
            outcome = Outcome.EFFECTIVE
            if in_scope:
                note = (
                    f"; published after the last {pass_kind} ({last_pass.date()}), so inside "
                    "the window (release dates not available locally)"
                    if undated and last_pass is not None
                    else ""
                )
                evidence = (
                    f"{len(in_scope)} security fixes pending, none beyond {_span(window)}{note}"
                )
            else:
                evidence = (
                    f"no pending security fixes in scope ({scope}); "
                    f"package metadata fetched {iso(cache_time)}"
                )
            if reboot.pending:
                evidence += f"; {reboot.detail} (within the window)"
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
        "apt_upgrade": Cmd(
            line=(
                "if command -v apt-get >/dev/null 2>&1; then "
                "LC_ALL=C apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>&1; "
                "else echo E8_NO_APT; fi"
            )
        ),
        "dnf_security": Cmd(
            line=(
                "if command -v dnf >/dev/null 2>&1; then "
                "LC_ALL=C dnf -C -q updateinfo info --security --available 2>&1; "
                "elif command -v yum >/dev/null 2>&1; then "
                "LC_ALL=C yum -C -q updateinfo info security 2>&1; "
                "else echo E8_NO_DNF; fi"
            ),
            root=True,
        ),
        "cache": Cmd(
            line=(
                "{ stat -c '%Y %n' /var/lib/apt/periodic/update-success-stamp "
                "/var/lib/apt/lists/*InRelease; "
                "find /var/cache/dnf /var/cache/yum -maxdepth 5 -name repomd.xml "
                "-printf '%T@ %p\\n'; } 2>/dev/null | sort -n | tail -3"
            )
        ),
        "last_upgrade": Cmd(
            line=(
                "date +'tz %z'; "
                "zcat -f /var/log/apt/history.log.1.gz /var/log/apt/history.log 2>/dev/null | "
                'awk \'/^Start-Date:/{d=$2" "$3} /^Upgrade:/{u=d} '
                'END{if(u!="")print "apt-history "u}\'; '
                "stat -c '%Y %n' /var/lib/apt/periodic/unattended-upgrades-stamp 2>/dev/null; true"
            )
        ),
        "reboot": Cmd(
            line=(
                "echo \"running $(uname -r)\"; uname -v | sed 's/^/build /'; "
                "if [ -e /var/run/reboot-required ]; then "
                "stat -c 'flag %Y' /var/run/reboot-required; "
                "sed 's/^/pkg /' /var/run/reboot-required.pkgs 2>/dev/null; fi; "
                "rpm -q --qf 'rpmkernel %{INSTALLTIME} %{VERSION}-%{RELEASE}.%{ARCH}\\n' kernel "
                "2>/dev/null | grep '^rpmkernel' | sort -k2,2n | tail -1; "
                "dpkg-query -W -f='dpkg ${db:Status-Abbrev} ${Package} ${Version}\\n' "
                "'linux-image-[0-9]*' 2>/dev/null; "
                "if command -v needs-restarting >/dev/null 2>&1; then "
                'nr=$(needs-restarting -r 2>&1); echo "needs-restarting $? '
                '$(printf \'%s\' "$nr" | tail -1)"; fi; true'
            )
        ),
    },
    judge=judge,
    version=1,
)
