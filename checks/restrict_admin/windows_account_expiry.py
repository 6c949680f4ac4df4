"""Windows: do enabled local privileged accounts expire within 12 months?

**Collected (read-only PowerShell/ADSI):** the privileged-group snapshot shared with
``restrict_admin.windows_local_admins`` (built-in powerful groups by well-known SID, their members,
``UserFlags`` of local members) and, in a second step, every local user account of the SAM
(ADSI ``WinNT://<computer>``: name, SID, ``UserFlags`` and ``AccountExpirationDate`` converted on
the host to UTC; an unset expiry throws on read and is reported as null = never). The second step
skips domain controllers, whose ``WinNT://`` provider would list the whole domain.

**ISM-1647** (ML2-3, privileged access disabled after 12 months unless revalidated) — host-side
part, local accounts only:
- ineffective: an enabled local user account in Administrators, Account/Server/Print/Backup
  Operators or Hyper-V Administrators has no expiry, or an expiry more than 365 days after the
  collection time (named, with the date);
- effective: every enabled local privileged account expires within 365 days, or there is none
  (a disabled built-in Administrator does not count);
- not_applicable: a domain controller (``ProductType`` 2) has no local accounts; judge the expiry
  of privileged domain accounts in the directory (``AccountExpirationDate``);
- no_visibility: a read failed (PowerShell 2.0 has no ``ConvertTo-Json``, access denied), or a
  privileged local account is missing from the account list.

Domain accounts and groups in these groups are listed in the evidence, not judged: their expiry
lives in Active Directory. A LAPS-managed built-in account that is revalidated another way needs
an exception in the register. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from checks._windows_accounts import PRIVILEGED_GROUPS, arr, parse_accounts, read_json
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

LIMIT = timedelta(days=365)

LOCAL_EXPIRY = r"""$pc = $env:COMPUTERNAME
$os = Get-WmiObject Win32_OperatingSystem
$fmt = "yyyy-MM-dd'T'HH:mm:ss'Z'"
$inv = [Globalization.CultureInfo]::InvariantCulture
$users = @()
if ([int]$os.ProductType -ne 2) {
  foreach ($u in @(([ADSI]"WinNT://$pc").Children | Where-Object { $_.SchemaClassName -eq 'User' })) {
    $sid = $null
    $exp = $null
    try { $sid = (New-Object System.Security.Principal.SecurityIdentifier($u.objectSid.Value, 0)).Value } catch { }
    try { $exp = ([datetime]$u.InvokeGet('AccountExpirationDate')).ToUniversalTime().ToString($fmt, $inv) } catch { }
    $users += New-Object PSObject -Property @{
      name = [string]$u.Name.Value
      sid = $sid
      expires = $exp
      flags = [int]$u.UserFlags.Value
    }
  }
}
New-Object PSObject -Property @{ product_type = [int]$os.ProductType; users = $users } |
  ConvertTo-Json -Depth 4 -Compress"""


def _when(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None if moment.year <= 1970 else moment  # 1970-01-01: "never" on some builds


def _nv(why: str) -> list[Finding]:
    return [Finding(ism="ISM-1647", outcome=Outcome.NO_VISIBILITY, evidence=why)]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    data, why = read_json(outputs.get("groups"))
    if why is not None:
        return _nv(f"privileged groups not read: {why}")
    try:
        acc = parse_accounts(data)
    except ValueError as exc:
        return _nv(f"privileged groups: unexpected output shape ({exc})")
    if acc.domain_controller:
        return [
            Finding(
                ism="ISM-1647",
                outcome=Outcome.NOT_APPLICABLE,
                evidence="domain controller: no local accounts; judge the expiry of privileged "
                "domain accounts in the directory",
            )
        ]
    users, why = read_json(outputs.get("expiry"))
    if why is not None or not isinstance(users, dict):
        return _nv(f"local account expiry not read: {why or 'unexpected output shape'}")
    by_sid = {
        str(u.get("sid") or "").upper(): u for u in arr(users.get("users")) if isinstance(u, dict)
    }
    by_name = {str(u.get("name") or "").lower(): u for u in by_sid.values()}
    limit = ctx.collected_at + LIMIT
    bad: list[str] = []
    ok: list[str] = []
    missing: list[str] = []
    domain: set[str] = set()
    for group in acc.privileged():
        for m in group.members:
            if not m.local:
                domain.add(m.display)
                continue
            if m.is_group or m.disabled:
                continue
            u = by_sid.get((m.sid or "").upper()) or by_name.get(m.name.lower())
            if u is None:
                missing.append(m.display)
                continue
            flags = u.get("flags")
            if isinstance(flags, int) and flags & 0x2:
                continue
            expires = _when(u.get("expires"))
            label = f"{m.display} ({group.label})"
            if expires is None:
                bad.append(f"{label}: never expires")
            elif expires > limit:
                bad.append(f"{label}: expires {expires:%Y-%m-%d}, beyond 12 months")
            else:
                ok.append(f"{label}: expires {expires:%Y-%m-%d}")
    observed = {
        "non_expiring_or_late": sorted(set(bad))[:20],
        "expiring": sorted(set(ok))[:20],
        "domain_members_not_judged": sorted(domain)[:20],
    }
    tail = (
        f"; domain members not judged here (expiry lives in AD): {', '.join(sorted(domain)[:8])}"
        if domain
        else ""
    )
    if bad:
        outcome, text = Outcome.INEFFECTIVE, "; ".join(sorted(set(bad))[:6])
    elif missing:
        outcome = Outcome.NO_VISIBILITY
        text = f"privileged local accounts not in the account list: {', '.join(missing[:6])}"
    elif ok:
        outcome = Outcome.EFFECTIVE
        text = "local part only: every enabled local privileged account expires within 12 months: "
        text += "; ".join(sorted(set(ok))[:6])
    else:
        outcome = Outcome.EFFECTIVE
        text = "local part only: no enabled local privileged account"
    return [Finding(ism="ISM-1647", outcome=outcome, evidence=text + tail, observed=observed)]


CHECK = Check(
    id="restrict_admin.windows_account_expiry",
    title="Windows local privileged accounts expire within 12 months",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1647",),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"groups": Cmd(line=PRIVILEGED_GROUPS), "expiry": Cmd(line=LOCAL_EXPIRY)},
    judge=judge,
    version=1,
)
