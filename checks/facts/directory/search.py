"""Reading one search's output: its entries, or why they cannot be known.

Entries carry their attributes with lower-cased names (LDAP attribute names are
case-insensitive; a server may answer ``samaccountname`` for ``sAMAccountName``). An attribute
the server did not return is absent: for a search that asked for it, that means "no value" —
unless the account could not read it, which LDAP does not say. Judges that need a value to be
effective therefore ask for positive values, never for absence, except where the ISM control is
broken by a value being present (a mailbox on a privileged account).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from checks.facts.fact import Unknown
from checks.facts.reading import NOT_RUN, TIMED_OUT
from scanner.checking.api import Output

FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
NEVER = 0x7FFFFFFFFFFFFFFF  # accountExpires "never" (as is 0)


@dataclass(frozen=True)
class Entry:
    """One directory object: its DN and its attributes (names lower-cased, values as text)."""

    dn: str
    attrs: dict[str, list[Any]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.attrs.get(name.lower())
        if not values:
            return None
        v = values[0]
        return v if isinstance(v, str) else None

    def all(self, name: str) -> list[str]:
        return [v for v in self.attrs.get(name.lower(), []) if isinstance(v, str)]

    def integer(self, name: str) -> int | None:
        text = self.first(name)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            return None

    @property
    def name(self) -> str:
        return self.first("sAMAccountName") or self.dn


def entries(out: Output) -> list[Entry] | Unknown:
    """The entries a search returned, or why there are none to trust.

    Truncated output (the cap, or the server's size limit), a timeout, a result code other than
    success, or output that is not the transport's JSON are each Unknown with the reason: a list
    cut short can hide the one account that fails a control.
    """
    if not out.ran:
        return Unknown(NOT_RUN)
    if out.timed_out:
        return Unknown(TIMED_OUT)
    if out.exit_code != 0:
        why = out.err.strip().splitlines()[0][:200] if out.err.strip() else ""
        return Unknown(
            f"the search failed (LDAP result {out.exit_code}{': ' + why if why else ''})"
        )
    if out.truncated:
        return Unknown("the search's answer was cut short (output cap or the server's size limit)")
    try:
        doc = json.loads(out.text)
    except (ValueError, RecursionError):
        return Unknown("the search's output is not the expected JSON")
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        return Unknown("the search's output has no entry list")
    found: list[Entry] = []
    for item in doc["entries"]:
        if not isinstance(item, dict) or not isinstance(item.get("dn"), str):
            return Unknown("an entry of the search has no DN")
        raw = item.get("attributes")
        if not isinstance(raw, dict):
            return Unknown(f"entry {item['dn']} has no attribute map")
        attrs = {str(k).lower().split(";", 1)[0]: v for k, v in raw.items() if isinstance(v, list)}
        found.append(Entry(dn=item["dn"], attrs=attrs))
    return found


def filetime(value: int | None) -> datetime | None:
    """A FILETIME (100-ns ticks since 1601) as a UTC datetime; None for 0, "never" or junk."""
    if value is None or value <= 0 or value >= NEVER:
        return None
    try:
        return FILETIME_EPOCH + timedelta(microseconds=value // 10)
    except OverflowError:
        return None


def generalized_time(text: str | None) -> datetime | None:
    """An LDAP GeneralizedTime (``20261207153012.0Z``) as a UTC datetime; None when unreadable."""
    if not text:
        return None
    core = text.rstrip("Z").split(".", 1)[0]
    try:
        return datetime.strptime(core, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
