"""Database servers on the host: which engines run (``ps -eo comm=``) and PostgreSQL's
``pg_hba.conf`` at the packaged locations (root; non-comment lines, ``### <path>`` per file).
``hba_file`` set elsewhere in postgresql.conf and ``include`` directives are not followed."""

from __future__ import annotations

from checks.facts.fact import Unknown
from checks.facts.linux.sections import sections
from checks.facts.linux.shell import sh_fact

ENGINE_NAMES = frozenset({"postgres", "postmaster", "mysqld", "mariadbd"})


def parse_engines(text: str) -> frozenset[str] | Unknown:
    """The running engines' process names (empty when none runs)."""
    names = frozenset(ln.strip() for ln in text.splitlines() if ln.strip())
    if not names <= ENGINE_NAMES:
        return Unknown(f"unexpected process names: {', '.join(sorted(names - ENGINE_NAMES))[:160]}")
    return names


def parse_pg_hba(text: str) -> dict[str, list[str]]:
    """pg_hba.conf path → its non-comment lines (empty when no file exists)."""
    return sections(text)


DATABASE_ENGINES = sh_fact(
    "linux.database_engines",
    "ps -eo comm= | grep -xE 'postgres|postmaster|mysqld|mariadbd' | sort -u; true",
    parse_engines,
)
PG_HBA = sh_fact(
    "linux.pg_hba",
    "for f in /etc/postgresql/*/*/pg_hba.conf /var/lib/pgsql/data/pg_hba.conf "
    "/var/lib/pgsql/*/data/pg_hba.conf /var/lib/postgresql/*/data/pg_hba.conf; do "
    '[ -f "$f" ] && { echo "### $f"; grep -Ev \'^[[:space:]]*(#|$)\' "$f"; }; done; true',
    parse_pg_hba,
    root=True,
    stdout_denial=True,
)
