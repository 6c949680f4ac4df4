"""Windows: are process creation events (4688) recorded with their command lines?

**Collected (one read-only PowerShell snippet):**
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

import csv
import io
from collections.abc import Mapping
from typing import Any

from checks._windows_accounts import first_error_line, read_json
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

GUID = "{0CCE922B-69AE-11D9-BED3-505054503030}"
AUDIT = r"""$r = @{ auditpol = $null; auditpol_rc = $null; cmdline = $null }
$r.auditpol = (& auditpol.exe /get '/subcategory:{0CCE922B-69AE-11D9-BED3-505054503030}' /r | Out-String)
$r.auditpol_rc = $LASTEXITCODE
$lm = [Microsoft.Win32.Registry]::LocalMachine
$k = $lm.OpenSubKey('SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\Audit')
if ($k) { $r.cmdline = $k.GetValue('ProcessCreationIncludeCmdLine_Enabled') }
New-Object PSObject -Property $r | ConvertTo-Json -Depth 4 -Compress"""


def parse_auditpol(text: str) -> dict[str, str] | None:
    """The CSV row for the Process Creation GUID, or None."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lower().startswith("machine name,")), None)
    if start is None:
        return None
    for row in csv.DictReader(io.StringIO("\n".join(lines[start:]))):
        if str(row.get("Subcategory GUID", "")).strip().upper() == GUID:
            return {str(k): str(v or "") for k, v in row.items() if k is not None}
    return None


def success_audited(row: Mapping[str, str]) -> bool | None:
    value = row.get("Setting Value", "").strip()
    if value.isdigit():
        return bool(int(value) & 1)
    inclusion = row.get("Inclusion Setting", "").strip().lower()
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

    data, why = read_json(outputs.get("audit"))
    if why is not None or not isinstance(data, dict):
        return one(
            Outcome.NO_VISIBILITY, f"process auditing not read: {why or 'unexpected output shape'}"
        )
    text = str(data.get("auditpol") or "")
    cmdline = data.get("cmdline")
    row = parse_auditpol(text)
    observed = {
        "auditpol_rc": data.get("auditpol_rc"),
        "process_creation": row.get("Inclusion Setting") if row else None,
        "ProcessCreationIncludeCmdLine_Enabled": cmdline,
    }
    if row is None:
        detail = first_error_line(text) or f"exit code {data.get('auditpol_rc')}"
        return one(
            Outcome.NO_VISIBILITY, f"auditpol gave no Process Creation row ({detail})", observed
        )
    success = success_audited(row)
    if success is None:
        return one(
            Outcome.NO_VISIBILITY,
            f"Process Creation inclusion setting {row.get('Inclusion Setting')!r} is not in a form this "
            f"check reads (non-English host?)",
            observed,
        )
    tail = "; host part only: central collection of event 4688 is not visible from this read"
    problems = []
    if not success:
        problems.append(
            f"Process Creation is audited as {row.get('Inclusion Setting')!r} (Success needed)"
        )
    if str(cmdline).strip() != "1":
        problems.append(
            f"ProcessCreationIncludeCmdLine_Enabled is {cmdline} (1 needed to record command lines)"
        )
    if problems:
        return one(Outcome.INEFFECTIVE, "; ".join(problems) + tail, observed)
    return one(
        Outcome.EFFECTIVE,
        f"Process Creation audited ({row.get('Inclusion Setting')}) with command lines included "
        f"(ProcessCreationIncludeCmdLine_Enabled = 1){tail}",
        observed,
    )


CHECK = Check(
    id="user_app_hardening.windows_process_auditing",
    title="Process creation events are audited with command lines (event 4688)",
    strategy=Strategy.USER_APP_HARDENING,
    ism=("ISM-1889",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"audit": Cmd(line=AUDIT)},
    judge=judge,
    version=1,
)
