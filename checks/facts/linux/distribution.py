"""What identifies the running release beyond os-release: ``/etc/debian_version`` (the Debian
point release, ``12.7``; absent elsewhere), the running kernel (``uname -r``), and the package
sources of paid extended support (Ubuntu ESM ``esm.ubuntu.com/infra`` source lines; the section
headers of enabled yum/zypper repositories, where RHEL ELS and SUSE LTSS show by name)."""

from __future__ import annotations

from checks.facts.fact import Unknown
from checks.facts.linux.shell import sh_fact
from checks.facts.reading import first_line


def parse_debian_version(text: str) -> str | None:
    """The Debian version line, or None on a host without ``/etc/debian_version``."""
    return first_line(text) or None


def parse_kernel(text: str) -> str | Unknown:
    return first_line(text) or Unknown("uname -r printed nothing")


def parse_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


DEBIAN_VERSION = sh_fact(
    "linux.debian_version", "cat /etc/debian_version 2>/dev/null; true", parse_debian_version
)

KERNEL_RELEASE = sh_fact("linux.kernel_release", "uname -r", parse_kernel)

EXTENDED_SUPPORT_SOURCES = sh_fact(
    "linux.extended_support_sources",
    "grep -rhsE '^[^#]*esm\\.ubuntu\\.com/infra' /etc/apt/sources.list "
    "/etc/apt/sources.list.d 2>/dev/null; "
    "awk '/^\\[/{s=$0} /^enabled *= *(1|yes|true)/{print s}' "
    "/etc/yum.repos.d/*.repo /etc/zypp/repos.d/*.repo 2>/dev/null; true",
    parse_lines,
)
