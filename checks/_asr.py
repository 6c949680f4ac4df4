"""Microsoft Defender attack surface reduction (ASR) rules as the user_app_hardening checks read them.

The three read-only snippets are byte-identical to the ones ``office_macros.windows_macro_asr``
declares (the runner de-duplicates identical commands): ``Get-MpComputerStatus`` (is Defender the
active antivirus), ``Get-MpPreference`` (the effective rule ids and actions) and the ASR policy
registry (Group Policy ``Exploit Guard\\ASR\\Rules`` and Intune ``Policy Manager\\ASRRules``).
:func:`rule_state` turns them into one verdict per rule. Pure functions only; no check lives here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checks._office import defender_active
from checks._windows import unreadable
from checks._windows_accounts import arr, first_error_line, read_json
from scanner.checking.api import Output
from scanner.model.vocabulary import Outcome

ACTIONS = {0: "disabled", 1: "block", 2: "audit", 5: "not configured", 6: "warn"}

MP_STATUS = (
    "Get-MpComputerStatus | Select-Object AMServiceEnabled, AntivirusEnabled,"
    " RealTimeProtectionEnabled, AMRunningMode | ConvertTo-Json -Depth 5 -Compress"
)
ASR_PREF = (
    "Get-MpPreference | Select-Object AttackSurfaceReductionRules_Ids,"
    " AttackSurfaceReductionRules_Actions, AttackSurfaceReductionOnlyExclusions"
    " | ConvertTo-Json -Depth 5 -Compress"
)
ASR_POLICY = r"""$lm = [Microsoft.Win32.Registry]::LocalMachine
$r = @{ asr_enabled = $null; gpo_rules = @{}; mdm_rules = $null }
$k = $lm.OpenSubKey('SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR')
if ($k) { $r.asr_enabled = $k.GetValue('ExploitGuard_ASR_Rules') }
$k = $lm.OpenSubKey('SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules')
if ($k) { foreach ($n in $k.GetValueNames()) { $r.gpo_rules[$n] = [string]$k.GetValue($n) } }
$k = $lm.OpenSubKey('SOFTWARE\Policies\Microsoft\Windows Defender\Policy Manager')
if ($k) { $r.mdm_rules = $k.GetValue('ASRRules') }
New-Object PSObject -Property $r | ConvertTo-Json -Depth 5 -Compress"""

DEFENDER_OBSERVED = (
    "AMServiceEnabled",
    "AntivirusEnabled",
    "RealTimeProtectionEnabled",
    "AMRunningMode",
)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _actions(value: Any) -> list[int | None]:
    """``AttackSurfaceReductionRules_Actions``: a JSON array of numbers (Windows PowerShell), or a
    base64 string when PowerShell 7 serialised the byte array."""
    if isinstance(value, str):
        try:
            return list(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            return [_int(v) for v in value.split(",")]
    return [_int(v) for v in arr(value)]


def _norm(guid: Any) -> str:
    return str(guid).strip().strip("{}").lower()


def pref_rules(data: Any) -> dict[str, int | None]:
    """Rule GUID → action from ``Get-MpPreference``."""
    if not isinstance(data, dict):
        return {}
    ids = [_norm(i) for i in arr(data.get("AttackSurfaceReductionRules_Ids"))]
    return dict(zip(ids, _actions(data.get("AttackSurfaceReductionRules_Actions")), strict=False))


def policy_rules(data: Any) -> dict[str, tuple[int | None, str]]:
    """Rule GUID → (action, source) from the Group Policy and Intune registry values."""
    found: dict[str, tuple[int | None, str]] = {}
    if not isinstance(data, dict):
        return found
    mdm = data.get("mdm_rules")
    if isinstance(mdm, str):
        for pair in mdm.split("|"):
            name, _, value = pair.partition("=")
            if name.strip():
                found[_norm(name)] = (_int(value), "MDM (Policy Manager\\ASRRules)")
    rules = data.get("gpo_rules")
    if isinstance(rules, dict):
        for name, value in rules.items():
            found[_norm(name)] = (_int(value), "Group Policy (Exploit Guard\\ASR\\Rules)")
    return found


@dataclass(frozen=True)
class Defender:
    """Whether Defender enforces ASR: True, False (active but real-time protection off) or None."""

    enforced: bool | None
    text: str
    status: dict[str, Any] = field(default_factory=dict)

    def observed(self) -> dict[str, Any]:
        return {k: self.status.get(k) for k in DEFENDER_OBSERVED}


def defender(out: Output | None) -> Defender:
    why = unreadable(out)
    if why is not None or out is None:
        if why and "not available" in why:
            why = (
                f"{why}: the Microsoft Defender Antivirus cmdlets are absent, so Defender is not "
                f"installed or this Windows predates ASR"
            )
        return Defender(None, f"Defender status not read: {why}")
    if not out.ok:
        line = first_error_line(out.err) or f"exit code {out.exit_code}"
        return Defender(
            None,
            f"Defender status not read ({line}): Defender may be disabled or replaced by another antivirus",
        )
    data, why = read_json(out)
    if why is not None or not isinstance(data, dict):
        return Defender(None, f"Defender status not read: {why or 'unexpected output shape'}")
    active, text = defender_active(data)
    if not active:
        return Defender(None, text, data)
    if data.get("RealTimeProtectionEnabled") is False:
        return Defender(
            False, "Defender is active but real-time protection is off (ASR rules need it)", data
        )
    return Defender(True, text, data)


@dataclass(frozen=True)
class Rules:
    """The ASR rules as read; ``why`` is set when neither source could be read."""

    pref: dict[str, int | None]
    policy: dict[str, tuple[int | None, str]]
    exclusions: list[str]
    why: str | None

    def action(self, guid: str) -> tuple[int | None, str]:
        """(action, source) for one rule: Get-MpPreference first, then the policy registry."""
        g = _norm(guid)
        if g in self.pref:
            a = self.pref[g]
            return (a if a is not None else -1), "Get-MpPreference"
        if g in self.policy:
            return self.policy[g]
        return None, ""


def rules(outputs: Mapping[str, Output]) -> Rules:
    pref, pref_why = read_json(outputs.get("asr_pref"))
    pol, pol_why = read_json(outputs.get("asr_policy"))
    excl = (
        [str(e) for e in arr(pref.get("AttackSurfaceReductionOnlyExclusions"))]
        if isinstance(pref, dict)
        else []
    )
    why = None
    if pref_why is not None and pol_why is not None:
        why = f"ASR configuration not read: {pref_why}; policy registry: {pol_why}"
    return Rules(
        pref=pref_rules(pref) if pref_why is None else {},
        policy=policy_rules(pol) if pol_why is None else {},
        exclusions=excl,
        why=why,
    )


def judge_rules(
    wanted: Mapping[str, str], dfd: Defender, found: Rules
) -> tuple[Outcome, str, dict[str, Any]]:
    """One outcome for a set of rules that must all be in Block mode (GUID → rule title)."""
    observed: dict[str, Any] = {"defender": dfd.observed()}
    if dfd.enforced is None:
        return (
            Outcome.NO_VISIBILITY,
            f"{dfd.text}; ASR rules are enforced only when Defender is the active antivirus, so "
            f"evidence from the antivirus in use is needed",
            observed,
        )
    if found.why is not None:
        return Outcome.NO_VISIBILITY, found.why, observed
    states = {}
    bad = []
    for guid, title in wanted.items():
        action, source = found.action(guid)
        states[guid] = {"rule": title, "action": action, "source": source or None}
        if action != 1:
            state = (
                "not configured"
                if action is None
                else f"{action} ({ACTIONS.get(action, 'unknown action')}, from {source})"
            )
            bad.append(f"'{title}' ({guid}) is {state}")
    observed["rules"] = states
    observed["exclusions"] = found.exclusions
    excl = f"; ASR exclusions apply to: {', '.join(found.exclusions)}" if found.exclusions else ""
    if not dfd.enforced:
        return Outcome.INEFFECTIVE, dfd.text, observed
    if bad:
        return (
            Outcome.INEFFECTIVE,
            "; ".join(bad) + "; only 1 (Block) blocks — audit (2) and warn (6) do not" + excl,
            observed,
        )
    names = ", ".join(f"'{t}'" for t in wanted.values())
    return (
        Outcome.EFFECTIVE,
        f"ASR rule{'s' if len(wanted) > 1 else ''} {names} in Block mode (1); {dfd.text}{excl}",
        observed,
    )
