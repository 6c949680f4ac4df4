"""Linux: can unprivileged accounts read, change or delete the backups in the backup destinations?

**Collected (root; fact ``linux.backup_access``):** for each destination in ``e8_backup_paths``
(shell-quoted arguments): its mode, owner, group and type (``stat``); the mode of every parent
directory up to ``/``; and every item below it, at any depth, that "other" can reach and read or
write: ``find`` does not descend into a directory without the other-execute bit (nothing below
it is reachable) and prints, through ``-exec stat -c … {} +``, the non-directories with o+r and
anything with o+w (symbolic links, always 777, left out), at most 200 lines. ``-perm -MODE``,
``-prune`` and ``-exec … {} +`` run on GNU and BusyBox ``find`` alike (BusyBox has no
``-printf``). A missing destination is reported with an ``E8_MISSING`` marker; ``find``'s own
messages are kept in the listing and a ``find`` that failed adds ``E8_INCOMPLETE``.

An item is reachable by an unprivileged account ("other") when every directory above it, the
destination included, has the other-execute bit: the listing holds only such items below the
destination, so they are reachable when the destination and its parents are.

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
inventory"), when a destination is missing or could not be examined (run with become), or was
examined only in part (``find`` met an error or printed a message — an option it lacks, a
folder it could not list — or the listing was cut at 200 lines), and nothing already proves
ineffectiveness.

Caveats: only the "other" permission class is judged — group access (is the group made of
unprivileged users?) and POSIX ACLs are not; the backup platform's own access control
(repository passwords, object-store policies, immutability) is not visible. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.backup_contents import BACKUP_ACCESS, OPEN_LIMIT, Destination
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

O_R, O_W, O_X, STICKY = 0o004, 0o002, 0o001, 0o1000


def _traversable(parents: tuple[tuple[str, int], ...]) -> bool:
    return all(mode & O_X for _, mode in parents)


def _open_inside(d: Destination) -> bool:
    """ "Other" can enter the destination directory (every directory above it too)."""
    return d.kind == "directory" and bool((d.mode or 0) & O_X) and _traversable(d.parents)


def _judge_destination(d: Destination) -> tuple[list[str], list[str]]:
    """(read exposures, write exposures) of one destination."""
    reads: list[str] = []
    writes: list[str] = []
    assert d.mode is not None
    chain = _traversable(d.parents)
    for parent, mode in d.parents:
        if mode & O_W and not mode & STICKY:
            writes.append(f"parent {parent} is world-writable ({mode:o})")
    is_dir = d.kind == "directory"
    if d.mode & O_W and not (is_dir and d.mode & STICKY):
        writes.append(f"{d.path} is world-writable ({d.mode:o})")
    if not is_dir and chain and d.mode & O_R:
        reads.append(f"{d.path} is world-readable ({d.mode:o})")
    if not _open_inside(d):
        return reads, writes  # nothing below the destination is reachable
    for path, mode, kind, _depth in d.open_items:
        if mode & O_W and not (kind == "d" and mode & STICKY):
            writes.append(f"{path} is world-writable ({mode:o})")
        if kind == "f" and mode & O_R:
            reads.append(f"{path} is world-readable ({mode:o})")
    return reads, writes


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    paths = ctx.profile.listed("e8_backup_paths") or []
    dests = (
        BACKUP_ACCESS.read(outputs.get("access"))
        if paths
        else Unknown("no e8_backup_paths in inventory")
    )
    if isinstance(dests, Unknown):
        return [
            Finding(
                ism=i,
                outcome=Outcome.NO_VISIBILITY,
                evidence=dests.reason,
                observed={"paths": paths},
            )
            for i in ("ISM-1812", "ISM-1814")
        ]
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
            if not d.complete and _open_inside(d):
                if len(d.open_items) >= OPEN_LIMIT:
                    why = f"more than {OPEN_LIMIT} items were listed"
                else:
                    why = f"find said: {d.error}" if d.error else "find met an error"
                blind.append(f"{path}: examined only in part ({why})")
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
    collect={"access": BACKUP_ACCESS.cmd},
    judge=judge,
    # v2: a destination examined only in part is not judged closed; v3: every reachable depth,
    # a listing BusyBox find can make, symbolic links not taken for world-writable items
    version=3,
)
