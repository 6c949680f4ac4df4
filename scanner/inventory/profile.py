"""A host's typed profile: every ``e8_`` inventory variable as a validated field.

Inventory values arrive as whatever INI or YAML made of them (``e8_internet_facing=false`` in
INI is the text ``"false"``). :func:`parse_profile` turns them into types judges can trust:

- booleans accept Ansible's spellings (``true/false``, ``yes/no``, ``on/off``, ``y/n``,
  ``t/f``, ``1/0``, any case) and real YAML booleans;
- numbers must be numbers (``24`` or ``"24"``; ``24h`` is an error);
- ``e8_role`` is one of workstation | server | network_device;
- lists accept a YAML list or a comma-separated string (an empty string means unset);
- a null value (``e8_ot_zone:`` with nothing after it) means unset.

An unknown ``e8_`` variable is an error (with a "did you mean" when one is close): a typo
silently ignored would change verdicts. Other variables (``ansible_*``, the user's own) are
not looked at. Errors are :class:`InputError` naming where the value was set.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from scanner.model.errors import InputError
from scanner.model.policy import Policy
from scanner.model.redaction import redact_data, secret_values
from scanner.model.vocabulary import Role

PREFIX = "e8_"
_TRUE = frozenset({"true", "yes", "on", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "off", "n", "f", "0"})
BOOLEAN_EXPECTED = "a boolean (true/false, yes/no, on/off, 1/0)"
SSH_LEGACY_KEX = ("diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1")
"""The SHA-1 key exchanges ``e8_ssh_legacy: true`` allows for its hosts (and no others)."""
SSH_LEGACY_SIGNATURES = ("ssh-rsa",)
"""The SHA-1 signature (host key, RSA login key) ``e8_ssh_legacy: true`` allows."""
SSH_LEGACY_ALGORITHMS = SSH_LEGACY_KEX + SSH_LEGACY_SIGNATURES


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
    raise ValueError(BOOLEAN_EXPECTED)


def _number(value: Any) -> float:
    """A finite number; text is read as a number (``"24"``), never as ``24h``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError("a number") from None
    else:
        raise ValueError("a number")
    if not math.isfinite(number):
        raise ValueError("a finite number")
    return number


def _positive_hours(value: Any) -> float:
    try:
        hours = _number(value)
    except ValueError:
        raise ValueError("a number of hours > 0 (such as 24)") from None
    if hours <= 0:
        raise ValueError("a number of hours > 0 (such as 24)")
    return hours


def _whole_positive(value: Any) -> int:
    expected = "a whole number >= 1"
    try:
        number = _number(value)
    except ValueError:
        raise ValueError(expected) from None
    if number != int(number) or number < 1 or isinstance(value, float):
        raise ValueError(expected)
    return int(number)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError("text")


def _role(value: Any) -> Role:
    expected = "one of " + " | ".join(r.value for r in Role)
    if not isinstance(value, str):
        raise ValueError(expected)
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValueError(expected) from None


def _text_list(value: Any) -> tuple[str, ...] | None:
    expected = "a list, or text with comma-separated values"
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list | tuple):
        items = []
        for item in value:
            if isinstance(item, dict | list | tuple | bool) or item is None:
                raise ValueError(f"{expected} (found the item {item!r})")
            if str(item).strip():
                items.append(str(item).strip())
        return tuple(items)
    raise ValueError(expected)


Flag = Annotated[bool, BeforeValidator(_boolean)]
Text = Annotated[str, BeforeValidator(_text)]
TextList = Annotated[tuple[str, ...] | None, BeforeValidator(_text_list)]


TARGET_PRIORITIES = ("low", "normal")


def _target_priority(v: Any) -> Any:
    expected = "one of " + " | ".join(TARGET_PRIORITIES)
    if not isinstance(v, str) or v.strip().lower() not in TARGET_PRIORITIES:
        raise ValueError(expected)
    return v.strip().lower()


def _ldap_auth(v: Any) -> Any:
    if v is None:
        return v
    text = str(v).strip().lower()
    if text in ("simple", "kerberos"):
        return text
    raise ValueError(f"{v!r} is not simple or kerberos")


def _ldap_scheme(v: Any) -> Any:
    if v is None:
        return v
    text = str(v).strip().lower()
    if text in ("ldaps", "ldap"):
        return text
    raise ValueError(f"{v!r} is not ldaps or ldap")


class HostProfile(BaseModel):
    """The ``e8_`` variables of one host, typed. ``None``: the inventory does not set it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    e8_password_env: Text | None = Field(
        default=None, description="Name of the environment variable holding the password."
    )
    e8_role: Annotated[Role | None, BeforeValidator(_role)] = Field(
        default=None, description="workstation | server | network_device (unset: from the host)."
    )
    e8_internet_facing: Flag = Field(
        default=False, description="Internet-facing host: the shorter patch windows apply."
    )
    e8_ot_zone: Text | None = Field(default=None, description="OT zone label, carried to results.")
    e8_admin_allowlist: TextList = Field(
        default=None, description="Accounts allowed to hold admin rights."
    )
    e8_admin_host: Flag = Field(
        default=False, description="A privileged operating environment (jump host, admin server)."
    )
    e8_backup_paths: TextList = Field(default=None, description="Where backups land.")
    e8_backup_rpo_hours: Annotated[float | None, BeforeValidator(_positive_hours)] = Field(
        default=None, description="How fresh the newest backup must be, in hours."
    )
    e8_backup_admins: TextList = Field(
        default=None, description="Backup administrator accounts and groups."
    )
    e8_adblock_extension_ids: TextList = Field(
        default=None, description="Approved ad-blocking browser extension ids."
    )
    e8_max_concurrency: Annotated[int | None, BeforeValidator(_whole_positive)] = Field(
        default=None, description="On a group: at most this many of its hosts at once."
    )
    e8_jump_host: Text | None = Field(
        default=None, description="[user@]bastion[:port] to reach the host through."
    )
    e8_ssh_legacy: Flag = Field(
        default=False,
        description=(
            "SSH hosts: also allow the SHA-1 algorithms old servers need ("
            + ", ".join(SSH_LEGACY_ALGORITHMS)
            + "), tried after every modern one; for this host only."
        ),
    )
    e8_allow_basic_over_http: Flag = Field(
        default=False,
        description=(
            "Allow WinRM Basic authentication over plain HTTP, which sends the password "
            "base64-encoded (readable on the network); refused unless this is true."
        ),
    )
    e8_target_priority: Annotated[str, BeforeValidator(_target_priority)] = Field(
        default="low",
        description=(
            "low (the default): the batch runs at the lowest scheduling priority on the host "
            "(nice 19 and ionice idle on Linux, BelowNormal on Windows) | normal: as the login "
            "session runs."
        ),
    )

    e8_ldap_base: Text | None = Field(
        default=None,
        description="Directory: the domain's base DN (unset: the DC's defaultNamingContext).",
    )
    e8_ldap_ca_trust_path: Text | None = Field(
        default=None,
        description="Directory: CA certificate file (PEM) that signed the DC's LDAPS certificate.",
    )
    e8_ldap_auth: Annotated[str | None, BeforeValidator(_ldap_auth)] = Field(
        default=None,
        description="Directory: simple (over LDAPS; the default) | kerberos (GSSAPI).",
    )
    e8_ldap_scheme: Annotated[str | None, BeforeValidator(_ldap_scheme)] = Field(
        default=None,
        description="Directory: ldaps (the default, 636) | ldap (389; Kerberos only, sealed).",
    )
    e8_privileged_groups: TextList = Field(
        default=None,
        description="Directory: more groups whose members are privileged (names or SIDs).",
    )

    def values(self, name: str) -> list[str]:
        """List variable ``name`` as a list ([] when unset)."""
        return self.listed(name) or []

    def listed(self, name: str) -> list[str] | None:
        """List variable ``name`` as a list; ``None`` when the inventory does not set it."""
        if name not in LIST_VARS:
            raise KeyError(f"{name} is not a list variable")
        found: tuple[str, ...] | None = getattr(self, name)
        return None if found is None else list(found)


KNOWN = tuple(HostProfile.model_fields)
LIST_VARS = frozenset(
    {"e8_admin_allowlist", "e8_backup_paths", "e8_backup_admins", "e8_adblock_extension_ids"}
)
"""The list variables: the only ones a command may take arguments from (``Cmd.args_var``)."""
Where = Callable[[str], str]


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(name, KNOWN, n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]}?" if close else f"; known ones: {', '.join(KNOWN)}"
    return f"unknown variable {name}{hint}"


def parse_profile(hvars: Mapping[str, Any], where: Where) -> HostProfile:
    """The typed profile of one host's resolved variables.

    ``where(name)`` says where variable ``name`` was set (``site.ini:12``); a bad or unknown
    ``e8_`` variable raises InputError there, naming the variable and what was expected.
    """
    mine = {k: v for k, v in hvars.items() if k.startswith(PREFIX) and v is not None}
    for name in mine:
        if name not in HostProfile.model_fields:
            raise InputError(where(name), _unknown(name))
    try:
        return HostProfile.model_validate(mine)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        name = str(err["loc"][0])
        cause = err.get("ctx", {}).get("error")
        expected = str(cause) if cause is not None else err["msg"]
        found = repr(redact_data(mine.get(name), secret_values(dict(hvars))))[:80]
        raise InputError(where(name), f"{name} is {found}; expected {expected}") from None


def for_judging(profile: HostProfile, policy: Policy, role: Role) -> HostProfile:
    """The profile judges see: the resolved role, and the policy's organisation-wide values.

    The policy's lists are added after the host's own; a host's ``e8_backup_rpo_hours`` beats
    the policy's RPO for its role.
    """
    update: dict[str, Any] = {"e8_role": role}
    for name, extra in (
        ("e8_admin_allowlist", policy.admin_allowlist),
        ("e8_adblock_extension_ids", policy.adblock_extension_ids),
    ):
        if extra:
            own = profile.values(name)
            update[name] = (*own, *(e for e in extra if e not in own))
    if profile.e8_backup_rpo_hours is None and role.value in policy.backup_rpo_hours_by_role:
        update["e8_backup_rpo_hours"] = float(policy.backup_rpo_hours_by_role[role.value])
    return profile.model_copy(update=update)
