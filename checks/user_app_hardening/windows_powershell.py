"""Windows: PowerShell logging configured, PowerShell 2.0 removed, Constrained Language Mode enforced.

**Collected (read-only PowerShell):**
- ``ps_features``: ``Get-WindowsOptionalFeature -Online -FeatureName`` for
  ``MicrosoftWindowsPowerShellV2Root`` and ``MicrosoftWindowsPowerShellV2`` (client names; unknown on
  Server SKUs, corpus ``windows/disable-windowsoptionalfeature_psv2root_unknown_ws2019.txt``), on
  servers ``Get-WindowsFeature PowerShell-V2``; fallback registry
  ``HKLM\\SOFTWARE\\Microsoft\\PowerShell\\1\\PowerShellEngine`` ``PowerShellVersion``.
- ``ps_policy``: ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell\\ModuleLogging``
  (``EnableModuleLogging``, ``ModuleNames`` values), ``ScriptBlockLogging``
  (``EnableScriptBlockLogging``), ``Transcription`` (``EnableTranscripting``, ``OutputDirectory``);
  the system environment variable ``__PSLockdownPolicy``
  (``HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment``);
  ``Win32_DeviceGuard.UsermodeCodeIntegrityPolicyEnforcementStatus`` (WDAC user-mode policy:
  0 off, 1 audit, 2 enforced); ``Get-AppLockerPolicy -Effective -Xml`` (Script rule collection)
  and the ``AppIDSvc`` service status.

**ISM-1623** (ML2-3; partly): effective when module logging (``EnableModuleLogging = 1`` with at
least one module name; ``*`` recommended), script block logging (``EnableScriptBlockLogging = 1``)
and transcription (``EnableTranscripting = 1``) are all set by machine policy; ineffective when
any is missing. Only the host part is shown: whether the events reach a central log store is not
visible here (see the central-logging check for ISM-1815 and essential-eight.md 2.9).

**ISM-1621** (ML3): effective when every PowerShell 2.0 feature is disabled / removed / unknown to
the image; ineffective when one is enabled or installed, or (feature state unreadable) the
PowerShellEngine key reports version 2.0; no_visibility otherwise. Windows 11 24H2 and Server 2025
removed PowerShell 2.0 (KB5065506): the feature is absent there, which counts as removed.

**ISM-1622** (ML3; partly): ASD's test reads ``$ExecutionContext.SessionState.LanguageMode`` in a
*user's* session; the scanner's remote administrator session is not what users get, so the
check judges from policy: effective when a WDAC user-mode policy is enforced
(status 2) or AppLocker enforces Script rules (``EnforcementMode="Enabled"`` with at least one
rule, ``AppIDSvc`` running) — PowerShell then runs untrusted code in Constrained Language Mode —
or, weaker, ``__PSLockdownPolicy = 4`` is set system-wide (not a security boundary; the evidence
says so); ineffective when none applies.

All: no_visibility when a read failed (PowerShell 2.0 lacks ``ConvertTo-Json``; access denied;
timeout). Evidence grade: good.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.features import POWERSHELL_V2_FEATURES, PSV2_OPTIONAL, PSV2_SERVER
from checks.facts.windows.powershell import as_list
from checks.facts.windows.powershell_policy import POWERSHELL_POLICY
from checks.user_app_hardening._features import verdict
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def _one(value: Any) -> bool:
    return str(value).strip() == "1"


def _logging(data: Mapping[str, Any]) -> tuple[Outcome, str, dict[str, Any]]:
    names = [str(n) for n in as_list(data.get("module_names")) if str(n).strip()]
    observed = {
        "EnableModuleLogging": data.get("module"),
        "ModuleNames": names,
        "EnableScriptBlockLogging": data.get("scriptblock"),
        "EnableTranscripting": data.get("transcription"),
        "OutputDirectory": data.get("transcript_dir"),
    }
    missing = []
    if not _one(data.get("module")):
        missing.append(f"module logging (EnableModuleLogging = {data.get('module')})")
    elif not names:
        missing.append("module logging names no module (ModuleNames empty)")
    if not _one(data.get("scriptblock")):
        missing.append(
            f"script block logging (EnableScriptBlockLogging = {data.get('scriptblock')})"
        )
    if not _one(data.get("transcription")):
        missing.append(f"transcription (EnableTranscripting = {data.get('transcription')})")
    tail = (
        "; host part only: whether these events are forwarded to a central log store is not "
        "visible from this read"
    )
    if missing:
        return (
            Outcome.INEFFECTIVE,
            "not enabled by machine policy: " + "; ".join(missing) + tail,
            observed,
        )
    star = "" if "*" in names else f" (ModuleNames {names} — ASD recommends '*' for all modules)"
    out = data.get("transcript_dir") or "the default (user's Documents)"
    return (
        Outcome.EFFECTIVE,
        f"machine policy enables module logging{star}, script block logging and transcription "
        f"(output to {out}){tail}",
        observed,
    )


def _applocker_script(xml_text: str) -> tuple[bool, str]:
    """Whether the effective AppLocker policy enforces Script rules, and a summary."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return False, "AppLocker policy not parseable"
    for rc in root.iter("RuleCollection"):
        if rc.get("Type", "").lower() == "script":
            mode = rc.get("EnforcementMode", "NotConfigured")
            rules = len(list(rc))
            return mode == "Enabled" and rules > 0, f"AppLocker Script rules {mode} ({rules} rules)"
    return False, "no AppLocker Script rule collection"


def _clm(data: Mapping[str, Any]) -> tuple[Outcome, str, dict[str, Any]]:
    umci = data.get("umci")
    lockdown = data.get("lockdown")
    applocker = str(data.get("applocker") or "")
    svc = data.get("appidsvc")
    enforced, al_text = (
        _applocker_script(applocker)
        if applocker.strip()
        else (False, "no effective AppLocker policy")
    )
    observed = {
        "UsermodeCodeIntegrityPolicyEnforcementStatus": umci,
        "__PSLockdownPolicy": lockdown,
        "applocker_script": al_text,
        "AppIDSvc": svc,
        "errors": {k: data.get(k) for k in ("umci_error", "applocker_error") if data.get(k)},
    }
    caveat = (
        "; judged from policy: the scanner's own remote session is an administrator's and does not "
        "show the language mode users get"
    )
    if str(umci).strip() == "2":
        return (
            Outcome.EFFECTIVE,
            "a WDAC user-mode code integrity policy is enforced (status 2), so PowerShell runs "
            "untrusted code in Constrained Language Mode" + caveat,
            observed,
        )
    if enforced and str(svc).lower() == "running":
        return (
            Outcome.EFFECTIVE,
            f"{al_text} and AppIDSvc is running, so PowerShell runs untrusted code in Constrained Language Mode"
            + caveat,
            observed,
        )
    if str(lockdown).strip() == "4":
        return (
            Outcome.EFFECTIVE,
            "the system environment variable __PSLockdownPolicy = 4 forces Constrained Language Mode "
            "(weak evidence: not a security boundary; WDAC/AppLocker enforcement is preferred)"
            + caveat,
            observed,
        )
    if data.get("umci_error") and data.get("applocker_error") and lockdown is None:
        return (
            Outcome.NO_VISIBILITY,
            f"neither WDAC ({data.get('umci_error')}) nor AppLocker ({data.get('applocker_error')}) could be read",
            observed,
        )
    if enforced:
        al_text += f" but AppIDSvc is {svc or 'absent'} (AppLocker does not enforce without it)"
    return (
        Outcome.INEFFECTIVE,
        f"nothing enforces Constrained Language Mode: WDAC user-mode status {umci}, {al_text}, "
        f"__PSLockdownPolicy {lockdown}" + caveat,
        observed,
    )


def _ps2(outputs: Mapping[str, Output]) -> tuple[Outcome, str, dict[str, Any]]:
    data = POWERSHELL_V2_FEATURES.read(outputs.get("ps_features"))
    if isinstance(data, Unknown):
        return (
            Outcome.NO_VISIBILITY,
            f"PowerShell 2.0 feature state not read: {data.reason}",
            {},
        )
    on, text = verdict(data, PSV2_OPTIONAL, PSV2_SERVER)
    reg = data.reg
    observed = {
        "product_type": data.product_type,
        "build": data.build,
        "optional": data.optional,
        "server": data.server,
        "PowerShellEngine": reg,
    }
    if on is True:
        return Outcome.INEFFECTIVE, f"Windows PowerShell 2.0 is enabled: {text}", observed
    if on is False:
        return Outcome.EFFECTIVE, f"Windows PowerShell 2.0 is disabled or removed: {text}", observed
    if reg.get("present") is True and str(reg.get("PowerShellVersion")).startswith("2."):
        return (
            Outcome.INEFFECTIVE,
            f"{text}; the registry shows the PowerShell 2.0 engine installed "
            f"(PowerShellEngine PowerShellVersion {reg.get('PowerShellVersion')})",
            observed,
        )
    return (
        Outcome.NO_VISIBILITY,
        f"{text}; the registry fallback is inconclusive ({reg or 'not read'})",
        observed,
    )


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    findings = []
    data = POWERSHELL_POLICY.read(outputs.get("ps_policy"))
    if isinstance(data, Unknown):
        reason = f"PowerShell policy not read: {data.reason}"
        log: tuple[Outcome, str, dict[str, Any]] = (Outcome.NO_VISIBILITY, reason, {})
        clm: tuple[Outcome, str, dict[str, Any]] = (Outcome.NO_VISIBILITY, reason, {})
    else:
        log = _logging(data)
        clm = _clm(data)
    ps2 = _ps2(outputs)
    for ism, (outcome, evidence, observed) in (
        ("ISM-1623", log),
        ("ISM-1621", ps2),
        ("ISM-1622", clm),
    ):
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed))
    return findings


CHECK = Check(
    id="user_app_hardening.windows_powershell",
    title="PowerShell logging enabled, PowerShell 2.0 removed, Constrained Language Mode enforced",
    strategy=Strategy.USER_APP_HARDENING,
    ism=("ISM-1623", "ISM-1621", "ISM-1622"),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"ps_features": POWERSHELL_V2_FEATURES.cmd, "ps_policy": POWERSHELL_POLICY.cmd},
    judge=judge,
    # Logging and Constrained Language Mode are read from the policy snippet alone; PowerShell 2.0
    # from the feature read alone (each part is judged without the other command).
    rests_on={
        "ISM-1623": ("ps_policy",),
        "ISM-1621": ("ps_features",),
        "ISM-1622": ("ps_policy",),
    },
    version=1,
)
