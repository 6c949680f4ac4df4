"""The Microsoft 365 Apps / Office Click-to-Run update configuration (fact
``windows.click_to_run``, ``click_to_run.ps1``): ``HKLM\\SOFTWARE\\Microsoft\\Office\\ClickToRun\\
Configuration`` ``VersionToReport``, ``UpdateChannel``, ``CDNBaseUrl``, ``UpdatesEnabled`` and
``ProductReleaseIds``.

``None`` when the key (or its ``VersionToReport``) is absent: Click-to-Run Office is not
installed — the snippet then prints nothing, which here is a value, not a failed read. Every
failed read (not run, timed out, denied, an error, not JSON) stays Unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Fact
from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class ClickToRun:
    """``channel``: ``UpdateChannel``, else ``CDNBaseUrl``, else "unknown channel"."""

    version: str
    channel: str
    updates_enabled: Any
    products: Any


def parse(data: Any) -> ClickToRun | None:
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict) or not data.get("VersionToReport"):
        return None
    return ClickToRun(
        version=str(data["VersionToReport"]),
        channel=str(data.get("UpdateChannel") or data.get("CDNBaseUrl") or "unknown channel"),
        updates_enabled=data.get("UpdatesEnabled"),
        products=data.get("ProductReleaseIds"),
    )


CLICK_TO_RUN: Fact[ClickToRun | None] = ps_fact(
    "windows.click_to_run", "checks.facts.windows", "click_to_run.ps1", parse, empty=lambda: None
)
