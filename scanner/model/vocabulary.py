"""The vocabulary every stage shares: strategies, platforms, ASD outcomes, reach and grades."""

from __future__ import annotations

from enum import StrEnum


class Strategy(StrEnum):
    """The eight mitigation strategies, in ASD's order."""

    APPLICATION_CONTROL = "application_control"
    PATCH_APPLICATIONS = "patch_applications"
    OFFICE_MACROS = "office_macros"
    USER_APP_HARDENING = "user_app_hardening"
    RESTRICT_ADMIN = "restrict_admin"
    PATCH_OS = "patch_os"
    MFA = "mfa"
    BACKUPS = "backups"

    @property
    def label(self) -> str:
        """ASD's name for the strategy."""
        return _TITLES[self]

    @property
    def short_label(self) -> str:
        """A column-width name for the strategy."""
        return _SHORT[self]


_TITLES = {
    Strategy.APPLICATION_CONTROL: "Application control",
    Strategy.PATCH_APPLICATIONS: "Patch applications",
    Strategy.OFFICE_MACROS: "Configure Microsoft Office macro settings",
    Strategy.USER_APP_HARDENING: "User application hardening",
    Strategy.RESTRICT_ADMIN: "Restrict administrative privileges",
    Strategy.PATCH_OS: "Patch operating systems",
    Strategy.MFA: "Multi-factor authentication",
    Strategy.BACKUPS: "Regular backups",
}


_SHORT = {
    Strategy.APPLICATION_CONTROL: "Application control",
    Strategy.PATCH_APPLICATIONS: "Patch applications",
    Strategy.OFFICE_MACROS: "Office macros",
    Strategy.USER_APP_HARDENING: "App hardening",
    Strategy.RESTRICT_ADMIN: "Restrict admin",
    Strategy.PATCH_OS: "Patch OS",
    Strategy.MFA: "MFA",
    Strategy.BACKUPS: "Regular backups",
}


OFFLINE = "offline"
"""The transport (``connection``) of a host collected by the field kit and imported."""


class Platform(StrEnum):
    LINUX = "linux"
    WINDOWS = "windows"
    DIRECTORY = "directory"  # an Active Directory domain, read over LDAP from one of its DCs


class Role(StrEnum):
    """What a host is for (``e8_role``): it decides which patch windows and separation rules apply."""

    WORKSTATION = "workstation"
    SERVER = "server"
    NETWORK_DEVICE = "network_device"


class Outcome(StrEnum):
    """ASD's standardised assessment outcomes (Assessment Process Guide, October 2024)."""

    EFFECTIVE = "effective"
    ALTERNATE_CONTROL = "alternate_control"
    INEFFECTIVE = "ineffective"
    NO_VISIBILITY = "no_visibility"
    NOT_IMPLEMENTED = "not_implemented"
    NOT_APPLICABLE = "not_applicable"
    NOT_ASSESSED = "not_assessed"

    @property
    def meets(self) -> bool:
        """True when the outcome satisfies a control (effective or alternate control)."""
        return self in (Outcome.EFFECTIVE, Outcome.ALTERNATE_CONTROL)

    @property
    def blocks(self) -> bool:
        """True when the outcome stops a level being granted on the host's own evidence."""
        return self in (Outcome.INEFFECTIVE, Outcome.NOT_IMPLEMENTED, Outcome.NO_VISIBILITY)


# When several checks judge the same control on one host, the worst outcome stands.
OUTCOME_SEVERITY: dict[Outcome, int] = {
    Outcome.NOT_APPLICABLE: 0,
    Outcome.NOT_ASSESSED: 1,
    Outcome.EFFECTIVE: 2,
    Outcome.ALTERNATE_CONTROL: 3,
    Outcome.NO_VISIBILITY: 4,
    Outcome.NOT_IMPLEMENTED: 5,
    Outcome.INEFFECTIVE: 6,
}


class Reach(StrEnum):
    """How far the scanner got with a host."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth_failed"
    HOST_KEY_REFUSED = "host_key_refused"
    TIMEOUT = "timeout"
    ERROR = "error"


class Grade(StrEnum):
    """ASD's evidence quality scale."""

    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    POOR = "poor"
    NONE = "none"

    def at_most(self, cap: Grade) -> Grade:
        """This grade, or ``cap`` where this one is better."""
        order = list(Grade)
        return self if order.index(self) >= order.index(cap) else cap
