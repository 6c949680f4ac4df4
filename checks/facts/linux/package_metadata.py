"""When the package tool last fetched repository metadata: the apt ``update-success-stamp`` and
``lists/*InRelease`` files, dnf/yum ``repomd.xml`` files — the newest modification time.

No file at all (no apt lists, no dnf/yum cache) is Unknown: the age cannot be shown.
"""

from __future__ import annotations

from datetime import datetime

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.linux.times import newest_epoch


def parse(text: str) -> datetime | Unknown:
    newest = newest_epoch(text)
    if newest is None:
        return Unknown("no package metadata time readable (no apt lists, no dnf/yum cache)")
    return newest


PACKAGE_METADATA = sh_fact(
    "linux.package_metadata_time",
    "{ stat -c '%Y %n' /var/lib/apt/periodic/update-success-stamp "
    "/var/lib/apt/lists/*InRelease; "
    "find /var/cache/dnf /var/cache/yum -maxdepth 5 -name repomd.xml "
    "-printf '%T@ %p\\n'; } 2>/dev/null | sort -n | tail -3",
    parse,
)
