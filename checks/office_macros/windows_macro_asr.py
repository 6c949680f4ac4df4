"""Windows: are Office macros blocked from making Win32 API calls (Defender ASR rule)?

**Collected (read-only PowerShell):**
- ``office``: is Office 16.0 installed (shared with ``windows_macro_settings``; ``checks/facts/windows/office.py``).
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

from collections.abc import Mapping
from typing import Any

from checks._asr import ACTIONS, defender, rules
from checks._office import not_installed_reason
from checks.facts.fact import Unknown
from checks.facts.windows.defender import ASR_POLICY, ASR_PREFERENCE, DEFENDER_STATUS
from checks.facts.windows.office import OFFICE_INSTALLED
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

RULE = "92e97fa1-2edf-4476-bdd6-9dd0b4dddc7b"


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    office = OFFICE_INSTALLED.read(outputs.get("office"))
    if isinstance(office, Unknown):
        return [
            Finding(
                ism="ISM-1673",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"Office installation not read: {office.reason}",
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
    dfd = defender(outputs.get("mp_status"))
    enforced, dtext = dfd.enforced, dfd.text
    observed: dict[str, Any] = {"office": office.summary, "defender": dfd.observed()}
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
    found = rules(outputs)
    action, source = found.action(RULE)
    policy_action, policy_source = found.policy.get(RULE, (None, ""))
    exclusions = found.exclusions
    observed.update(
        {
            "rule": RULE,
            "action": action,
            "source": source or None,
            "policy_action": policy_action,
            "exclusions": exclusions,
        }
    )
    if found.why is not None:
        return [
            Finding(
                ism="ISM-1673",
                outcome=Outcome.NO_VISIBILITY,
                evidence=found.why,
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
        "office": OFFICE_INSTALLED.cmd,
        "mp_status": DEFENDER_STATUS.cmd,
        "asr_pref": ASR_PREFERENCE.cmd,
        "asr_policy": ASR_POLICY.cmd,
    },
    judge=judge,
    # Get-MpPreference is the effective ASR configuration; the policy registry is its fallback
    # (read when the preference read fails), so either one shows the rule; the Defender
    # status shows the rule is enforced and the Office read that Office is there.
    rests_on={"ISM-1673": ("office", "mp_status", "asr_pref|asr_policy")},
    version=1,
)
