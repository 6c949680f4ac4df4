"""Windows: are privileged access and account/group management events recorded and shipped off?

**Collected (read-only PowerShell):** ``auditpol /get /category:* /r`` (CSV, needs local
administrator rights; the shape of corpus ``windows/auditpol_get_category_all_r.csv.txt``), and
the log forwarders the host shows: the Windows Event Forwarding client policy
(``HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\EventLog\\EventForwarding\\SubscriptionManager``)
and known agent services (Splunk UF, Azure Monitor Agent, MMA, Elastic Agent/Winlogbeat, NXLog,
Wazuh, Defender for Endpoint ``Sense`` …; data in ``checks/facts/windows/log_forwarders.py``) in state Running.
Subcategories are matched by their locale-independent GUIDs (checked against the corpus CSV).

**ISM-1509** (ML2-3, privileged access events centrally logged): effective when Logon
``{0CCE9215-…}``, Special Logon ``{0CCE921B-…}`` (event 4672, special privileges assigned) and
Sensitive Privilege Use ``{0CCE9228-…}`` are each audited for **Success and Failure** (the values
in essential-eight.md 2.4) and a forwarder is running.
**ISM-1650** (ML2-3, privileged account and security group management events centrally logged):
the same for User Account Management ``{0CCE9235-…}`` and Security Group Management
``{0CCE9237-…}`` (events 4720/4722/4724/4738, 4728/4732/4756). Computer Account Management is
reported, not judged.
Ineffective: a subcategory audits less than Success and Failure, or no forwarder runs.
No visibility: auditpol refused (not an administrator) or the snippet failed (PowerShell 2.0
has no ``ConvertTo-Json``), or an audit value is not understood (localised wording).

Host-side part only: that the collector receives and keeps the events, and that the WEF
subscription selects the Security channel, are not visible. ``SCENoApplyLegacyAuditPolicy`` is
reported (auditpol shows the effective subcategory settings either way). Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks._logging import (
    LOGON,
    SECURITY_GROUP_MANAGEMENT,
    SENSITIVE_PRIVILEGE_USE,
    SPECIAL_LOGON,
    USER_ACCOUNT_MANAGEMENT,
    judge_windows_central,
)
from checks.facts.windows.audit_policy import AUDIT_POLICY
from checks.facts.windows.log_forwarders import LOG_FORWARDERS
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Platform, Strategy


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    return [
        judge_windows_central(
            "ISM-1509",
            "privileged access events",
            (LOGON, SPECIAL_LOGON, SENSITIVE_PRIVILEGE_USE),
            outputs,
        ),
        judge_windows_central(
            "ISM-1650",
            "account and security group management events",
            (USER_ACCOUNT_MANAGEMENT, SECURITY_GROUP_MANAGEMENT),
            outputs,
        ),
    ]


CHECK = Check(
    id="restrict_admin.windows_privileged_event_logging",
    title="Windows audits privileged access and account/group changes and forwards the events",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1509", "ISM-1650"),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"auditpol": AUDIT_POLICY.cmd, "forwarders": LOG_FORWARDERS.cmd},
    judge=judge,
    version=1,
)
