"""Database servers on the host: which engines run (``ps -eo comm=``, after an ``E8_PS_OK`` line
that shows ps listed processes) and PostgreSQL's
``pg_hba.conf`` at the packaged locations (root; non-comment lines, ``### <path>`` per file).
``hba_file`` set elsewhere in postgresql.conf and ``include`` directives are not followed."""

from __future__ import annotations

from checks.facts.fact import Unknown
from checks.facts.linux.sections import sections
from checks.facts.linux.shell import sh_fact

ENGINE_NAMES = frozenset({"postgres", "postmaster", "mysqld", "mariadbd"})
PS_OK = "E8_PS_OK"


def parse_engines(text: str) -> frozenset[str] | Unknown:
    """The running engines' process names (empty when none runs). ``E8_PS_OK`` first: ``ps``
    succeeded and listed processes (it always lists at least itself); without it an empty match
    is not "no database" — BusyBox ``ps`` has no ``-e``/``-o comm=``, and its error goes to
    stderr while grep prints nothing."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != PS_OK:
        return Unknown(
            "ps -eo comm= listed no processes (a ps without -e / -o comm=, e.g. BusyBox)"
        )
    names = frozenset(lines[1:])
    if not names <= ENGINE_NAMES:
        return Unknown(f"unexpected process names: {', '.join(sorted(names - ENGINE_NAMES))[:160]}")
    return names


def parse_pg_hba(text: str) -> dict[str, list[str]]:
    """pg_hba.conf path → its non-comment lines (empty when no file exists)."""
    return sections(text)


DATABASE_ENGINES = sh_fact(
    "linux.database_engines",
    'p=$(ps -eo comm=) && [ -n "$p" ] && echo E8_PS_OK && printf \'%s\\n\' "$p" | '
    "grep -xE 'postgres|postmaster|mysqld|mariadbd' | sort -u; true",
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
