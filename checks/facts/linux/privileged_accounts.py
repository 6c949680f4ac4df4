"""Every privileged account (UID 0 and members of sudo/wheel/admin, listed or by primary group)
with its password status (``passwd -S``), ageing dates (``chage -l``) and last login
(``lastlog2`` or ``lastlog``), each line tagged ``E8_*`` (root: ``passwd -S`` and ``chage`` need
it). Dates are read in the C locale; ``lastlog`` times carry their UTC offset."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import first_line

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    )
}
_LAST = re.compile(r"\w{3} (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) ([+-]\d{4}) (\d{4})\s*$")
_CHAGE_DATE = re.compile(r"^(\w{3}) (\d{1,2}), (\d{4})$")


@dataclass(frozen=True)
class Account:
    """One privileged account: ``passwd -S`` status, ``chage -l`` dates, last login."""

    name: str
    status: str = ""
    pw_changed: datetime | None = None
    expires: datetime | None = None
    expires_never: bool = False
    last_login: datetime | None = None
    never_logged_in: bool = False
    lastlog_seen: bool = False
    errors: str = ""

    def disabled(self, now: datetime) -> bool:
        """Locked (``L``/``LK``) or expired at ``now``."""
        return self.status in ("L", "LK") or (self.expires is not None and self.expires <= now)


@dataclass(frozen=True)
class PrivilegedAccounts:
    """``accounts``: by name; ``uid0``: accounts with UID 0; ``no_lastlog``: neither lastlog2
    nor lastlog is installed."""

    accounts: dict[str, Account]
    uid0: tuple[str, ...]
    no_lastlog: bool


def _chage_date(text: str) -> datetime | None:
    m = _CHAGE_DATE.match(text.strip())
    if not m or m.group(1) not in MONTHS:
        return None
    try:
        return datetime(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)), tzinfo=UTC)
    except ValueError:
        return None


def _last_date(line: str) -> datetime | None:
    m = _LAST.search(line)
    if not m or m.group(1) not in MONTHS:
        return None
    sign = 1 if m.group(6)[0] == "+" else -1
    offset = sign * (int(m.group(6)[1:3]) * 60 + int(m.group(6)[3:5]))
    try:
        local = datetime(
            int(m.group(7)),
            MONTHS[m.group(1)],
            int(m.group(2)),
            int(m.group(3)),
            int(m.group(4)),
            int(m.group(5)),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return local - timedelta(minutes=offset)


def parse(text: str) -> PrivilegedAccounts | Unknown:
    """The ``E8_*`` sections; Unknown when refused or when root (always listed) is missing."""
    if "may not view" in text:
        return Unknown(f"refused for lack of privilege ({first_line(text)})")
    if "E8_USER root" not in text:
        return Unknown("the privileged-account listing is incomplete (no root entry)")
    drafts: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    no_lastlog = False
    for raw in text.splitlines():
        head, _, rest = raw.partition(" ")
        if head == "E8_USER":
            current = drafts.setdefault(rest.strip(), {"name": rest.strip(), "errors": ""})
        elif head == "E8_NOLASTLOG":
            no_lastlog = True
        elif current is None:
            continue
        elif head == "E8_PW":
            parts = rest.split()
            if len(parts) >= 2 and parts[0] == current["name"]:
                current["status"] = parts[1]
            else:
                current["errors"] += rest.strip()[:120] + " "
        elif head == "E8_CH":
            key, sep, value = rest.partition(":")
            if not sep:
                current["errors"] += rest.strip()[:120] + " "
                continue
            key, value = key.strip().lower(), value.strip()
            if key == "last password change":
                current["pw_changed"] = _chage_date(value)
            elif key == "account expires":
                current["expires_never"] = value == "never"
                current["expires"] = _chage_date(value)
        elif head in ("E8_LL", "E8_LL2"):
            line = rest.strip()
            if not line or line.startswith("Username"):
                continue
            if line.split()[0] != current["name"]:
                current["errors"] += line[:120] + " "
                continue
            current["lastlog_seen"] = True
            if "Never logged in" in line:
                current["never_logged_in"] = True
            else:
                current["last_login"] = _last_date(line)
    uid0 = tuple(ln.split()[1] for ln in text.splitlines() if ln.startswith("E8_UID0 "))
    accounts = {name: Account(**draft) for name, draft in drafts.items()}
    return PrivilegedAccounts(accounts=accounts, uid0=uid0, no_lastlog=no_lastlog)


PRIVILEGED_ACCOUNTS = sh_fact(
    "linux.privileged_accounts",
    "g=$(getent group sudo wheel admin); "
    "awk -F: '$3==0{print \"E8_UID0 \" $1}' /etc/passwd; "
    "for u in $( { printf '%s\\n' \"$g\" | cut -d: -f4 | tr ',' '\\n'; "
    "for i in $(printf '%s\\n' \"$g\" | cut -d: -f3); do "
    "awk -F: -v i=\"$i\" '$4==i{print $1}' /etc/passwd; done; "
    "awk -F: '$3==0{print $1}' /etc/passwd; } | grep . | sort -u); do "
    'echo "E8_USER $u"; '
    "LC_ALL=C passwd -S \"$u\" 2>&1 | sed 's/^/E8_PW /'; "
    "LC_ALL=C chage -l \"$u\" 2>&1 | sed 's/^/E8_CH /'; "
    "if command -v lastlog2 >/dev/null; then "
    "LC_ALL=C lastlog2 -u \"$u\" 2>&1 | sed 's/^/E8_LL2 /'; "
    "elif command -v lastlog >/dev/null; then "
    "LC_ALL=C lastlog -u \"$u\" 2>&1 | sed 's/^/E8_LL /'; "
    "else echo E8_NOLASTLOG; fi; done",
    parse,
    root=True,
    ok_codes=range(256),  # the loop's status is the last sed's; the text says what failed
    stdout_denial=True,
)
