"""Windows: do Group Policy logon rights keep admins off workstations and non-admins off admin hosts?

**Collected (read-only, PowerShell 2.0-compatible WMI, needs local administrator):** the winning
(``precedence = 1``) Group Policy user-rights assignments from the Resultant Set of Policy,
``Get-WmiObject -Namespace root\\rsop\\computer -Class RSOP_UserPrivilegeRight``, for
``SeInteractiveLogonRight``, ``SeRemoteInteractiveLogonRight``, ``SeDenyInteractiveLogonRight`` and
``SeDenyRemoteInteractiveLogonRight``; each listed account is translated on the host between name
and SID (so localised names do not matter). Also ``Win32_ComputerSystem`` (domain membership) and
``Win32_OperatingSystem.ProductType``. ``secedit /export`` is deliberately not used (it writes a
file), so rights set only in *local* security policy are not seen: a right that Group Policy does
not set is reported as no_visibility, never as a pass.

Which host is which: ``e8_role: workstation`` is an unprivileged operating environment unless
``e8_admin_host: true`` (a secure admin workstation); ``server`` (and a domain controller) and any
host with ``e8_admin_host: true`` are privileged operating environments.

**ISM-1689** (ML1-3, privileged accounts, local administrator accounts excepted, cannot log on to
unprivileged operating environments) — judged on workstations that are not admin hosts:
- effective: both deny rights (local and Remote Desktop logon) list Domain Admins (RID 512),
  Enterprise Admins (RID 519) and every domain entry (``DOMAIN\\name``) of ``e8_admin_allowlist``;
- ineffective: a deny right set by Group Policy leaves one of them out;
- no_visibility: a deny right is not set by Group Policy, or RSoP could not be read;
- not_applicable: a server or admin host, or a host not joined to a domain (its only privileged
  accounts are local ones, which the control excepts; Entra ID admin roles are not judged).

**ISM-1688** (ML1-3, unprivileged accounts cannot log on to privileged operating environments) —
judged on servers, domain controllers and admin hosts:
- effective: every holder of the two allow rights is Administrators (S-1-5-32-544), Domain Admins,
  Enterprise Admins or in ``e8_admin_allowlist``;
- ineffective: another principal holds one (for example Users, Remote Desktop Users, Domain
  Users, a named account);
- no_visibility: an allow right is not set by Group Policy (the local default on member servers
  includes Users, but local policy may have changed it), or RSoP could not be read;
- not_applicable: a workstation that is not an admin host.

Both are the host-side part only: nested group membership lives in the directory; jump-server and
network controls are not seen. Evidence grade: fair (RSoP is a copy of the applied policy).
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.windows.logon_rights import LOGON_RIGHTS, LogonRights, Principal
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

ALLOW = ("SeInteractiveLogonRight", "SeRemoteInteractiveLogonRight")
DENY = ("SeDenyInteractiveLogonRight", "SeDenyRemoteInteractiveLogonRight")
ADMIN_SIDS = {"S-1-5-32-544": "Administrators"}
DOMAIN_ADMIN_RIDS = {"512": "Domain Admins", "519": "Enterprise Admins"}
LOCAL_PREFIXES = {".", "builtin", "nt authority"}


def _domain_admin(p: Principal) -> str | None:
    """Domain Admins or Enterprise Admins, by SID (RID 512/519) or by name; else None."""
    if p.sid.startswith("S-1-5-21-"):
        return DOMAIN_ADMIN_RIDS.get(p.sid.rsplit("-", 1)[-1])
    low = p.label.lower()
    for name in DOMAIN_ADMIN_RIDS.values():
        if low.endswith("\\" + name.lower()):
            return name
    return None


def _matches(p: Principal, entry: str, computer: str) -> bool:
    """Whether an allowlist entry (SID, ``DOMAIN\\name``, ``.\\name`` or bare name) names ``p``."""
    e = entry.strip().lower()
    if e.startswith("s-1-"):
        return p.sid.lower() == e
    name = p.label.lower()
    if "\\" not in e:
        return name in (e, f"{computer.lower()}\\{e}")
    if e.startswith(".\\"):
        return name == f"{computer.lower()}\\{e[2:]}"
    return name == e


def _finding(ism: str, outcome: Outcome, evidence: str, observed: dict[str, object]) -> Finding:
    return Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed)


def _ism_1689(data: LogonRights, ctx: Context) -> Finding:
    computer = data.computer
    rights = data.rights
    entries = [
        e
        for e in (ctx.profile.listed("e8_admin_allowlist") or [])
        if "\\" in e and e.split("\\", 1)[0].lower() not in LOCAL_PREFIXES | {computer.lower()}
    ]
    observed: dict[str, object] = {r: [p.label for p in rights[r]] for r in DENY if r in rights}
    observed["required"] = ["Domain Admins", "Enterprise Admins", *entries]
    gaps: list[str] = []
    unset: list[str] = []
    for right in DENY:
        if right not in rights:
            unset.append(right)
            continue
        held = rights[right]
        have = {_domain_admin(p) for p in held}
        missing = [n for n in DOMAIN_ADMIN_RIDS.values() if n not in have]
        missing += [e for e in entries if not any(_matches(p, e, computer) for p in held)]
        if missing:
            gaps.append(f"{right} does not list {', '.join(missing)}")
    if gaps:
        text = "privileged accounts can log on to this workstation: " + "; ".join(gaps)
        return _finding("ISM-1689", Outcome.INEFFECTIVE, text, observed)
    if unset:
        text = (
            f"{', '.join(unset)} not set by Group Policy; a local-policy value is not visible "
            f"without secedit /export (which writes a file)"
        )
        return _finding("ISM-1689", Outcome.NO_VISIBILITY, text, observed)
    text = (
        "host-side part: Group Policy denies local and Remote Desktop logon to Domain Admins, "
        "Enterprise Admins" + (f" and {', '.join(entries)}" if entries else "")
    )
    return _finding("ISM-1689", Outcome.EFFECTIVE, text, observed)


def _ism_1688(data: LogonRights, ctx: Context) -> Finding:
    computer = data.computer
    rights = data.rights
    entries = ctx.profile.listed("e8_admin_allowlist") or []
    observed: dict[str, object] = {r: [p.label for p in rights[r]] for r in ALLOW if r in rights}
    others: list[str] = []
    unset: list[str] = []
    for right in ALLOW:
        if right not in rights:
            unset.append(right)
            continue
        for p in rights[right]:
            if (
                p.sid in ADMIN_SIDS
                or _domain_admin(p)
                or any(_matches(p, e, computer) for e in entries)
            ):
                continue
            others.append(f"{p.label} ({right})")
    observed["non_admin_holders"] = others
    if others:
        text = f"non-admin principals may log on to this privileged host: {', '.join(others)}"
        return _finding("ISM-1688", Outcome.INEFFECTIVE, text, observed)
    if unset:
        text = (
            f"{', '.join(unset)} not set by Group Policy; the local default on member servers "
            f"includes Users and local policy is not visible without secedit /export"
        )
        return _finding("ISM-1688", Outcome.NO_VISIBILITY, text, observed)
    text = (
        "host-side part: only Administrators, Domain/Enterprise Admins and allowlisted admin "
        "principals hold local and Remote Desktop logon rights (nested membership not seen)"
    )
    return _finding("ISM-1688", Outcome.EFFECTIVE, text, observed)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    data = LOGON_RIGHTS.read(outputs.get("rights"))
    why = data.reason if isinstance(data, Unknown) else None
    admin_host = ctx.profile.e8_admin_host
    workstation = ctx.role == "workstation" and not admin_host
    workgroup_ws = workstation and isinstance(data, LogonRights) and data.part_of_domain is False
    if isinstance(data, LogonRights) and data.error and not workgroup_ws:
        err = data.error
        why = (
            "access denied reading RSoP: the scanning account needs local administrator rights"
            if "denied" in err.lower() or "0x80041003" in err
            else f"RSoP (root\\rsop\\computer) not readable: {err[:160]}"
        )
    if why is not None or not isinstance(data, LogonRights):
        return [
            _finding(i, Outcome.NO_VISIBILITY, why or "no data", {})
            for i in ("ISM-1688", "ISM-1689")
        ]
    if not workstation:
        f1688 = _ism_1688(data, ctx)
    else:
        f1688 = _finding(
            "ISM-1688",
            Outcome.NOT_APPLICABLE,
            "an unprivileged operating environment (e8_role workstation, not e8_admin_host)",
            {"role": ctx.role},
        )
    if not workstation:
        f1689 = _finding(
            "ISM-1689",
            Outcome.NOT_APPLICABLE,
            f"a privileged operating environment (e8_role {ctx.role}"
            f"{', e8_admin_host' if admin_host else ''}); ISM-1689 is judged on workstations",
            {"role": ctx.role},
        )
    elif not data.part_of_domain:
        f1689 = _finding(
            "ISM-1689",
            Outcome.NOT_APPLICABLE,
            "not joined to a domain: its only privileged accounts are local ones, which ISM-1689 "
            "excepts (Entra ID admin roles are not judged here)",
            {"part_of_domain": False},
        )
    else:
        f1689 = _ism_1689(data, ctx)
    return [f1688, f1689]


CHECK = Check(
    id="restrict_admin.windows_logon_rights",
    title="Windows logon rights separate privileged and unprivileged environments",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1688", "ISM-1689"),
    platforms=frozenset({Platform.WINDOWS}),
    collect={"rights": LOGON_RIGHTS.cmd},
    judge=judge,
    version=1,
    grade=Grade.FAIR,
)
