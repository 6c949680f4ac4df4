"""Windows: are Office applications blocked from creating child processes, creating executable
content and injecting code into other processes (Microsoft Defender ASR rules in Block mode)?

**Collected (read-only PowerShell; the same snippets as ``office_macros.windows_macro_asr``):**
- ``office``: is Office installed (Click-to-Run configuration, MSI ``InstallRoot``, ``App Paths``;
  ``checks/facts/windows/office.py``).
- ``mp_status``: ``Get-MpComputerStatus`` → ``AMServiceEnabled``, ``AntivirusEnabled``,
  ``RealTimeProtectionEnabled``, ``AMRunningMode``.
- ``asr_pref``: ``Get-MpPreference`` → ``AttackSurfaceReductionRules_Ids`` / ``_Actions``
  (0 disabled, 1 block, 2 audit, 6 warn) and ``AttackSurfaceReductionOnlyExclusions``.
- ``asr_policy``: the Group Policy (``…\\Windows Defender Exploit Guard\\ASR\\Rules``) and Intune
  (``…\\Windows Defender\\Policy Manager\\ASRRules``) registry values, used when the preference read
  does not list a rule.

**Rules judged** (one ISM id each):
- ISM-1667: *Block all Office applications from creating child processes*
  ``d4f940ab-401b-4efc-aadc-ad5f3c50688a``;
- ISM-1668: *Block Office applications from creating executable content*
  ``3b576869-a4ec-4529-8536-b80a7769e899``;
- ISM-1669: *Block Office applications from injecting code into other processes*
  ``75668c1f-73b5-4cf0-bb93-3ecf5cb7cc84``.

**Outcomes (per ISM id):**
- effective: Defender is the active antivirus with real-time protection on and the rule's action
  is 1 (Block);
- ineffective: the rule is absent, 0, 2 (audit) or 6 (warn); or Defender is active with
  real-time protection off;
- no_visibility: Defender is not the active antivirus (passive / SxS passive / EDR block mode,
  disabled, cmdlets missing) — ASR is enforced only by an active Defender, so a third-party
  product's equivalent needs its own evidence (essential-eight.md 0.5); or a read failed
  (PowerShell 2.0 without ``ConvertTo-Json``, access denied, timeout);
- not_applicable: Office is not installed.

Caveats: the companion rules *Block Office communication application from creating child
processes* and *Block executable content from email client and webmail* are not required here.
Per-rule exclusions are listed in the evidence, not judged. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks._asr import defender, judge_rules, rules
from checks._office import not_installed_reason
from checks.facts.fact import Unknown
from checks.facts.windows.defender import ASR_POLICY, ASR_PREFERENCE, DEFENDER_STATUS
from checks.facts.windows.office import OFFICE_INSTALLED
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

RULES = {
    "ISM-1667": (
        "d4f940ab-401b-4efc-aadc-ad5f3c50688a",
        "Block all Office applications from creating child processes",
    ),
    "ISM-1668": (
        "3b576869-a4ec-4529-8536-b80a7769e899",
        "Block Office applications from creating executable content",
    ),
    "ISM-1669": (
        "75668c1f-73b5-4cf0-bb93-3ecf5cb7cc84",
        "Block Office applications from injecting code into other processes",
    ),
}
ISMS = tuple(RULES)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    office = OFFICE_INSTALLED.read(outputs.get("office"))
    if isinstance(office, Unknown):
        return [
            Finding(
                ism=i,
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"Office installation not read: {office.reason}",
            )
            for i in ISMS
        ]
    absent = not_installed_reason(office)
    if absent is not None:
        return [
            Finding(
                ism=i, outcome=Outcome.NOT_APPLICABLE, evidence=absent, observed=office.observed()
            )
            for i in ISMS
        ]
    dfd = defender(outputs.get("mp_status"))
    found = rules(outputs)
    findings = []
    for ism, (guid, title) in RULES.items():
        outcome, evidence, observed = judge_rules({guid: title}, dfd, found)
        observed["office"] = office.summary
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed))
    return findings


CHECK = Check(
    id="user_app_hardening.windows_office_asr",
    title="Office is blocked from child processes, executable content and code injection (ASR)",
    strategy=Strategy.USER_APP_HARDENING,
    ism=ISMS,
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
    rests_on=dict.fromkeys(ISMS, ("office", "mp_status", "asr_pref|asr_policy")),
    version=1,
)
