"""Directory coverage: the directory's computer objects joined with the hosts of the run.

An asset register is the first thing OT guidance asks for. A directory target's computers search
(:data:`scanner.checking.directory_searches.COMPUTERS_SEARCH`, run on every directory target as
the engine's ``e8scan.coverage`` probe) lists every computer the domain knows; comparing it with
the hosts of the run finds the HMI nobody listed, and the listed Windows host the domain does not
know (a workgroup machine, or a stale inventory line).

Pure: a function of the raw record, so ``e8scan rescore`` of a raw.json gives the same lists.

- **Matching** is by name, case-insensitive: a host's inventory name and its ``ansible_host``
  (when that is a name, not an IP address), each whole and by its first DNS label, against a
  computer's ``dNSHostName``, its first label, and its ``sAMAccountName`` without the ``$``. A host
  known only by IP address cannot be matched by name: it is counted, never guessed.
- **Active** is enabled (``userAccountControl`` bit 0x2 clear) with a ``lastLogonTimestamp``
  within :data:`ACTIVE_DAYS` days of when the directory was read. That attribute is replicated
  only when it is older than ``msDS-LogonTimeSyncInterval`` (14 days by default) less a random
  0–5 days, so it can be up to 14 days behind the real last logon.
- **Not scanned**: active computers matching no host of the run (hosts that were not reached
  count as listed: the inventory has them).
- **Not in the directory**: Windows hosts of the run matching no computer object (in any state)
  of any directory read in the run; only when one was read. Linux hosts are matched but never
  flagged: most are not domain members.

The search's output is read strictly: a search that failed, timed out, was cut short or does not
parse makes the directory "could not be read" with the reason, never an empty list that would
read as "nothing missing".
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scanner.assess.results import DirectoryCoverage, HostResult, NotInDirectory, NotScanned
from scanner.checking.directory_searches import COMPUTERS_SEARCH
from scanner.model.vocabulary import Platform, Reach
from scanner.record.raw import CommandRecord, HostRecord, RawRecord

ACTIVE_DAYS = 90
ACCOUNTDISABLE = 0x2
LAG_NOTE = (
    "lastLogonTimestamp is replicated with up to 14 days' lag (msDS-LogonTimeSyncInterval), so a "
    "computer last seen 76 to 90 days before the read may already be missing from the list."
)
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_NEVER = 0x7FFFFFFFFFFFFFFF


class Unreadable(Exception):
    """The computers search cannot be trusted; the message says why."""


@dataclass(frozen=True, slots=True)
class Computer:
    """One computer object as the search returned it."""

    dn: str
    sam: str
    dns_name: str
    operating_system: str
    os_version: str
    uac: int | None  # None: absent or not a number
    last_logon: datetime | None  # None: never (absent, 0) or not readable (see logon_readable)
    logon_readable: bool = True

    @property
    def name(self) -> str:
        if self.sam:
            return self.sam.removesuffix("$")
        first = self.dn.split(",", 1)[0]
        return first.split("=", 1)[1] if "=" in first else first

    @property
    def keys(self) -> frozenset[str]:
        return computer_keys(self.name, self.dns_name)

    @property
    def determinate(self) -> bool:
        return self.uac is not None and self.logon_readable

    def active(self, at: datetime, days: int = ACTIVE_DAYS) -> bool:
        """Enabled, and its last logon within ``days`` days before ``at`` (or after it)."""
        if self.uac is None or self.uac & ACCOUNTDISABLE or self.last_logon is None:
            return False
        return self.last_logon >= at - timedelta(days=days)


# --- names -------------------------------------------------------------------------------------


def is_ip(text: str) -> bool:
    """An IPv4 or IPv6 address (brackets and a zone allowed), not a name."""
    core = text.strip().strip("[]").split("%", 1)[0]
    try:
        ipaddress.ip_address(core)
    except ValueError:
        return False
    return True


def _name_keys(values: Iterable[str]) -> set[str]:
    keys: set[str] = set()
    for v in values:
        v = v.strip().lower().rstrip(".")
        if not v or is_ip(v):
            continue
        keys.add(v)
        keys.add(v.split(".", 1)[0])
    return keys


def host_keys(name: str, address: str = "") -> frozenset[str]:
    """What a host of the run can be matched by: its names, whole and by first DNS label
    (empty when it is known only by IP address)."""
    return frozenset(_name_keys((name, address)))


def computer_keys(name: str, dns_name: str) -> frozenset[str]:
    """What a computer object matches on: ``dNSHostName`` whole and by first label, and its
    ``sAMAccountName`` without ``$``."""
    keys = _name_keys([dns_name])
    if name.strip():
        keys.add(name.strip().lower())
    return frozenset(keys)


# --- reading the search ------------------------------------------------------------------------


def _first(attrs: dict[str, list[str]], name: str) -> str:
    values = attrs.get(name.lower())
    return values[0] if values else ""


def _number(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _filetime(text: str) -> tuple[datetime | None, bool]:
    """(when, readable): a FILETIME's UTC time; (None, True) for absent, 0 or "never"."""
    if not text:
        return None, True
    value = _number(text)
    if value is None or value < 0:
        return None, False
    if value == 0 or value >= _NEVER:
        return None, True
    try:
        return _FILETIME_EPOCH + timedelta(microseconds=value // 10), True
    except OverflowError:
        return None, False


def _computer(i: int, item: object) -> Computer:
    if not isinstance(item, dict) or not isinstance(item.get("dn"), str) or not item["dn"]:
        raise Unreadable(f"entry {i + 1} of the computers search has no DN")
    raw = item.get("attributes")
    if not isinstance(raw, dict):
        raise Unreadable(f"entry {item['dn']} has no attribute map")
    attrs: dict[str, list[str]] = {}
    for k, v in raw.items():
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise Unreadable(f"entry {item['dn']}: attribute {k} is not a list of text values")
        attrs[str(k).lower().split(";", 1)[0]] = v
    logon, readable = _filetime(_first(attrs, "lastLogonTimestamp"))
    return Computer(
        dn=item["dn"],
        sam=_first(attrs, "sAMAccountName"),
        dns_name=_first(attrs, "dNSHostName"),
        operating_system=_first(attrs, "operatingSystem"),
        os_version=_first(attrs, "operatingSystemVersion"),
        uac=_number(_first(attrs, "userAccountControl")),
        last_logon=logon,
        logon_readable=readable,
    )


def parse_computers(out: CommandRecord) -> list[Computer]:
    """The computer objects one run of the computers search returned; :class:`Unreadable` when
    its answer cannot be trusted to be the whole list."""
    if not out.ran:
        raise Unreadable("the computers search was not run (the host's time budget ran out)")
    if out.timed_out:
        raise Unreadable("the computers search timed out")
    if out.exit_code != 0:
        err = out.stderr.decode("utf-8", "replace").strip()
        why = f": {err.splitlines()[0][:200]}" if err else ""
        raise Unreadable(f"the computers search failed (LDAP result {out.exit_code}{why})")
    if out.truncated:
        raise Unreadable(
            "the computers search's answer was cut short (output cap or the server's size "
            "limit): a partial list cannot show what is missing"
        )
    try:
        doc = json.loads(out.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Unreadable("the computers search's output is not the expected JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise Unreadable("the computers search's output has no entry list")
    found = [_computer(i, item) for i, item in enumerate(doc["entries"])]
    if not found:
        raise Unreadable("the computers search returned no objects (a domain always has its DCs)")
    return found


def read_directory(rec: HostRecord) -> list[Computer]:
    """The computer objects of one directory target's record (:class:`Unreadable` with the
    reason when there are none to trust)."""
    out = next((c for c in rec.commands if c.command == COMPUTERS_SEARCH.line), None)
    if out is not None:
        return parse_computers(out)
    if rec.reach is not Reach.OK:
        detail = f": {rec.reach_detail}" if rec.reach_detail else ""
        raise Unreadable(f"the directory was not read ({rec.reach.value}{detail})")
    raise Unreadable(
        "the computers search is not in the raw record (written by an e8scan that did not run it)"
    )


# --- the join ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Listed:
    name: str
    address: str
    platform: Platform | None  # None: a host an interrupted run did not collect (name only)
    keys: frozenset[str]


def _listed(raw: RawRecord) -> list[_Listed]:
    hosts = [
        _Listed(h.name, h.address, h.platform, host_keys(h.name, h.address)) for h in raw.hosts
    ]
    hosts += [_Listed(n, "", None, host_keys(n)) for n in raw.run.not_collected]
    return hosts


def _notes(raw: RawRecord, ip_only: Sequence[str]) -> list[str]:
    notes = [LAG_NOTE]
    if ip_only:
        notes.append(
            f"{len(ip_only)} host(s) of the run are known only by IP address and cannot be matched "
            "by name: any of them may be one of the computers listed as not scanned."
        )
    if raw.run.limit:
        notes.append(
            f"The run was limited to {raw.run.limit!r}: computers listed elsewhere in the "
            "inventory show as not scanned."
        )
    return notes


def directory_coverage(raw: RawRecord) -> list[DirectoryCoverage]:
    """Per directory target of the raw record, its coverage (see the module docstring); empty
    when the run has no directory target."""
    targets = [h for h in raw.hosts if h.platform is Platform.DIRECTORY]
    if not targets:
        return []
    listed = _listed(raw)
    known = set().union(*(h.keys for h in listed))
    ip_only = [h.name for h in listed if not h.keys and h.platform is not Platform.DIRECTORY]
    read: dict[str, list[Computer] | str] = {}
    for rec in targets:
        try:
            read[rec.name] = read_directory(rec)
        except Unreadable as exc:
            read[rec.name] = str(exc)
    objects = [c for found in read.values() if not isinstance(found, str) for c in found]
    in_any = {k for c in objects for k in c.keys}
    missing = [
        NotInDirectory(host=h.name, address=h.address, platform=h.platform)
        for h in listed
        if objects and h.platform is Platform.WINDOWS and h.keys and not h.keys & in_any
    ]
    notes = _notes(raw, ip_only)
    unread = [name for name, found in read.items() if isinstance(found, str)]
    if missing and unread:
        notes.append(
            f"Not read: {', '.join(unread)}; a host flagged as not in the directory may be a "
            "member of it."
        )
    entries = []
    for rec in targets:
        found = read[rec.name]
        if isinstance(found, str):
            entries.append(
                DirectoryCoverage(
                    directory=rec.name,
                    read=False,
                    reason=found,
                    collected_at=rec.collected_at,
                    unmatched_ip_hosts=len(ip_only),
                    ip_only_hosts=ip_only,
                )
            )
            continue
        at = rec.collected_at
        active = [c for c in found if c.active(at)]
        entries.append(
            DirectoryCoverage(
                directory=rec.name,
                read=True,
                collected_at=at,
                active_days=ACTIVE_DAYS,
                computers=len(found),
                active=len(active),
                undetermined=sorted(c.name for c in found if not c.determinate),
                not_scanned=sorted(
                    (
                        _not_scanned(c, logon)
                        for c in active
                        if (logon := c.last_logon) and not c.keys & known
                    ),
                    key=lambda n: (n.name.lower(), n.dn),
                ),
                not_in_directory=missing,
                unmatched_ip_hosts=len(ip_only),
                ip_only_hosts=ip_only,
                notes=notes,
            )
        )
    return entries


def _not_scanned(c: Computer, last_logon: datetime) -> NotScanned:
    return NotScanned(
        name=c.name,
        dns_name=c.dns_name,
        operating_system=c.operating_system,
        os_version=c.os_version,
        last_logon=last_logon,
        dn=c.dn,
    )


def merged_coverage(
    parts: Sequence[DirectoryCoverage], hosts: Sequence[HostResult]
) -> list[DirectoryCoverage]:
    """The coverage of merged collector runs: each input's directories, with the computers a host
    of another collector matches taken off the not-scanned list (its not_in_directory list stays:
    the other collectors' hosts were not compared with its directory)."""
    known: set[str] = set()
    for h in hosts:
        known |= host_keys(h.name, h.address)
    note = (
        "Merged run: computers that a host of another collector matches are not listed; only "
        "this directory's own run was checked for hosts missing from it."
    )
    merged = []
    for part in parts:
        keep = [n for n in part.not_scanned if not computer_keys(n.name, n.dns_name) & known]
        notes = [*part.notes, note] if part.read else part.notes
        merged.append(part.model_copy(update={"not_scanned": keep, "notes": notes}))
    return merged
