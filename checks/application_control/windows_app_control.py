"""Windows: is application control (App Control for Business / WDAC, or AppLocker) enforced, and
what does its ruleset cover?

**Collected (one read-only PowerShell snippet, shared with the driver and logging checks):**
``Win32_DeviceGuard`` (``Get-WmiObject``) ``UsermodeCodeIntegrityPolicyEnforcementStatus`` and
``CodeIntegrityPolicyEnforcementStatus`` (0 off, 1 audit, 2 enforced); the names and timestamps of
``%windir%\\System32\\CodeIntegrity\\CiPolicies\\Active\\*.cip`` and whether ``SiPolicy.p7b``
exists; ``CiTool.exe --list-policies`` where CiTool exists (Windows 11 22H2+ / Server
2025); ``Get-AppLockerPolicy -Effective -Xml``; the Application Identity service (``AppIDSvc``)
state; the OS build and product type.

The enforcing mechanism judged is AppLocker when its ``Exe`` collection is enforced
(``EnforcementMode`` ``Enabled``, or ``NotConfigured`` with rules, which AppLocker enforces)
**and** ``AppIDSvc`` is running (its rules are readable; with WDAC enforcing too, a file must pass
both), else WDAC when user-mode code integrity is 2.

**WDAC: enforcement is not an allow list.** The active policies are binary (``.cip``) and their
rules are not read here, so WDAC enforcement gives **no_visibility** for every control below
(with the enforced policies CiTool names): Microsoft's recommended block rules, deployed as
published, enforce user-mode code integrity too, yet their allow-all rules (``<Allow
ID="ID_ALLOW_A_1" FileName="*" />``) let everything else run. Effective needs the rules; until a
read-only parser of the active binary policies exists, confirm from the policy source XML (an
assessor can record it as an exception).

- **ISM-0843 / ISM-1490 / ISM-1656** (implemented on workstations / internet-facing servers /
  other servers; the inventory's ``e8_role`` and ``e8_internet_facing`` pick the one that applies,
  the other two are not_applicable): effective when a mechanism enforces; ineffective when
  nothing enforces, when the policy is audit-only, or when AppLocker rules exist but ``AppIDSvc``
  is not running (AppLocker then enforces nothing); WDAC: no_visibility (above).
- **ISM-1657** (executables, libraries, scripts, installers, CHM, HTA, CPL restricted) — *partly*,
  ruleset coverage only (ASD's excellent evidence is an execution test, which a read-only scan does
  not do): WDAC no_visibility (above); AppLocker needs ``Exe``, ``Msi``, ``Script`` and ``Dll``
  all enforced, otherwise ineffective with the missing collections named.
- **ISM-1870** (user profiles and temporary folders) and **ISM-1871** (all other locations):
  with AppLocker, every enforced collection's **Allow path rules** for non-administrators
  (anything but Administrators, SYSTEM, Domain/Enterprise Admins) are tested against a file a
  standard user could create — 1870: ``%OSDRIVE%\\Users\\<user>\\…`` (profile, ``%TEMP%``,
  INetCache) and ``%WINDIR%\\Temp``; 1871: ``%WINDIR%\\Tasks``, ``%WINDIR%\\tracing``,
  ``%SYSTEM32%\\Tasks``, ``%SYSTEM32%\\spool\\drivers\\color``, ``%OSDRIVE%\\ProgramData`` and a
  new folder at the drive root — honouring rule exceptions and Deny path rules. A rule that
  allows ``*`` or ``%WINDIR%\\*`` without exceptions for those folders makes the control
  ineffective (the default AppLocker rules do). Custom rule names are ignored: only the path
  condition counts. WDAC: no_visibility (above). No enforcement: ineffective.
- **ISM-1544** (Microsoft's recommended block rules) — *partly*, a heuristic: with AppLocker,
  enforced ``Exe`` Deny rules (path tail, publisher ``BinaryName`` or hash file name) must name
  every binary in ``recommended_block_binaries.csv`` (the classic entries of Microsoft's list:
  mshta, wscript, cscript, msbuild, installutil, wmic, the debuggers …); missing ones make it
  ineffective. With WDAC, the block rules are usually merged into the base policy, whose content
  is binary: no_visibility (a policy's friendly name is not its rules).

Any read that failed (PowerShell 2.0 without ``ConvertTo-Json``, access denied, timeout) gives
no_visibility. Third-party application control products (Airlock, Carbon Black App Control,
Ivanti …) are not detected: their configuration lives in their console; record them as an
exception or alternate control. Evidence grade: good (the live configuration via WMI and the
AppLocker cmdlet).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.application_control._rules import (
    OTHER_WRITABLE,
    USER_WRITABLE,
    Collection,
    all_findings,
    citool_enforced,
    class_findings,
    denied_binaries,
    load_list,
    open_locations,
    parse_applocker,
    wdac_summary,
)
from checks.facts.fact import Unknown
from checks.facts.windows.app_control import APP_CONTROL, AppControl, Wdac
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ISM = ("ISM-0843", "ISM-1490", "ISM-1656", "ISM-1870", "ISM-1657", "ISM-1871", "ISM-1544")
BLOCK_LIST = load_list("recommended_block_binaries.csv")
CORE_COLLECTIONS = ("Exe", "Msi", "Script", "Dll")


def _finding(ism: str, outcome: Outcome, evidence: str, observed: dict[str, Any]) -> Finding:
    return Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed)


def _applocker(state: AppControl) -> tuple[dict[str, Collection], str | None, bool]:
    """Collections, why they could not be read (None when read), and whether AppLocker is simply
    absent on this host (cmdlet not available)."""
    err = state.applocker_error
    if err and not state.applocker:
        if "not recognized" in err.lower():
            return {}, None, True
        return {}, f"AppLocker policy not read ({err[:120]})", False
    try:
        return parse_applocker(state.applocker), None, False
    except ValueError as exc:
        return {}, str(exc), False


def _modes(cols: Mapping[str, Collection]) -> dict[str, str]:
    return {
        t: f"{c.mode} ({len(c.rules)} rules)"
        for t, c in sorted(cols.items())
        if c.rules or c.mode != "NotConfigured"
    }


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    state = APP_CONTROL.read(outputs.get("appcontrol"))
    if isinstance(state, Unknown):
        return all_findings(
            ISM, Outcome.NO_VISIBILITY, f"application control state not read: {state.reason}"
        )
    wdac = state.wdac
    cols, al_why, _absent = _applocker(state)
    svc_state = state.appidsvc if state.appidsvc is not None else "not present"
    svc_running = svc_state.lower() == "running"
    exe = cols.get("Exe")
    al_configured = exe is not None and exe.enforced
    al_enforced = al_configured and svc_running
    al_audit = (exe is not None and exe.audit) or (al_configured and not svc_running)
    observed: dict[str, Any] = {
        "wdac_usermode": wdac.um,
        "wdac_kernelmode": wdac.km,
        "wdac_active_policies": list(wdac.policies),
        "applocker_collections": _modes(cols),
        "appidsvc": svc_state,
    }
    modes = ", ".join(f"{t} {m}" for t, m in _modes(cols).items()) or "no rules"
    summary = f"{wdac_summary(wdac)}; AppLocker {modes}; AppIDSvc {svc_state}"

    if al_enforced:
        # AppLocker's rules are readable; with WDAC enforcing too, a file must pass both
        mech = "applocker"
    elif wdac.um == 2:
        mech = "wdac"
    elif wdac.error is not None or al_why is not None:
        reasons = "; ".join(r for r in (wdac.error and f"WDAC: {wdac.error}", al_why) if r)
        return all_findings(
            ISM,
            Outcome.NO_VISIBILITY,
            f"no enforcing application control seen, but part of the state was not read: {reasons}",
        )
    else:
        mech = ""
    findings: dict[str, Finding] = {}

    if not mech:
        if al_configured and not svc_running:
            why_not = (
                f"AppLocker Exe rules are configured but the Application Identity service "
                f"(AppIDSvc) is {svc_state}, so AppLocker enforces nothing"
            )
        elif wdac.um == 1 or al_audit:
            why_not = "application control is in audit mode only (nothing is blocked)"
        else:
            why_not = "no application control enforces on this host"
        evidence = f"{why_not} ({summary})"
        for f in class_findings(ctx, Outcome.INEFFECTIVE, evidence, observed):
            findings[f.ism] = f
        for ism in ("ISM-1870", "ISM-1657", "ISM-1871", "ISM-1544"):
            findings[ism] = _finding(ism, Outcome.INEFFECTIVE, evidence, observed)
        return [findings[i] for i in ISM]

    if mech == "wdac":
        return _wdac_rules_not_read(ctx, wdac, summary, observed)
    for f in class_findings(
        ctx,
        Outcome.EFFECTIVE,
        f"AppLocker enforces Exe rules and AppIDSvc is running ({summary})",
        observed,
    ):
        findings[f.ism] = f

    # ISM-1657: file types
    missing = [c for c in CORE_COLLECTIONS if not (cols.get(c) and cols[c].enforced)]
    if missing:
        findings["ISM-1657"] = _finding(
            "ISM-1657",
            Outcome.INEFFECTIVE,
            f"AppLocker does not enforce the {', '.join(missing)} rule collection(s): "
            f"{'libraries (.dll, .ocx, .cpl)' if 'Dll' in missing else 'those file types'} "
            f"are not restricted ({summary})",
            {**observed, "collections_not_enforced": missing},
        )
    else:
        findings["ISM-1657"] = _finding(
            "ISM-1657",
            Outcome.EFFECTIVE,
            "host-side ruleset coverage only: AppLocker enforces the Exe, Msi, Script and Dll "
            "collections (.chm/.hta run through hh.exe/mshta.exe under Exe rules, .cpl as DLLs); "
            "no execution test was made",
            observed,
        )

    # ISM-1870 / ISM-1871: locations
    for ism, probes, what in (
        ("ISM-1870", USER_WRITABLE, "user profiles and temporary folders"),
        ("ISM-1871", OTHER_WRITABLE, "other user-writable locations"),
    ):
        holes = open_locations(cols, probes)
        if holes:
            findings[ism] = _finding(
                ism,
                Outcome.INEFFECTIVE,
                f"AppLocker Allow path rules let standard users run files from {what}: "
                + "; ".join(holes[:6])
                + (f"; and {len(holes) - 6} more" if len(holes) > 6 else ""),
                {**observed, "open_locations": holes},
            )
        else:
            findings[ism] = _finding(
                ism,
                Outcome.EFFECTIVE,
                f"AppLocker is enforced and no Allow path rule for non-administrators covers {what} "
                f"({', '.join(probes)})",
                observed,
            )

    # ISM-1544: recommended block rules
    denied = denied_binaries(exe)
    missing_block = [b for b in BLOCK_LIST if b.upper() not in denied]
    block_obs = {**observed, "denied_binaries": sorted(d.lower() for d in denied)}
    if not missing_block:
        findings["ISM-1544"] = _finding(
            "ISM-1544",
            Outcome.EFFECTIVE,
            f"heuristic, partly: enforced AppLocker Exe deny rules name all {len(BLOCK_LIST)} "
            f"classic binaries of Microsoft's recommended block rules list",
            block_obs,
        )
    else:
        shown = ", ".join(missing_block[:8]) + (" …" if len(missing_block) > 8 else "")
        findings["ISM-1544"] = _finding(
            "ISM-1544",
            Outcome.INEFFECTIVE,
            f"heuristic, partly: enforced AppLocker Exe deny rules do not cover "
            f"{len(missing_block)} of {len(BLOCK_LIST)} classic binaries of Microsoft's "
            f"recommended block rules: {shown}",
            {**block_obs, "missing": missing_block},
        )
    return [findings[i] for i in ISM]


def _wdac_rules_not_read(
    ctx: Context, wdac: Wdac, summary: str, observed: dict[str, Any]
) -> list[Finding]:
    """WDAC enforces, but its policies' rules are binary and not read: enforcement alone does
    not show an allow list (Microsoft's recommended block rules, deployed as published, enforce
    user-mode code integrity with allow-all rules, ``FileName="*"``)."""
    enforced = [
        str(p.get("FriendlyName") or p.get("PolicyID") or "?")
        for p in (wdac.citool or [])
        if citool_enforced(p)
    ]
    listed = (
        f"CiTool lists enforced policies {', '.join(repr(n) for n in enforced[:6])}"
        if enforced
        else "CiTool is not available on this build"
        if wdac.citool is None
        else "CiTool lists no enforced policy"
    )
    why = (
        f"WDAC (App Control for Business) user-mode code integrity is enforced, but the active "
        f"policies' rules are binary (.cip) and not read ({listed}): whether they restrict "
        f"execution to an allow list is not shown — a policy of deny rules with an allow-all "
        f'rule (FileName="*"), as Microsoft\'s recommended block rules are published, enforces '
        f"too; confirm from the policy source XML ({summary})"
    )
    obs = {**observed, "citool_enforced_policies": enforced}
    findings = {f.ism: f for f in class_findings(ctx, Outcome.NO_VISIBILITY, why, obs)}
    for ism in ("ISM-1870", "ISM-1657", "ISM-1871", "ISM-1544"):
        findings[ism] = _finding(ism, Outcome.NO_VISIBILITY, why, obs)
    return [findings[i] for i in ISM]


CHECK = Check(
    id="application_control.windows_app_control",
    title="Windows application control (WDAC or AppLocker) enforced and covering user-writable paths",
    strategy=Strategy.APPLICATION_CONTROL,
    ism=ISM,
    platforms=frozenset({Platform.WINDOWS}),
    collect={"appcontrol": APP_CONTROL.cmd},
    judge=judge,
    version=2,  # v2: WDAC enforcement without its rules read is no_visibility, not effective
    grade=Grade.GOOD,
)
