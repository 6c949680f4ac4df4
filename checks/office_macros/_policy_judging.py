"""Reading the Office macro policy snapshot for ``windows_macro_settings``: the value ranks, the
weakest value across policy roots, how findings are worded and grouped, the antivirus read, and
the verdict ladder every macro control climbs. Pure functions only; no check lives here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from checks._office import DEFENDER_AMSI_CLSID, defender_active
from checks.facts.fact import Unknown
from checks.facts.windows.office_policy import AMSI_ANTIVIRUS, POLICY_ROOTS, OfficePolicy
from checks.office_macros._trusted_locations import ROOT_LABEL
from scanner.checking.api import Finding, Output
from scanner.model.vocabulary import Outcome

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


def vba_name(app: str) -> str:
    return "level" if app == "outlook" else "vbawarnings"


def vba_label(app: str) -> str:
    return "level" if app == "outlook" else "VBAWarnings"


def vba_rank(v: int | None) -> int:
    """Higher is safer: 4 > 3 > 2 > anything else (1 = enable all, unknown)."""
    return {4: 3, 3: 2, 2: 1}.get(v if v is not None else -1, 0)


def scope_rank(v: int | None) -> int:
    return {2: 2, 1: 1}.get(v if v is not None else -1, 0)


def block_rank(v: int | None) -> int:
    return 1 if v == 1 else 0


Issue = tuple[str, str, str]  # (user, application, what is wrong)
MACHINE_ONLY = (
    "set only under the machine policy root (HKLM\\SOFTWARE\\Policies\\Microsoft\\Office\\16.0): "
    "these are User Configuration policies, and that Office honours the machine root for them is "
    "unverified (essential-eight.md 2.0), so the setting is not shown to apply to the user"
)


def machine_only(found: Mapping[str, int | None]) -> bool:
    """The value comes from the machine root alone (no Cloud Policy or user policy value)."""
    return set(found) == {"machine"}


def group(items: list[Issue]) -> list[str]:
    """One line per user and finding, naming every application it concerns."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for who, app, detail in items:
        grouped.setdefault((who, detail), []).append(app)
    return [f"{', '.join(apps)} for {who}: {detail}" for (who, detail), apps in grouped.items()]


def clip(items: list[str]) -> str:
    if len(items) <= MAX_ITEMS:
        return "; ".join(items)
    return "; ".join(items[:MAX_ITEMS]) + f"; and {len(items) - MAX_ITEMS} more"


def weakest(
    found: dict[str, int | None], rank: Callable[[int | None], int]
) -> tuple[str, int | None]:
    root = min(found, key=lambda r: (rank(found[r]), POLICY_ROOTS.index(r)))
    return root, found[root]


def describe(
    found: dict[str, int | None], meaning: Mapping[int, str], rank: Callable[[int | None], int]
) -> str:
    root, value = weakest(found, rank)
    meant = meaning.get(value, "unknown value") if value is not None else "unreadable"
    text = f"{value} ({meant}) from {ROOT_LABEL[root]}"
    if len(set(found.values())) > 1:
        others = ", ".join(f"{ROOT_LABEL[r]} {v}" for r, v in found.items() if r != root)
        text += f"; roots disagree ({others}), the weakest is judged"
    return text


def pref_note(snap: OfficePolicy, sid: str | None, app: str, name: str) -> str:
    if sid is None:
        return ""
    present, value = snap.get(sid, "preference", app, name)
    return f" (user preference {value})" if present else ""


def subjects(snap: OfficePolicy) -> list[tuple[str | None, str]]:
    """(sid, label) pairs to judge: each judged user, or the machine root alone when there is none."""
    if snap.users:
        return [(u.sid, u.label) for u in snap.users]
    return [(None, "all users (machine policy)")]


def no_user_reason(snap: OfficePolicy) -> str:
    skipped = f" (loaded hives not judged: {'; '.join(snap.skipped)})" if snap.skipped else ""
    return (
        "no interactive user hive is loaded (nobody logged on), so the user-scope policy roots "
        f"cannot be read; a compliant machine policy alone is not a pass{skipped}"
    )


def observed_values(
    snap: OfficePolicy, apps: list[str], name_of: Callable[[str], str], problems: list[str]
) -> dict[str, Any]:
    per: dict[str, dict[str, Any]] = {}
    for sid, label in subjects(snap):
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


def verdict(ism: str, observed: dict[str, Any], *rungs: tuple[Outcome, str | None]) -> Finding:
    """The first rung that applies (its evidence is not None): every control here climbs the same
    ladder — problems found, ineffective; no user judged, locations not judged or values set only
    in the machine root, no_visibility; and effective only as the last rung."""
    outcome, evidence = next((o, e) for o, e in rungs if e is not None)
    return Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed)


def antivirus(out: Output | None) -> tuple[bool | None, str]:
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
