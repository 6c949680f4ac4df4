"""A host's role, resolved before judging: the inventory's ``e8_role``, else the host's own report.

Pure: a function of the raw record (its stored vars and the output of the role probes of
:mod:`scanner.checking.role_probe`). The rule:

1. ``e8_role`` in the inventory wins (source ``inventory``). When the host reports something
   else, ``note`` says so, and the results carry it.
2. Otherwise the host's report: Windows ``Win32_OperatingSystem.ProductType`` 1 → workstation,
   2 (domain controller) or 3 → server; Linux ``systemctl get-default`` printing
   ``graphical.target`` → workstation, any other target → server (source ``host: …``).
3. Otherwise server, with the reason (source ``default: server (…)``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from scanner.checking.role_probe import ROLE_PROBES
from scanner.inventory.profile import HostProfile, parse_profile
from scanner.model.vocabulary import Platform, Reach, Role
from scanner.record.raw import HostRecord

_PRODUCT_TYPES = {1: (Role.WORKSTATION, ""), 2: (Role.SERVER, " (domain controller)")}
_PRODUCT_TYPES[3] = (Role.SERVER, "")
_NAMES = {
    Platform.WINDOWS: "Win32_OperatingSystem",
    Platform.LINUX: "systemctl get-default",
    Platform.DIRECTORY: "rootDSE",
}


@dataclass(frozen=True, slots=True)
class ResolvedRole:
    """The role judges use, where it came from, and any disagreement with the host."""

    role: Role
    source: str
    note: str | None = None


def record_profile(rec: HostRecord) -> HostProfile:
    """The typed profile of the vars stored in the raw record (InputError when one is bad)."""
    return parse_profile(rec.vars, lambda name: f"host {rec.name} (vars in the raw record)")


def reported_role(rec: HostRecord) -> tuple[Role | None, str]:
    """What the host says it is, with the evidence; ``(None, why not)`` when it cannot say."""
    if rec.reach is not Reach.OK:
        return None, "the host was not reached"
    probe, name = ROLE_PROBES[rec.platform], _NAMES[rec.platform]
    out = next((c for c in rec.commands if c.command == probe.line), None)
    if out is None:
        return None, f"{name} is not in the raw record"
    text = out.stdout.decode("utf-8", "replace").strip().lstrip("\ufeff")
    if not out.ran or out.timed_out or out.exit_code != 0 or not text:
        return None, f"{name} gave no answer (exit {out.exit_code})"
    if rec.platform is Platform.WINDOWS:
        return _windows(text)
    target = text.splitlines()[0].strip()
    role = Role.WORKSTATION if target == "graphical.target" else Role.SERVER
    return role, f"systemctl get-default={target}"


def _windows(text: str) -> tuple[Role | None, str]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, "Win32_OperatingSystem output is not JSON"
    if isinstance(data, list) and data:
        data = data[0]
    value = data.get("ProductType") if isinstance(data, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value in _PRODUCT_TYPES:
        role, what = _PRODUCT_TYPES[value]
        return role, f"ProductType={value}{what}"
    return None, f"unknown Win32_OperatingSystem ProductType {value!r}"


def resolve_role(rec: HostRecord, profile: HostProfile) -> ResolvedRole:
    """The role of one host (see the module docstring for the rule)."""
    if rec.platform is Platform.DIRECTORY:
        # A domain has no role; no control a directory check judges depends on one.
        return ResolvedRole(Role.SERVER, "directory (a domain, not a host)")
    reported, evidence = reported_role(rec)
    if profile.e8_role is not None:
        note = None
        if reported is not None and reported is not profile.e8_role:
            note = (
                f"the inventory's e8_role={profile.e8_role.value} wins over the host's own report "
                f"({evidence}: {reported.value})"
            )
        return ResolvedRole(profile.e8_role, "inventory", note)
    if reported is not None:
        return ResolvedRole(reported, f"host: {evidence}")
    return ResolvedRole(Role.SERVER, f"default: server ({evidence})")
