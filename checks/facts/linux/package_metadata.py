"""When the package tool's repository metadata was fetched, per source: the apt
``lists/*InRelease`` and ``lists/*_Release`` files, dnf/yum ``repomd.xml`` files and apt's
``update-success-stamp``, each with its modification time.

**What a time means.** apt's http method sets a fetched list's mtime to the server's
``Last-Modified`` (the archive's publish time; it equals the InRelease ``Date:``) and leaves the
file untouched on an If-Modified-Since hit. So an apt list time is a *lower bound* of its last
fetch, and a suite that rarely changes keeps an old time however often it is fetched: a Debian
stable main suite keeps its point-release date for months. A suite whose lists apt failed to
fetch ("Some index files failed to download. They have been ignored, or old ones used instead.")
keeps its old file too. Security suites are republished at least weekly (Debian's carry a
7-day ``Valid-Until``; Ubuntu's ``-security`` pockets publish several times a week), so a security
list older than that was not fetched since. ``update-success-stamp`` is touched by
``APT::Update::Post-Invoke-Success``, which apt runs unless *every* source failed: a success
marker of some fetch, never evidence that every list is current.

Hence two times (``PackageMetadata``):
- ``newest``: the newest time of any file, stamp included: nothing in the lists was published
  after it (judges use it to date a pending fix: it was in lists fetched no later than this);
- ``freshness()``: the time the pending-update view rests on, and the file it comes from. apt:
  the *stalest* security-suite list (a file name with ``security``; every configured security
  suite must be fresh; apt deletes the lists of sources no longer configured, so a listed suite
  is a configured one). apt lists with no security suite among them give no time: no security
  fix can be seen. dnf/yum: the *newest* ``repomd.xml`` (decided: caches of repositories removed
  or disabled since linger under ``/var/cache/dnf``, so the oldest would make hosts fail for a
  repository they no longer use; ``dnf -C`` refuses an enabled repository with no cache at all,
  which the pending reads then report. Known gap: a stale cache of one enabled repository beside
  fresh others is not seen; matching cache directories to enabled repositories would need
  ``dnf repolist`` or ``.repo`` parsing, not done yet).

The command lists every file, oldest first (``sort -n``), with ``stat -c`` and GNU ``find
-printf``: BusyBox ``stat -c`` gives the apt lines, BusyBox ``find`` has no ``-printf``, so a
BusyBox host shows no ``repomd.xml``. It is capped at 201 lines (no longer ``tail -3``, which
dropped the stalest): more than 200 is a cut listing and Unknown. No file at all is Unknown: the
age cannot be shown. A line that is not ``<epoch> <path>`` is Unknown (it could hide a stale
file).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.linux.times import from_epoch

MAX_FILES = 200
STAMP = "/var/lib/apt/periodic/update-success-stamp"
APT_LISTS = "/var/lib/apt/lists/"
NO_FILES = "no package metadata time readable (no apt lists, no dnf/yum cache)"


@dataclass(frozen=True)
class ListTime:
    """One metadata file and its modification time."""

    path: str
    time: datetime

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PackageMetadata:
    """Every apt list / dnf repomd.xml time, and apt's success stamp (None without one)."""

    apt: tuple[ListTime, ...]
    dnf: tuple[ListTime, ...]
    success_stamp: datetime | None

    @property
    def newest(self) -> datetime:
        """The newest time of any file (stamp included): no list was published after it."""
        times = [f.time for f in (*self.apt, *self.dnf)]
        if self.success_stamp is not None:
            times.append(self.success_stamp)
        return max(times)

    def freshness(self) -> ListTime | str:
        """The list the pending-update view is only as fresh as, or why there is none."""
        if self.apt:
            security = [f for f in self.apt if "security" in f.name.lower()]
            if not security:
                names = ", ".join(f.name for f in self.apt[:3])
                return (
                    f"no security suite among the {len(self.apt)} apt lists ({names}): "
                    "no security fix can be seen"
                )
            return min(security, key=_order)
        if self.dnf:
            return max(self.dnf, key=_order)
        return "only apt's update-success-stamp, no package lists: the lists' age cannot be shown"

    @staticmethod
    def describe(fresh: ListTime) -> str:
        """``fresh`` as judges name it in evidence."""
        if fresh.path.startswith(APT_LISTS):
            return f"stalest security list {fresh.name}"
        return f"newest dnf/yum repomd.xml {fresh.path} (older caches may be of removed repos)"


def _order(f: ListTime) -> tuple[datetime, str]:
    return f.time, f.path


def parse(text: str) -> PackageMetadata | Unknown:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return Unknown(NO_FILES)
    if len(lines) > MAX_FILES:
        return Unknown(
            f"more than {MAX_FILES} package metadata files listed; the listing was cut, so the "
            "stalest cannot be shown"
        )
    apt: list[ListTime] = []
    dnf: list[ListTime] = []
    stamp: datetime | None = None
    for line in lines:
        epoch, _, path = line.strip().partition(" ")
        when = from_epoch(epoch)
        if when is None or not path.startswith("/"):
            return Unknown(f"unexpected line in the metadata listing: {line.strip()[:80]!r}")
        if path == STAMP:
            stamp = when
        elif path.startswith(APT_LISTS):
            apt.append(ListTime(path, when))
        else:
            dnf.append(ListTime(path, when))
    return PackageMetadata(tuple(sorted(apt, key=_order)), tuple(sorted(dnf, key=_order)), stamp)


PACKAGE_METADATA = sh_fact(
    "linux.package_metadata_time",
    "{ stat -c '%Y %n' /var/lib/apt/periodic/update-success-stamp "
    "/var/lib/apt/lists/*InRelease /var/lib/apt/lists/*_Release; "
    "find /var/cache/dnf /var/cache/yum -maxdepth 5 -name repomd.xml "
    "-printf '%T@ %p\\n'; } 2>/dev/null | sort -n | head -201",
    parse,
)
