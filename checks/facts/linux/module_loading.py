"""Whether the kernel still loads modules, and only signed ones (root, so securityfs is readable).

Fact ``linux.module_loading``: ``/proc/sys/kernel/modules_disabled``,
``/sys/module/module/parameters/sig_enforce``, ``/sys/kernel/security/lockdown`` (its bracketed
mode) and a ``module.sig_enforce=`` kernel argument from ``/proc/cmdline``. A file that is absent
is None; one that exists but cannot be read (or whose folder cannot be entered) is
:data:`UNREADABLE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checks.facts.linux.shell import sh_fact

MODDIS = "/proc/sys/kernel/modules_disabled"
SIGENF = "/sys/module/module/parameters/sig_enforce"
LOCKDOWN = "/sys/kernel/security/lockdown"
UNREADABLE = "E8_UNREADABLE"


@dataclass(frozen=True)
class ModuleLoading:
    """The three files' values as printed (None: absent), the lockdown mode in brackets (None when
    lockdown is absent, unreadable or shows no bracket) and the kernel argument's value."""

    modules_disabled: str | None
    sig_enforce: str | None
    lockdown_raw: str | None
    lockdown: str | None
    cmdline_sig_enforce: str | None


def parse(text: str) -> ModuleLoading:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep:
            values[key] = value.strip()
    lock_raw = values.get(LOCKDOWN)
    mode = re.search(r"\[(\w+)\]", lock_raw or "")
    return ModuleLoading(
        modules_disabled=values.get(MODDIS),
        sig_enforce=values.get(SIGENF),
        lockdown_raw=lock_raw,
        lockdown=mode.group(1) if mode else None,
        cmdline_sig_enforce=values.get("module.sig_enforce"),
    )


MODULE_LOADING = sh_fact(
    "linux.module_loading",
    f"for f in {MODDIS} {SIGENF} {LOCKDOWN}; do "
    'if test -r "$f"; then echo "$f=$(cat "$f")"; '
    'elif test -e "$f" || { test -d "$(dirname "$f")" && ! test -x "$(dirname "$f")"; }; '
    'then echo "$f=E8_UNREADABLE"; fi; done; '
    "grep -o 'module.sig_enforce=[^ ]*' /proc/cmdline; true",
    parse,
    root=True,
)
