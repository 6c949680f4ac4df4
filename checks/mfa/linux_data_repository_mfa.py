"""Linux: do database servers on this host require multi-factor authentication over the network?

ISM-1505 (ML3, MFA for users of data repositories) and ISM-1894 (ML3, that MFA is
phishing-resistant) are mostly enforced outside a host (identity provider, application, file
share). The host-side part this check reads is the **database servers it runs**:

**Collected:** running database server processes (``ps -eo comm=`` matched to ``postgres``,
``postmaster``, ``mysqld``, ``mariadbd``) and, as root, the non-comment lines of PostgreSQL's
``pg_hba.conf`` at the packaged locations (``/etc/postgresql/*/*/``, ``/var/lib/pgsql/data/``,
``/var/lib/pgsql/*/data/``, ``/var/lib/postgresql/*/data/``).

**PostgreSQL**, judged on the network lines (``host``, ``hostssl``, ``hostnossl``,
``hostgssenc``, ``hostnogssenc``; ``reject`` lines skipped; ``local`` socket lines and loopback
addresses (127.0.0.0/8, ::1, ``localhost``) are reached only after a host logon, which the logon
MFA checks judge):
- MFA: a password method (``scram-sha-256``, ``md5``, ``password``, ``ldap``) combined with
  ``clientcert=verify-ca``/``verify-full`` — something known plus a client certificate;
- single factor: ``trust`` (none), a password method alone, ``cert`` alone;
- not decidable: ``pam``, ``radius``, ``gss``, ``sspi``, ``bsd`` without ``clientcert`` (the
  second factor, if any, lives in the PAM/RADIUS/Kerberos back end).
ISM-1505: ineffective when any network line is single factor; no_visibility when any is not
decidable; effective when all are MFA; not_applicable when PostgreSQL only accepts local
socket connections. ISM-1894: ineffective when ISM-1505 is; otherwise no_visibility (whether the
client key sits on a smart card or security key is not visible) — never effective from here.
**MySQL / MariaDB**: each account's authentication plugin (``authentication_fido``,
``authentication_webauthn``, ``pam``…) and MySQL's ``authentication_policy`` live in the
``mysql.user`` table, which needs a database login: no_visibility when one runs.
No database server running: not_applicable for both — only when ``ps`` listed processes (its
``E8_PS_OK`` line); a ``ps`` that listed nothing (BusyBox has no ``-e``) is no_visibility, not
"no database". A sudo refusal or timeout: no_visibility.
Caveats: ``hba_file`` set elsewhere in postgresql.conf and ``include`` directives (PostgreSQL 16+)
are not followed; other data repositories (file shares, object stores, SaaS) are not visible
from a host. Evidence grade: good.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.linux.databases import DATABASE_ENGINES, PG_HBA
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

CHECK_ISM = ("ISM-1505", "ISM-1894")
NETWORK = {"host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"}
PASSWORD = {"scram-sha-256", "md5", "password", "ldap"}
UNDECIDABLE = {"pam", "radius", "gss", "sspi", "bsd"}
LOOPBACK = re.compile(r"^(127\.[0-9.]+(/(8|9|[12][0-9]|3[0-2]))?|::1(/128)?|localhost)$")
METHODS = PASSWORD | UNDECIDABLE | {"trust", "reject", "cert", "peer", "ident"}


def classify(line: str) -> tuple[str, str] | None:
    """(kind, description) of one pg_hba network line: mfa, single, unknown; None if not judged."""
    fields = line.split()
    if not fields or fields[0] not in NETWORK:
        return None
    if len(fields) > 3 and LOOPBACK.match(fields[3]):
        return None
    method_at = next((i for i, f in enumerate(fields) if i >= 3 and f in METHODS), None)
    if method_at is None:
        return "unknown", f"method not recognised: {line.strip()[:120]}"
    method = fields[method_at]
    options = " ".join(fields[method_at + 1 :])
    clientcert = re.search(r"clientcert=(verify-ca|verify-full|1)\b", options) is not None
    if method == "reject":
        return None
    if method in PASSWORD and clientcert:
        return "mfa", f"{method} + clientcert"
    if method in UNDECIDABLE and not clientcert:
        return "unknown", f"{method} (second factor, if any, in its back end)"
    if method in UNDECIDABLE:
        return "mfa", f"{method} + clientcert"
    return "single", method if method != "trust" else "trust (no authentication)"


def _pg(files: Mapping[str, list[str]]) -> tuple[str, list[str]]:
    kinds: list[str] = []
    described: list[str] = []
    for lines in files.values():
        for line in lines:
            got = classify(line)
            if got is None:
                continue
            kind, desc = got
            kinds.append(kind)
            described.append(f"{' '.join(line.split()[:4])} -> {desc}")
    if not files:
        return "absent", []
    if not kinds:
        return "local_only", []
    for worst in ("single", "unknown"):
        if worst in kinds:
            return worst, described
    return "mfa", described


def _not_read(why: str) -> list[Finding]:
    return [
        Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=f"not read: {why}")
        for i in CHECK_ISM
    ]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    engines = DATABASE_ENGINES.read(outputs.get("engines"))
    hba = PG_HBA.read(outputs.get("pg_hba"))
    if isinstance(engines, Unknown):
        return _not_read(engines.reason)
    if isinstance(hba, Unknown):
        return _not_read(hba.reason)
    pg_running = bool(engines & {"postgres", "postmaster"})
    my_running = sorted(engines & {"mysqld", "mariadbd"})
    pg_state, lines = _pg(hba) if pg_running else ("absent", [])
    observed: dict[str, Any] = {"engines": sorted(engines), "postgresql": pg_state, "pg_hba": lines}
    if not pg_running and not my_running:
        return [
            Finding(
                ism=i,
                outcome=Outcome.NOT_APPLICABLE,
                evidence="no database server runs on this host (other data repositories are "
                "not visible from a host)",
                observed=observed,
            )
            for i in CHECK_ISM
        ]
    notes: list[str] = []
    mfa_out: Outcome = Outcome.NOT_APPLICABLE
    if pg_running:
        if pg_state == "absent":
            mfa_out = Outcome.NO_VISIBILITY
            notes.append("PostgreSQL runs but no pg_hba.conf was found at the packaged paths")
        elif pg_state == "local_only":
            notes.append("PostgreSQL accepts local socket connections only (host logon applies)")
        elif pg_state == "single":
            mfa_out = Outcome.INEFFECTIVE
            notes.append("PostgreSQL accepts single-factor network logons: " + "; ".join(lines))
        elif pg_state == "unknown":
            mfa_out = Outcome.NO_VISIBILITY
            notes.append(
                "PostgreSQL network logons use a back end whose factors are not "
                "visible: " + "; ".join(lines)
            )
        else:
            mfa_out = Outcome.EFFECTIVE
            notes.append(
                "PostgreSQL network logons need a password and a client certificate: "
                + "; ".join(lines)
            )
    if my_running:
        notes.append(
            f"{', '.join(my_running)} runs: account authentication plugins live in "
            "mysql.user (needs a database login), not visible"
        )
        if mfa_out in (Outcome.EFFECTIVE, Outcome.NOT_APPLICABLE):
            mfa_out = Outcome.NO_VISIBILITY
    text = "; ".join(notes)
    if mfa_out == Outcome.EFFECTIVE:
        pr_out = Outcome.NO_VISIBILITY
        pr_text = f"{text}; whether client keys sit on a smart card or security key is not visible"
        text = "host-side part: " + text
    else:
        pr_out = mfa_out
        pr_text = text
    return [
        Finding(ism="ISM-1505", outcome=mfa_out, evidence=text, observed=observed),
        Finding(ism="ISM-1894", outcome=pr_out, evidence=pr_text, observed=observed),
    ]


CHECK = Check(
    id="mfa.linux_data_repository_mfa",
    title="Linux database servers require multi-factor authentication for network logons",
    strategy=Strategy.MFA,
    ism=CHECK_ISM,
    platforms=frozenset({Platform.LINUX}),
    collect={"engines": DATABASE_ENGINES.cmd, "pg_hba": PG_HBA.cmd},
    judge=judge,
    version=2,  # v2: an empty process listing (BusyBox ps) is no_visibility, not "no database"
)
