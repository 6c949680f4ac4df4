"""Windows: are Office macros blocked from making Win32 API calls (Defender ASR rule)?

**Collected (read-only PowerShell):**
- ``office``: is Office 16.0 installed (shared with ``windows_macro_settings``; ``checks/_office.py``).
- ``mp_status``: ``Get-MpComputerStatus`` → ``AMServiceEnabled``, ``AntivirusEnabled``,
  ``RealTimeProtectionEnabled``, ``AMRunningMode``.
- ``asr_pref``: ``Get-MpPreference`` → ``AttackSurfaceReductionRules_Ids`` with the parallel
  ``AttackSurfaceReductionRules_Actions`` (0 disabled, 1 block, 2 audit, 6 warn) and
  ``AttackSurfaceReductionOnlyExclusions`` (reported).
- ``asr_policy``: the policy registry, as a fallback and for evidence:
  ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Windows Defender Exploit Guard\\ASR``
  (``ExploitGuard_ASR_Rules``) and its ``Rules`` subkey (value name = rule GUID, data = action;
  path as commonly documented, essential-eight.md 2.6 says verify), and the Intune/MDM string
  ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows Defender\\Policy Manager\\ASRRules``
  (``guid=action|guid=action``).

**ISM-1673** (ML2-3), rule *Block Win32 API calls from Office macros*
``92e97fa1-2edf-4476-bdd6-9dd0b4dddc7b``:
- effective: Defender is the active antivirus with real-time protection on, and the rule's action
  is 1 (Block) — from ``Get-MpPreference`` (the effective configuration), or from the policy
  registry when the preference read does not list the rule;
- ineffective: the rule is absent, 0 (disabled), 2 (audit) or 6 (warn: the user can bypass it);
  or Defender is active but real-time protection is off (ASR rules need it);
- no_visibility: Defender is not the active antivirus (``AMRunningMode`` passive / SxS passive /
  EDR block mode, antivirus or service disabled, the Defender cmdlets absent or failing) — ASR
  rules are enforced only by an active Defender (essential-eight.md 0.5), so a third-party
  product's equivalent control needs its own evidence; or a read failed (PowerShell 2.0 has no
  ``ConvertTo-Json``, access denied, timeout);
- not_applicable: Office is not installed (Office 2013/2010 only counts as installed: the ASR rule
  covers them too).

Caveats: per-rule exclusions (``AttackSurfaceReductionOnlyExclusions``) weaken the rule for the
paths they name and are listed, not judged. Evidence grade: good (configuration read through
Defender); ASD's excellent evidence is running E8MVT's test documents, which is not read-only.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from checks._asr import ACTIONS, ASR_POLICY, ASR_PREF, MP_STATUS
from checks._office import (
    OFFICE_INSTALLED,
    Office,
    defender_active,
    not_installed_reason,
    parse_office,
)
from checks._windows import unreadable
from checks._windows_accounts import arr, first_error_line, read_json
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

RULE = "92e97fa1-2edf-4476-bdd6-9dd0b4dddc7b"


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _actions(value: Any) -> list[int | None]:
    """``AttackSurfaceReductionRules_Actions``: a JSON array of numbers from Windows PowerShell; a
    base64 string if PowerShell 7 serialised the byte array."""
    if isinstance(value, str):
        try:
            return list(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            return [_int(v) for v in value.split(",")]
    return [_int(v) for v in arr(value)]


def _from_pref(data: Mapping[str, Any]) -> int | None:
    ids = [str(i).strip().lower() for i in arr(data.get("AttackSurfaceReductionRules_Ids"))]
    actions = _actions(data.get("AttackSurfaceReductionRules_Actions"))
    for rule, action in zip(ids, actions, strict=False):
        if rule == RULE:
            return action if action is not None else -1
    return None


def _from_policy(data: Mapping[str, Any]) -> tuple[int | None, str]:
    rules = data.get("gpo_rules")
    if isinstance(rules, dict):
        for name, value in rules.items():
            if str(name).strip().strip("{}").lower() == RULE:
                return _int(value), "Group Policy (Exploit Guard\\ASR\\Rules)"
    mdm = data.get("mdm_rules")
    if isinstance(mdm, str):
        for pair in mdm.split("|"):
            name, _, value = pair.partition("=")
            if name.strip().strip("{}").lower() == RULE:
                return _int(value), "MDM (Policy Manager\\ASRRules)"
    return None, ""


def _defender(out: Output | None) -> tuple[bool | None, str, dict[str, Any]]:
    """(Defender enforces ASR, why, status); None when this cannot be known."""
    why = unreadable(out)
    if why is not None or out is None:
        if why and "not available" in why:
            why = (
                f"{why}: the Microsoft Defender Antivirus cmdlets are absent, so Defender is not "
                f"installed or this Windows predates ASR"
            )
        return None, f"Defender status not read: {why}", {}
    if not out.ok:
        line = first_error_line(out.err) or f"exit code {out.exit_code}"
        return (
            None,
            f"Defender status not read ({line}): Defender may be disabled or replaced by another antivirus",
            {},
        )
    data, why = read_json(out)
    if why is not None or not isinstance(data, dict):
        return None, f"Defender status not read: {why or 'unexpected output shape'}", {}
    active, text = defender_active(data)
    if not active:
        return None, text, data
    if data.get("RealTimeProtectionEnabled") is False:
        return False, "Defender is active but real-time protection is off (ASR rules need it)", data
    return True, text, data


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    data, why = read_json(outputs.get("office"))
    office: Office | None = None
    if why is None:
        try:
            office = parse_office(data)
        except ValueError as exc:
            why = f"unexpected output shape ({exc})"
    if why is not None or office is None:
        return [
            Finding(
                ism="ISM-1673",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"Office installation not read: {why}",
            )
        ]
    absent = not_installed_reason(office)
    if absent is not None:
        return [
            Finding(
                ism="ISM-1673",
                outcome=Outcome.NOT_APPLICABLE,
                evidence=absent,
                observed=office.observed(),
            )
        ]
    enforced, dtext, status = _defender(outputs.get("mp_status"))
    observed: dict[str, Any] = {
        "office": office.summary,
        "defender": {
            k: status.get(k)
            for k in (
                "AMServiceEnabled",
                "AntivirusEnabled",
                "RealTimeProtectionEnabled",
                "AMRunningMode",
            )
        },
    }
    if enforced is None:
        return [
            Finding(
                ism="ISM-1673",
                outcome=Outcome.NO_VISIBILITY,
                evidence=(
                    f"{dtext}; ASR rules are enforced only when Defender is the active antivirus, so "
                    f"evidence from the antivirus in use is needed"
                ),
                observed=observed,
            )
        ]
    pref, pref_why = read_json(outputs.get("asr_pref"))
    policy, policy_why = read_json(outputs.get("asr_policy"))
    action: int | None = None
    source = ""
    exclusions: list[Any] = []
    if pref_why is None and isinstance(pref, dict):
        action = _from_pref(pref)
        source = "Get-MpPreference" if action is not None else ""
        exclusions = [str(e) for e in arr(pref.get("AttackSurfaceReductionOnlyExclusions"))]
    policy_action, policy_source = (None, "")
    if policy_why is None and isinstance(policy, dict):
        policy_action, policy_source = _from_policy(policy)
    if action is None and policy_action is not None:
        action, source = policy_action, policy_source
    observed.update(
        {
            "rule": RULE,
            "action": action,
            "source": source or None,
            "policy_action": policy_action,
            "exclusions": exclusions,
        }
    )
    if action is None and pref_why is not None and policy_why is not None:
        return [
            Finding(
                ism="ISM-1673",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"ASR configuration not read: {pref_why}; policy registry: {policy_why}",
                observed=observed,
            )
        ]
    if not enforced:
        return [
            Finding(ism="ISM-1673", outcome=Outcome.INEFFECTIVE, evidence=dtext, observed=observed)
        ]
    excl = f"; ASR exclusions apply to: {', '.join(exclusions)}" if exclusions else ""
    disagree = (
        f" (the policy registry says {policy_action} via {policy_source})"
        if policy_action is not None and source == "Get-MpPreference" and policy_action != action
        else ""
    )
    if action == 1:
        return [
            Finding(
                ism="ISM-1673",
                outcome=Outcome.EFFECTIVE,
                evidence=(
                    f"ASR rule 'Block Win32 API calls from Office macros' ({RULE}) is in Block mode "
                    f"(1, from {source}){disagree}; {dtext}{excl}"
                ),
                observed=observed,
            )
        ]
    state = (
        "not configured"
        if action is None
        else f"{action} ({ACTIONS.get(action, 'unknown action')}, from {source})"
    )
    return [
        Finding(
            ism="ISM-1673",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"ASR rule 'Block Win32 API calls from Office macros' ({RULE}) is {state}{disagree}; "
                f"only 1 (Block) blocks the calls — audit (2) and warn (6) do not{excl}"
            ),
            observed=observed,
        )
    ]


CHECK = Check(
    id="office_macros.windows_macro_asr",
    title="Office macros are blocked from making Win32 API calls (Defender ASR rule in Block mode)",
    strategy=Strategy.OFFICE_MACROS,
    ism=("ISM-1673",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={
        "office": Cmd(line=OFFICE_INSTALLED),
        "mp_status": Cmd(line=MP_STATUS),
        "asr_pref": Cmd(line=ASR_PREF),
        "asr_policy": Cmd(line=ASR_POLICY),
    },
    judge=judge,
    version=1,
)
