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

# Why one ~430-line module (not in the docstring, which the check catalogue prints): the house
# rule is one check per module, and half of it is the docstring an assessor reads.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks._office import not_installed_reason
from checks.facts.fact import Unknown
from checks.facts.windows.office import LABEL, OFFICE_INSTALLED, Office
from checks.facts.windows.office_policy import (
    AMSI_ANTIVIRUS,
    OFFICE_MACRO_SETTINGS,
    OFFICE_MACRO_TRUST,
    MacroTrust,
    OfficePolicy,
)
from checks.office_macros._policy_judging import (
    MACHINE_ONLY,
    OUTLOOK_MEANING,
    SCOPE_MEANING,
    VBA_MEANING,
    Issue,
    antivirus,
    block_rank,
    clip,
    describe,
    group,
    machine_only,
    no_user_reason,
    observed_values,
    pref_note,
    scope_rank,
    subjects,
    vba_label,
    vba_name,
    vba_rank,
    verdict,
    weakest,
)
from checks.office_macros._trusted_locations import open_locations
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

BLOCK_APPS = ("word", "excel", "powerpoint", "access", "visio")


def _ism_1671(snap: OfficePolicy, apps: list[str], trust: MacroTrust | Unknown) -> Finding:
    bad_items: list[Issue] = []
    org_items: list[Issue] = []
    machine_items: list[Issue] = []
    for sid, label in subjects(snap):
        for app in apps:
            found = snap.policy(sid, app, vba_name(app))
            meaning = OUTLOOK_MEANING if app == "outlook" else VBA_MEANING
            if not found:
                if sid is not None:
                    pref = pref_note(snap, sid, app, vba_name(app))
                    bad_items.append(
                        (label, LABEL[app], f"{vba_label(app)} not set by any policy root{pref}")
                    )
                continue
            _, value = weakest(found, vba_rank)
            item = (label, LABEL[app], f"{vba_label(app)} {describe(found, meaning, vba_rank)}")
            if vba_rank(value) == 0:
                bad_items.append(item)
            elif vba_rank(value) < 3:
                org_items.append(item)
            elif sid is not None and machine_only(found):
                machine_items.append((label, LABEL[app], f"{vba_label(app)} 4"))
    located, blind = open_locations(trust, snap.users, apps)
    bad, org = group(bad_items + located), group(org_items)
    machine = group(machine_items)
    observed = observed_values(snap, apps, vba_name, bad + blind + machine + org)
    users = ", ".join(u.label for u in snap.users)
    return verdict(
        "ISM-1671",
        observed,
        (Outcome.INEFFECTIVE, f"macros are not disabled: {clip(bad)}" if bad else None),
        (Outcome.NO_VISIBILITY, None if snap.users else no_user_reason(snap)),
        (
            Outcome.NO_VISIBILITY,
            f"macros run from any Trusted Location whatever VBAWarnings says, and these could "
            f"not be judged: {clip(blind)}"
            if blind
            else None,
        ),
        (Outcome.NO_VISIBILITY, f"{clip(machine)}: {MACHINE_ONLY}" if machine else None),
        (
            Outcome.NO_VISIBILITY,
            f"macros can run for some users, which is right only for users with a demonstrated "
            f"business requirement (organisational register, not on the host): {clip(org)}"
            if org
            else None,
        ),
        (
            Outcome.EFFECTIVE,
            f"macros disabled without notification by policy (VBAWarnings/level 4) in "
            f"{', '.join(LABEL[a] for a in apps)} for {users}; {_TL_OK}",
        ),
    )


_TL_OK = (
    "no Trusted Location a user can write to (disabled by user policy, or only folders whose ACL "
    "denies write to broad groups)"
)


def _ism_1488(snap: OfficePolicy, apps: list[str], trust: MacroTrust | Unknown) -> Finding:
    judged = [a for a in apps if a in BLOCK_APPS]
    name = "blockcontentexecutionfrominternet"
    observed = observed_values(snap, judged, lambda _: name, [])
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
    for sid, label in subjects(snap):
        for app in judged:
            found = snap.policy(sid, app, name)
            if not found:
                if sid is not None:
                    items.append(
                        (
                            label,
                            LABEL[app],
                            f"not set by any policy root{pref_note(snap, sid, app, name)}",
                        )
                    )
                continue
            _, value = weakest(found, block_rank)
            if value != 1:
                meaning = {0: "not blocked", 1: "blocked"}
                items.append((label, LABEL[app], describe(found, meaning, block_rank)))
            elif sid is not None and machine_only(found):
                machine_items.append((label, LABEL[app], "blockcontentexecutionfrominternet 1"))
    located, blind = open_locations(trust, snap.users, judged)
    bad, machine = group(items + located), group(machine_items)
    observed["problems"] = (bad + blind + machine)[:50]
    return verdict(
        "ISM-1488",
        observed,
        (
            Outcome.INEFFECTIVE,
            f"macros in files from the internet are not blocked: {clip(bad)}" if bad else None,
        ),
        (Outcome.NO_VISIBILITY, None if snap.users else no_user_reason(snap)),
        (
            Outcome.NO_VISIBILITY,
            f"files in a Trusted Location run their macros even from the internet, and these "
            f"could not be judged: {clip(blind)}"
            if blind
            else None,
        ),
        (Outcome.NO_VISIBILITY, f"{clip(machine)}: {MACHINE_ONLY}" if machine else None),
        (
            Outcome.EFFECTIVE,
            f"blockcontentexecutionfrominternet = 1 by policy in {', '.join(LABEL[a] for a in judged)} "
            f"for {', '.join(u.label for u in snap.users)}; {_TL_OK}",
        ),
    )


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
    for sid, label in subjects(snap):
        found = snap.policy(sid, "common", name)
        if not found:
            if sid is not None:
                bad.append(
                    f"{label}: not set by any policy root (Office then scans low-trust documents only)"
                    f"{pref_note(snap, sid, 'common', name)}"
                )
            continue
        _, value = weakest(found, scope_rank)
        if value != 2:
            bad.append(f"{label}: {describe(found, SCOPE_MEANING, scope_rank)}")
        elif sid is not None and machine_only(found):
            machine.append(label)
    observed = observed_values(snap, ["common"], lambda _: name, bad + machine)
    active, text = antivirus(av) if snap.users and not bad and not machine else (None, "")
    if text:
        observed["antivirus"] = text
    users = ", ".join(u.label for u in snap.users)
    return verdict(
        "ISM-1672",
        observed,
        (
            Outcome.INEFFECTIVE,
            f"macro runtime scan scope is not 'all documents' (2): {clip(bad)}" if bad else None,
        ),
        (Outcome.NO_VISIBILITY, None if snap.users else no_user_reason(snap)),
        (
            Outcome.NO_VISIBILITY,
            f"macroruntimescanscope 2 for {clip(machine)}: {MACHINE_ONLY}" if machine else None,
        ),
        (
            Outcome.NO_VISIBILITY,
            f"macroruntimescanscope = 2 by policy for {users}, but {text}"
            if active is None
            else None,
        ),
        (
            Outcome.INEFFECTIVE,
            None
            if active
            else f"macroruntimescanscope = 2 by policy for {users}, but no antivirus receives the "
            f"scans: {text}",
        ),
        (
            Outcome.EFFECTIVE,
            f"macro runtime scanning of all documents by policy for {users}; {text}",
        ),
    )


def _ism_1489(snap: OfficePolicy, apps: list[str]) -> Finding:
    observed = observed_values(snap, apps, vba_name, [])
    if not snap.users:
        return Finding(
            ism="ISM-1489",
            outcome=Outcome.NO_VISIBILITY,
            evidence=no_user_reason(snap),
            observed=observed,
        )
    bad_items: list[Issue] = []
    over_items: list[Issue] = []
    machine_items: list[Issue] = []
    for user in snap.users:
        for app in apps:
            name = vba_name(app)
            found = snap.policy(user.sid, app, name)
            present, pref = snap.get(user.sid, "preference", app, name)
            if not found:
                how = f"only a user preference ({pref}) sets it" if present else "nothing sets it"
                bad_items.append(
                    (user.label, LABEL[app], f"{vba_label(app)} not set by policy, {how}")
                )
                continue
            if machine_only(found):
                machine_items.append((user.label, LABEL[app], f"{vba_label(app)}"))
            if present and pref not in found.values():
                over_items.append(
                    (user.label, LABEL[app], f"user preference {pref} (overridden by policy)")
                )
    bad, overridden = group(bad_items), group(over_items)
    machine = group(machine_items)
    observed["problems"] = (bad + machine)[:50]
    observed["overridden_preferences"] = overridden[:50]
    note = f"; user preferences overridden by policy: {clip(overridden)}" if overridden else ""
    return verdict(
        "ISM-1489",
        observed,
        (
            Outcome.INEFFECTIVE,
            f"users can change the macro setting in the Trust Center: {clip(bad)}" if bad else None,
        ),
        (Outcome.NO_VISIBILITY, f"{clip(machine)}: {MACHINE_ONLY}" if machine else None),
        (
            Outcome.EFFECTIVE,
            f"the macro setting comes from a policy root in {', '.join(LABEL[a] for a in apps)} for "
            f"{', '.join(u.label for u in snap.users)}, so users cannot change it{note}",
        ),
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
