"""Directory searches the engine itself reads, declared once here for the engine and the checks.

The computers search lists every computer object of the domain with the attributes the LAPS
check and the fleet coverage (:mod:`scanner.assess.coverage`) read. The check fact
``directory.computers`` (``checks/facts/directory/objects.py``) uses this declaration, so a scan
runs the search once; the plan also asks for it as the engine's ``e8scan.coverage`` probe on every
directory target (:mod:`scanner.checking.role_probe`), so coverage works whatever ``--checks``
selected. No attribute here is a password attribute (a test keeps it so).
"""

from __future__ import annotations

from scanner.checking.api import Cmd
from scanner.model.ldap_search import LdapSearch

COMPUTERS_SEARCH = Cmd(
    line=LdapSearch(
        "{defaultNamingContext}",
        "sub",
        "(objectClass=computer)",
        (
            "sAMAccountName",
            "dNSHostName",
            "objectSid",
            "primaryGroupID",
            "userAccountControl",
            "operatingSystem",
            "operatingSystemVersion",
            "lastLogonTimestamp",
            "whenCreated",
            "ms-Mcs-AdmPwdExpirationTime",
            "msLAPS-PasswordExpirationTime",
        ),
    ).line()
)
