"""Microsoft Defender Antivirus and its attack surface reduction (ASR) rules.

- ``windows.defender_status`` (``defender_status.ps1``): ``Get-MpComputerStatus`` →
  ``AMServiceEnabled``, ``AntivirusEnabled``, ``RealTimeProtectionEnabled``, ``AMRunningMode``.
- ``windows.asr_preference`` (``asr_preference.ps1``): ``Get-MpPreference`` → the effective rule ids
  with their parallel actions, and ``AttackSurfaceReductionOnlyExclusions``.
- ``windows.asr_policy`` (``asr_policy.ps1``): the policy registry — Group Policy
  ``…\\Windows Defender Exploit Guard\\ASR\\Rules`` (value name = rule GUID, data = action) and the
  Intune string ``…\\Windows Defender\\Policy Manager\\ASRRules`` (``guid=action|guid=action``).

Rule GUIDs are kept lower case without braces (:func:`norm_guid`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import as_list, ps_fact

_PACKAGE = "checks.facts.windows"
GPO_SOURCE = "Group Policy (Exploit Guard\\ASR\\Rules)"
MDM_SOURCE = "MDM (Policy Manager\\ASRRules)"


def norm_guid(guid: Any) -> str:
    return str(guid).strip().strip("{}").lower()


def _actions(value: Any) -> list[int | None]:
    """``AttackSurfaceReductionRules_Actions``: a JSON array of numbers (Windows PowerShell), or a
    base64 string when PowerShell 7 serialised the byte array."""
    if isinstance(value, str):
        try:
            return list(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            return [to_int(v) for v in value.split(",")]
    return [to_int(v) for v in as_list(value)]


@dataclass(frozen=True)
class AsrPreference:
    """Rule GUID → action (None: not a number) from ``Get-MpPreference``, and the exclusions."""

    rules: dict[str, int | None]
    exclusions: tuple[str, ...]


def parse_preference(data: Any) -> AsrPreference:
    pref = json_object(data)
    ids = [norm_guid(i) for i in as_list(pref.get("AttackSurfaceReductionRules_Ids"))]
    actions = _actions(pref.get("AttackSurfaceReductionRules_Actions"))
    return AsrPreference(
        rules=dict(zip(ids, actions, strict=False)),
        exclusions=tuple(str(e) for e in as_list(pref.get("AttackSurfaceReductionOnlyExclusions"))),
    )


def parse_policy(data: Any) -> dict[str, tuple[int | None, str]]:
    """Rule GUID → (action, source); Group Policy wins over the Intune string."""
    policy = json_object(data)
    found: dict[str, tuple[int | None, str]] = {}
    mdm = policy.get("mdm_rules")
    if isinstance(mdm, str):
        for pair in mdm.split("|"):
            name, _, value = pair.partition("=")
            if name.strip():
                found[norm_guid(name)] = (to_int(value), MDM_SOURCE)
    rules = policy.get("gpo_rules")
    if isinstance(rules, dict):
        for name, value in rules.items():
            found[norm_guid(name)] = (to_int(value), GPO_SOURCE)
    return found


DEFENDER_STATUS = ps_fact("windows.defender_status", _PACKAGE, "defender_status.ps1", json_object)
ASR_PREFERENCE = ps_fact("windows.asr_preference", _PACKAGE, "asr_preference.ps1", parse_preference)
ASR_POLICY = ps_fact("windows.asr_policy", _PACKAGE, "asr_policy.ps1", parse_policy)
