"""Where the backup destinations (inventory ``e8_backup_paths``, passed as ``"$@"``) and ``/``
live: the file system (``findmnt``), the block devices under it (``lsblk``: disk, part, crypt,
lvm …), and each path's mode, owner and group with the group's ``getent`` entry (root)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checks.facts.linux.accounts import Group, parse_group_line
from checks.facts.linux.shell import sh_fact

NETWORK_FS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "fuse.sshfs",
        "sshfs",
        "glusterfs",
        "fuse.glusterfs",
        "ceph",
        "fuse.ceph",
        "fuse.rclone",
        "fuse.s3fs",
        "lustre",
        "gpfs",
    }
)


@dataclass(frozen=True)
class Place:
    """One path: its mount (source, fstype, target), block devices and ownership."""

    path: str
    missing: bool = False
    source: str = ""
    fstype: str = ""
    target: str = ""
    mode: int | None = None
    owner: str = ""
    group: str = ""
    group_entry: Group | None = None
    blocks: tuple[tuple[str, str], ...] = ()  # (name, type)

    @property
    def device(self) -> str:
        return self.source.split("[", 1)[0]

    @property
    def off_host(self) -> bool:
        """On a network file system (by type, ``//server/share`` or ``host:/path``)."""
        src = self.source
        return self.fstype in NETWORK_FS or src.startswith("//") or (":" in src and "/" in src)

    def disks(self) -> set[str]:
        return {n for n, t in self.blocks if t == "disk"}

    def encrypted(self) -> bool:
        return any(t == "crypt" for _, t in self.blocks)


def parse(text: str) -> dict[str, Place]:
    """Path → what was seen of it (``/`` first); paths the script never reached are absent."""
    fields: dict[str, dict[str, Any]] = {}

    def get(path: str) -> dict[str, Any]:
        return fields.setdefault(path, {"path": path, "blocks": []})

    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        meta, _, path = rest.rpartition("|")
        if head == "E8_MISSING":
            get(rest)["missing"] = True
        elif head == "E8_MNT" and path:
            parts = meta.split()
            if len(parts) >= 2:
                p = get(path)
                p["source"], p["fstype"] = parts[0].replace("\\x20", " "), parts[1]
                p["target"] = parts[2] if len(parts) > 2 else ""
        elif head == "E8_BLK" and path:
            parts = meta.split()
            if len(parts) == 2:
                get(path)["blocks"].append((parts[0], parts[1]))
        elif head == "E8_STAT" and path:
            parts = meta.split()
            if len(parts) == 3:
                try:
                    mode = int(parts[0], 8)
                except ValueError:
                    continue
                p = get(path)
                p["mode"], p["owner"], p["group"] = mode, parts[1], parts[2]
        elif head == "E8_GRP" and path:
            get(path)["group_entry"] = parse_group_line(meta)
    return {path: Place(**{**f, "blocks": tuple(f["blocks"])}) for path, f in fields.items()}


BACKUP_PLACES = sh_fact(
    "linux.backup_places",
    "if [ $# -eq 0 ]; then echo E8_NO_PATHS; fi; "
    'for p in / "$@"; do if [ -e "$p" ]; then '
    'm=$(findmnt -rno SOURCE,FSTYPE,TARGET -T "$p" | head -1); printf \'E8_MNT %s|%s\\n\' "$m" "$p"; '
    's=${m%% *}; s=${s%%\\[*}; if [ -b "$s" ]; then '
    'lsblk -lnso NAME,TYPE "$s" 2>/dev/null | while read -r n t; do '
    'printf \'E8_BLK %s %s|%s\\n\' "$n" "$t" "$p"; done; fi; '
    "stat -c 'E8_STAT %a %U %G|%n' \"$p\"; "
    'printf \'E8_GRP %s|%s\\n\' "$(getent group "$(stat -c %g "$p")")" "$p"; '
    "else printf 'E8_MISSING %s\\n' \"$p\"; fi; done",
    parse,
    root=True,
    args_var="e8_backup_paths",
)
