"""Windows: Microsoft Office 16.0 macro settings for every logged-on user, from the policy roots.

**Collected (read-only PowerShell; registry through .NET so a missing key is not an error):**
- ``office``: is Office 16.0 installed and which applications (Click-to-Run configuration, MSI
  ``InstallRoot`` keys, ``App Paths`` of WINWORD/EXCEL/POWERPNT/MSACCESS/OUTLOOK/VISIO/WINPROJ/
  MSPUB; see ``checks/facts/windows/office.py``).
- ``settings``: for Word, Excel, PowerPoint, Access, Outlook, Visio, Project and Publisher,
  ``<root>\\<app>\\Security\\VBAWarnings`` (Outlook: ``level``) and
  ``blockcontentexecutionfrominternet``, and ``<root>\\Common\\Security\\macroruntimescanscope``,
  under the three policy roots — ``HKEY_USERS\\<SID>\\Software\\Policies\\Microsoft\\Cloud\\Office\\
  16.0`` (Cloud Policy), ``HKEY_USERS\\<SID>\\Software\\Policies\\Microsoft\\Office\\16.0`` (user
  GPO/Intune), ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Office\\16.0`` (machine) — and the
  user-writable preference root ``HKEY_USERS\\<SID>\\Software\\Microsoft\\Office\\16.0``, for
  **every loaded user hive** (``S-1-5-21-…`` for local and AD accounts, ``S-1-12-1-…`` for
  Microsoft Entra ID accounts on Entra-joined devices; ``_Classes`` excluded; offline
  ``NTUSER.DAT`` files are never loaded). Also the scanning account's own SID (a WinRM logon loads its hive; it is not
  judged) and, per SID, the account name and whether it has an Office 16.0 profile.
- ``av``: the registered AMSI providers (``HKLM\\SOFTWARE\\Microsoft\\AMSI\\Providers``) and, when
  the Defender module exists, ``Get-MpComputerStatus`` (service, antivirus, real-time protection,
  ``AMRunningMode``): macro runtime scanning only reaches an antivirus registered as an AMSI
  provider.
- ``trust``: the Trusted Locations (``windows.office_macro_trust``, the read-only snippet
  ``office_macros.windows_macro_trust`` also runs): per app and root ``AllLocationsDisabled``,
  ``AllowNetworkLocations``, each location's path and, for paths outside user profiles, its ACL.

Users judged: loaded hives other than the scanning account's that have an Office 16.0 profile or
any Office policy. Apps judged: the Office 16.0 applications found installed (all eight when the
list cannot be told). One app failing for one user fails the control; the evidence names the app
and the user (SID and name).

**Which value counts.** Office reads three policy roots; essential-eight.md 2.0 gives the
precedence as Cloud Policy > user policy > machine policy but marks it **unverified**. So this
check does not rely on it: every policy root that sets a value must be compliant (the weakest
value set in any policy root is judged, and disagreements are named). User-preference values never
satisfy a control; they are reported. These are User Configuration policies: a compliant value
counts for a user only when the user's own policy roots (Cloud Policy or user policy) hold it; a
value set **only** under the machine root is no_visibility with that reason (that Office honours
the HKLM root for them is unverified), while a non-compliant machine value still fails.

**Trusted Locations** (ISM-1671 and ISM-1488; ``checks/office_macros/_trusted_locations.py``): a
file in a Trusted Location runs its macros whatever ``VBAWarnings`` says and wherever it came
from. Unless a user policy root disables all Trusted Locations for the app
(``AllLocationsDisabled`` = 1), a location in a user-writable folder (profile, Downloads, temp —
Office's default ``%APPDATA%`` Startup/Templates locations included), network locations allowed
by policy, a network location while network locations are allowed, or a location ACL that lets
broad groups write → ineffective; a location ACL not read, or the trust read failed →
no_visibility. *Allow mix of policy and user locations* is not read, so user-created locations
always count.

**ISM-1671** (ML1-3, macros disabled for users without a demonstrated business requirement —
partly host-checkable, who has a requirement is organisational data): ``VBAWarnings`` (Outlook
``level``) 4 = disable without notification in every app → effective; 1 = enable all (Outlook: no
security check), an unknown value, or not set by any policy root → ineffective; 2 (disable with
notification) or 3 (disable except digitally signed) → no_visibility: macros can run for that
user, which is right only if the user has a demonstrated business requirement, and that register
is not on the host.

**ISM-1488** (ML1-3, macros from the internet blocked): ``blockcontentexecutionfrominternet`` = 1 by
policy for Word, Excel, PowerPoint, Access and Visio (the apps whose ADMX offers *Block macros from
running in Office files from the Internet*; Project, Publisher and Outlook are not judged for it).
Not set (Microsoft 365's built-in default is not a policy) or 0 → ineffective.

**ISM-1672** (ML1-3, macro antivirus scanning): ``macroruntimescanscope`` = 2 (*Enable for all
documents*; 0 = disabled, 1 = low-trust documents only, which is also Office's behaviour when the
policy is not configured) by policy, **and** an AMSI antivirus: Defender active
(``AMRunningMode`` Normal, real-time protection on) or a third-party AMSI provider registered.
Scope 0/1/unset → ineffective; no AMSI antivirus → ineffective; antivirus state unreadable →
no_visibility. Perpetual Office (MSI, or Click-to-Run ids such as ``ProPlus2021Volume``) →
no_visibility: the ADMX says the policy "only applies to subscription versions of Office", so the
assessor needs other evidence that macros are scanned.

**ISM-1489** (ML1-3, users cannot change macro settings): effective when ``VBAWarnings`` (Outlook
``level``) is set by a policy root for every app and user — a policy value always wins over the
user's Trust Center preference; ineffective when it is set only as a user preference or not at all
(named). Differing user preferences under a policy are reported, not failed.

**No user logged on** (no judgeable hive): user-scope settings are no_visibility, not a pass. The
machine root alone can only settle a failure (a non-compliant machine policy value fails under the
weakest-value rule whatever the user roots hold); a compliant machine value is not enough, because
these are User Configuration policies that a user root could weaken and whether Office honours the
HKLM root for them is itself unverified.

**not_applicable**: no Office at all. Office 2013/2010 only (15.0/14.0): no_visibility — this check
reads the 16.0 paths; out-of-support Office is a patch_applications failure. Any read failure
(PowerShell 2.0 has no ``ConvertTo-Json``, a user hive denied to a non-administrator, timeout) →
no_visibility. Not judged here: trusted publishers, VBA turned off entirely (``vbaoff``).
Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checks._office import DEFENDER_AMSI_CLSID, defender_active, not_installed_reason
from checks.facts.fact import Unknown
from checks.facts.windows.office import LABEL, OFFICE_INSTALLED, Office
from checks.facts.windows.office_policy import (
    AMSI_ANTIVIRUS,
    OFFICE_MACRO_SETTINGS,
    OFFICE_MACRO_TRUST,
    POLICY_ROOTS,
    MacroTrust,
    OfficePolicy,
)
from checks.office_macros._trusted_locations import ROOT_LABEL, open_locations
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

BLOCK_APPS = ("word", "excel", "powerpoint", "access", "visio")
VBA_MEANING = {
    1: "enable all macros",
    2: "disable with notification",
    3: "disable except digitally signed",
    4: "disable without notification",
}
OUTLOOK_MEANING = {
    1: "no security check",
    2: "always warn",
    3: "warn for signed, disable unsigned",
    4: "never warn, disable all",
}
SCOPE_MEANING = {0: "disabled", 1: "low-trust documents only", 2: "all documents"}
MAX_ITEMS = 12


def _vba_name(app: str) -> str:
    return "level" if app == "outlook" else "vbawarnings"


def _vba_label(app: str) -> str:
    return "level" if app == "outlook" else "VBAWarnings"


def _vba_rank(v: int | None) -> int:
    """Higher is safer: 4 > 3 > 2 > anything else (1 = enable all, unknown)."""
    return {4: 3, 3: 2, 2: 1}.get(v if v is not None else -1, 0)


def _scope_rank(v: int | None) -> int:
    return {2: 2, 1: 1}.get(v if v is not None else -1, 0)


def _block_rank(v: int | None) -> int:
    return 1 if v == 1 else 0


Issue = tuple[str, str, str]  # (user, application, what is wrong)
MACHINE_ONLY = (
    "set only under the machine policy root (HKLM\\SOFTWARE\\Policies\\Microsoft\\Office\\16.0): "
    "these are User Configuration policies, and that Office honours the machine root for them is "
    "unverified (essential-eight.md 2.0), so the setting is not shown to apply to the user"
)


def _machine_only(found: Mapping[str, int | None]) -> bool:
    """The value comes from the machine root alone (no Cloud Policy or user policy value)."""
    return set(found) == {"machine"}


def _group(items: list[Issue]) -> list[str]:
    """One line per user and finding, naming every application it concerns."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for who, app, detail in items:
        grouped.setdefault((who, detail), []).append(app)
    return [f"{', '.join(apps)} for {who}: {detail}" for (who, detail), apps in grouped.items()]


def _clip(items: list[str]) -> str:
    if len(items) <= MAX_ITEMS:
        return "; ".join(items)
    return "; ".join(items[:MAX_ITEMS]) + f"; and {len(items) - MAX_ITEMS} more"


def _weakest(
    found: dict[str, int | None], rank: Callable[[int | None], int]
) -> tuple[str, int | None]:
    root = min(found, key=lambda r: (rank(found[r]), POLICY_ROOTS.index(r)))
    return root, found[root]


def _describe(
    found: dict[str, int | None], meaning: Mapping[int, str], rank: Callable[[int | None], int]
) -> str:
    root, value = _weakest(found, rank)
    meant = meaning.get(value, "unknown value") if value is not None else "unreadable"
    text = f"{value} ({meant}) from {ROOT_LABEL[root]}"
    if len(set(found.values())) > 1:
        others = ", ".join(f"{ROOT_LABEL[r]} {v}" for r, v in found.items() if r != root)
        text += f"; roots disagree ({others}), the weakest is judged"
    return text


def _pref(snap: OfficePolicy, sid: str | None, app: str, name: str) -> str:
    if sid is None:
        return ""
    present, value = snap.get(sid, "preference", app, name)
    return f" (user preference {value})" if present else ""


def _subjects(snap: OfficePolicy) -> list[tuple[str | None, str]]:
    """(sid, label) pairs to judge: each judged user, or the machine root alone when there is none."""
    if snap.users:
        return [(u.sid, u.label) for u in snap.users]
    return [(None, "all users (machine policy)")]


def _no_user_reason(snap: OfficePolicy) -> str:
    skipped = f" (loaded hives not judged: {'; '.join(snap.skipped)})" if snap.skipped else ""
    return (
        "no interactive user hive is loaded (nobody logged on), so the user-scope policy roots "
        f"cannot be read; a compliant machine policy alone is not a pass{skipped}"
    )


def _observed(
    snap: OfficePolicy, apps: list[str], name_of: Callable[[str], str], problems: list[str]
) -> dict[str, Any]:
    per: dict[str, dict[str, Any]] = {}
    for sid, label in _subjects(snap):
        per[label] = {}
        for app in apps:
            found = snap.policy(sid, app, name_of(app))
            per[label][app] = found or None
    return {
        "users": [u.sid for u in snap.users],
        "apps": apps,
        "policy_values": per,
        "problems": problems[:50],
    }


def _ism_1671(snap: OfficePolicy, apps: list[str], trust: MacroTrust | Unknown) -> Finding:
    bad_items: list[Issue] = []
    org_items: list[Issue] = []
    machine_items: list[Issue] = []
    for sid, label in _subjects(snap):
        for app in apps:
            found = snap.policy(sid, app, _vba_name(app))
            meaning = OUTLOOK_MEANING if app == "outlook" else VBA_MEANING
            if not found:
                if sid is not None:
                    pref = _pref(snap, sid, app, _vba_name(app))
                    bad_items.append(
                        (label, LABEL[app], f"{_vba_label(app)} not set by any policy root{pref}")
                    )
                continue
            _, value = _weakest(found, _vba_rank)
            item = (label, LABEL[app], f"{_vba_label(app)} {_describe(found, meaning, _vba_rank)}")
            if _vba_rank(value) == 0:
                bad_items.append(item)
            elif _vba_rank(value) < 3:
                org_items.append(item)
            elif sid is not None and _machine_only(found):
                machine_items.append((label, LABEL[app], f"{_vba_label(app)} 4"))
    located, blind = open_locations(trust, snap.users, apps)
    bad, org = _group(bad_items + located), _group(org_items)
    machine = _group(machine_items)
    observed = _observed(snap, apps, _vba_name, bad + blind + machine + org)
    if bad:
        return Finding(
            ism="ISM-1671",
            outcome=Outcome.INEFFECTIVE,
            evidence=f"macros are not disabled: {_clip(bad)}",
            observed=observed,
        )
    if not snap.users:
        return Finding(
            ism="ISM-1671",
            outcome=Outcome.NO_VISIBILITY,
            evidence=_no_user_reason(snap),
            observed=observed,
        )
    if blind:
        return Finding(
            ism="ISM-1671",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"macros run from any Trusted Location whatever VBAWarnings says, and these could "
                f"not be judged: {_clip(blind)}"
            ),
            observed=observed,
        )
    if machine:
        return Finding(
            ism="ISM-1671",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"{_clip(machine)}: {MACHINE_ONLY}",
            observed=observed,
        )
    if org:
        return Finding(
            ism="ISM-1671",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"macros can run for some users, which is right only for users with a demonstrated "
                f"business requirement (organisational register, not on the host): {_clip(org)}"
            ),
            observed=observed,
        )
    users = ", ".join(u.label for u in snap.users)
    return Finding(
        ism="ISM-1671",
        outcome=Outcome.EFFECTIVE,
        evidence=(
            f"macros disabled without notification by policy (VBAWarnings/level 4) in "
            f"{', '.join(LABEL[a] for a in apps)} for {users}; {_TL_OK}"
        ),
        observed=observed,
    )


_TL_OK = (
    "no Trusted Location a user can write to (disabled by user policy, or only folders whose ACL "
    "denies write to broad groups)"
)


def _ism_1488(snap: OfficePolicy, apps: list[str], trust: MacroTrust | Unknown) -> Finding:
    judged = [a for a in apps if a in BLOCK_APPS]
    name = "blockcontentexecutionfrominternet"
    observed = _observed(snap, judged, lambda _: name, [])
    if not judged:
        return Finding(
            ism="ISM-1488",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"none of the installed applications ({', '.join(LABEL[a] for a in apps)}) has a "
                f"documented 'block macros from the internet' policy to read"
            ),
            observed=observed,
        )
    items: list[Issue] = []
    machine_items: list[Issue] = []
    for sid, label in _subjects(snap):
        for app in judged:
            found = snap.policy(sid, app, name)
            if not found:
                if sid is not None:
                    items.append(
                        (
                            label,
                            LABEL[app],
                            f"not set by any policy root{_pref(snap, sid, app, name)}",
                        )
                    )
                continue
            _, value = _weakest(found, _block_rank)
            if value != 1:
                meaning = {0: "not blocked", 1: "blocked"}
                items.append((label, LABEL[app], _describe(found, meaning, _block_rank)))
            elif sid is not None and _machine_only(found):
                machine_items.append((label, LABEL[app], "blockcontentexecutionfrominternet 1"))
    located, blind = open_locations(trust, snap.users, judged)
    bad, machine = _group(items + located), _group(machine_items)
    observed["problems"] = (bad + blind + machine)[:50]
    if bad:
        return Finding(
            ism="ISM-1488",
            outcome=Outcome.INEFFECTIVE,
            evidence=f"macros in files from the internet are not blocked: {_clip(bad)}",
            observed=observed,
        )
    if not snap.users:
        return Finding(
            ism="ISM-1488",
            outcome=Outcome.NO_VISIBILITY,
            evidence=_no_user_reason(snap),
            observed=observed,
        )
    if blind:
        return Finding(
            ism="ISM-1488",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"files in a Trusted Location run their macros even from the internet, and these "
                f"could not be judged: {_clip(blind)}"
            ),
            observed=observed,
        )
    if machine:
        return Finding(
            ism="ISM-1488",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"{_clip(machine)}: {MACHINE_ONLY}",
            observed=observed,
        )
    return Finding(
        ism="ISM-1488",
        outcome=Outcome.EFFECTIVE,
        evidence=(
            f"blockcontentexecutionfrominternet = 1 by policy in {', '.join(LABEL[a] for a in judged)} "
            f"for {', '.join(u.label for u in snap.users)}; {_TL_OK}"
        ),
        observed=observed,
    )


def _antivirus(out: Output | None) -> tuple[bool | None, str]:
    """(an AMSI antivirus is active, why); None when the state cannot be read."""
    amsi = AMSI_ANTIVIRUS.read(out)
    if isinstance(amsi, Unknown):
        return None, f"antivirus state not read: {amsi.reason}"
    others = [
        f"{name or 'unnamed'} {clsid}"
        for clsid, name in amsi.providers
        if clsid.upper() != DEFENDER_AMSI_CLSID
    ]
    defender = amsi.defender
    if defender is not None:
        active, text = defender_active(defender)
        if active and defender.get("RealTimeProtectionEnabled") is False:
            active, text = (
                False,
                "Defender real-time protection is off (RealTimeProtectionEnabled False)",
            )
        if active:
            return True, text
    else:
        error = amsi.defender_error
        text = (
            f"Defender status unavailable ({error})" if error else "no Defender module on the host"
        )
    if others:
        return (
            True,
            f"{text}; third-party AMSI provider registered: {', '.join(others)} "
            f"(its scanning settings are not visible)",
        )
    return False, f"{text}, and no third-party AMSI provider is registered"


def _ism_1672(snap: OfficePolicy, av: Output | None, office: Office) -> Finding:
    name = "macroruntimescanscope"
    if not office.subscription:
        return Finding(
            ism="ISM-1672",
            outcome=Outcome.NO_VISIBILITY,
            evidence=(
                f"this is perpetual Office ({office.summary}): macro runtime scanning through AMSI and "
                f"its 'Macro Runtime Scan Scope' policy apply to subscription Office (Microsoft 365 "
                f"Apps) only, so evidence of how macros are scanned by antivirus is needed"
            ),
            observed={"office": office.summary},
        )
    bad = []
    machine = []
    for sid, label in _subjects(snap):
        found = snap.policy(sid, "common", name)
        if not found:
            if sid is not None:
                bad.append(
                    f"{label}: not set by any policy root (Office then scans low-trust documents only)"
                    f"{_pref(snap, sid, 'common', name)}"
                )
            continue
        _, value = _weakest(found, _scope_rank)
        if value != 2:
            bad.append(f"{label}: {_describe(found, SCOPE_MEANING, _scope_rank)}")
        elif sid is not None and _machine_only(found):
            machine.append(label)
    observed = _observed(snap, ["common"], lambda _: name, bad + machine)
    if bad:
        return Finding(
            ism="ISM-1672",
            outcome=Outcome.INEFFECTIVE,
            evidence=f"macro runtime scan scope is not 'all documents' (2): {_clip(bad)}",
            observed=observed,
        )
    if not snap.users:
        return Finding(
            ism="ISM-1672",
            outcome=Outcome.NO_VISIBILITY,
            evidence=_no_user_reason(snap),
            observed=observed,
        )
    if machine:
        return Finding(
            ism="ISM-1672",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"macroruntimescanscope 2 for {_clip(machine)}: {MACHINE_ONLY}",
            observed=observed,
        )
    active, text = _antivirus(av)
    observed["antivirus"] = text
    users = ", ".join(u.label for u in snap.users)
    if active is None:
        return Finding(
            ism="ISM-1672",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"macroruntimescanscope = 2 by policy for {users}, but {text}",
            observed=observed,
        )
    if not active:
        return Finding(
            ism="ISM-1672",
            outcome=Outcome.INEFFECTIVE,
            evidence=(
                f"macroruntimescanscope = 2 by policy for {users}, but no antivirus receives the "
                f"scans: {text}"
            ),
            observed=observed,
        )
    return Finding(
        ism="ISM-1672",
        outcome=Outcome.EFFECTIVE,
        evidence=f"macro runtime scanning of all documents by policy for {users}; {text}",
        observed=observed,
    )


def _ism_1489(snap: OfficePolicy, apps: list[str]) -> Finding:
    observed = _observed(snap, apps, _vba_name, [])
    if not snap.users:
        return Finding(
            ism="ISM-1489",
            outcome=Outcome.NO_VISIBILITY,
            evidence=_no_user_reason(snap),
            observed=observed,
        )
    bad_items: list[Issue] = []
    over_items: list[Issue] = []
    machine_items: list[Issue] = []
    for user in snap.users:
        for app in apps:
            name = _vba_name(app)
            found = snap.policy(user.sid, app, name)
            present, pref = snap.get(user.sid, "preference", app, name)
            if not found:
                how = f"only a user preference ({pref}) sets it" if present else "nothing sets it"
                bad_items.append(
                    (user.label, LABEL[app], f"{_vba_label(app)} not set by policy, {how}")
                )
                continue
            if _machine_only(found):
                machine_items.append((user.label, LABEL[app], f"{_vba_label(app)}"))
            if present and pref not in found.values():
                over_items.append(
                    (user.label, LABEL[app], f"user preference {pref} (overridden by policy)")
                )
    bad, overridden = _group(bad_items), _group(over_items)
    machine = _group(machine_items)
    observed["problems"] = (bad + machine)[:50]
    observed["overridden_preferences"] = overridden[:50]
    if bad:
        return Finding(
            ism="ISM-1489",
            outcome=Outcome.INEFFECTIVE,
            evidence=f"users can change the macro setting in the Trust Center: {_clip(bad)}",
            observed=observed,
        )
    if machine:
        return Finding(
            ism="ISM-1489",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"{_clip(machine)}: {MACHINE_ONLY}",
            observed=observed,
        )
    note = f"; user preferences overridden by policy: {_clip(overridden)}" if overridden else ""
    return Finding(
        ism="ISM-1489",
        outcome=Outcome.EFFECTIVE,
        evidence=(
            f"the macro setting comes from a policy root in {', '.join(LABEL[a] for a in apps)} for "
            f"{', '.join(u.label for u in snap.users)}, so users cannot change it{note}"
        ),
        observed=observed,
    )


def _all(outcome: Outcome, evidence: str, observed: dict[str, Any] | None = None) -> list[Finding]:
    return [
        Finding(ism=i, outcome=outcome, evidence=evidence, observed=observed or {})
        for i in CHECK.ism
    ]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    office = OFFICE_INSTALLED.read(outputs.get("office"))
    if isinstance(office, Unknown):
        return _all(Outcome.NO_VISIBILITY, f"Office installation not read: {office.reason}")
    absent = not_installed_reason(office)
    if absent is not None:
        return _all(Outcome.NOT_APPLICABLE, absent, office.observed())
    if not office.office16:
        return _all(
            Outcome.NO_VISIBILITY,
            f"only out-of-support Office {', '.join(office.older)} found: this check reads the 16.0 "
            f"policy paths (old Office itself fails patch_applications)",
            office.observed(),
        )
    snap = OFFICE_MACRO_SETTINGS.read(outputs.get("settings"))
    if isinstance(snap, Unknown):
        return _all(
            Outcome.NO_VISIBILITY,
            f"Office macro settings not read: {snap.reason}",
            office.observed(),
        )
    apps, _ = office.apps
    trust = OFFICE_MACRO_TRUST.read(outputs.get("trust"))
    return [
        _ism_1671(snap, apps, trust),
        _ism_1488(snap, apps, trust),
        _ism_1672(snap, outputs.get("av"), office),
        _ism_1489(snap, apps),
    ]


CHECK = Check(
    id="office_macros.windows_macro_settings",
    title="Office macros disabled, internet macros blocked, scanned by AV, locked by policy",
    strategy=Strategy.OFFICE_MACROS,
    ism=("ISM-1671", "ISM-1488", "ISM-1672", "ISM-1489"),
    platforms=frozenset({Platform.WINDOWS}),
    collect={
        "office": OFFICE_INSTALLED.cmd,
        "settings": OFFICE_MACRO_SETTINGS.cmd,
        "av": AMSI_ANTIVIRUS.cmd,
        "trust": OFFICE_MACRO_TRUST.cmd,
    },
    judge=judge,
    # Only ISM-1672 needs the antivirus read; the Trusted Locations (the same read-only snippet as
    # windows_macro_trust) bear on ISM-1671 and ISM-1488 only. ISM-1489 is the policy values alone.
    rests_on={
        "ISM-1671": ("office", "settings", "trust"),
        "ISM-1488": ("office", "settings", "trust"),
        "ISM-1672": ("office", "settings", "av"),
        "ISM-1489": ("office", "settings"),
    },
    version=2,  # v2: machine-root-only values are no_visibility; Trusted Locations are judged
)
