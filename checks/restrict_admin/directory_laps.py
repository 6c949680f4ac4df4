"""Active Directory: does every active Windows computer have a managed, current local administrator password (LAPS)?

**Collected (read-only LDAP searches over LDAPS):** every computer account (name, DNS name,
``userAccountControl``, ``operatingSystem``, ``lastLogonTimestamp``, and the two expiration times
LAPS writes: legacy Microsoft LAPS ``ms-Mcs-AdmPwdExpirationTime`` and Windows LAPS
``msLAPS-PasswordExpirationTime``, both FILETIME); and the schema's definitions of those two
attributes. The passwords themselves (``ms-Mcs-AdmPwd``, ``msLAPS-Password``,
``msLAPS-EncryptedPassword``) are never asked for.

**Which computers:** enabled Windows computer accounts that logged on within 90 days
(``lastLogonTimestamp``), excluding domain controllers (``SERVER_TRUST_ACCOUNT``) and read-only
DCs (``PARTIAL_SECRETS_ACCOUNT``), which have no local accounts to manage.

**ISM-1685** (ML2-3, credentials for local administrator accounts are long, unique,
unpredictable and managed), the local-administrator part, fleet-wide — the same measure ASD's
guide takes (``Get-ADComputer -Filter {ms-Mcs-AdmPwdExpirationTime -like "*"}`` against all):
- ineffective: neither LAPS attribute is in the schema (LAPS cannot be deployed); or a computer
  has neither expiration time (its password is not managed) or only one in the past (LAPS is not
  rotating it: the client is not applying policy, or the computer has been away since);
- no_visibility: the schema defines an attribute but no computer shows any value — LAPS is not
  deployed, or the scanner's account cannot read the attribute (a custom ACL); the directory
  cannot tell the two apart;
- not_applicable: no enabled Windows computer logged on within 90 days;
- effective: every such computer has an expiration time in the future. Whether the password is
  long (30+ characters) is a policy on the host (``restrict_admin.windows_laps``); break-glass
  and service accounts are not visible here and are stated in the evidence.

Evidence grade: good (the directory's own records of each computer's LAPS state).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from checks.facts.directory.objects import ACTIVE_DAYS, COMPUTERS, LAPS_SCHEMA, active_accounts
from checks.facts.directory.search import Entry, filetime
from checks.facts.fact import Unknown
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

UF_SERVER_TRUST_ACCOUNT = 0x2000  # a domain controller
UF_PARTIAL_SECRETS_ACCOUNT = 0x04000000  # a read-only domain controller
LEGACY = "ms-Mcs-AdmPwdExpirationTime"
WINDOWS = "msLAPS-PasswordExpirationTime"


def managed_windows(computers: list[Entry], now: datetime) -> tuple[list[Entry], list[str]]:
    """The computers LAPS should manage (see the module docstring) and the ones whose account
    state could not be read."""
    windows = [
        c for c in computers if (c.first("operatingSystem") or "").lower().startswith("windows")
    ]
    dcs = UF_SERVER_TRUST_ACCOUNT | UF_PARTIAL_SECRETS_ACCOUNT
    return active_accounts(windows, now, days=ACTIVE_DAYS, skip_flags=dcs)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    schema = LAPS_SCHEMA.read(outputs.get("laps_schema"))
    computers = COMPUTERS.read(outputs.get("computers"))
    if isinstance(schema, Unknown):
        return [Finding(ism="ISM-1685", outcome=Outcome.NO_VISIBILITY, evidence=schema.reason)]
    if isinstance(computers, Unknown):
        return [Finding(ism="ISM-1685", outcome=Outcome.NO_VISIBILITY, evidence=computers.reason)]
    now = ctx.collected_at if ctx.collected_at.tzinfo else ctx.collected_at.replace(tzinfo=UTC)
    scope = "break-glass and service accounts are not visible from the directory"
    if not schema.legacy and not schema.windows:
        text = (
            f"neither {LEGACY} nor {WINDOWS} is in the schema: no computer's local administrator "
            f"password is managed by LAPS"
        )
        return [Finding(ism="ISM-1685", outcome=Outcome.INEFFECTIVE, evidence=text)]
    chosen, unread = managed_windows(computers, now)
    if unread:
        text = f"userAccountControl not readable for: {', '.join(unread)}"
        return [Finding(ism="ISM-1685", outcome=Outcome.NO_VISIBILITY, evidence=text)]
    if not chosen:
        text = f"no enabled Windows computer (domain controllers aside) logged on within {ACTIVE_DAYS} days"
        return [Finding(ism="ISM-1685", outcome=Outcome.NOT_APPLICABLE, evidence=text)]
    current, expired, missing = [], [], []
    for c in chosen:
        ends = [t for n in (LEGACY, WINDOWS) if (t := filetime(c.integer(n))) is not None]
        if not ends:
            missing.append(c.name.rstrip("$"))
        elif max(ends) <= now:
            expired.append(f"{c.name.rstrip('$')} (expired {max(ends).date().isoformat()})")
        else:
            current.append(c.name.rstrip("$"))
    observed = {
        "current": current,
        "expired": expired,
        "not_managed": missing,
        "schema": {LEGACY: schema.legacy, WINDOWS: schema.windows},
    }
    if not current and not expired:
        defined = [n for n, s in ((LEGACY, schema.legacy), (WINDOWS, schema.windows)) if s]
        text = (
            f"no active Windows computer shows a LAPS expiration time ({len(missing)} read), yet "
            f"the schema defines {' and '.join(defined)}: "
            f"LAPS is not deployed, or the scanner's account cannot read the attribute"
        )
        return [
            Finding(ism="ISM-1685", outcome=Outcome.NO_VISIBILITY, evidence=text, observed=observed)
        ]
    if missing or expired:
        parts = []
        if missing:
            parts.append(f"no LAPS-managed password: {', '.join(missing)}")
        if expired:
            parts.append(f"LAPS password past its expiry (not rotating): {', '.join(expired)}")
        text = (
            f"{'; '.join(parts)} ({len(current)} of {len(chosen)} active Windows computers current)"
        )
        return [
            Finding(ism="ISM-1685", outcome=Outcome.INEFFECTIVE, evidence=text, observed=observed)
        ]
    text = (
        f"every active Windows computer ({len(chosen)}) has a LAPS-managed local administrator "
        f"password that is current; {scope}"
    )
    return [Finding(ism="ISM-1685", outcome=Outcome.EFFECTIVE, evidence=text, observed=observed)]


CHECK = Check(
    id="restrict_admin.directory_laps",
    title="AD: every active Windows computer has a current LAPS-managed admin password",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1685",),
    platforms=frozenset({Platform.DIRECTORY}),
    collect={"laps_schema": LAPS_SCHEMA.cmd, "computers": COMPUTERS.cmd},
    judge=judge,
    version=1,
    doc=__doc__ or "",
)
