"""Judging Microsoft Defender attack surface reduction (ASR) rules, for the checks that need them.

The facts (``checks/facts/windows/defender.py``): ``windows.defender_status`` (is Defender the
active antivirus), ``windows.asr_preference`` (the effective rule ids and actions) and
``windows.asr_policy`` (Group Policy ``Exploit Guard\\ASR\\Rules`` and Intune
``Policy Manager\\ASRRules``). :func:`judge_rules` turns them into one verdict per set of rules.
Pure functions only; no check lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checks._office import defender_active
from checks.facts.fact import Unknown
from checks.facts.windows.defender import (
    ASR_POLICY,
    ASR_PREFERENCE,
    DEFENDER_STATUS,
    AsrPreference,
    norm_guid,
)
from scanner.checking.api import Output
from scanner.model.vocabulary import Outcome

ACTIONS = {0: "disabled", 1: "block", 2: "audit", 5: "not configured", 6: "warn"}

DEFENDER_OBSERVED = (
    "AMServiceEnabled",
    "AntivirusEnabled",
    "RealTimeProtectionEnabled",
    "AMRunningMode",
)


@dataclass(frozen=True)
class Defender:
    """Whether Defender enforces ASR: True, False (active but real-time protection off) or None."""

    enforced: bool | None
    text: str
    status: dict[str, Any] = field(default_factory=dict)

    def observed(self) -> dict[str, Any]:
        return {k: self.status.get(k) for k in DEFENDER_OBSERVED}


def defender(out: Output | None) -> Defender:
    """Defender's part in enforcing ASR, from the ``windows.defender_status`` output."""
    status = DEFENDER_STATUS.read(out)
    if isinstance(status, Unknown):
        why = status.reason
        if "is not available" in why:
            why += (
                ": the Microsoft Defender Antivirus cmdlets are absent, so Defender is not "
                "installed or this Windows predates ASR"
            )
        elif why.startswith("the read failed"):
            why += "; Defender may be disabled or replaced by another antivirus"
        return Defender(None, f"Defender status not read: {why}")
    active, text = defender_active(status)
    if not active:
        return Defender(None, text, status)
    if status.get("RealTimeProtectionEnabled") is False:
        return Defender(
            False, "Defender is active but real-time protection is off (ASR rules need it)", status
        )
    return Defender(True, text, status)


@dataclass(frozen=True)
class Rules:
    """The ASR rules as read; ``why`` is set when neither source could be read."""

    pref: dict[str, int | None]
    policy: dict[str, tuple[int | None, str]]
    exclusions: list[str]
    why: str | None

    def action(self, guid: str) -> tuple[int | None, str]:
        """(action, source) for one rule: Get-MpPreference first, then the policy registry."""
        g = norm_guid(guid)
        if g in self.pref:
            a = self.pref[g]
            return (a if a is not None else -1), "Get-MpPreference"
        if g in self.policy:
            return self.policy[g]
        return None, ""


def rules(outputs: Mapping[str, Output]) -> Rules:
    pref = ASR_PREFERENCE.read(outputs.get("asr_pref"))
    pol = ASR_POLICY.read(outputs.get("asr_policy"))
    why = None
    if isinstance(pref, Unknown) and isinstance(pol, Unknown):
        why = f"ASR configuration not read: {pref.reason}; policy registry: {pol.reason}"
    read = pref if isinstance(pref, AsrPreference) else AsrPreference({}, ())
    return Rules(
        pref=read.rules,
        policy={} if isinstance(pol, Unknown) else pol,
        exclusions=list(read.exclusions),
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
