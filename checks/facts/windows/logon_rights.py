"""The winning Group Policy logon rights of a Windows host, from the Resultant Set of Policy.

``logon_rights.ps1`` reads ``RSOP_UserPrivilegeRight`` (namespace ``root\\rsop\\computer``,
``precedence = 1``) for ``SeInteractiveLogonRight``, ``SeRemoteInteractiveLogonRight``,
``SeDenyInteractiveLogonRight`` and ``SeDenyRemoteInteractiveLogonRight``, translating each
listed account on the host between name and SID; and ``Win32_ComputerSystem`` (domain
membership), ``Win32_OperatingSystem.ProductType``. A failed RSoP read is caught on the host and
reported in :attr:`LogonRights.error` (a workgroup host has no RSoP, which is not a failure for
every use), so it is a value here. A right Group Policy does not set is absent from ``rights``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import json_object, to_int
from checks.facts.windows.powershell import as_list, ps_fact


@dataclass(frozen=True)
class Principal:
    entry: str  # as the policy lists it (a name, or ``*S-1-…``)
    sid: str  # upper case; "" when it did not translate
    name: str  # DOMAIN\name; "" when it did not translate

    @property
    def label(self) -> str:
        return self.name or self.entry


@dataclass(frozen=True)
class LogonRights:
    computer: str
    product_type: int | None
    part_of_domain: bool | None
    domain: str
    rights: dict[str, tuple[Principal, ...]]  # right -> holders; only rights the policy sets
    error: str | None  # why RSoP could not be read, as the host reported it


def parse(data: Any) -> LogonRights | Unknown:
    data = json_object(data)
    rights: dict[str, tuple[Principal, ...]] = {}
    for r in as_list(data.get("rights")):
        if not isinstance(r, dict) or not r.get("right"):
            continue
        rights[str(r["right"])] = tuple(
            Principal(
                entry=str(a.get("entry") or ""),
                sid=str(a.get("sid") or "").upper(),
                name=str(a.get("name") or ""),
            )
            for a in as_list(r.get("accounts"))
            if isinstance(a, dict)
        )
    member = data.get("part_of_domain")
    return LogonRights(
        computer=str(data.get("computer") or ""),
        product_type=to_int(data.get("product_type")),
        part_of_domain=None if member is None else bool(member),
        domain=str(data.get("domain") or ""),
        rights=rights,
        error=str(data["error"]) if data.get("error") else None,
    )


LOGON_RIGHTS = ps_fact("windows.logon_rights", "checks.facts.windows", "logon_rights.ps1", parse)
