"""Whether the host runs the kernel it has installed: ``uname -r`` / ``uname -v`` against the
newest installed kernel package (rpm ``INSTALLTIME``, dpkg ``linux-image-*`` ABI and Debian build
version), Debian's ``/var/run/reboot-required`` flag (and the packages that set it), and RHEL's
``needs-restarting -r`` (its exit status 1 and message mean a reboot is required).

An installed fix is not in effect until the reboot; ``since`` (when known) says how long it has
waited. "No reboot pending" needs evidence too: the running kernel found among the installed
kernel packages (the newest rpm ``kernel``, or a dpkg ``linux-image-*`` with the running build),
or ``needs-restarting -r`` answering that no reboot is needed. A probe that printed the running
kernel but nothing to compare it with (no kernel package listed: a custom kernel, a container,
a failed rpm/dpkg query) is Unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.linux.times import from_epoch, iso
from checks.facts.reading import first_line


@dataclass(frozen=True)
class Reboot:
    """Whether the running kernel is older than an installed one (or a reboot flag is set),
    since when, and what shows it."""

    pending: bool
    since: datetime | None
    detail: str


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text))


def parse(text: str) -> Reboot | Unknown:
    """Unknown when the probe did not even print the running kernel."""
    if not re.search(r"^running \S", text, flags=re.M):
        return Unknown(f"the running kernel was not printed ({first_line(text) or 'no output'})")
    running = build = ""
    flag: datetime | None = None
    pkgs: list[str] = []
    rpm_kernel: tuple[datetime | None, str] | None = None
    images: dict[str, str] = {}
    needs: tuple[int, str] | None = None
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        rest = rest.strip()
        if head == "running":
            running = rest
        elif head == "build":
            build = rest
        elif head == "flag":
            flag = from_epoch(rest)
        elif head == "pkg":
            pkgs.append(rest)
        elif head == "rpmkernel":
            epoch, _, ver = rest.partition(" ")
            rpm_kernel = (from_epoch(epoch), ver.strip())
        elif head == "dpkg":
            parts = rest.split()
            if len(parts) >= 3 and parts[0] == "ii":
                images[parts[1].removeprefix("linux-image-")] = parts[2]
        elif head == "needs-restarting":
            code, _, msg = rest.partition(" ")
            if code.isdigit():
                needs = (int(code), msg.strip())
    if rpm_kernel is not None and running and rpm_kernel[1] and rpm_kernel[1] != running:
        return Reboot(
            True,
            rpm_kernel[0],
            f"kernel {rpm_kernel[1]} installed {iso(rpm_kernel[0])} but {running} is running",
        )
    if images and running:
        flavour = re.sub(r"\d+", "#", running)
        newer = [
            abi
            for abi in images
            if re.sub(r"\d+", "#", abi) == flavour and _version_key(abi) > _version_key(running)
        ]
        if newer:
            best = max(newer, key=_version_key)
            return Reboot(True, flag, f"kernel {best} installed but {running} is running")
        m = re.search(r"Debian (\S+)", build)
        if running in images and m and m.group(1) != images[running]:
            return Reboot(
                True,
                flag,
                f"kernel package {images[running]} installed but build {m.group(1)} is running",
            )
    if flag is not None:
        what = ", ".join(pkgs[:5]) or "unnamed packages"
        return Reboot(True, flag, f"/var/run/reboot-required present since {iso(flag)} ({what})")
    if needs is not None and needs[0] == 1 and "reboot is required" in needs[1].lower():
        return Reboot(True, None, "needs-restarting -r reports a reboot is required")
    current = (rpm_kernel is not None and rpm_kernel[1] == running) or running in images
    if not current and not (needs is not None and needs[0] == 0):
        return Unknown(
            f"running kernel {running} not found among installed kernel packages and no "
            "needs-restarting answer: whether a reboot is pending cannot be told"
        )
    return Reboot(False, None, "")


REBOOT = sh_fact(
    "linux.reboot_pending",
    "echo \"running $(uname -r)\"; uname -v | sed 's/^/build /'; "
    "if [ -e /var/run/reboot-required ]; then "
    "stat -c 'flag %Y' /var/run/reboot-required; "
    "sed 's/^/pkg /' /var/run/reboot-required.pkgs 2>/dev/null; fi; "
    "rpm -q --qf 'rpmkernel %{INSTALLTIME} %{VERSION}-%{RELEASE}.%{ARCH}\\n' kernel "
    "2>/dev/null | grep '^rpmkernel' | sort -k2,2n | tail -1; "
    "dpkg-query -W -f='dpkg ${db:Status-Abbrev} ${Package} ${Version}\\n' "
    "'linux-image-[0-9]*' 2>/dev/null; "
    "if command -v needs-restarting >/dev/null 2>&1; then "
    'nr=$(needs-restarting -r 2>&1); echo "needs-restarting $? '
    '$(printf \'%s\' "$nr" | tail -1)"; fi; true',
    parse,
)
