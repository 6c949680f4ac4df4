"""Windows: are drivers restricted (WDAC kernel-mode code integrity) and is Microsoft's vulnerable
driver blocklist on?

**Collected:** the same read-only PowerShell snippet as ``application_control.windows_app_control``
(run once per host): ``Win32_DeviceGuard`` ``CodeIntegrityPolicyEnforcementStatus`` (kernel mode:
0 off, 1 audit, 2 enforced) and ``SecurityServicesRunning`` (2 = memory integrity / HVCI running),
the active ``CiPolicies\\Active\\*.cip`` file names and ``SiPolicy.p7b``,
``HKLM\\SYSTEM\\CurrentControlSet\\Control\\CI\\Config`` ``VulnerableDriverBlocklistEnable``, and
the OS build and product type.

- **ISM-1658** (ML3, drivers restricted to an organisation-approved set) — *partly*:
  no_visibility when kernel-mode code integrity is enforced (2) with an organisation policy file
  active (``*.cip`` or ``SiPolicy.p7b``): the policy's rules (which drivers it allows) are binary
  and not read, and enforcement alone is not an approved set — Microsoft's recommended block
  rules, deployed as published, enforce kernel-mode integrity while allowing every driver
  (``FileName="*"``). Ineffective when kernel-mode code integrity is off or audit (AppLocker
  cannot control drivers). No_visibility too when it reports enforced but no policy file is found
  (it may be only Microsoft's own blocklist) or the DeviceGuard class could not be read. Never
  effective until the active policies' rules are read.
- **ISM-1659** (ML3, Microsoft's vulnerable driver blocklist): effective when
  ``VulnerableDriverBlocklistEnable`` is 1, or memory integrity (HVCI) is running (it enforces the
  blocklist), or the value is absent on Windows 11 22H2 or later client builds (build ≥ 22621,
  where the blocklist is on by default); ineffective when the value is 0 without HVCI, or absent
  on older builds without HVCI.

Failed reads (PowerShell 2.0 without ``ConvertTo-Json``, access denied, timeout) give
no_visibility. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.application_control._rules import all_findings
from checks.facts.fact import Unknown
from checks.facts.windows.app_control import APP_CONTROL
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ISM = ("ISM-1658", "ISM-1659")
HVCI = 2  # SecurityServicesRunning: 2 = hypervisor-enforced code integrity
BLOCKLIST_DEFAULT_BUILD = 22621  # Windows 11 22H2


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    state = APP_CONTROL.read(outputs.get("appcontrol"))
    if isinstance(state, Unknown):
        return all_findings(
            ISM, Outcome.NO_VISIBILITY, f"code integrity state not read: {state.reason}"
        )
    wdac = state.wdac
    build = state.build
    product_type = state.product_type
    vdb = state.vdb
    hvci = HVCI in wdac.running
    observed = {
        "kernelmode_ci": wdac.km,
        "security_services_running": list(wdac.running),
        "active_policies": list(wdac.policies),
        "sipolicy_p7b": wdac.sipolicy,
        "VulnerableDriverBlocklistEnable": vdb,
        "build": build,
        "product_type": product_type,
    }

    # ISM-1658
    if wdac.error is not None:
        f1658 = Finding(
            ism="ISM-1658",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"Win32_DeviceGuard not read: {wdac.error[:160]}",
            observed=observed,
        )
    elif wdac.km == 2 and (wdac.policies or wdac.sipolicy):
        names = ", ".join(p["name"] for p in wdac.policies) or "SiPolicy.p7b"
        f1658 = Finding(
            ism="ISM-1658",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"kernel-mode code integrity is enforced with active policy {names}, but the "
                f"binary policy's rules are not read: whether it restricts drivers to an approved "
                f"set is not shown (Microsoft's recommended block rules, deployed as published, "
                f'allow every kernel driver: <Allow ID="ID_ALLOW_A_1" FileName="*" />); confirm '
                f"from the policy source XML"
            ),
            observed=observed,
        )
    elif wdac.km == 2:
        f1658 = Finding(
            ism="ISM-1658",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                "kernel-mode code integrity reports enforced but no organisation policy file is "
                "active (CiPolicies\\Active\\*.cip, SiPolicy.p7b): it may be only Microsoft's "
                "driver blocklist; confirm the driver allowlist"
            ),
            observed=observed,
        )
    else:
        km = {1: "in audit mode", 0: "off", None: "not reported"}.get(wdac.km, f"{wdac.km}")
        f1658 = Finding(
            ism="ISM-1658",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"kernel-mode code integrity (WDAC) is {km}: drivers are not restricted to an "
                f"approved set (AppLocker cannot control drivers)"
            ),
            observed=observed,
        )

    # ISM-1659
    default_on = (
        product_type == 1 and build is not None and build >= BLOCKLIST_DEFAULT_BUILD and vdb is None
    )
    if vdb == 1 or hvci or default_on:
        why_on = (
            "VulnerableDriverBlocklistEnable = 1"
            if vdb == 1
            else "memory integrity (HVCI) is running, which enforces the blocklist"
            if hvci
            else f"the value is not set and build {build} (Windows 11 22H2 or later) enables it by default"
        )
        f1659 = Finding(
            ism="ISM-1659",
            outcome=Outcome.EFFECTIVE,
            evidence=f"Microsoft's vulnerable driver blocklist is on: {why_on}",
            observed=observed,
        )
    elif wdac.error is not None and vdb is None:
        f1659 = Finding(
            ism="ISM-1659",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                "VulnerableDriverBlocklistEnable is not set and whether memory integrity runs was "
                f"not read ({wdac.error[:120]})"
            ),
            observed=observed,
        )
    else:
        why_off = (
            "VulnerableDriverBlocklistEnable = 0"
            if vdb == 0
            else f"VulnerableDriverBlocklistEnable is not set on build {build}, where it is off by default"
        )
        f1659 = Finding(
            ism="ISM-1659",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"Microsoft's vulnerable driver blocklist is off: {why_off}, "
                f"and memory integrity (HVCI) is not running"
            ),
            observed=observed,
        )
    return [f1658, f1659]


CHECK = Check(
    id="application_control.windows_driver_control",
    title="Windows drivers restricted by WDAC and Microsoft's vulnerable driver blocklist enabled",
    strategy=Strategy.APPLICATION_CONTROL,
    ism=ISM,
    platforms=frozenset({Platform.WINDOWS}),
    collect={"appcontrol": APP_CONTROL.cmd},
    judge=judge,
    version=2,  # v2: kernel-mode enforcement without the policy rules read is no_visibility
    grade=Grade.GOOD,
)
