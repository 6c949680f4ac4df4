"""Windows: are successful and unsuccessful logon (MFA) events recorded and shipped off the host?

**Collected (read-only PowerShell):** ``auditpol /get /category:* /r`` (CSV, needs local
administrator rights; shape of corpus ``windows/auditpol_get_category_all_r.csv.txt``) and the
log forwarders the host shows (Windows Event Forwarding client policy
``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding\\SubscriptionManager``,
known agent services in state Running: Splunk UF, Azure Monitor Agent, MMA, Elastic
Agent/Winlogbeat, NXLog, Wazuh, Defender for Endpoint ``Sense`` …; data in
``checks/facts/windows/log_forwarders.py``). The commands are shared with the other logging checks.

**ISM-1683** (ML2-3, successful and unsuccessful MFA events are centrally logged), host-side
part: the logons the host performs — including smart card and Windows Hello for Business
logons — are written as events 4624/4625 (Logon, ``{0CCE9215-69AE-11D9-BED3-505054503030}``)
and 4672 (Special Logon, ``{0CCE921B-69AE-11D9-BED3-505054503030}``). Effective when both
subcategories audit **Success and Failure** (essential-eight.md 2.3) and a forwarder is running;
ineffective when either audits less or no forwarder runs; no_visibility when auditpol is refused
(not an administrator), the snippet fails (PowerShell 2.0), or an audit value is not understood.

Not visible from the host: events the identity provider or a third-party MFA service records
(Entra ID sign-in logs, Duo/Okta/RSA consoles) — for cloud or push MFA those are where the
second-factor result lives — and whether the collector keeps them. Evidence grade: good.

A running log agent (Splunk, Wazuh, Fluent Bit, …) is not evidence that these events are shipped:
its configuration, which says which logs it ships, is not read, so when it is the only shipper seen
the result is no_visibility, never effective.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks._logging import (
    LOGON,
    SPECIAL_LOGON,
    judge_windows_central,
)
from checks.facts.windows.audit_policy import AUDIT_POLICY
from checks.facts.windows.log_forwarders import LOG_FORWARDERS
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Platform, Strategy


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    return [
        judge_windows_central(
            "ISM-1683",
            "successful and failed logon events",
            (LOGON, SPECIAL_LOGON),
            outputs,
            agents_count=False,
        )
    ]


CHECK = Check(
    id="mfa.windows_mfa_logging",
    title="Windows audits successful and failed logons and forwards the events",
    strategy=Strategy.MFA,
    ism=("ISM-1683",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"auditpol": AUDIT_POLICY.cmd, "forwarders": LOG_FORWARDERS.cmd},
    judge=judge,
    version=2,  # v2: a running log agent alone is no_visibility (its configuration is not read)
)
