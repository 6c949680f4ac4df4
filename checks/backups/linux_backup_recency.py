"""Linux: is there a backup newer than the recovery point objective?

**Collected:**
- ``newest`` (root): for each destination in the inventory variable ``e8_backup_paths`` (passed as
  shell-quoted arguments, never spliced into the command), the newest modification time of the
  anything up to three levels below the destination (``find -mindepth 1 -maxdepth 3``; the
  destination folder's own mtime is left out because deleting an old backup also changes it; a
  destination that is a file counts itself), or a
  ``E8_MISSING`` marker when the path does not exist, ``E8_UNREADABLE`` when it cannot be read;
- ``tooling`` (root, to see root's crontab): backup programs on the ``PATH`` (restic, borg,
  borgmatic, rsnapshot, bacula-fd, bareos-fd, duplicity, timeshift, veeamconfig, rear, amanda),
  ``systemctl list-timers --all`` (wide, no pager, no legend), ``/etc/crontab`` and ``/etc/cron.d``
  lines and ``/etc/cron.{hourly,daily,weekly}`` scripts naming a backup tool, and root's crontab.

**ISM-1511** (ML1-3, backups performed and retained per business criticality). The model sets no
frequency; the RPO is the organisation's: ``e8_backup_rpo_hours`` for the host, else the policy's
``backup_rpo_hours``.
- effective: every listed destination exists and holds something modified within the RPO;
- ineffective: a destination is missing ("backup destination missing"), or its newest item is
  older than the RPO; or no ``e8_backup_paths`` were given and no backup tool, timer or cron job
  is found ("no backup evidence");
- no_visibility: a destination could not be read (run with become), or no ``e8_backup_paths``
  were given but backup tooling was found — its schedule suggests backups but their recency cannot
  be verified without a destination.

Caveats: modification time is a proxy: rsync-style copies keep the source files' times, so the
destination directory's own time (rsnapshot touches ``<interval>.0``) usually carries the signal;
pruning an old snapshot also updates a directory's time. Agentless backups (hypervisor snapshots,
backup server pulls) leave no trace on the host: give their landing path or record an exception.
Whether the backup is complete, restorable or kept off-host is not visible. Evidence grade: fair.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

from checks._linux import from_epoch, iso, unreadable
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Grade, Outcome, Platform, Strategy

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


def parse_newest(text: str) -> dict[str, dict[str, str | None]]:
    """Per destination: newest epoch and item, or a missing/unreadable marker."""
    result: dict[str, dict[str, str | None]] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.startswith("E8_PATH "):
            current = line[8:]
            result[current] = {"state": "ok", "epoch": None, "item": None}
        elif line.startswith("E8_MISSING "):
            result[line[11:]] = {"state": "missing", "epoch": None, "item": None}
            current = None
        elif line.strip() == "E8_UNREADABLE" and current is not None:
            result[current]["state"] = "unreadable"
        elif current is not None and " " in line:
            epoch, _, item = line.partition(" ")
            result[current]["epoch"] = epoch
            result[current]["item"] = item
    return result


def parse_tooling(text: str) -> list[str]:
    """Human lines naming the backup tooling found."""
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


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    now = ctx.collected_at
    rpo_var = ctx.profile.e8_backup_rpo_hours
    rpo_hours = rpo_var if rpo_var is not None else float(ctx.policy.backup_rpo_hours)
    rpo = timedelta(hours=rpo_hours)
    paths = ctx.profile.listed("e8_backup_paths") or []
    tooling_out = outputs["tooling"]
    tools = parse_tooling(tooling_out.text) if unreadable(tooling_out) is None else []
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
        if unreadable(tooling_out) is not None:
            return finding(
                Outcome.NO_VISIBILITY,
                f"no e8_backup_paths, and tooling not readable: {unreadable(tooling_out)}",
            )
        return finding(
            Outcome.INEFFECTIVE,
            "no backup evidence: no e8_backup_paths in the inventory and no backup program, "
            "timer or cron job on the host",
        )
    out = outputs["newest"]
    why = unreadable(out)
    if why is not None:
        return finding(Outcome.NO_VISIBILITY, f"backup destinations not readable: {why}")
    per_path = parse_newest(out.text)
    late: list[str] = []
    blind: list[str] = []
    fresh: list[str] = []
    ages: dict[str, object] = {}
    for path in paths:
        info = per_path.get(path)
        moment = from_epoch(info["epoch"] or "") if info else None
        if info is None:
            blind.append(f"{path}: no output")
        elif info["state"] == "missing":
            late.append(f"backup destination missing: {path}")
        elif info["state"] == "unreadable":
            blind.append(f"{path}: not readable by the scanning account")
        elif moment is None:
            blind.append(f"{path}: no modification time reported")
        else:
            age = now - moment
            ages[path] = {
                "newest": iso(moment),
                "item": info["item"],
                "age_hours": round(age.total_seconds() / 3600, 1),
            }
            text = f"{path} newest {iso(moment)} ({age.total_seconds() / 3600:.0f} h old)"
            (late if age > rpo else fresh).append(text)
    observed["newest"] = ages
    if late:
        return finding(
            Outcome.INEFFECTIVE,
            f"RPO {rpo_hours:g} h not met: {'; '.join(late)}{tool_note}",
        )
    if blind:
        return finding(Outcome.NO_VISIBILITY, "; ".join(blind))
    return finding(Outcome.EFFECTIVE, f"within RPO {rpo_hours:g} h: {'; '.join(fresh)}{tool_note}")


_PROGRAMS = " ".join(
    (
        "restic borg borgmatic rsnapshot bacula-fd bareos-fd duplicity timeshift",
        "veeamconfig rear amanda",
    )
)

CHECK = Check(
    id="backups.linux_backup_recency",
    title="Linux backups are more recent than the recovery point objective",
    strategy=Strategy.BACKUPS,
    ism=("ISM-1511",),
    platforms=frozenset({Platform.LINUX}),
    grade=Grade.FAIR,
    collect={
        "newest": Cmd(
            line=(
                "if [ $# -eq 0 ]; then echo E8_NO_PATHS; fi; "
                'for p in "$@"; do if [ -e "$p" ]; then printf \'E8_PATH %s\\n\' "$p"; '
                '[ -d "$p" ] && d=1 || d=0; '
                'find "$p" -mindepth "$d" -maxdepth 3 -printf \'%T@ %p\\n\' 2>/dev/null | sort -n | tail -1; '
                '[ -r "$p" ] || echo E8_UNREADABLE; '
                "else printf 'E8_MISSING %s\\n' \"$p\"; fi; done"
            ),
            root=True,
            args_var="e8_backup_paths",
        ),
        "tooling": Cmd(
            line=(
                'PATH="$PATH:/usr/sbin:/sbin"; '
                f"for b in {_PROGRAMS}; do "
                'command -v "$b" >/dev/null 2>&1 && echo "bin $b"; done; '
                "COLUMNS=300 systemctl list-timers --all --no-pager --no-legend 2>/dev/null "
                "| sed 's/^/timer /'; "
                "{ cat /etc/cron.d/* /etc/crontab; } 2>/dev/null | grep -v '^[[:space:]]*#' "
                "| sed 's/^/cron /'; "
                "ls /etc/cron.hourly /etc/cron.daily /etc/cron.weekly 2>/dev/null "
                "| sed 's/^/cronscript /'; "
                "crontab -l 2>/dev/null | grep -v '^[[:space:]]*#' | sed 's/^/usercron /'; true"
            ),
            root=True,
        ),
    },
    judge=judge,
    version=1,
)
