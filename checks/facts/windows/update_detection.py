"""When Windows Update last searched for updates successfully, and the policy that steers it.

``update_detection.ps1`` reads (nothing starts a search):
``(New-Object -ComObject Microsoft.Update.AutoUpdate).Results.LastSearchSuccessDate`` as UTC
ISO text; ``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\
Results\\Detect`` ``LastSuccessTime`` (Windows 7 / 8.1 / Server 2012 R2 era agents); and the
policy ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU``: ``NoAutoUpdate``,
``DetectionFrequencyEnabled`` / ``DetectionFrequency`` (hours), ``UseWUServer`` (WSUS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.dates import ps_date
from checks.facts.windows.powershell import ps_fact


@dataclass(frozen=True)
class UpdateDetection:
    last_search_success: datetime | None  # from the Automatic Updates COM results
    detect_last_success: datetime | None  # from the registry Detect key
    no_auto_update: int | None
    detection_frequency_enabled: int | None
    detection_frequency: int | None  # hours
    use_wu_server: int | None


def parse(data: Any) -> UpdateDetection | Unknown:
    data = json_object(data, first=True)
    return UpdateDetection(
        last_search_success=ps_date(data.get("LastSearchSuccessDate")),
        detect_last_success=ps_date(data.get("DetectLastSuccessTime")),
        no_auto_update=to_int(data.get("NoAutoUpdate")),
        detection_frequency_enabled=to_int(data.get("DetectionFrequencyEnabled")),
        detection_frequency=to_int(data.get("DetectionFrequency")),
        use_wu_server=to_int(data.get("UseWUServer")),
    )


UPDATE_DETECTION = ps_fact(
    "windows.update_detection", "checks.facts.windows", "update_detection.ps1", parse
)
