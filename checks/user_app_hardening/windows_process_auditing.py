"""Windows: are process creation events (4688) recorded with their command lines?

**Collected (one read-only PowerShell snippet, fact ``windows.process_auditing``):**
``auditpol /get /subcategory:{0CCE922B-69AE-11D9-BED3-505054503030} /r`` — the *Process Creation*
subcategory by its locale-independent GUID, as CSV (shape: corpus
``windows/auditpol_get_category_all_r.csv.txt``) — with its exit code, and
``HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\System\\Audit``
``ProcessCreationIncludeCmdLine_Enabled``.

**ISM-1889** (ML2-3; partly):
- effective: Process Creation is audited for Success (``Success`` or ``Success and Failure``; or a
  ``Setting Value`` column with the success bit) and ``ProcessCreationIncludeCmdLine_Enabled = 1``;
- ineffective: Process Creation is ``No Auditing`` / failure only, or the command-line value is not 1;
- no_visibility: auditpol failed (it needs administrator rights: "A required privilege is not
  held by the client"), its output has no row for the GUID, the inclusion setting is in a language
  this check does not read, or the snippet failed (PowerShell 2.0 without ``ConvertTo-Json``).

Only the host part is shown: that the events are generated locally. Whether they are collected
centrally is not visible from this read (see the central-logging check and essential-eight.md 2.9).
Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.windows.process_auditing import PROCESS_AUDITING, ProcessAuditing
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def success_audited(read: ProcessAuditing) -> bool | None:
    """Whether Success is audited; None when the setting is in a form not read here."""
    if read.setting_value.isdigit():
        return bool(int(read.setting_value) & 1)
    inclusion = read.inclusion.lower()
    if inclusion in ("success", "success and failure"):
        return True
    if inclusion in ("no auditing", "failure"):
        return False
    return None


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    def one(
        outcome: Outcome, evidence: str, observed: dict[str, Any] | None = None
    ) -> list[Finding]:
        return [
            Finding(ism="ISM-1889", outcome=outcome, evidence=evidence, observed=observed or {})
        ]

    read = PROCESS_AUDITING.read(outputs.get("audit"))
    if isinstance(read, Unknown):
        return one(Outcome.NO_VISIBILITY, f"process auditing not read: {read.reason}")
    cmdline = read.cmdline
    observed = {
        "auditpol_rc": read.auditpol_rc,
        "process_creation": read.inclusion,
        "ProcessCreationIncludeCmdLine_Enabled": cmdline,
    }
    success = success_audited(read)
    if success is None:
        return one(
            Outcome.NO_VISIBILITY,
            f"Process Creation inclusion setting {read.inclusion!r} is not in a form this "
            f"check reads (non-English host?)",
            observed,
        )
    tail = "; host part only: central collection of event 4688 is not visible from this read"
    problems = []
    if not success:
        problems.append(f"Process Creation is audited as {read.inclusion!r} (Success needed)")
    if str(cmdline).strip() != "1":
        problems.append(
            f"ProcessCreationIncludeCmdLine_Enabled is {cmdline} (1 needed to record command lines)"
        )
    if problems:
        return one(Outcome.INEFFECTIVE, "; ".join(problems) + tail, observed)
    return one(
        Outcome.EFFECTIVE,
        f"Process Creation audited ({read.inclusion}) with command lines included "
        f"(ProcessCreationIncludeCmdLine_Enabled = 1){tail}",
        observed,
    )


CHECK = Check(
    id="user_app_hardening.windows_process_auditing",
    title="Process creation events are audited with command lines (event 4688)",
    strategy=Strategy.USER_APP_HARDENING,
    ism=("ISM-1889",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"audit": PROCESS_AUDITING.cmd},
    judge=judge,
    version=1,
)
