"""Firmware: what fwupd knows (``fwupdmgr get-devices --json``: devices, their flags and the LVFS
releases offered for them), when fwupd last fetched LVFS metadata, and the BIOS version and date
(``dmidecode``, root).

fwupd not installed is Unknown (firmware release dates then need the OEM's feed); so is
fwupdmgr output that is not a device list.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.linux.times import newest_epoch
from checks.facts.reading import first_line


def parse_devices(text: str) -> list[dict[str, Any]] | Unknown:
    """The ``Devices`` objects, as fwupd prints them (``Name``, ``Version``, ``Flags``,
    ``Releases`` with ``Version``, ``Created`` epoch and ``Flags`` such as ``is-upgrade``)."""
    if "E8_NO_FWUPD" in text:
        return Unknown("fwupd is not installed; firmware release dates need the OEM's feed")
    try:
        data = json.loads(text.strip() or "null")
    except ValueError:
        return Unknown(f"fwupdmgr gave no JSON ({first_line(text)})")
    devices = data.get("Devices") if isinstance(data, dict) else None
    if not isinstance(devices, list):
        return Unknown("fwupdmgr gave no device list")
    return [d for d in devices if isinstance(d, dict)]


def parse_metadata_time(text: str) -> datetime | Unknown:
    newest = newest_epoch(text)
    if newest is None:
        return Unknown("fwupd metadata age unknown (never refreshed?)")
    return newest


def parse_bios(text: str) -> list[str]:
    """The BIOS version and release date lines, as dmidecode prints them."""
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


FWUPD_DEVICES = sh_fact(
    "linux.fwupd_devices",
    "if command -v fwupdmgr >/dev/null 2>&1; then "
    "LC_ALL=C fwupdmgr get-devices --json; else echo E8_NO_FWUPD; fi",
    parse_devices,
)

FWUPD_METADATA = sh_fact(
    "linux.fwupd_metadata_time",
    "find /var/lib/fwupd/metadata /var/cache/fwupd -maxdepth 3 "
    "-name 'metadata.xml*' -printf '%T@ %p\\n' 2>/dev/null | sort -n | tail -1",
    parse_metadata_time,
)

BIOS = sh_fact(
    "linux.bios",
    "dmidecode -s bios-version 2>&1; dmidecode -s bios-release-date 2>&1",
    parse_bios,
    root=True,
    stdout_denial=True,
)
