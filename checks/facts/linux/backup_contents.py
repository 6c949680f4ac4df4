"""What is inside the backup destinations (inventory ``e8_backup_paths``, passed as ``"$@"``), and
the backup tooling scheduled on the host (all root).

- ``linux.backup_newest``: per destination, the newest modification time among everything up to
  three levels below it (a destination that is a file counts itself);
- ``linux.backup_access``: per destination, its mode, owner and type, every parent directory's
  mode up to ``/``, and every item below it, at any depth, that "other" can reach and read or
  write (at most :data:`OPEN_LIMIT` lines);
- ``linux.backup_tooling``: backup programs on the ``PATH``, systemd timers and cron lines that
  name a backup tool.

A ``find`` that met an error (a directory it could not read, e.g. on an NFS share with
``root_squash``, or an option it lacks) prints ``E8_INCOMPLETE``: that destination was not seen
whole (``complete=False``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from checks.facts.linux.shell import sh_fact
from checks.facts.linux.times import from_epoch

OPEN_LIMIT = 200  # ``head -200`` in the access listing

_INCOMPLETE = "E8_INCOMPLETE"
_MISSING = "E8_MISSING"


# Where a backup tool's on-disk layout shows a *completed* snapshot (the tool writes it last):
# restic ``snapshots/<64 hex id>`` files, borg ``index.<n>`` (written at each committed
# transaction), rsnapshot ``<interval>.0`` folders (touched when a run completes) and Veeam Agent
# restore points (``.vbk`` full, ``.vib``/``.vrb`` increments).
_RESTIC = re.compile(r"/snapshots/[0-9a-f]{64}$")
_BORG = re.compile(r"/index\.\d+$")
_RSNAPSHOT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\.0$")
_VEEAM = re.compile(r"\.(vbk|vib|vrb)$", re.I)
# Names that a running or failed job leaves (locks, partial and temporary files): never evidence
# of a completed backup; excluded from the listing of files of an unknown layout.
LOCK_AND_TEMP = (
    "*.lock",
    "lock",
    "lock.*",
    "locks",
    "*.lck",
    "*.pid",
    "*.tmp",
    "*.temp",
    "tmp",
    "*.part",
    "*.partial",
    "*.inprogress",
    "*.swp",
    "*~",
    ".nfs*",
)


@dataclass(frozen=True)
class Newest:
    """``state``: ok | missing | unreadable (the scanning account cannot read the destination).

    ``newest``/``item``: the newest completed snapshot of a recognised backup layout (``layout``:
    restic | borg | rsnapshot | veeam), else the newest file (``layout`` "files"; lock and
    temporary files left out); None when neither was seen."""

    path: str
    state: str = "ok"
    newest: datetime | None = None
    item: str | None = None
    complete: bool = True
    layout: str = ""


def snapshot_layout(destination: str, item: str) -> str | None:
    """Which backup tool's completed-snapshot artefact ``item`` is, or None."""
    if _RESTIC.search(item):
        return "restic"
    if _BORG.search(item):
        return "borg"
    if _VEEAM.search(item):
        return "veeam"
    rel = item[len(destination) :].strip("/") if item.startswith(destination) else ""
    name = item.rsplit("/", 1)[-1]
    if _RSNAPSHOT.match(name) and rel.count("/") <= 1:
        return "rsnapshot"  # an interval folder at the top of the snapshot root (or one below)
    return None


def parse_newest(text: str) -> dict[str, Newest]:
    """Destination → its newest completed snapshot or file; destinations the script never
    reached are absent."""
    found: dict[str, Newest] = {}
    snaps: dict[str, tuple[datetime, str, str]] = {}
    files_: dict[str, tuple[datetime, str, str]] = {}
    current: str | None = None
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        if head == "E8_PATH":
            current = rest
            found[current] = Newest(current)
        elif head == _MISSING:
            found[rest] = Newest(rest, state="missing")
            current = None
        elif current is None:
            continue
        elif line.strip() == "E8_UNREADABLE":
            found[current] = replace(found[current], state="unreadable")
        elif line.strip() == _INCOMPLETE:
            found[current] = replace(found[current], complete=False)
        elif head in ("E8_SNAP", "E8_FILE"):
            epoch, _, item = rest.partition(" ")
            moment = from_epoch(epoch)
            if moment is None or not item:
                continue
            layout = "files" if head == "E8_FILE" else snapshot_layout(current, item)
            table = files_ if layout == "files" else snaps
            if layout is not None and (current not in table or moment > table[current][0]):
                table[current] = (moment, item, layout)
    for path, dest in found.items():
        if (best := snaps.get(path) or files_.get(path)) is not None:
            found[path] = replace(dest, newest=best[0], item=best[1], layout=best[2])
    return found


_SNAP_FIND = (
    "\\( -type f \\( -path '*/snapshots/*' -o -name 'index.[0-9]*' -o -name '*.vbk' "
    "-o -name '*.vib' -o -name '*.vrb' \\) -o -type d -name '*.0' \\)"
)
_SKIP = " -o ".join(f"-name '{n}'" for n in LOCK_AND_TEMP)

BACKUP_NEWEST = sh_fact(
    "linux.backup_newest",
    "if [ $# -eq 0 ]; then echo E8_NO_PATHS; fi; "
    'for p in "$@"; do if [ -e "$p" ]; then printf \'E8_PATH %s\\n\' "$p"; '
    '[ -d "$p" ] && d=1 || d=0; '
    f'{{ {{ find "$p" -maxdepth 3 {_SNAP_FIND} '
    "-exec stat -c 'E8_SNAP %Y %n' {} + 2>/dev/null "
    "|| echo E8_INCOMPLETE >&3; } | sort -k2,2n | tail -20; } 3>&1; "
    f'{{ {{ find "$p" -mindepth "$d" -maxdepth 3 \\( {_SKIP} \\) -prune -o -type f '
    "-exec stat -c 'E8_FILE %Y %n' {} + 2>/dev/null "
    "|| echo E8_INCOMPLETE >&3; } | sort -k2,2n | tail -1; } 3>&1; "
    '[ -r "$p" ] || echo E8_UNREADABLE; '
    "else printf 'E8_MISSING %s\\n' \"$p\"; fi; done",
    parse_newest,
    root=True,
    args_var="e8_backup_paths",
)


@dataclass(frozen=True)
class Destination:
    """One destination as ``stat`` and ``find`` saw it; ``open_items`` are
    (path, mode, kind letter d/f/o, depth) of items below it that "other" can reach and read
    (non-directories with o+r) or write (o+w); ``error``: the first message ``find`` printed."""

    path: str
    missing: bool = False
    mode: int | None = None
    kind: str = ""  # stat %F: directory, regular file …
    owner: str = ""
    parents: tuple[tuple[str, int], ...] = ()
    open_items: tuple[tuple[str, int, str, int], ...] = ()
    complete: bool = True  # find met no error and the listing was not cut at OPEN_LIMIT
    error: str = ""


def _mode(text: str) -> int | None:
    try:
        return int(text, 8)
    except ValueError:
        return None


def _open_item(destination: str, meta: str, path: str) -> tuple[str, int, str, int] | None:
    """An ``E8_OPEN <raw mode hex> <user> <group>|<path>`` line as (path, mode, kind, depth)."""
    parts = meta.split()
    if len(parts) != 3 or not path.startswith(destination.rstrip("/") + "/"):
        return None
    try:
        raw = int(parts[0], 16)
    except ValueError:
        return None
    kind = {0o040000: "d", 0o100000: "f"}.get(raw & 0o170000, "o")
    depth = path[len(destination.rstrip("/")) :].strip("/").count("/") + 1
    return path, raw & 0o7777, kind, depth


def parse_access(text: str) -> dict[str, Destination]:
    """Destination → what was seen of it; destinations the script never reached are absent."""
    found: dict[str, Destination] = {}
    current: str | None = None
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        meta, _, path = rest.partition("|")
        if head == _MISSING:
            found[rest] = Destination(rest, missing=True)
            current = None
        elif head == "E8_STAT":
            parts = meta.split(" ", 3)
            current = path if len(parts) == 4 else None
            if current is not None:
                mode = _mode(parts[0])
                found[path] = Destination(path, mode=mode, owner=parts[1], kind=parts[3])
        elif current is None:
            continue
        elif head == "E8_PARENT":
            d = found[current]
            if (mode := _mode(meta.split(" ", 1)[0])) is not None:
                found[current] = replace(d, parents=(*d.parents, (path, mode)))
        elif head == "E8_OPEN":
            d = found[current]
            if (item := _open_item(current, meta, path)) is not None:
                found[current] = replace(d, open_items=(*d.open_items, item))
        elif line.strip() == _INCOMPLETE:
            found[current] = replace(found[current], complete=False)
        elif line.strip() and not found[current].error:
            found[current] = replace(found[current], error=line.strip()[:200])
    return {
        path: replace(d, complete=False) if len(d.open_items) >= OPEN_LIMIT or d.error else d
        for path, d in found.items()
    }


# Every item "other" can reach: ``find`` does not descend into a directory without o+x (nothing
# below it is reachable), prints non-directories with o+r and anything with o+w (symbolic links,
# always 777, left out), with no depth limit; ``-perm -MODE`` and ``-exec stat … {} +`` run on GNU
# and BusyBox alike. ``find``'s own messages go into the listing (a BusyBox ``find`` lacking an
# option says so there), its failure adds ``E8_INCOMPLETE``.
BACKUP_ACCESS = sh_fact(
    "linux.backup_access",
    "if [ $# -eq 0 ]; then echo E8_NO_PATHS; fi; "
    'for p in "$@"; do if [ -e "$p" ]; then '
    "stat -c 'E8_STAT %a %U %G %F|%n' \"$p\"; "
    'd=$p; while [ -n "$d" ] && [ "$d" != / ] && [ "$d" != . ]; do d=$(dirname "$d"); '
    "stat -c 'E8_PARENT %a %U %G|%n' \"$d\"; done; "
    '{ { find "$p" \\( -type d ! -perm -001 -prune \\) -o ! -type l '
    "\\( -perm -002 -o ! -type d -perm -004 \\) "
    "-exec stat -c 'E8_OPEN %f %U %G|%n' {} + 2>&1 || echo E8_INCOMPLETE >&3; } "
    "| head -200; } 3>&1; "
    "else printf 'E8_MISSING %s\\n' \"$p\"; fi; done",
    parse_access,
    root=True,
    args_var="e8_backup_paths",
)

TOOLS = (
    "restic",
    "borg",
    "borgmatic",
    "rsnapshot",
    "bacula",
    "bareos",
    "duplicity",
    "timeshift",
    "veeam",
    "rear",
    "amanda",
)
# OS housekeeping whose names contain "backup" but that back up nothing of the host's data.
_SYSTEM_NOISE = ("dpkg-db-backup",)
_TOOL_RE = re.compile("|".join(TOOLS) + r"|backup", re.I)
_PROGRAMS = "restic borg borgmatic rsnapshot bacula-fd bareos-fd duplicity timeshift veeamconfig rear amanda"


def parse_tooling(text: str) -> list[str]:
    """Human lines naming the backup tooling found (``program restic``, ``timer x.timer`` …)."""
    found = []
    for line in text.splitlines():
        if any(noise in line for noise in _SYSTEM_NOISE):
            continue
        kind, _, rest = line.partition(" ")
        rest = rest.strip()
        if kind == "bin":
            found.append(f"program {rest}")
        elif kind == "timer" and _TOOL_RE.search(rest):
            unit = next((w for w in rest.split() if w.endswith(".timer")), rest[:60])
            found.append(f"timer {unit}")
        elif kind in ("cron", "cronscript", "usercron") and _TOOL_RE.search(rest):
            found.append(f"{kind} {' '.join(rest.split())[:100]}")
    return found


BACKUP_TOOLING = sh_fact(
    "linux.backup_tooling",
    'PATH="$PATH:/usr/sbin:/sbin"; '
    f"for b in {_PROGRAMS}; do "
    'command -v "$b" >/dev/null 2>&1 && echo "bin $b"; done; '
    "COLUMNS=300 systemctl list-timers --all --no-pager --no-legend 2>/dev/null "
    "| sed 's/^/timer /'; "
    "{ cat /etc/cron.d/* /etc/crontab; } 2>/dev/null | grep -v '^[[:space:]]*#' "
    "| sed 's/^/cron /'; "
    "ls /etc/cron.hourly /etc/cron.daily /etc/cron.weekly 2>/dev/null "
    "| sed 's/^/cronscript /'; "
    "crontab -l 2>/dev/null | grep -v '^[[:space:]]*#' | sed 's/^/usercron /'; true",
    parse_tooling,
    root=True,
)
