"""Linux: are backup destinations resilient (off the system disk) and closed to everyone but backup admins?

**Collected (root, through ``sudo -n``):** for ``/`` and for each destination in
``e8_backup_paths`` (shell-quoted arguments): the mounted file system holding it
(``findmnt -rno SOURCE,FSTYPE,TARGET -T``) and, for a block device, the device stack under it
(``lsblk -lnso NAME,TYPE``: partition, LVM, ``crypt`` layer, disk); the destination's mode, owner
and group (``stat``) and the owning group's entry (``getent group``). Without root: ``/etc/passwd``
(name, UID, primary GID) and ``getent group sudo wheel admin``; with root, the sudoers files
(``/etc/sudoers`` and ``/etc/sudoers.d/*``) — the same commands as
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
account that can become root — a member of sudo/wheel/admin, or whoever sudoers grants root to
(users, ``%groups``, ``#uid``, ``User_Alias`` members, ``ALL``; resolved by ``checks/_sudo.py``)
— can read, change or delete any local or mounted backup, whatever its mode. So:
- ineffective: sudoers grants root to everyone (``ALL``, ``%users``, ``%domain users`` …); an
  account that can become root (admin-group member, listed or primary, or sudoers grantee) is not
  in ``e8_backup_admins``; or the destination's owner or group members include such a privileged
  non-backup-admin through the mode (same ownership rule as ISM-1813);
- no_visibility: ``e8_backup_admins`` is not in the inventory and someone besides root can become
  root (who is a backup admin is organisational); sudoers not readable (it needs root); none of
  sudo/wheel/admin was printed at all (an empty ``getent`` answer shows nobody, it does not show
  that nobody can become root); or sudoers grants root to a group or netgroup whose members are
  not visible and which ``e8_backup_admins`` does not name (``%group``);
- effective: every account that can become root is a backup admin (or there is none besides root)
  and the ownership rule holds. Host-side part only: directory (SSSD/LDAP) sudo rules, members of
  directory groups and the backup platform's own roles are not seen.

Caveats: POSIX ACLs (``getfacl``) are not read; only the destination directory is examined here
(world access below it is ``backups.linux_backup_access``); a separate local encrypted disk is
credited for the host-side part though it shares the host's fate in a fire or theft of the whole
machine. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks._sudo import Holders, read_holders, registered
from checks.facts.fact import Unknown
from checks.facts.linux.accounts import ADMIN_GROUPS, PASSWD, Account, admin_members, members
from checks.facts.linux.backup_places import BACKUP_PLACES, Place
from checks.facts.linux.sudoers import SUDOERS
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


def _privileged(
    privileged: list[str],
    backup_admins: set[str],
    admins_known: bool,
    priv: list[str],
    blind_text: str,
    groups_known: bool,
    held: Holders | str,
) -> tuple[Outcome, str]:
    """ISM-1705/1706/1707: who besides the backup admins can become root and reach the backups."""
    extra = [m for m in privileged if m not in backup_admins]
    if not isinstance(held, str) and held.broad:
        return Outcome.INEFFECTIVE, (
            "sudo grants root to everyone, so any account can read, change or delete the "
            "backups: " + "; ".join(held.broad[:3])
        )
    if extra and admins_known:
        return Outcome.INEFFECTIVE, (
            f"accounts that can become root (sudo/wheel/admin members or sudoers grantees) and "
            f"are not in e8_backup_admins can read, change or delete the backups: {', '.join(extra)}"
        )
    if priv:
        return Outcome.INEFFECTIVE, "; ".join(priv[:5])
    if extra:
        return Outcome.NO_VISIBILITY, (
            f"no e8_backup_admins in the inventory, so it is unknown whether the accounts that "
            f"can become root ({', '.join(extra)}) are backup administrators; each can reach the "
            f"backups"
        )
    if blind_text:
        return Outcome.NO_VISIBILITY, blind_text
    if not groups_known:
        return Outcome.NO_VISIBILITY, (
            "getent printed none of the sudo, wheel and admin groups, so who can become root is "
            "not visible (a host without any of them is unusual)"
        )
    if isinstance(held, str):
        return Outcome.NO_VISIBILITY, f"who sudo grants root to is not visible: {held}"
    unseen = sorted(p for p in held.unexpanded if not registered(p, sorted(backup_admins)))
    if unseen:
        return Outcome.NO_VISIBILITY, (
            f"sudo grants root to {', '.join(unseen)}, whose members are not visible from the "
            f"host and which e8_backup_admins does not name"
        )
    return Outcome.EFFECTIVE, (
        "host-side part: every account that can become root (sudo/wheel/admin members and "
        "sudoers grantees) is a backup admin (or there is none besides root) and the destinations "
        "are closed to other privileged accounts; directory sudo rules and the members of "
        "directory groups are not seen"
    )


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
    held = read_holders(outputs)
    granted = [] if isinstance(held, str) else sorted(held.accounts)
    privileged = sorted(set(admin_people) | set(granted))
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
            elif h in privileged:
                priv.append(f"{path}: {h} (privileged, not a backup admin) has access by mode")
            else:
                unpriv.append(f"{path}: {h} (not a backup admin) has access by owner/group")
    observed: dict[str, object] = {
        "paths": paths,
        "destinations": seen,
        "root_fs": {"source": root.source, "fstype": root.fstype} if root else None,
        "backup_admins": sorted(backup_admins),
        "admin_group_members": admin_people,
        "sudo_root_holders": granted,
        "sudo_broad_grants": [] if isinstance(held, str) else held.broad,
        "sudo_unexpanded_grants": [] if isinstance(held, str) else sorted(held.unexpanded),
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
    outcome, text = _privileged(
        privileged, backup_admins, admins_known, priv, blind_text, bool(groups), held
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
        "sudoers": SUDOERS.cmd,
    },
    # Where the destinations live (ISM-1811) needs only the places; who can read a destination
    # by its mode (ISM-1813) needs the places and /etc/passwd (primary group members), not the
    # admin groups or sudoers. ISM-1705/1706/1707 rest on all four.
    rests_on={"ISM-1811": ("places",), "ISM-1813": ("places", "passwd")},
    judge=judge,
    # v2: no sudo/wheel/admin group printed is no_visibility for ISM-1705/1706/1707;
    # v3: whoever sudoers grants root to counts as privileged (ISM-1705/1706/1707).
    version=3,
)
