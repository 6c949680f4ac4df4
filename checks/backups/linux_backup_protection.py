"""Linux: are backup destinations resilient (off the system disk) and closed to everyone but backup admins?

**Collected (root, through ``sudo -n``):** for ``/`` and for each destination in
``e8_backup_paths`` (shell-quoted arguments): the mounted file system holding it
(``findmnt -rno SOURCE,FSTYPE,TARGET -T``) and, for a block device, the device stack under it
(``lsblk -lnso NAME,TYPE``: partition, LVM, ``crypt`` layer, disk); the destination's mode, owner
and group (``stat``) and the owning group's entry (``getent group``). Without root: ``/etc/passwd``
(name, UID, primary GID) and ``getent group sudo wheel admin`` — the same commands as
``restrict_admin.linux_privileged_accounts``, so the runner collects them once. The inventory
variable ``e8_backup_admins`` (list or comma-separated) names the dedicated backup-administrator
accounts; ``root`` always counts as one (backup jobs run as root).

**ISM-1811** (ML1-3, backups retained in a secure and resilient manner) — host-side part only:
- effective: every destination is off-host (a network file system: NFS, CIFS/SMB, sshfs,
  GlusterFS, Ceph, rclone/s3fs, or a ``host:/export`` / ``//server/share`` source), or sits on a
  local device that is neither the file system nor the disk of ``/`` and has an encryption
  (``crypt``) layer;
- ineffective: a destination is on the same file system as ``/``, on the same physical disk, or on
  a separate but unencrypted local disk of the same host (lost with the host, readable by whoever
  takes the disk);
- no_visibility: no ``e8_backup_paths``, a destination missing or not examined (run with become).
  Immutability, retention and further copies live on the backup platform and are not seen.

**ISM-1813** (ML3, unprivileged accounts cannot access their own backups): who besides root and
the backup admins can read the destination directory itself —
- ineffective: the owner is an ordinary account (neither root nor a backup admin), the mode gives
  "other" any permission, or it gives the group permission and the group (listed or primary
  members) holds anyone but root and backup admins;
- effective: owner root or a backup admin, no "other" permission, group permission only for a
  group made of backup admins.

**ISM-1705 / ISM-1706 / ISM-1707** (ML2-3 / ML3 / ML2-3, privileged accounts other than backup
admins cannot access others' / their own backups, or modify or delete them): on a Linux host every
member of sudo/wheel/admin can become root and read, change or delete any local or mounted backup,
whatever its mode. So:
- ineffective: a member of sudo/wheel/admin (listed or primary) is not in ``e8_backup_admins``, or
  the destination's owner or group members include such a privileged non-backup-admin through the
  mode (same ownership rule as ISM-1813);
- no_visibility: ``e8_backup_admins`` is not in the inventory and the admin groups are not empty
  (who is a backup admin is organisational); or none of sudo/wheel/admin was printed at all (an
  empty ``getent`` answer shows nobody, it does not show that nobody can become root);
- effective: every member of the admin groups seen is a backup admin (or the groups have none)
  and the ownership rule holds. Host-side part only: sudo rules granted outside these groups (see
  ``restrict_admin.linux_sudo_policy``), directory (SSSD/LDAP) groups and the backup platform's
  own roles are not seen.

Caveats: POSIX ACLs (``getfacl``) are not read; only the destination directory is examined here
(world access below it is ``backups.linux_backup_access``); a separate local encrypted disk is
credited for the host-side part though it shares the host's fate in a fire or theft of the whole
machine. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.accounts import ADMIN_GROUPS, PASSWD, Account, admin_members, members
from checks.facts.linux.backup_places import BACKUP_PLACES, Place
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

PRIVILEGED_ISM = ("ISM-1705", "ISM-1706", "ISM-1707")


def _resilience(p: Place, root: Place | None) -> str | None:
    """A problem with where ``p`` lives, or None when the host-side part holds."""
    if p.off_host:
        return None
    if root is None or not root.source:
        return f"{p.path}: the file system of / was not read"
    if p.device == root.device:
        return f"{p.path} is on the same file system/device as / ({p.source})"
    shared = p.disks() & root.disks()
    if shared:
        return f"{p.path} ({p.source}) is on the same disk as / ({', '.join(sorted(shared))})"
    if not p.encrypted():
        return (
            f"{p.path} is on a separate local device ({p.source}, {p.fstype}) with no crypt layer"
        )
    return None


def _holders(p: Place, accounts: tuple[Account, ...]) -> list[str]:
    """Accounts besides root that the mode lets at the destination ("*" = everyone)."""
    assert p.mode is not None
    who = [] if p.owner == "root" else [p.owner]
    if p.mode & 0o070:
        who += [
            m
            for m in (members(p.group_entry, accounts) if p.group_entry else [])
            if m != "root" and m not in who
        ]
    if p.mode & 0o007:
        who.append("*")
    return who


def _finding(ism: str, outcome: Outcome, evidence: str, observed: dict[str, object]) -> Finding:
    return Finding(ism=ism, outcome=outcome, evidence=evidence, observed=observed)


def _blind(isms: tuple[str, ...], why: str, paths: list[str]) -> list[Finding]:
    return [_finding(i, Outcome.NO_VISIBILITY, why, {"paths": paths}) for i in isms]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    isms = ("ISM-1811", "ISM-1813", *PRIVILEGED_ISM)
    paths = ctx.profile.listed("e8_backup_paths") or []
    places = BACKUP_PLACES.read(outputs.get("places"))
    accounts = PASSWD.read(outputs.get("passwd"))
    groups_read = ADMIN_GROUPS.read(outputs.get("admin_groups"))
    # Unknown admin groups only hide who else is privileged (ISM-1705/1706/1707); where the
    # backups live and who can read them by file mode (ISM-1811/1813) do not depend on them.
    groups = {} if isinstance(groups_read, Unknown) else groups_read
    if not paths:
        return _blind(isms, "no e8_backup_paths in inventory", paths)
    if isinstance(places, Unknown):
        return _blind(isms, places.reason, paths)
    if isinstance(accounts, Unknown):
        return _blind(isms, accounts.reason, paths)
    root = places.get("/")
    backup_admins = set(ctx.profile.listed("e8_backup_admins") or []) | {"root"}
    admins_known = ctx.profile.e8_backup_admins is not None
    admin_people = sorted({m for ms in admin_members(accounts, groups).values() for m in ms})
    blind: list[str] = []
    fragile: list[str] = []
    unpriv: list[str] = []
    priv: list[str] = []
    seen: dict[str, object] = {}
    for path in paths:
        p = places.get(path)
        if p is None or p.missing or p.mode is None:
            blind.append(f"{path}: {'does not exist' if p and p.missing else 'not examined'}")
            continue
        seen[path] = {
            "mode": f"{p.mode:o}",
            "owner": p.owner,
            "group": p.group,
            "source": p.source,
            "fstype": p.fstype,
            "off_host": p.off_host,
            "encrypted": p.encrypted(),
        }
        if (problem := _resilience(p, root)) is not None:
            fragile.append(problem)
        holders = _holders(p, accounts)
        seen[path]["holders"] = holders  # type: ignore[index]
        for h in holders:
            if h == "*":
                unpriv.append(f"{path}: mode {p.mode:o} gives other accounts access")
            elif h in backup_admins:
                continue
            elif h in admin_people:
                priv.append(f"{path}: {h} (privileged, not a backup admin) has access by mode")
            else:
                unpriv.append(f"{path}: {h} (not a backup admin) has access by owner/group")
    observed: dict[str, object] = {
        "paths": paths,
        "destinations": seen,
        "root_fs": {"source": root.source, "fstype": root.fstype} if root else None,
        "backup_admins": sorted(backup_admins),
        "admin_group_members": admin_people,
    }
    blind_text = "; ".join(blind)
    findings: list[Finding] = []
    # ISM-1811
    if fragile:
        findings.append(_finding("ISM-1811", Outcome.INEFFECTIVE, "; ".join(fragile), observed))
    elif blind:
        findings.append(_finding("ISM-1811", Outcome.NO_VISIBILITY, blind_text, observed))
    else:
        findings.append(
            _finding(
                "ISM-1811",
                Outcome.EFFECTIVE,
                "host-side part: every destination is off-host or on an encrypted device apart "
                "from the system disk ("
                + ", ".join(f"{k}: {v['source']} {v['fstype']}" for k, v in seen.items())  # type: ignore[index]
                + "); immutability and retention on the backup platform are not visible",
                observed,
            )
        )
    # ISM-1813
    if unpriv:
        findings.append(_finding("ISM-1813", Outcome.INEFFECTIVE, "; ".join(unpriv[:5]), observed))
    elif blind:
        findings.append(_finding("ISM-1813", Outcome.NO_VISIBILITY, blind_text, observed))
    else:
        findings.append(
            _finding(
                "ISM-1813",
                Outcome.EFFECTIVE,
                "destinations owned by root/backup admins, no access for other accounts "
                "(host-side part; ACLs and the backup platform's roles not read)",
                observed,
            )
        )
    # ISM-1705 / 1706 / 1707
    sudoers = [m for m in admin_people if m not in backup_admins]
    if sudoers and admins_known:
        text = (
            f"members of sudo/wheel/admin who are not in e8_backup_admins can become root and "
            f"read, change or delete the backups: {', '.join(sudoers)}"
        )
        outcome = Outcome.INEFFECTIVE
    elif priv:
        text, outcome = "; ".join(priv[:5]), Outcome.INEFFECTIVE
    elif sudoers:
        outcome = Outcome.NO_VISIBILITY
        text = (
            f"no e8_backup_admins in the inventory, so it is unknown whether the admin-group "
            f"members ({', '.join(sudoers)}) are backup administrators; each can become root and "
            f"reach the backups"
        )
    elif blind:
        text, outcome = blind_text, Outcome.NO_VISIBILITY
    elif isinstance(groups_read, Unknown) or not groups:
        outcome = Outcome.NO_VISIBILITY
        text = (
            "getent printed none of the sudo, wheel and admin groups, so who can become root is "
            "not visible (a host without any of them is unusual; directory groups and sudoers "
            "grants are not read here)"
        )
    else:
        outcome = Outcome.EFFECTIVE
        text = (
            "host-side part: every sudo/wheel/admin member is a backup admin (or there is none) "
            "and the destinations are closed to other privileged accounts; sudo rules outside "
            "these groups and directory groups are not seen"
        )
    findings += [_finding(i, outcome, text, observed) for i in PRIVILEGED_ISM]
    return findings


CHECK = Check(
    id="backups.linux_backup_protection",
    title="Linux backup destinations are off the system disk and closed to non-backup admins",
    strategy=Strategy.BACKUPS,
    ism=("ISM-1811", "ISM-1813", *PRIVILEGED_ISM),
    platforms=frozenset({Platform.LINUX}),
    collect={
        "places": BACKUP_PLACES.cmd,
        "passwd": PASSWD.cmd,
        "admin_groups": ADMIN_GROUPS.cmd,
    },
    # Where the destinations live (ISM-1811) needs only the places; who can read a destination
    # by its mode (ISM-1813) needs the places and /etc/passwd (primary group members), not the
    # admin groups. ISM-1705/1706/1707 rest on all three.
    rests_on={"ISM-1811": ("places",), "ISM-1813": ("places", "passwd")},
    judge=judge,
    version=2,  # v2: no sudo/wheel/admin group printed is no_visibility for ISM-1705/1706/1707
)
