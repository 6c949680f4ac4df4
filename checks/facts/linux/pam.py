"""PAM configuration: the files of the sshd ``auth`` stack, and ``pam_access`` rules.

``/etc/pam.d/sshd`` and the usual includes (``common-auth`` on Debian/Ubuntu; ``system-auth``,
``password-auth``, ``postlogin`` on the RHEL family), each printed after a ``### <path>`` marker;
a file that does not exist is simply not listed. ``/etc/security/access.conf`` without comments
and blank lines.
"""

from __future__ import annotations

from checks.facts.linux.shell import sh_fact


def parse_files(text: str) -> dict[str, list[str]]:
    """File name (``sshd``, ``common-auth`` …) → its lines, in order."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("### "):
            current = files.setdefault(line[4:].strip().rsplit("/", 1)[-1], [])
        elif current is not None:
            current.append(line)
    return files


def parse_rules(text: str) -> list[str]:
    """The rule lines, stripped and shortened."""
    return [ln.strip()[:160] for ln in text.splitlines() if ln.strip()]


PAM_SSHD_STACK = sh_fact(
    "linux.pam_sshd_stack",
    "for f in sshd common-auth system-auth password-auth postlogin; do "
    '[ -f "/etc/pam.d/$f" ] && { echo "### /etc/pam.d/$f"; cat "/etc/pam.d/$f"; }; '
    "done; true",
    parse_files,
)

ACCESS_CONF = sh_fact(
    "linux.pam_access_rules",
    "grep -Ev '^[[:space:]]*(#|$)' /etc/security/access.conf 2>/dev/null; true",
    parse_rules,
)
