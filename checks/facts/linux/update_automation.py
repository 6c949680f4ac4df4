"""What refreshes package metadata on a schedule: the enablement of the apt / dnf / yum refresh
timers and services (``systemctl is-enabled``; ``absent`` when systemd prints nothing), and apt's
``APT::Periodic::Update-Package-Lists`` interval in days (``apt-config dump``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.facts.linux.shell import sh_fact

TIMERS = (
    "apt-daily.timer",
    "dnf-makecache.timer",
    "dnf-automatic.timer",
    "dnf-automatic-download.timer",
    "dnf-automatic-install.timer",
    "dnf-automatic-notifyonly.timer",
    "yum-cron.service",
)


@dataclass(frozen=True)
class UpdateAutomation:
    """``units``: unit → ``systemctl is-enabled`` state; ``update_lists``: the apt interval as
    configured (None when apt-config is absent or does not set it)."""

    units: dict[str, str]
    update_lists: str | None


def parse(text: str) -> UpdateAutomation:
    units: dict[str, str] = {}
    lists: str | None = None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 1 and parts[0] in TIMERS:
            units[parts[0]] = parts[1] if len(parts) > 1 else "absent"
        elif m := re.match(r'^APT::Periodic::Update-Package-Lists "([^"]*)";', line.strip()):
            lists = m.group(1)
    return UpdateAutomation(units, lists)


UPDATE_AUTOMATION = sh_fact(
    "linux.update_automation",
    "for u in " + " ".join(TIMERS) + "; do "
    'echo "$u $(systemctl is-enabled "$u" 2>/dev/null || true)"; done; '
    "command -v apt-config >/dev/null 2>&1 && apt-config dump 2>/dev/null | "
    "grep '^APT::Periodic::'; true",
    parse,
)
