"""fapolicyd, the Linux application control daemon: its state, configuration and rule files.

- ``linux.fapolicyd_state``: ``systemctl is-active`` / ``is-enabled fapolicyd`` and whether the
  daemon binary is installed;
- ``linux.fapolicyd_conf`` (root): ``/etc/fapolicyd/fapolicyd.conf`` as ``key = value`` settings,
  or absent (``E8_ABSENT``; the ``ls`` before it makes a refused read show in stderr);
- ``linux.fapolicyd_rules`` (root): the non-comment lines of ``compiled.rules``,
  ``rules.d/*.rules`` and the legacy ``fapolicyd.rules``, per file (``E8_FILE <path>`` markers).
  Which file set fapolicyd loads is judged in ``checks/application_control/_rules.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact


def parse_kv(text: str) -> dict[str, str]:
    """``key = value`` / ``key=value`` lines (``#`` comments dropped), last one wins."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" in line:
            k, _, v = line.partition("=")
            values[k.strip()] = v.strip()
    return values


@dataclass(frozen=True)
class FapolicydState:
    """``systemctl is-active`` / ``is-enabled`` words ("" when systemctl printed nothing) and
    ``installed`` (``yes`` / ``no``)."""

    active: str
    enabled: str
    installed: str


def parse_state(text: str) -> FapolicydState | Unknown:
    kv = parse_kv(text)
    if "active" not in kv or "installed" not in kv:
        return Unknown("the output lacks its active= / installed= lines")
    return FapolicydState(
        active=kv["active"], enabled=kv.get("enabled", ""), installed=kv["installed"]
    )


FAPOLICYD_STATE = sh_fact(
    "linux.fapolicyd_state",
    'echo "active=$(systemctl is-active fapolicyd 2>/dev/null)"; '
    'echo "enabled=$(systemctl is-enabled fapolicyd 2>/dev/null)"; '
    "if command -v fapolicyd >/dev/null 2>&1 || test -x /usr/sbin/fapolicyd; "
    "then echo installed=yes; else echo installed=no; fi",
    parse_state,
)


@dataclass(frozen=True)
class FapolicydConf:
    """``present``: the file exists; ``settings``: its ``key = value`` lines."""

    present: bool
    settings: dict[str, str]


def parse_conf(text: str) -> FapolicydConf:
    if text.strip() == "E8_ABSENT":
        return FapolicydConf(present=False, settings={})
    return FapolicydConf(present=True, settings=parse_kv(text))


FAPOLICYD_CONF = sh_fact(
    "linux.fapolicyd_conf",
    "if test -e /etc/fapolicyd/fapolicyd.conf; then cat /etc/fapolicyd/fapolicyd.conf; "
    "else ls /etc/fapolicyd >/dev/null; echo E8_ABSENT; fi",
    parse_conf,
    root=True,
)


def parse_rules(text: str) -> dict[str, tuple[str, ...]]:
    """Rule lines per file from the ``E8_FILE <path>`` marked dump (comments and blanks
    dropped); empty when no rule file exists."""
    files: dict[str, list[str]] = {}
    current: str | None = None
    for raw in text.splitlines():
        if raw.startswith("E8_FILE "):
            current = raw[8:].strip()
            files[current] = []
            continue
        line = raw.split("#", 1)[0].strip()
        if current is not None and line:
            files[current].append(line)
    return {path: tuple(lines) for path, lines in files.items()}


FAPOLICYD_RULES = sh_fact(
    "linux.fapolicyd_rules",
    "ls /etc/fapolicyd >/dev/null; for f in /etc/fapolicyd/compiled.rules "
    "/etc/fapolicyd/rules.d/*.rules "
    '/etc/fapolicyd/fapolicyd.rules; do if test -e "$f"; then echo "E8_FILE $f"; cat "$f"; '
    "fi; done; true",
    parse_rules,
    root=True,
)
