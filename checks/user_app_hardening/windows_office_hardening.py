"""Windows: Office prevents OLE package activation, key Office hardening settings are set, and
they come from policy (users cannot change them).

**Collected (read-only PowerShell; registry through .NET, so a missing key is not an error):**
- ``office``: is Office installed and which applications (``checks/facts/windows/office.py``; the same snippet
  as the office_macros checks).
- ``settings``: for Word, Excel and PowerPoint, ``<root>\\<app>\\Security\\PackagerPrompt`` and
  ``<root>\\<app>\\Security\\ProtectedView`` ``DisableInternetFilesInPV``,
  ``DisableAttachmentsInPV``, ``DisableUnsafeLocationsInPV``, under the policy roots
  ``HKEY_USERS\\<SID>\\Software\\Policies\\Microsoft\\Cloud\\Office\\16.0`` (Cloud Policy),
  ``HKEY_USERS\\<SID>\\Software\\Policies\\Microsoft\\Office\\16.0`` (user GPO / Intune) and
  ``HKLM\\SOFTWARE\\Policies\\Microsoft\\Office\\16.0`` (machine), plus the user-writable preference
  root ``HKEY_USERS\\<SID>\\Software\\Microsoft\\Office\\16.0`` (reported, never a pass), for every
  loaded user hive (``S-1-5-21-…``, ``S-1-12-1-…``; the scanning account's own hive is not judged;
  offline ``NTUSER.DAT`` files are never loaded).

Users judged: loaded hives other than the scanner's with an Office 16.0 profile or Office policy.
Apps judged: Word, Excel and PowerPoint as far as installed. Where several policy roots set a
value, the weakest is judged (root precedence is unverified, essential-eight.md 2.0).

**ISM-1542** (ML2-3): ``PackagerPrompt = 2`` (no prompt, the package does not run) from a policy
root for every judged app and user → effective; 0/1, another value, or not set by policy (a
preference value does not count) → ineffective.
**ISM-1859** (ML2-3; partly): ``PackagerPrompt = 2`` and Protected View on for files from the
internet, Outlook attachments and unsafe locations (the three ``Disable…InPV`` values = 0) by policy,
for every judged app and user. This is a short list of key settings from ASD's *Hardening
Microsoft 365, Office 2021, Office 2019 and Office 2016*, not a full baseline comparison.
**ISM-1823** (ML2-3; partly): every setting judged above is delivered by a policy root (whatever
its value) → effective; any of them set only as a user preference or not at all → ineffective.

no_visibility: no interactive user hive is loaded (nobody logged on: user-scope settings cannot
be read, a machine value alone is not a pass), a compliant value for a logged-on user that only
the machine policy root holds (these are User Configuration policies; that Office honours the
HKLM root for them is unverified, essential-eight.md 2.0), Office 2013/2010 only (this reads
16.0 paths), or
a read failed (PowerShell 2.0 without ``ConvertTo-Json``, access denied, timeout).
not_applicable: no Office installed. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks._office import not_installed_reason
from checks.facts.fact import Unknown
from checks.facts.windows.office import OFFICE_INSTALLED
from checks.facts.windows.office_policy import OFFICE_HARDENING_SETTINGS
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

ISMS = ("ISM-1542", "ISM-1859", "ISM-1823")
APPS = ("word", "excel", "powerpoint")
ROOTS = ("cloud", "user_policy", "machine")
ROOT_LABEL = {
    "cloud": "Cloud Policy",
    "user_policy": "user policy",
    "machine": "machine policy",
    "preference": "user preference",
}
# setting → (subkey under <app>, compliant value, what it means)
SETTINGS: dict[str, tuple[str, int, str]] = {
    "packagerprompt": ("security", 2, "OLE package activation prevented"),
    "disableinternetfilesinpv": ("security\\protectedview", 0, "Protected View for internet files"),
    "disableattachmentsinpv": (
        "security\\protectedview",
        0,
        "Protected View for Outlook attachments",
    ),
    "disableunsafelocationsinpv": (
        "security\\protectedview",
        0,
        "Protected View for unsafe locations",
    ),
}

MAX_ITEMS = 12


def _clip(items: list[str]) -> str:
    if len(items) <= MAX_ITEMS:
        return "; ".join(items)
    return "; ".join(items[:MAX_ITEMS]) + f"; and {len(items) - MAX_ITEMS} more"


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    def all_(
        outcome: Outcome, evidence: str, observed: dict[str, Any] | None = None
    ) -> list[Finding]:
        return [
            Finding(ism=i, outcome=outcome, evidence=evidence, observed=observed or {})
            for i in ISMS
        ]

    office = OFFICE_INSTALLED.read(outputs.get("office"))
    if isinstance(office, Unknown):
        return all_(Outcome.NO_VISIBILITY, f"Office installation not read: {office.reason}")
    absent = not_installed_reason(office)
    if absent is not None:
        return all_(Outcome.NOT_APPLICABLE, absent, office.observed())
    if not office.office16:
        return all_(
            Outcome.NO_VISIBILITY,
            f"only out-of-support Office ({', '.join(office.older)}) is installed; this check reads the 16.0 "
            f"policy paths (out-of-support Office fails patch_applications)",
            office.observed(),
        )
    installed, _ = office.apps
    apps = [a for a in APPS if a in installed] or list(APPS)
    read = OFFICE_HARDENING_SETTINGS.read(outputs.get("settings"))
    if isinstance(read, Unknown):
        return all_(Outcome.NO_VISIBILITY, f"Office settings not read: {read.reason}")
    users = [(u.sid, u.label) for u in read.users]
    skipped, values = list(read.skipped), read.values
    if not users:
        extra = f" (loaded hives not judged: {'; '.join(skipped)})" if skipped else ""
        return all_(
            Outcome.NO_VISIBILITY,
            "no interactive user hive is loaded (nobody logged on), so the user-scope policy roots cannot be "
            f"read; a machine policy alone is not a pass{extra}",
        )
    bad: dict[str, list[str]] = {i: [] for i in ISMS}
    machine_only: list[str] = []
    per: dict[str, dict[str, Any]] = {}
    for sid, label in users:
        per[label] = {}
        for app in apps:
            for name, (_, want, meaning) in SETTINGS.items():
                found = {
                    r: values[(None if r == "machine" else sid, r, app, name)]
                    for r in ROOTS
                    if (None if r == "machine" else sid, r, app, name) in values
                }
                pref_key = (sid, "preference", app, name)
                pref = f" (user preference {values[pref_key]})" if pref_key in values else ""
                per[label][f"{app}\\{name}"] = found or None
                where = f"{app} for {label}"
                if not found:
                    issue = f"{where}: {name} ({meaning}) not set by policy{pref}"
                    bad["ISM-1823"].append(issue)
                    bad["ISM-1859"].append(issue)
                    if name == "packagerprompt":
                        bad["ISM-1542"].append(issue)
                    continue
                wrong = {r: v for r, v in found.items() if v != want}
                if wrong:
                    text = ", ".join(f"{ROOT_LABEL[r]} {v}" for r, v in wrong.items())
                    issue = f"{where}: {name} = {text} ({want} needed: {meaning})"
                    bad["ISM-1859"].append(issue)
                    if name == "packagerprompt":
                        bad["ISM-1542"].append(issue)
                elif set(found) == {"machine"}:
                    machine_only.append(f"{where}: {name}")
    observed = {
        "users": [s for s, _ in users],
        "apps": apps,
        "policy_values": per,
        "skipped": skipped,
        "machine_root_only": machine_only[:50],
    }
    good = {
        "ISM-1542": f"PackagerPrompt = 2 (OLE packages do not activate) by policy for {', '.join(apps)}",
        "ISM-1859": (
            f"PackagerPrompt = 2 and Protected View (internet files, attachments, unsafe locations) on by "
            f"policy for {', '.join(apps)}; partly: a short list of key settings, not a full baseline comparison"
        ),
        "ISM-1823": (
            "every judged Office security setting comes from a policy root, so users cannot change it; "
            "partly: only the settings this check reads"
        ),
    }
    who = f" (users: {', '.join(label for _, label in users)})"
    findings = []
    for ism in ISMS:
        if bad[ism]:
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.INEFFECTIVE,
                    evidence=_clip(bad[ism]),
                    observed=observed,
                )
            )
        elif machine_only and (
            ism != "ISM-1542" or any("packagerprompt" in m for m in machine_only)
        ):
            findings.append(
                Finding(
                    ism=ism,
                    outcome=Outcome.NO_VISIBILITY,
                    evidence=(
                        f"set only under the machine policy root (HKLM\\SOFTWARE\\Policies\\Microsoft\\"
                        f"Office\\16.0): {_clip(machine_only)}; these are User Configuration policies, and "
                        f"that Office honours the machine root for them is unverified (essential-eight.md 2.0)"
                    ),
                    observed=observed,
                )
            )
        else:
            findings.append(
                Finding(
                    ism=ism, outcome=Outcome.EFFECTIVE, evidence=good[ism] + who, observed=observed
                )
            )
    return findings


CHECK = Check(
    id="user_app_hardening.windows_office_hardening",
    title="Office blocks OLE package activation; key security settings set and locked by policy",
    strategy=Strategy.USER_APP_HARDENING,
    ism=ISMS,
    platforms=frozenset({Platform.WINDOWS}),
    collect={"office": OFFICE_INSTALLED.cmd, "settings": OFFICE_HARDENING_SETTINGS.cmd},
    judge=judge,
    version=2,  # v2: a value set only under the machine policy root is no_visibility for users
)
