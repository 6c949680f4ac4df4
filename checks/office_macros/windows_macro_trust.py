"""Windows (ML3): Office macros only signed or from Trusted Locations that only admins can write.

**Collected (read-only PowerShell; registry through .NET so a missing key is not an error):**
- ``office``: Office 16.0 installation (shared snippet, ``checks/facts/windows/office.py``).
- ``trust``: for Word, Excel, PowerPoint, Access, Visio, Project and Publisher (Outlook's macro
  model differs and is not judged here), under the three policy roots (Cloud Policy, user policy
  for every loaded ``S-1-5-21-…``/``S-1-12-1-…`` hive, machine policy) and the user-writable
  preference root: ``<app>\\Security\\VBAWarnings``; ``<app>\\Security\\Trusted Locations``
  ``AllLocationsDisabled``, ``AllowNetworkLocations`` and each ``Location*\\Path`` (unexpanded);
  ``<app>\\DisabledCmdBarItemsList`` values equal to ``19092``; ``Common\\TrustCenter\\TrustBar``.
  For each Trusted Location path that is not user-relative (``%APPDATA%``, ``%USERPROFILE%`` …),
  its ACL (``Get-Acl``, rules with SIDs, ``FileSystemRights`` as a number).
- ``publishers``: ``Cert:\\LocalMachine\\TrustedPublisher`` (subject, thumbprint, NotBefore,
  NotAfter) and, per loaded user hive, the thumbprints under ``Software\\[Policies\\]Microsoft\\
  SystemCertificates\\TrustedPublisher\\Certificates``.

Users judged: loaded hives other than the scanning account's with an Office 16.0 profile or Office
policy (as ``office_macros.windows_macro_settings``). For each user and app, the **weakest** value
set in any policy root is judged; preference values never count. With nobody logged on, user-scope
results are no_visibility unless the machine policy alone already fails.

**ISM-1674** (ML3, only macros in a sandbox, a Trusted Location or signed by a trusted publisher
run): effective when ``VBAWarnings`` is 3 (disable all except digitally signed) or 4 (disable all
without notification — only Trusted Locations run) by policy for every app and user; 1, 2 (users
can enable any macro from the Message Bar), unknown or not set → ineffective.

**ISM-1675** (ML3, macros signed by an untrusted publisher cannot be enabled via the Message Bar
or Backstage View): ``VBAWarnings`` 4 → effective (signed macros outside Trusted Locations never
run). ``VBAWarnings`` 3 → effective only with ``Common\\TrustCenter\\TrustBar`` = 1 (*Disable all
Trust Bar notifications for security issues*) by policy **and** command 19092 disabled for the app
(Backstage *Enable Content*) — this pairing follows essential-eight.md 2.6, where the TrustBar value
is marked as inferred (**unverified**). Otherwise → ineffective.

**ISM-1487** (ML3, only privileged users who check macros can write to Trusted Locations) — host
part (which principal is a macro reviewer is organisational): per app, when a policy root sets
``AllLocationsDisabled`` = 1 no location counts; otherwise every location from any root counts.
- ineffective: a location is user-relative or under ``C:\\Users`` (ASD: never in a user profile —
  this includes Office's default ``%APPDATA%\\Microsoft\\…\\Startup`` locations), a policy allows
  network locations (``AllowNetworkLocations`` = 1; their ACLs live on the file server), or an ACL
  grants write/modify/delete/change-permission rights to Everyone, Authenticated Users, Users,
  INTERACTIVE or Domain Users;
- no_visibility: a location's ACL could not be read (missing path, access denied), or nobody is
  logged on; effective: none of that (the principals that can write are listed).

**ISM-1676** (ML3, trusted publishers list validated at least annually) — only the inventory is
host-visible, the annual validation is an organisational record: no trusted publisher certificate
in any store → effective (nothing to validate); certificates present → no_visibility with the list
(subject, thumbprint, expiry; expired ones flagged).

not_applicable: no Office at all. No_visibility: read failures (PowerShell 2.0 has no
``ConvertTo-Json``, a hive or ACL denied, timeout). Not judged: ISM-1891 (V3 signatures; the
registry value name is unverified), sandboxes (Application Guard for Office). Evidence grade: good.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from checks._office import USER_WRITABLE_PATH, not_installed_reason, write_holders
from checks.facts.fact import Unknown
from checks.facts.windows.office import LABEL, OFFICE_INSTALLED
from checks.facts.windows.office_policy import (
    OFFICE_MACRO_TRUST,
    POLICY_ROOTS,
    TRUSTED_PUBLISHERS,
    MacroTrust,
)
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

APPS = ("word", "excel", "powerpoint", "access", "visio", "ms project", "publisher")
ISMS = ("ISM-1674", "ISM-1675", "ISM-1487", "ISM-1676")


def _subjects(trust: MacroTrust) -> list[tuple[str | None, str]]:
    return [(u.sid, u.label) for u in trust.policy.users] or [(None, "all users (machine policy)")]


def _weakest(found: dict[str, Any], rank: Mapping[int, int]) -> tuple[str, Any]:
    root = min(found, key=lambda r: (rank.get(found[r], 0), POLICY_ROOTS.index(r)))
    return root, found[root]


VBA_RANK = {4: 2, 3: 2, 2: 1}


def _vba_problems(
    trust: MacroTrust, apps: list[str]
) -> tuple[list[str], dict[tuple[str | None, str], int], list[str]]:
    """(problems, the weakest value per user and app, compliant values from the machine root only)."""
    problems, vba, machine = [], {}, []
    for sid, who in _subjects(trust):
        for app in apps:
            found = trust.policy.policy(sid, app, "vbawarnings")
            if not found and sid is None:
                continue  # nobody logged on: a user root may set it
            if not found:
                problems.append(f"{LABEL[app]} for {who}: VBAWarnings not set by policy")
                continue
            root, value = _weakest(found, {4: 3, 3: 2, 2: 1})
            vba[(sid, app)] = value
            if value not in (3, 4):
                problems.append(f"{LABEL[app]} for {who}: VBAWarnings {value} from {root}")
            elif sid is not None and set(found) == {"machine"}:
                machine.append(f"{LABEL[app]} for {who}")
    return problems, vba, machine


MACHINE_ONLY = (
    "VBAWarnings is set only under the machine policy root (HKLM\\SOFTWARE\\Policies\\Microsoft\\"
    "Office\\16.0): a User Configuration policy, and that Office honours the machine root for it is "
    "unverified (essential-eight.md 2.0)"
)


def _finish(
    ism: str, problems: list[str], ok: str, no_user: str | None, obs: dict[str, Any]
) -> Finding:
    if problems:
        text = "; ".join(problems[:10]) + (
            f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        )
        return Finding(ism=ism, outcome=Outcome.INEFFECTIVE, evidence=text, observed=obs)
    if no_user:
        return Finding(ism=ism, outcome=Outcome.NO_VISIBILITY, evidence=no_user, observed=obs)
    return Finding(ism=ism, outcome=Outcome.EFFECTIVE, evidence=ok, observed=obs)


def _ism_1675(
    trust: MacroTrust, apps: list[str], vba: dict[tuple[str | None, str], int]
) -> list[str]:
    problems = []
    for sid, who in _subjects(trust):
        bar = trust.policy.policy(sid, "common", "trustbar")
        bar_ok = bool(bar) and all(v == 1 for v in bar.values())
        for app in apps:
            value = vba.get((sid, app))
            if value == 4 or (sid is None and value in (3, None)):
                continue  # with nobody logged on only a set, non-compliant value can fail
            if value != 3:
                problems.append(
                    f"{LABEL[app]} for {who}: VBAWarnings {value} lets users enable macros"
                )
                continue
            cmd = trust.policy.policy(sid, app, "tcid19092")
            missing = ([] if bar_ok else ["TrustBar=1"]) + (
                [] if cmd else ["command 19092 disabled"]
            )
            if missing:
                problems.append(
                    f"{LABEL[app]} for {who}: signed-macro mode without {' and '.join(missing)}"
                )
    return problems


def _ism_1487(trust: MacroTrust, apps: list[str]) -> tuple[list[str], list[str], dict[str, Any]]:
    problems: list[str] = []
    blind: list[str] = []
    writers: dict[str, Any] = {}
    for sid, who in _subjects(trust):
        for app in apps:
            disabled = trust.policy.policy(sid, app, "alllocationsdisabled")
            by_user_root = sid is None or any(r != "machine" for r in disabled)
            if disabled and by_user_root and all(v == 1 for v in disabled.values()):
                continue  # a machine-root-only value is not shown to apply to users
            network = trust.policy.policy(sid, app, "allownetworklocations")
            if any(v == 1 for v in network.values()):
                problems.append(f"{LABEL[app]} for {who}: policy allows network Trusted Locations")
            for lsid, root, lapp, path in trust.policy.locations:
                if lapp != app or (lsid is not None and lsid != sid):
                    continue
                if USER_WRITABLE_PATH.search(path):
                    problems.append(
                        f"{LABEL[app]} for {who}: Trusted Location in a user profile ({path}, {root})"
                    )
                    continue
                acl = trust.acls.get(path)
                if acl is None or acl.get("error"):
                    blind.append(
                        f"{path}: ACL not read ({(acl or {}).get('error') or 'not collected'})"
                    )
                    continue
                broad, holders = write_holders(acl)
                writers[path] = holders
                if broad:
                    problems.append(
                        f"{path} ({LABEL[app]}) is writable by {', '.join(sorted(set(broad)))}"
                    )
    return sorted(set(problems)), sorted(set(blind)), writers


def _ism_1676(out: Output | None, now: datetime) -> Finding:
    certs = TRUSTED_PUBLISHERS.read(out)
    if isinstance(certs, Unknown):
        return Finding(
            ism="ISM-1676",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"trusted publishers not read: {certs.reason}",
        )
    listed = []
    for c in certs:
        after = c.not_after or ""
        expired = False
        with contextlib.suppress(ValueError):
            expired = bool(after) and datetime.fromisoformat(after.replace("Z", "+00:00")) < now
        listed.append(
            f"{c.subject or '(subject not read)'} [{c.thumbprint}] in {c.store}"
            + (f", expires {after[:10]}" if after else "")
            + (" (EXPIRED)" if expired else "")
        )
    obs = {"trusted_publishers": listed}
    if not certs:
        return Finding(
            ism="ISM-1676",
            outcome=Outcome.EFFECTIVE,
            evidence="no trusted publisher certificate in the machine or loaded user stores: nothing to validate",
            observed=obs,
        )
    return Finding(
        ism="ISM-1676",
        outcome=Outcome.NO_VISIBILITY,
        evidence=(
            f"{len(certs)} trusted publisher certificate(s): {'; '.join(listed[:8])}; whether the list was "
            f"validated in the last 12 months is an organisational record"
        ),
        observed=obs,
    )


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    office = OFFICE_INSTALLED.read(outputs.get("office"))
    if isinstance(office, Unknown):
        why = f"Office installation not read: {office.reason}"
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=why) for i in ISMS]
    if (absent := not_installed_reason(office)) is not None:
        return [Finding(ism=i, outcome=Outcome.NOT_APPLICABLE, evidence=absent) for i in ISMS]
    if not office.office16:
        text = f"only out-of-support Office ({', '.join(office.older)}); this check reads the 16.0 paths"
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=text) for i in ISMS]
    trust = OFFICE_MACRO_TRUST.read(outputs.get("trust"))
    now = ctx.collected_at if ctx.collected_at.tzinfo else ctx.collected_at.replace(tzinfo=UTC)
    f1676 = _ism_1676(outputs.get("publishers"), now)
    if isinstance(trust, Unknown):
        why = f"macro trust settings not read: {trust.reason}"
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=why) for i in ISMS[:3]] + [
            f1676
        ]
    apps = [a for a in office.apps[0] if a in APPS]
    no_user = (
        None
        if trust.policy.users
        else "no interactive user hive is loaded (nobody logged on): the user-scope policy roots cannot be read"
    )
    obs: dict[str, Any] = {"apps": apps, "users": [u.label for u in trust.policy.users]}
    p1674, vba, machine = _vba_problems(trust, apps)
    vba_blind = no_user or (f"{MACHINE_ONLY}: {'; '.join(machine[:10])}" if machine else None)
    obs_vba = obs | {
        "vbawarnings": {f"{LABEL[a]} {s or 'machine'}": v for (s, a), v in vba.items()}
    }
    f1674 = _finish(
        "ISM-1674",
        p1674,
        "VBAWarnings 3 (signed only) or 4 (Trusted Locations only) by policy for every app and user",
        vba_blind,
        obs_vba,
    )
    f1675 = _finish(
        "ISM-1675",
        _ism_1675(trust, apps, vba),
        "untrusted-publisher macros cannot be enabled: VBAWarnings 4, or 3 with Trust Bar notifications "
        "and Backstage command 19092 disabled by policy (the TrustBar mapping is unverified)",
        vba_blind,
        obs_vba,
    )
    p1487, blind, writers = _ism_1487(trust, apps)
    o1487 = obs | {
        "locations": [f"{LABEL.get(a, a)} {r}: {p}" for _, r, a, p in trust.policy.locations],
        "writers": writers,
    }
    if not p1487 and blind:
        f1487 = Finding(
            ism="ISM-1487", outcome=Outcome.NO_VISIBILITY, evidence="; ".join(blind), observed=o1487
        )
    else:
        ok = (
            "host-side part: no Trusted Location in a user profile or writable by broad groups; "
            + (
                "principals with write: "
                + "; ".join(f"{p}: {', '.join(w)}" for p, w in writers.items())
                if writers
                else "no Trusted Location is in force"
            )
        )
        f1487 = _finish("ISM-1487", p1487, ok, no_user, o1487)
    return [f1674, f1675, f1487, f1676]


CHECK = Check(
    id="office_macros.windows_macro_trust",
    title="Office macros run only signed or from admin-controlled Trusted Locations (ML3)",
    strategy=Strategy.OFFICE_MACROS,
    ism=ISMS,
    platforms=frozenset({Platform.WINDOWS}),
    collect={
        "office": OFFICE_INSTALLED.cmd,
        "trust": OFFICE_MACRO_TRUST.cmd,
        "publishers": TRUSTED_PUBLISHERS.cmd,
    },
    judge=judge,
    # ISM-1676 is the trusted publisher inventory alone (and Office being there); the macro trust
    # settings do not enter it.
    rests_on={
        "ISM-1674": ("office", "trust"),
        "ISM-1675": ("office", "trust"),
        "ISM-1487": ("office", "trust"),
        "ISM-1676": ("office", "publishers"),
    },
    version=2,  # v2: machine-root-only VBAWarnings and AllLocationsDisabled do not count for users
)
