"""The mounts that hold the usual user-writable folders, and whether they are ``noexec``.

Fact ``linux.temp_mounts``: ``findmnt -no TARGET,OPTIONS -T`` for ``/tmp``, ``/var/tmp``,
``/dev/shm`` and ``/home`` (the mount each folder lives on; one line per folder).
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.facts.linux.shell import sh_fact


@dataclass(frozen=True)
class Mount:
    """The mount point holding the folder and whether it has ``noexec`` (None when findmnt
    printed nothing for the folder)."""

    mount: str | None
    noexec: bool | None


def parse(text: str) -> dict[str, Mount]:
    out: dict[str, Mount] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out[parts[0]] = Mount(mount=parts[1], noexec="noexec" in parts[2].split(","))
        elif parts:
            out[parts[0]] = Mount(mount=None, noexec=None)
    return out


TEMP_MOUNTS = sh_fact(
    "linux.temp_mounts",
    "for m in /tmp /var/tmp /dev/shm /home; do "
    'echo "$m $(findmnt -no TARGET,OPTIONS -T $m 2>/dev/null | head -n 1)"; done',
    parse,
)
