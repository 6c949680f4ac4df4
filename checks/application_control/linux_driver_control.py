"""Linux: are kernel modules (drivers) restricted to an approved set?

**Collected (read-only, root so that securityfs can be read; fact ``linux.module_loading``):**
``/proc/sys/kernel/modules_disabled`` (1: no module can be loaded any more until reboot),
``/sys/module/module/parameters/sig_enforce`` (``Y``: only modules signed by a key in the kernel's
trusted keyrings load), ``/sys/kernel/security/lockdown`` (the bracketed mode; ``integrity`` or
``confidentiality`` also enforce module signatures) and a ``module.sig_enforce=`` kernel
argument from ``/proc/cmdline``. A file that exists but cannot be read is marked unreadable.

**ISM-1658** (ML3, drivers restricted to an organisation-approved set) — *partly*:
- effective: module loading is disabled, or module signatures are enforced (``sig_enforce`` Y or
  lockdown integrity/confidentiality). The approved set is then the set of keys the kernel
  trusts (the distribution's keys plus any enrolled Machine Owner Keys), which the host does not
  list here: the finding covers the host-side part;
- ineffective: modules load without signature enforcement (``sig_enforce`` N or absent, lockdown
  none) and loading is not disabled;
- no_visibility: a value needed for the verdict could not be read.
Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.module_loading import (
    LOCKDOWN,
    MODDIS,
    MODULE_LOADING,
    SIGENF,
    UNREADABLE,
)
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ISM = "ISM-1658"


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    v = MODULE_LOADING.read(outputs.get("kernel"))
    if isinstance(v, Unknown):
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"kernel module settings not read: {v.reason}",
            )
        ]
    moddis = v.modules_disabled
    sig = v.sig_enforce
    lock_raw = v.lockdown_raw
    lock = v.lockdown
    cmdline = v.cmdline_sig_enforce
    observed = {
        "modules_disabled": moddis,
        "sig_enforce": sig,
        "lockdown": lock if lock else lock_raw,
        "cmdline_sig_enforce": cmdline,
    }
    if moddis is None and sig is None and lock_raw is None:
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.NO_VISIBILITY,
                evidence=(
                    f"none of {MODDIS}, {SIGENF}, {LOCKDOWN} exists: the kernel's module "
                    f"settings are not visible (container or restricted /proc)"
                ),
                observed=observed,
            )
        ]
    if moddis == "1":
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.EFFECTIVE,
                evidence="kernel.modules_disabled = 1: no further kernel module can be loaded",
                observed=observed,
            )
        ]
    enforced = []
    if sig == "Y":
        enforced.append("module.sig_enforce = Y")
    if lock in ("integrity", "confidentiality"):
        enforced.append(f"kernel lockdown [{lock}]")
    if enforced:
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.EFFECTIVE,
                evidence=(
                    f"host-side part: only signed kernel modules load ({', '.join(enforced)}); the "
                    f"approved set is the kernel's trusted keys (distribution and enrolled MOK "
                    f"keys), which are not listed here"
                ),
                observed=observed,
            )
        ]
    unread = [
        p for p, val in ((MODDIS, moddis), (SIGENF, sig), (LOCKDOWN, lock_raw)) if val == UNREADABLE
    ]
    if unread:
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"module signature enforcement not seen and {', '.join(unread)} could not be read",
                observed=observed,
            )
        ]
    sig_text = "absent (kernel built without module signing)" if sig is None else sig
    return [
        Finding(
            ism=ISM,
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"any kernel module can be loaded: sig_enforce {sig_text}, lockdown "
                f"{lock or 'not available'}, modules_disabled {moddis or 'unknown'}"
            ),
            observed=observed,
        )
    ]


CHECK = Check(
    id="application_control.linux_driver_control",
    title="Linux kernel modules restricted by signature enforcement or disabled loading",
    strategy=Strategy.APPLICATION_CONTROL,
    ism=(ISM,),
    platforms=frozenset({Platform.LINUX}),
    collect={"kernel": MODULE_LOADING.cmd},
    judge=judge,
    version=1,
    grade=Grade.GOOD,
)
