"""Windows: LSA protection, Credential Guard, memory integrity (HVCI) and Remote Credential Guard.

**Collected (read-only PowerShell):**
- ``registry``: through .NET, ``HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa`` (``RunAsPPL``,
  ``RunAsPPLBoot``, ``LsaCfgFlags``, ``DisableRestrictedAdmin``), the Device Guard policy and
  local keys (``EnableVirtualizationBasedSecurity``, ``LsaCfgFlags``,
  ``HypervisorEnforcedCodeIntegrity``, ``Scenarios\\HypervisorEnforcedCodeIntegrity\\Enabled``),
  ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\CredentialsDelegation``
  (``RestrictedRemoteAdministration``, ``RestrictedRemoteAdministrationType``,
  ``AllowProtectedCreds``); ``Win32_OperatingSystem`` ProductType, build and last boot; the newest
  Wininit event 12 in the System log ("LSASS.exe was started as a protected process"; event id as
  Microsoft documents it for LSA protection — verify), as runtime confirmation.
- ``deviceguard``: ``Win32_DeviceGuard`` (namespace ``root\\Microsoft\\Windows\\DeviceGuard``) via
  ``Get-WmiObject``: ``VirtualizationBasedSecurityStatus`` (0 not enabled, 1 enabled but not
  running, 2 running), ``SecurityServicesConfigured`` / ``SecurityServicesRunning`` (1 =
  Credential Guard, 2 = memory integrity/HVCI), ``AvailableSecurityProperties`` (1 = hypervisor
  support available).

**ISM-1861** (ML3, LSA protection): effective when ``RunAsPPL`` is 1 (enabled with UEFI lock) or
2 (enabled without UEFI lock; Windows 11 22H2+), or when ``RunAsPPL`` is absent but a Wininit
event 12 is newer than the last boot (LSA protection on by default on new Windows 11 22H2+
installs, without UEFI lock). ``RunAsPPL`` 0 or absent with no such event: ineffective.
``RunAsPPLBoot`` is reported, not judged (semantics unverified).

**ISM-1686** (ML3, Credential Guard): effective when ``SecurityServicesRunning`` contains 1;
ineffective otherwise, with the reason — VBS not enabled (status 0, and whether the hardware
offers it), enabled but not running, or running without Credential Guard; a host whose OS has no
``Win32_DeviceGuard`` class ("Invalid namespace/class": Windows 7/8.1, Server 2012 R2 and older)
cannot run it. not_applicable on a domain controller (``ProductType`` 2): Microsoft does not
support Credential Guard on domain controllers, where it adds no protection.

**ISM-1896** (ML3, memory integrity): effective when ``SecurityServicesRunning`` contains 2;
otherwise ineffective as for ISM-1686.

**ISM-1897** (ML3, Remote Credential Guard): effective when the client policy *Restrict delegation
of credentials to remote servers* requires Remote Credential Guard
(``RestrictedRemoteAdministration`` = 1 and ``RestrictedRemoteAdministrationType`` = 2; 1 =
require Restricted Admin, 3 = restrict credential delegation, which still lets Restricted Admin
be used — value meanings from the ADMX and public reports such as microsoft/wslg#734, verify)
**and** the host side *Remote host allows delegation of non-exportable credentials*
(``AllowProtectedCreds`` = 1) so the host accepts such connections. Anything else: ineffective.
``DisableRestrictedAdmin`` is reported.

All four: no_visibility when the read failed (PowerShell 2.0 has no ``ConvertTo-Json``, access
denied, timeout). Caveats: the Device Guard class shows running state, not whether the
configuration is UEFI-locked (``LsaCfgFlags`` / ``HypervisorEnforcedCodeIntegrity`` 1 = with lock,
reported in the evidence); ASD's hardening guidance asks for the UEFI lock, which is not required
here. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.reading import to_int
from checks.facts.windows.accounts import DOMAIN_CONTROLLER
from checks.facts.windows.credential_protection import (
    CREDENTIAL_PROTECTION,
    DEVICE_GUARD,
    CredentialSettings,
    DeviceGuard,
)
from checks.facts.windows.dates import iso_time
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

CREDENTIAL_GUARD, HVCI = 1, 2
SERVICE_NAMES = {CREDENTIAL_GUARD: "Credential Guard", HVCI: "memory integrity (HVCI)"}
VBS_STATUS = {0: "not enabled", 1: "enabled but not running", 2: "running"}
LOCK = {1: "with UEFI lock", 2: "without UEFI lock"}
RRA_TYPE = {
    1: "Require Restricted Admin",
    2: "Require Remote Credential Guard",
    3: "Restrict credential delegation (Restricted Admin or Remote Credential Guard)",
}


def _ism_1861(reg: CredentialSettings) -> Finding:
    lsa = reg.section("lsa")
    ppl, boot_value = to_int(lsa.get("RunAsPPL")), lsa.get("RunAsPPLBoot")
    boot, event = iso_time(reg.boot), iso_time(reg.ppl_event)
    since_boot = boot is not None and event is not None and event >= boot
    observed = {
        "RunAsPPL": ppl,
        "RunAsPPLBoot": to_int(boot_value),
        "last_boot": reg.boot,
        "wininit_event_12": reg.ppl_event,
    }
    runtime = (
        f"; Wininit event 12 (LSASS started as a protected process) at {reg.ppl_event}, after the last boot"
        if since_boot
        else ""
    )
    if ppl in LOCK:
        return Finding(
            ism="ISM-1861",
            outcome=Outcome.EFFECTIVE,
            evidence=f"LSA protection enabled {LOCK[ppl]} (RunAsPPL {ppl}){runtime}",
            observed=observed,
        )
    if ppl is None and since_boot:
        return Finding(
            ism="ISM-1861",
            outcome=Outcome.EFFECTIVE,
            evidence=(
                f"RunAsPPL is not set, but LSASS runs as a protected process (Windows default "
                f"enablement, without UEFI lock){runtime}"
            ),
            observed=observed,
        )
    state = "not set" if ppl is None else f"{ppl}"
    pending = (
        f" (a protected-process start was logged at {reg.ppl_event}, before the last boot)"
        if event is not None and not since_boot
        else ""
    )
    return Finding(
        ism="ISM-1861",
        outcome=Outcome.INEFFECTIVE,
        evidence=(
            f"LSA protection is not enabled: RunAsPPL {state} (1 = enabled with UEFI lock, 2 = "
            f"without) and no protected-process start since the last boot{pending}"
        ),
        observed=observed,
    )


def _vbs_service(ism: str, service: int, dg: DeviceGuard, lock: int | None) -> Finding:
    name = SERVICE_NAMES[service]
    unsupported = dg.unsupported
    if unsupported is not None:
        return Finding(
            ism=ism,
            outcome=Outcome.INEFFECTIVE,
            evidence=f"{name} cannot run: {unsupported} (needs Windows 10 / Server 2016 or later with VBS)",
            observed={"device_guard": None},
        )
    status = dg.vbs_status
    running = list(dg.running)
    configured = list(dg.configured)
    available = list(dg.available)
    observed: dict[str, object] = {
        "VirtualizationBasedSecurityStatus": status,
        "SecurityServicesRunning": running,
        "SecurityServicesConfigured": configured,
        "AvailableSecurityProperties": available,
    }
    lock_text = f"; configured {LOCK[lock]}" if lock in LOCK else ""
    if service in running:
        return Finding(
            ism=ism,
            outcome=Outcome.EFFECTIVE,
            evidence=f"{name} is running (SecurityServicesRunning {running}){lock_text}",
            observed=observed,
        )
    if status != 2:
        hw = (
            ""
            if 1 in available
            else "; the hardware/hypervisor does not offer VBS (AvailableSecurityProperties lacks 1)"
        )
        state = (
            VBS_STATUS.get(status, f"in state {status}") if status is not None else "not reported"
        )
        reason = f"virtualization-based security is {state} (VirtualizationBasedSecurityStatus {status}){hw}"
    elif service in configured:
        reason = (
            f"it is configured but not running (SecurityServicesRunning {running}; "
            f"a reboot or a hardware requirement is missing)"
        )
    else:
        reason = f"VBS runs but {name} is neither configured nor running (SecurityServicesRunning {running})"
    return Finding(
        ism=ism,
        outcome=Outcome.INEFFECTIVE,
        evidence=f"{name} is not running: {reason}",
        observed=observed,
    )


def _ism_1897(reg: CredentialSettings) -> Finding:
    d = reg.section("delegation")
    rra, kind, protected = (
        to_int(d.get("RestrictedRemoteAdministration")),
        to_int(d.get("RestrictedRemoteAdministrationType")),
        to_int(d.get("AllowProtectedCreds")),
    )
    observed = {
        "RestrictedRemoteAdministration": rra,
        "RestrictedRemoteAdministrationType": kind,
        "AllowProtectedCreds": protected,
        "DisableRestrictedAdmin": to_int(reg.section("lsa").get("DisableRestrictedAdmin")),
    }
    problems = []
    if rra != 1:
        problems.append(
            "'Restrict delegation of credentials to remote servers' is not enabled "
            f"(RestrictedRemoteAdministration {rra if rra is not None else 'not set'})"
        )
    elif kind != 2:
        problems.append(
            f"the delegation policy is '{RRA_TYPE.get(kind or 0, f'type {kind}')}', not 'Require Remote "
            f"Credential Guard' (RestrictedRemoteAdministrationType {kind if kind is not None else 'not set'}, needs 2)"
        )
    if protected != 1:
        problems.append(
            "'Remote host allows delegation of non-exportable credentials' is not enabled "
            f"(AllowProtectedCreds {protected if protected is not None else 'not set'})"
        )
    if problems:
        build = reg.build
        old = (
            "; Remote Credential Guard needs Windows 10 1607 / Server 2016 or later"
            if build and build < 14393
            else ""
        )
        return Finding(
            ism="ISM-1897",
            outcome=Outcome.INEFFECTIVE,
            evidence="Remote Credential Guard is not enforced: " + "; ".join(problems) + old,
            observed=observed,
        )
    return Finding(
        ism="ISM-1897",
        outcome=Outcome.EFFECTIVE,
        evidence=(
            "Remote Credential Guard is required for outgoing RDP (RestrictedRemoteAdministration 1, "
            "type 2) and accepted for incoming connections (AllowProtectedCreds 1)"
        ),
        observed=observed,
    )


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    read = CREDENTIAL_PROTECTION.read(outputs.get("registry"))
    reg, reg_why = (None, read.reason) if isinstance(read, Unknown) else (read, None)
    dg = DEVICE_GUARD.read(outputs.get("deviceguard"))
    findings = []
    if reg is None:
        findings.append(
            Finding(
                ism="ISM-1861",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"LSA settings not read: {reg_why}",
            )
        )
    else:
        findings.append(_ism_1861(reg))
    dc = reg is not None and reg.product_type == DOMAIN_CONTROLLER
    policy, local = (reg.section("dg_policy"), reg.section("lsa")) if reg else ({}, {})
    cg_lock = to_int(policy.get("LsaCfgFlags", local.get("LsaCfgFlags")))
    hvci_lock = to_int(policy.get("HypervisorEnforcedCodeIntegrity"))
    if dc:
        findings.append(
            Finding(
                ism="ISM-1686",
                outcome=Outcome.NOT_APPLICABLE,
                evidence=(
                    "domain controller: Microsoft does not support Credential Guard on domain "
                    "controllers, where it adds no protection"
                ),
                observed={"product_type": DOMAIN_CONTROLLER},
            )
        )
    elif isinstance(dg, Unknown):
        findings.append(
            Finding(
                ism="ISM-1686",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"Device Guard state not read: {dg.reason}",
            )
        )
    else:
        findings.append(_vbs_service("ISM-1686", CREDENTIAL_GUARD, dg, cg_lock))
    if isinstance(dg, Unknown):
        findings.append(
            Finding(
                ism="ISM-1896",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"Device Guard state not read: {dg.reason}",
            )
        )
    else:
        findings.append(_vbs_service("ISM-1896", HVCI, dg, hvci_lock))
    if reg is None:
        findings.append(
            Finding(
                ism="ISM-1897",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"credential delegation policy not read: {reg_why}",
            )
        )
    else:
        findings.append(_ism_1897(reg))
    return findings


CHECK = Check(
    id="restrict_admin.windows_credential_protection",
    title="Windows LSA protection, Credential Guard, memory integrity and Remote Credential Guard",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1861", "ISM-1686", "ISM-1896", "ISM-1897"),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"registry": CREDENTIAL_PROTECTION.cmd, "deviceguard": DEVICE_GUARD.cmd},
    # Each control is shown by one read: LSA protection and the delegation policy by the registry
    # read, the running VBS services by Win32_DeviceGuard. The registry adds only the UEFI-lock
    # note to the VBS evidence, and the domain-controller test, which can only make ISM-1686
    # not_applicable (a broken registry read leaves it judged on the running services).
    rests_on={
        "ISM-1861": ("registry",),
        "ISM-1686": ("deviceguard",),
        "ISM-1896": ("deviceguard",),
        "ISM-1897": ("registry",),
    },
    judge=judge,
    version=1,
)
