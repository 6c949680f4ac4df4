"""How the host keeps its logs locally (root): the audisp ``au-remote`` and ``syslog`` plugins'
``active`` lines, journald ``Storage=``, and mode/owner/group of the usual log files and
directories under ``/var/log`` (whichever exist)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.sections import sections
from checks.facts.linux.shell import sh_fact

_ACTIVE = re.compile(r"^\s*active\s*=\s*yes\b")
_MODE = re.compile(r"[0-7]{3,4}")


@dataclass(frozen=True)
class LogPath:
    """One ``stat -c '%a %U %G %F %n'`` line: octal mode, owner, group, file type, path."""

    mode: str
    owner: str
    group: str
    type: str
    path: str


@dataclass(frozen=True)
class LogFiles:
    au_remote: bool  # an audisp au-remote plugin file says ``active = yes``
    audisp_syslog: bool  # the audisp syslog plugin is active
    journald_storage: str | None  # the last ``Storage=`` value; None when not set (auto)
    paths: tuple[LogPath, ...]


def _active(lines: list[str]) -> bool:
    return any(_ACTIVE.match(ln) for ln in lines)


def parse(text: str) -> LogFiles | Unknown:
    sec = sections(text)
    if "journald" not in sec or "perms" not in sec:
        return Unknown("the output lacks its ### journald / ### perms sections")
    storage = [ln.split("=", 1)[1].strip() for ln in sec["journald"] if "=" in ln]
    paths: list[LogPath] = []
    for line in sec["perms"]:
        parts = line.split(" ", 3)
        if len(parts) == 4 and _MODE.fullmatch(parts[0]):
            mode, owner, group, rest = parts
            kind, _, path = rest.rpartition(" ")
            paths.append(LogPath(mode, owner, group, kind, path))
    return LogFiles(
        au_remote=any(_active(v) for k, v in sec.items() if k.endswith("au-remote.conf")),
        audisp_syslog=any(_active(v) for k, v in sec.items() if k.endswith("/syslog.conf")),
        journald_storage=storage[-1] if storage else None,
        paths=tuple(paths),
    )


LOG_FILES = sh_fact(
    "linux.log_files",
    "for f in /etc/audit/plugins.d/au-remote.conf /etc/audisp/plugins.d/au-remote.conf "
    "/etc/audit/plugins.d/syslog.conf /etc/audisp/plugins.d/syslog.conf; do "
    '[ -f "$f" ] && { echo "### $f"; grep -E \'^[[:space:]]*active\' "$f"; }; done; '
    "echo \"### journald\"; grep -hE '^[[:space:]]*Storage' /etc/systemd/journald.conf "
    "/etc/systemd/journald.conf.d/*.conf 2>/dev/null; "
    "echo \"### perms\"; stat -c '%a %U %G %F %n' /var/log/audit /var/log/audit/audit.log "
    "/var/log/auth.log /var/log/secure /var/log/messages /var/log/syslog /var/log/journal "
    "2>/dev/null; true",
    parse,
    root=True,
)
