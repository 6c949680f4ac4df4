"""Windows: are application control allowed and blocked events logged on the host and forwarded?

**Collected (read-only PowerShell):**
- ``appcontrol`` (fact ``windows.app_control``): the snippet shared with
  ``application_control.windows_app_control`` (WDAC user-mode state and AppLocker effective
  policy), to know which mechanism's log matters;
- ``logs`` (fact ``windows.app_control_logs``): ``Get-WinEvent -ListLog`` for
  ``Microsoft-Windows-AppLocker/EXE and DLL``, ``Microsoft-Windows-AppLocker/MSI and Script`` and
  ``Microsoft-Windows-CodeIntegrity/Operational`` (``IsEnabled``, ``RecordCount``,
  ``MaximumSizeInBytes``);
- ``forwarders`` (fact ``windows.log_forwarders``): the Windows Event Forwarding policy
  (``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding\\SubscriptionManager``
  values) and the services of known log-shipping agents — the read the event logging checks make,
  judged the same way (``checks/_logging.py``): an agent installed but not running is no
  forwarder.

**ISM-1660** (ML2-3, allowed and blocked events centrally logged) — *partly*, the host-side part:
- effective: application control is enforcing or auditing, the log of its mechanism is enabled
  (AppLocker: ``EXE and DLL``, plus ``MSI and Script`` when Msi/Script rules exist — AppLocker
  writes allowed 8002/8005 and blocked 8004/8007 events there; WDAC: ``CodeIntegrity/Operational``,
  blocked 3077 / audit 3076 events) and a forwarder is present;
- ineffective: no application control to log, its log is disabled, or no forwarder is found;
- no_visibility: a read failed (PowerShell 2.0 without ``ConvertTo-Json``, access denied).

Not visible from the host: whether the collector receives and keeps the events (SIEM side), and
whether WDAC *allowed* executions are captured (WDAC logs only blocks and audits; allowed
executions come from process-creation auditing, 4688 or Sysmon, which this check does not read —
the evidence says so). A forwarder under an unlisted service name shows as missing. Evidence
grade: good.

A running log agent (Splunk, Wazuh, Fluent Bit, …) is not evidence that these events are shipped:
its configuration, which says which logs it ships, is not read, so when it is the only shipper seen
the result is no_visibility, never effective.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks._logging import agent_unread, win_agents_running, win_forwarders
from checks.application_control._rules import parse_applocker
from checks.facts.fact import Unknown
from checks.facts.windows.app_control import (
    APP_CONTROL,
    APP_CONTROL_LOGS,
    CI_LOG,
    EXE_LOG,
    MSI_LOG,
)
from checks.facts.windows.log_forwarders import LOG_FORWARDERS
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ISM = "ISM-1660"


def _nv(evidence: str) -> list[Finding]:
    return [Finding(ism=ISM, outcome=Outcome.NO_VISIBILITY, evidence=evidence)]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    state = APP_CONTROL.read(outputs.get("appcontrol"))
    if isinstance(state, Unknown):
        return _nv(f"application control state not read: {state.reason}")
    logs = APP_CONTROL_LOGS.read(outputs.get("logs"))
    if isinstance(logs, Unknown):
        return _nv(f"event log list read failed: {logs.reason}")
    fwd = LOG_FORWARDERS.read(outputs.get("forwarders"))
    if isinstance(fwd, Unknown):
        return _nv(f"forwarder read failed: {fwd.reason}")

    wdac = state.wdac
    try:
        cols = parse_applocker(state.applocker)
    except ValueError:
        cols = {}
    al_active = [
        c for c in cols.values() if c.rules and c.mode in ("Enabled", "AuditOnly", "NotConfigured")
    ]
    wdac_active = wdac.um in (1, 2)
    needed: list[str] = []
    if wdac_active:
        needed.append(CI_LOG)
    if any(c.type in ("Exe", "Dll") for c in al_active):
        needed.append(EXE_LOG)
    if any(c.type in ("Msi", "Script") for c in al_active):
        needed.append(MSI_LOG)
    forwarders, stopped = win_forwarders(fwd, agents_count=False)
    agents = win_agents_running(fwd)
    observed: dict[str, Any] = {
        "wdac_usermode": wdac.um,
        "applocker_collections": sorted(c.type for c in al_active),
        "logs": {
            n: {"enabled": i.enabled, "records": i.records, "error": i.error}
            for n, i in logs.items()
        },
        "forwarders": forwarders,
        "agents_running": agents,
        "agents_not_running": stopped,
    }
    if not needed:
        if wdac.error is not None:
            return _nv(f"no AppLocker rules and WDAC state unread ({wdac.error[:120]})")
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.INEFFECTIVE,
                evidence=(
                    "no application control (WDAC or AppLocker) is enforcing or auditing: "
                    "there are no allowed or blocked events to log"
                ),
                observed=observed,
            )
        ]
    off = []
    for n in needed:
        info = logs.get(n)
        if info is None or info.error:
            err = (info.error or "").lower() if info else ""
            if ("access" in err and "denied" in err) or "unauthorized" in err:
                return _nv(f"{n}: access denied reading the log configuration")
            off.append(f"{n} (not found)")
        elif info.enabled is not True:
            off.append(f"{n} (disabled)")
    if off:
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.INEFFECTIVE,
                evidence="application control events are not logged locally: " + ", ".join(off),
                observed=observed,
            )
        ]
    if not forwarders and agents:
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.NO_VISIBILITY,
                evidence=agent_unread(agents, f"{', '.join(needed)} enabled"),
                observed=observed,
            )
        ]
    if not forwarders:
        extra = f" ({'; '.join(stopped)})" if stopped else ""
        return [
            Finding(
                ism=ISM,
                outcome=Outcome.INEFFECTIVE,
                evidence=(
                    f"{', '.join(needed)} enabled, but no forwarder was found (no Windows Event "
                    f"Forwarding SubscriptionManager policy, no known log agent running){extra}: "
                    f"events stay on the host"
                ),
                observed=observed,
            )
        ]
    allowed_note = (
        "; WDAC logs blocks and audits only, allowed executions need process-creation auditing (not read here)"
        if wdac_active and EXE_LOG not in needed
        else ""
    )
    return [
        Finding(
            ism=ISM,
            outcome=Outcome.EFFECTIVE,
            evidence=(
                f"host-side part: {', '.join(needed)} enabled and forwarded by "
                f"{'; '.join(forwarders)}; whether the collector keeps the events is not visible"
                f"{allowed_note}"
            ),
            observed=observed,
        )
    ]


CHECK = Check(
    id="application_control.windows_app_control_logging",
    title="Windows application control events logged locally and forwarded to a collector",
    strategy=Strategy.APPLICATION_CONTROL,
    ism=(ISM,),
    platforms=frozenset({Platform.WINDOWS}),
    collect={
        "appcontrol": APP_CONTROL.cmd,
        "logs": APP_CONTROL_LOGS.cmd,
        "forwarders": LOG_FORWARDERS.cmd,
    },
    judge=judge,
    version=2,  # v2: a running log agent alone is no_visibility (its configuration is not read)
    grade=Grade.GOOD,
)
