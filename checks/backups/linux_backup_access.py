"""Linux: can unprivileged accounts read, change or delete the backups in the backup destinations?

**Collected (root):** for each destination in ``e8_backup_paths`` (shell-quoted arguments): its
mode, owner, group and type (``stat``); the mode of every parent directory up to ``/``; and every
item up to two levels below it that grants *any* permission to "other"
(``find -mindepth 1 -maxdepth 2 -perm /o=rwx``, at most 200 lines). A missing destination is
reported with an ``E8_MISSING`` marker.

An item is reachable by an unprivileged account ("other") when every directory above it, the
destination included, has the other-execute bit.

**ISM-1812** (ML1-3, unprivileged accounts cannot access other accounts' backups):
- ineffective: a reachable regular file is world-readable (or the destination is a world-readable
  file in a traversable directory);
- effective: every destination exists and nothing in it is world-readable and reachable.

**ISM-1814** (ML1-3, unprivileged accounts cannot modify or delete backups):
- ineffective: the destination, a reachable file or directory below it, or a parent directory is
  world-writable (a world-writable parent without the sticky bit lets anyone rename or replace
  the destination);
- effective: nothing world-writable found.

Both: no_visibility when ``e8_backup_paths`` is not in the inventory ("no e8_backup_paths in
inventory"), when a destination is missing or could not be examined (run with become), and
nothing already proves ineffectiveness.

Caveats: only the "other" permission class is judged — group access (is the group made of
unprivileged users?) and POSIX ACLs are not; items deeper than two levels are not examined; the
backup platform's own access control (repository passwords, object-store policies, immutability)
is not visible. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from checks._linux import unreadable
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

O_R, O_W, O_X, STICKY = 0o004, 0o002, 0o001, 0o1000


@dataclass
class Destination:
    path: str
    missing: bool = False
    mode: int | None = None
    kind: str = ""
    owner: str = ""
    parents: list[tuple[str, int]] = field(default_factory=list)
    open_items: list[tuple[str, int, str, int]] = field(
        default_factory=list
    )  # path, mode, type, depth


def _mode(text: str) -> int | None:
    try:
        return int(text, 8)
    except ValueError:
        return None


def parse_access(text: str) -> dict[str, Destination]:
    dests: dict[str, Destination] = {}
    current: Destination | None = None
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        if head == "E8_MISSING":
            dests[rest] = Destination(rest, missing=True)
            current = None
        elif head == "E8_STAT":
            meta, _, path = rest.partition("|")
            parts = meta.split(" ", 3)
            if len(parts) == 4:
                current = Destination(path, mode=_mode(parts[0]), owner=parts[1], kind=parts[3])
                dests[path] = current
        elif head == "E8_PARENT" and current is not None:
            meta, _, path = rest.partition("|")
            mode = _mode(meta.split(" ", 1)[0])
            if mode is not None:
                current.parents.append((path, mode))
        elif head == "E8_OPEN" and current is not None:
            meta, _, path = rest.partition("|")
            parts = meta.split()
            if len(parts) == 5 and (mode := _mode(parts[0])) is not None and parts[4].isdigit():
                current.open_items.append((path, mode, parts[3], int(parts[4])))
    return dests


def _judge_destination(d: Destination) -> tuple[list[str], list[str]]:
    """(read exposures, write exposures) of one destination."""
    reads: list[str] = []
    writes: list[str] = []
    assert d.mode is not None
    chain = all(mode & O_X for _, mode in d.parents)
    for parent, mode in d.parents:
        if mode & O_W and not mode & STICKY:
            writes.append(f"parent {parent} is world-writable ({mode:o})")
    is_dir = d.kind == "directory"
    if d.mode & O_W and not (is_dir and d.mode & STICKY):
        writes.append(f"{d.path} is world-writable ({d.mode:o})")
    if not is_dir and chain and d.mode & O_R:
        reads.append(f"{d.path} is world-readable ({d.mode:o})")
    inside = chain and is_dir and bool(d.mode & O_X)
    open_dirs = {p: m for p, m, t, _ in d.open_items if t == "d"}
    for path, mode, kind, depth in d.open_items:
        parent = path.rsplit("/", 1)[0]
        reachable = inside and (depth == 1 or bool(open_dirs.get(parent, 0) & O_X))
        if not reachable:
            continue
        if mode & O_W and not (kind == "d" and mode & STICKY):
            writes.append(f"{path} is world-writable ({mode:o})")
        if kind == "f" and mode & O_R:
            reads.append(f"{path} is world-readable ({mode:o})")
    return reads, writes


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    paths = ctx.profile.listed("e8_backup_paths") or []
    out = outputs["access"]
    why = None if paths else "no e8_backup_paths in inventory"
    why = why or unreadable(out)
    if why is not None:
        return [
            Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=why, observed={"paths": paths})
            for i in ("ISM-1812", "ISM-1814")
        ]
    dests = parse_access(out.text)
    reads: list[str] = []
    writes: list[str] = []
    blind: list[str] = []
    modes: dict[str, object] = {}
    for path in paths:
        d = dests.get(path)
        if d is None or (not d.missing and d.mode is None):
            blind.append(f"{path}: not examined")
        elif d.missing:
            blind.append(f"{path}: does not exist")
        else:
            modes[path] = f"{d.mode:o} {d.owner} {d.kind}"
            r, w = _judge_destination(d)
            reads += r
            writes += w
    observed = {
        "paths": paths,
        "modes": modes,
        "world_readable": reads[:20],
        "world_writable": writes[:20],
    }
    findings = []
    for ism, problems, what in (
        ("ISM-1812", reads, "readable"),
        ("ISM-1814", writes, "writable"),
    ):
        if problems:
            outcome = Outcome.INEFFECTIVE
            evidence = f"backups {what} by unprivileged accounts: {'; '.join(problems[:5])}"
            if len(problems) > 5:
                evidence += f" (+{len(problems) - 5} more)"
        elif blind:
            outcome, evidence = Outcome.NO_VISIBILITY, "; ".join(blind)
        else:
            outcome = Outcome.EFFECTIVE
            evidence = (
                f"nothing world-{what} in {', '.join(f'{p} ({m})' for p, m in modes.items())}"
            )
        findings.append(Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed))
    return findings


CHECK = Check(
    id="backups.linux_backup_access",
    title="Linux backup destinations are closed to unprivileged accounts",
    strategy=Strategy.BACKUPS,
    ism=("ISM-1812", "ISM-1814"),
    platforms=frozenset({Platform.LINUX}),
    collect={
        "access": Cmd(
            line=(
                "if [ $# -eq 0 ]; then echo E8_NO_PATHS; fi; "
                'for p in "$@"; do if [ -e "$p" ]; then '
                "stat -c 'E8_STAT %a %U %G %F|%n' \"$p\"; "
                'd=$p; while [ "$d" != / ] && [ "$d" != . ]; do d=$(dirname "$d"); '
                "stat -c 'E8_PARENT %a %U %G|%n' \"$d\"; done; "
                'find "$p" -mindepth 1 -maxdepth 2 -perm /o=rwx '
                "-printf 'E8_OPEN %m %u %g %y %d|%p\\n' 2>/dev/null | head -200; "
                "else printf 'E8_MISSING %s\\n' \"$p\"; fi; done"
            ),
            root=True,
            args_var="e8_backup_paths",
        ),
    },
    judge=judge,
    version=1,
)
