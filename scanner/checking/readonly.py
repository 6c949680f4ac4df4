"""The read-only rule, as code: patterns that mark a command as able to change a target.

A test runs every check's commands through :func:`mutations`; a check that would install, write,
delete, restart or refresh anything cannot land. Program names are matched only in command
position (start of the line, or after ``;``, ``|``, ``&``, ``(``, ``$(``, `` ` ``, ``sudo``,
``xargs``, ``then``/``do``/``else``), so a word inside a path or a pattern (``getent passwd``,
``/var/run/reboot-required``) is not a command. Deliberately strict otherwise: a read-only command
that trips it should be rewritten, not the rule loosened.
"""

from __future__ import annotations

import re

from scanner.model.ldap_search import SearchLineError
from scanner.model.ldap_search import parse as parse_search
from scanner.model.vocabulary import Platform

# Where a program name starts a command.
_CMD = r"(?:^|[;&|(`]|\$\(|\b(?:sudo|xargs|then|do|else|exec|env|timeout\s+\S+)\s)\s*(?:sudo\s+(?:-\S+\s+)*)?"

_POSIX: list[tuple[str, str]] = [
    (
        _CMD
        + r"apt(?:-get)?\s+(?!(?:[^;|&]*\s)?(?:-s|--simulate|--dry-run|--just-print|--no-act)\b)[^;|&]*"
        r"\b(?:update|upgrade|install|remove|purge|dist-upgrade|full-upgrade|autoremove)\b",
        "apt changes packages or refreshes caches",
    ),
    (
        _CMD
        + r"(?:dnf|yum)\b[^;|&]*\b(?:makecache|install|remove|erase|upgrade|update|downgrade|reinstall)\b",
        "dnf/yum changes packages or refreshes caches",
    ),
    (
        _CMD + r"(?:dnf|yum)\s+(?!(?:[^;|&]*\s)?(?:-C\b|--cacheonly))",
        "dnf/yum without -C may refresh metadata",
    ),
    (_CMD + r"zypper\s+(?!(?:[^;|&]*\s)?--no-refresh)", "zypper without --no-refresh"),
    (
        _CMD + r"zypper\b[^;|&]*\b(?:refresh|ref|install|in|update|up|remove|rm|patch)\b",
        "zypper changes",
    ),
    (
        _CMD + r"(?:snap\s+refresh|fwupdmgr\s+(?:refresh|update|install))\b",
        "refreshes from the network",
    ),
    (
        _CMD
        + r"(?:rm|rmdir|mv|cp|dd|mkfs\S*|shred|truncate|chmod|chown|chgrp|ln|install|touch|mkdir|tee"
        r"|mount|umount|modprobe|rmmod|insmod|sysctl\s+-w|setenforce|iptables|nft)\b",
        "writes files or state",
    ),
    (_CMD + r"sed\s+(?:-[a-zA-Z]*i|--in-place)", "sed -i edits files"),
    (r"(?<![0-9&<>])>>?\s*(?!/dev/null\b|&\d|\s*&)[^\s;|&]", "redirects output into a file"),
    (r"\b[12]>>?\s*(?!/dev/null\b|&\d)[^\s;|&]", "redirects a stream into a file"),
    (
        _CMD
        + r"systemctl\s+(?:start|stop|restart|reload|enable|disable|mask|unmask|daemon-reload|kill"
        r"|isolate|set-property|edit|preset)\b",
        "changes services",
    ),
    (_CMD + r"service\s+\S+\s+(?:start|stop|restart|reload)\b", "changes services"),
    (
        _CMD
        + r"(?:useradd|usermod|userdel|groupadd|groupmod|groupdel|chpasswd|gpasswd|vipw|visudo)\b",
        "changes accounts",
    ),
    (_CMD + r"chage\s+(?!-l\b)", "chage changes password ageing"),
    (_CMD + r"passwd\b(?!\s+-S)", "passwd changes passwords"),
    (
        _CMD + r"(?:kill|pkill|killall|shutdown|reboot|poweroff|halt|telinit)\b",
        "stops processes or the host",
    ),
    (_CMD + r"crontab\s+(?!-l\b)(?!-u\s+\S+\s+-l\b)", "crontab edits"),
    (
        _CMD + r"needrestart\b(?![^;|&]*\s-b\b)",
        "needrestart without batch mode may restart services",
    ),
]
_WINDOWS: list[tuple[str, str]] = [
    (
        r"(?i)\b(?:set|remove|new|add|clear|disable|enable|install|uninstall|restart|stop|start|rename"
        r"|move|copy|register|unregister|update|reset|suspend|resume|invoke-wmimethod)-(?!object\b|timespan\b)[a-z]+",
        "PowerShell verb that changes state",
    ),
    (r"(?i)\bwin32_product\b", "Win32_Product triggers MSI repairs"),
    (
        r"(?i)\breg(?:\.exe)?\s+(?:add|delete|import|load|unload|copy|restore|save)\b",
        "changes the registry",
    ),
    (r"(?i)\b(?:wuauclt|usoclient)\b", "triggers Windows Update"),
    (
        r"(?i)\b(?:del|erase|rd|rmdir|format|sc\s+(?:stop|start|config|delete)|net\s+(?:stop|start|user\s+\S+\s+\S))\b",
        "cmd.exe command that changes state",
    ),
    (r"(?i)\.(?:delete|put|create|setinfo|invokemethod)\s*\(", "COM/ADSI call that changes state"),
]
_COMPILED = {
    Platform.LINUX: [(re.compile(p, re.MULTILINE), why) for p, why in _POSIX],
    Platform.WINDOWS: [(re.compile(p), why) for p, why in _WINDOWS],
}


DIRECTORY_SECRETS = frozenset(
    a.lower()
    for a in (
        "unicodePwd",
        "dBCSPwd",
        "ntPwdHistory",
        "lmPwdHistory",
        "supplementalCredentials",
        "ms-Mcs-AdmPwd",
        "msLAPS-Password",
        "msLAPS-EncryptedPassword",
        "msLAPS-EncryptedPasswordHistory",
        "msLAPS-EncryptedDSRMPassword",
        "msLAPS-EncryptedDSRMPasswordHistory",
        "msDS-ManagedPassword",
        "msFVE-RecoveryPassword",
        "msFVE-KeyPackage",
    )
)
"""Directory attributes that hold a password, a key or its history: no search may ask for one
(nor filter on one, which leaks it a bit at a time)."""


def mutations(command: str, platform: Platform = Platform.LINUX) -> list[str]:
    """Why ``command`` may change its target; empty when it looks read-only.

    A directory command is read-only when it is a search line at all: the directory transport
    runs nothing else (:mod:`scanner.model.ldap_search`)."""
    if platform is Platform.DIRECTORY:
        try:
            search = parse_search(command)
        except SearchLineError as exc:
            return [f"not an LDAP search: {exc}"]
        secret = [a for a in search.attributes if a.lower() in DIRECTORY_SECRETS]
        # Attribute names the filter tests: "(name=", "(name>=", "(name:rule:=", …
        tested = {
            m.lower() for m in re.findall(r"\(\s*([A-Za-z][\w-]*)\s*(?:[:~<>]|=)", search.filter)
        }
        filtered = sorted(tested & DIRECTORY_SECRETS)
        return [f"reads a secret attribute ({a})" for a in secret + filtered]
    return [why for rx, why in _COMPILED[platform] if rx.search(command)]
