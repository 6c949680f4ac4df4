"""Linux: is there a backup newer than the recovery point objective?

**Collected:**
- ``newest`` (root; fact ``linux.backup_newest``): for each destination in the inventory variable
  ``e8_backup_paths`` (passed as shell-quoted arguments, never spliced into the command), up to
  three levels below it (``find -maxdepth 3 … -exec stat -c '%Y %n' {} +``, which GNU and BusyBox
  ``find``/``stat`` both run):
  - the backup tools' own *completed-snapshot* artefacts: restic ``snapshots/<id>`` files (written
    when a backup completes), borg ``index.<n>`` (written when a transaction commits), rsnapshot
    ``<interval>.0`` folders at the top of the snapshot root (touched when a run completes) and
    Veeam Agent restore points (``.vbk``/``.vib``/``.vrb``) — the newest twenty;
  - the newest *file* (directories are left out: creating and deleting a lock changes a
    folder's time), lock and temporary files excluded (``*.lock``, ``lock``, ``lock.*``,
    ``locks/``, ``*.lck``, ``*.pid``, ``*.tmp``, ``*.temp``, ``tmp/``, ``*.part``, ``*.partial``,
    ``*.inprogress``, ``*.swp``, ``*~``, ``.nfs*``);
  or an ``E8_MISSING`` marker when the path does not exist, ``E8_UNREADABLE`` when it cannot be
  read, ``E8_INCOMPLETE`` when ``find`` met an error (part of the destination could not be read,
  or the ``find`` lacks an option);
- ``tooling`` (root, to see root's crontab; fact ``linux.backup_tooling``): backup programs on the
  ``PATH`` (restic, borg, borgmatic, rsnapshot, bacula-fd, bareos-fd, duplicity, timeshift,
  veeamconfig, rear, amanda), ``systemctl list-timers --all`` (wide, no pager, no legend),
  ``/etc/crontab`` and ``/etc/cron.d`` lines and ``/etc/cron.{hourly,daily,weekly}`` scripts
  naming a backup tool, and root's crontab.

A destination holding a recognised layout is judged on its newest completed snapshot only (a failed
run writes packs, segments and locks but no snapshot); any other destination on its newest file.

**ISM-1511** (ML1-3, backups performed and retained per business criticality). The model sets no
frequency; the RPO is the organisation's: ``e8_backup_rpo_hours`` for the host, else the policy's
``backup_rpo_hours``.
- effective: every listed destination exists and holds a completed snapshot (or, for an unknown
  layout, a file) modified within the RPO (an item seen is real evidence even when part of the
  destination could not be read: anything unseen could only be newer);
- ineffective: a destination is missing ("backup destination missing"), or its newest snapshot
  or file is older than the RPO; or no ``e8_backup_paths`` were given and no backup tool, timer
  or cron job is found ("no backup evidence");
- no_visibility: a destination could not be read (run with become), or only partly and what was
  seen is older than the RPO (a newer backup may be in the unread part), or it showed no file at
  all, or its newest item is dated more than an hour after the collection (a future time hides
  the real backups' age), or no ``e8_backup_paths`` were given but backup tooling was found — its
  schedule suggests backups but their recency cannot be verified without a destination.

Only ``newest`` carries the verdict when destinations are given; ``tooling`` adds detail to the
evidence (and decides the outcome only when no destination is given, which is never effective).

Caveats: modification time is a proxy. A borg ``prune`` or ``compact`` also commits (a fresh
``index.<n>`` without a new archive); a restic ``tag``/``rewrite`` writes a new snapshot file.
Bacula/Bareos volumes and Duplicity/tar archives have no completion marker on disk and are judged
as files, so a partial archive that is not named as a temporary file still counts. Restic or borg
repositories deeper than two levels below the destination are judged as files. Agentless backups
(hypervisor snapshots, backup server pulls) leave no trace on the host: give their landing path
or record an exception. Whether the backup is complete, restorable or kept off-host is not
visible. Evidence grade: fair.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from checks.facts.fact import Unknown
from checks.facts.linux.backup_contents import BACKUP_NEWEST, BACKUP_TOOLING
from checks.facts.linux.times import iso
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

# A host clock a little ahead of the scanner's is tolerated; beyond this, a future time is suspect.
CLOCK_SKEW = timedelta(hours=1)


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    rpo_var = ctx.profile.e8_backup_rpo_hours
    rpo_hours = rpo_var if rpo_var is not None else float(ctx.policy.backup_rpo_hours)
    rpo = timedelta(hours=rpo_hours)
    paths = ctx.profile.listed("e8_backup_paths") or []
    tooling = BACKUP_TOOLING.read(outputs.get("tooling"))
    tools = [] if isinstance(tooling, Unknown) else tooling
    observed: dict[str, object] = {"rpo_hours": rpo_hours, "paths": paths, "tooling": tools[:15]}
    tool_note = f"; tooling: {', '.join(tools[:5])}" if tools else ""

    def finding(outcome: Outcome, evidence: str) -> list[Finding]:
        return [Finding(ism="ISM-1511", outcome=outcome, evidence=evidence, observed=observed)]

    if not paths:
        if tools:
            return finding(
                Outcome.NO_VISIBILITY,
                "no e8_backup_paths in the inventory; backup tooling found but the age of the "
                f"newest backup cannot be verified{tool_note}",
            )
        if isinstance(tooling, Unknown):
            return finding(
                Outcome.NO_VISIBILITY,
                f"no e8_backup_paths, and tooling not readable: {tooling.reason}",
            )
        return finding(
            Outcome.INEFFECTIVE,
            "no backup evidence: no e8_backup_paths in the inventory and no backup program, "
            "timer or cron job on the host",
        )
    per_path = BACKUP_NEWEST.read(outputs.get("newest"))
    if isinstance(per_path, Unknown):
        return finding(
            Outcome.NO_VISIBILITY, f"backup destinations not readable: {per_path.reason}"
        )
    late: list[str] = []
    blind: list[str] = []
    fresh: list[str] = []
    ages: dict[str, object] = {}
    for path in paths:
        info = per_path.get(path)
        moment = info.newest if info else None
        if info is None:
            blind.append(f"{path}: no output")
        elif info.state == "missing":
            late.append(f"backup destination missing: {path}")
        elif info.state == "unreadable":
            blind.append(f"{path}: not readable by the scanning account")
        elif moment is None:
            blind.append(
                f"{path}: no backup snapshot or file found"
                + ("" if info.complete else " (find met an error)")
            )
        elif moment - now > CLOCK_SKEW:
            blind.append(
                f"{path}: newest item {info.item} is dated {iso(moment)}, after the collection "
                f"({iso(now)}): a future time hides the age of the real backups"
            )
        else:
            age = now - moment
            ages[path] = {
                "newest": iso(moment),
                "item": info.item,
                "age_hours": round(age.total_seconds() / 3600, 1),
                "complete": info.complete,
                "layout": info.layout,
            }
            what = (
                "newest file (no known backup layout)"
                if info.layout == "files"
                else f"newest completed {info.layout} snapshot {info.item}"
            )
            text = f"{path} {what} {iso(moment)} ({age.total_seconds() / 3600:.0f} h old)"
            if age <= rpo:
                fresh.append(text + ("" if info.complete else " (part of it could not be read)"))
            elif info.complete:
                late.append(text)
            else:
                blind.append(
                    f"{text}, but part of it could not be read (find reported an error), so a "
                    "newer backup may be there"
                )
    observed["newest"] = ages
    if late:
        return finding(
            Outcome.INEFFECTIVE,
            f"RPO {rpo_hours:g} h not met: {'; '.join(late)}{tool_note}",
        )
    if blind:
        return finding(Outcome.NO_VISIBILITY, "; ".join(blind))
    return finding(Outcome.EFFECTIVE, f"within RPO {rpo_hours:g} h: {'; '.join(fresh)}{tool_note}")


CHECK = Check(
    id="backups.linux_backup_recency",
    title="Linux backups are more recent than the recovery point objective",
    strategy=Strategy.BACKUPS,
    ism=("ISM-1511",),
    platforms=frozenset({Platform.LINUX}),
    grade=Grade.FAIR,
    collect={"newest": BACKUP_NEWEST.cmd, "tooling": BACKUP_TOOLING.cmd},
    # With destinations, only their contents show a backup; the tooling list adds detail to the
    # evidence, and without destinations the verdict is never effective.
    rests_on={"ISM-1511": ("newest",)},
    judge=judge,
    # v2: a future-dated newest item or a partly unread stale destination is not judged;
    # v3: completed snapshots of restic/borg/rsnapshot/Veeam, else files without locks/temp files
    version=3,
)
