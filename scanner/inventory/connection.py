"""From a host's resolved inventory variables to how to connect to it (Ansible's variable names).

Secrets never live in inventory files: a password comes from the environment variable named by
``e8_password_env``; ``ansible_password`` is still accepted (with a warning) because existing
inventories have it.
"""

from __future__ import annotations

import getpass
import importlib.util
import os
import warnings
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from scanner.inventory.bastion import JumpHost, jump_of_vars, parse_jump
from scanner.inventory.vault import VaultedText
from scanner.model.errors import InputError
from scanner.model.vocabulary import Platform

Connection = Literal["ssh", "winrm", "local", "ldap"]
_CONNECTIONS: dict[str, Connection] = {
    "ssh": "ssh",
    "paramiko": "ssh",
    "paramiko_ssh": "ssh",
    "smart": "ssh",
    "winrm": "winrm",
    "local": "local",
    "ldap": "ldap",
}


class HostKeyPolicy(StrEnum):
    STRICT = "strict"  # unknown keys refused (default)
    ACCEPT_NEW = "accept-new"  # unknown keys accepted and recorded; changed keys still refused


class ConnectionSpec(BaseModel):
    """Everything a transport needs for one host. ``password`` never prints."""

    model_config = ConfigDict(frozen=True)

    name: str
    connection: Connection
    address: str
    port: int
    user: str | None = None
    key_file: str | None = None
    password: SecretStr | None = None
    become: bool = False
    proxy_jump: str | None = None
    winrm_transport: str = "ntlm"
    winrm_scheme: str = "https"
    winrm_cert_validation: bool = True
    winrm_ca_trust_path: str | None = None
    winrm_kerberos_hostname_override: str | None = None
    winrm_kerberos_delegation: bool = False  # never on unless the inventory asks
    winrm_kinit_mode: Literal["managed", "manual"] = "managed"
    ldap_scheme: str = "ldaps"
    ldap_auth: str = "simple"
    ldap_ca_trust_path: str | None = None
    ldap_base: str | None = None

    @property
    def jump(self) -> JumpHost | None:
        """The bastion this host is reached through (validated when the spec was made)."""
        return parse_jump(self.proxy_jump) if self.proxy_jump else None

    @property
    def platform(self) -> Platform:
        if self.connection == "ldap":
            return Platform.DIRECTORY
        return Platform.WINDOWS if self.connection == "winrm" else Platform.LINUX


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in ("1", "yes", "true", "on", "y")


def spec_for(
    name: str,
    hvars: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    secrets: bool = True,
    problems: list[InputError] | None = None,
) -> ConnectionSpec:
    """Resolve one host's connection; InputError names the host and the variable at fault.

    ``secrets=False`` (``e8scan plan``) reads no password and opens no key file: planning
    needs neither. ``problems``: credential problems of this host (an unset password variable,
    an unreadable key file, a WinRM host with no user or password) are appended there, even
    with ``secrets=False``, instead of raised; a malformed inventory value is always raised.
    """
    env = os.environ if environ is None else environ
    raw_conn = str(hvars.get("ansible_connection", "ssh"))
    conn = _CONNECTIONS.get(raw_conn)
    if conn is None:
        raise InputError(
            f"host {name}: ansible_connection",
            f"unknown connection {raw_conn!r}; expected one of ssh, winrm, local, ldap",
        )
    address = str(hvars.get("ansible_host", name))
    if conn == "winrm":
        scheme = str(hvars.get("ansible_winrm_scheme", "")).lower()
        port_default = 5985 if scheme == "http" else 5986
    elif conn == "ldap":
        scheme, port_default = "", 389 if hvars.get("e8_ldap_scheme") == "ldap" else 636
    else:
        scheme, port_default = "", 22
    port_raw = hvars.get("ansible_port", hvars.get("ansible_ssh_port", port_default))
    try:
        port = int(port_raw)
        if not 0 < port < 65536:
            raise ValueError
    except (TypeError, ValueError):
        raise InputError(
            f"host {name}: ansible_port", f"{port_raw!r} is not a TCP port (1-65535)"
        ) from None
    if conn == "winrm" and not scheme:
        scheme = "http" if port == 5985 else "https"

    # Credential problems: raised at once, or (``problems`` given) collected for this host
    # while the rest of the sweep goes on. Planning checks them too, without reading a secret.
    found: list[InputError] = []
    check = secrets or problems is not None
    password: SecretStr | None = None
    env_name = hvars.get("e8_password_env")
    inline = hvars.get("ansible_password") or hvars.get("ansible_ssh_pass")
    if env_name:
        if check and str(env_name) not in env:
            found.append(
                InputError(
                    f"host {name}: e8_password_env",
                    f"environment variable {env_name} is not set "
                    "(it should hold this host's password)",
                )
            )
        elif secrets:
            password = SecretStr(env[str(env_name)])
    elif isinstance(inline, VaultedText):  # opened (or refused) even when planning
        which = "ansible_password" if hvars.get("ansible_password") else "ansible_ssh_pass"
        if check:
            try:
                plain = inline.reveal(which)
            except InputError as exc:
                found.append(exc)
            else:
                password = SecretStr(plain) if secrets else None
    elif secrets and inline:
        warnings.warn(
            f"host {name}: password read from the inventory (ansible_password); "
            "prefer e8_password_env so no secret lives in inventory files",
            stacklevel=2,
        )
        password = SecretStr(str(inline))

    key_file = hvars.get("ansible_ssh_private_key_file") or hvars.get("ansible_private_key_file")
    if key_file:
        key_file = os.path.expanduser(str(key_file))
        if check and not os.access(key_file, os.R_OK):
            found.append(
                InputError(
                    f"host {name}: ansible_ssh_private_key_file",
                    f"cannot read key file {key_file}",
                )
            )
    user = str(hvars["ansible_user"]) if hvars.get("ansible_user") else None
    if problems is not None and conn == "winrm":
        found += _winrm_login_problems(name, hvars, user, bool(env_name or inline))
    simple = str(hvars.get("e8_ldap_auth") or "simple").lower() == "simple"
    if problems is not None and conn == "ldap" and simple and not (user and (env_name or inline)):
        found.append(
            InputError(
                f"host {name}: {'e8_password_env' if user else 'ansible_user'}",
                "an LDAP simple bind needs ansible_user and a password (e8_password_env); "
                "or set e8_ldap_auth=kerberos",
            )
        )

    kinit_mode = str(hvars.get("ansible_winrm_kinit_mode", "managed") or "managed").lower()
    if kinit_mode not in ("managed", "manual"):
        raise InputError(
            f"host {name}: ansible_winrm_kinit_mode",
            f"{kinit_mode!r} is not a kinit mode; expected managed or manual",
        )
    override = hvars.get("ansible_winrm_kerberos_hostname_override")

    jump = jump_of_vars(name, hvars) if conn != "local" else None
    if jump is not None and conn == "ldap":
        raise InputError(
            f"host {name}: e8_jump_host",
            "a directory (LDAP) target cannot be reached through a bastion in this version; "
            "expected no e8_jump_host or ProxyJump for it",
        )

    ldap = _ldap_settings(name, hvars) if conn == "ldap" else {}
    if found and problems is None:
        raise found[0]
    if problems is not None:
        problems.extend(found)
    return ConnectionSpec(
        **ldap,
        name=name,
        connection=conn,
        address=address,
        port=port,
        user=user,
        key_file=str(key_file) if key_file else None,
        password=password,
        become=_bool(hvars.get("ansible_become", False)),
        proxy_jump=jump,
        winrm_transport=str(hvars.get("ansible_winrm_transport", "ntlm")).lower(),
        winrm_scheme=scheme or "https",
        winrm_cert_validation=str(
            hvars.get("ansible_winrm_server_cert_validation", "validate")
        ).lower()
        != "ignore",
        winrm_ca_trust_path=str(hvars["ansible_winrm_ca_trust_path"])
        if hvars.get("ansible_winrm_ca_trust_path")
        else None,
        winrm_kerberos_hostname_override=str(override) if override else None,
        winrm_kerberos_delegation=_bool(hvars.get("ansible_winrm_kerberos_delegation", False)),
        winrm_kinit_mode="manual" if kinit_mode == "manual" else "managed",
    )


def _winrm_login_problems(
    name: str, hvars: Mapping[str, Any], user: str | None, has_password: bool
) -> list[InputError]:
    """What pywinrm would refuse at connect time, found before any host is contacted."""
    transport = str(hvars.get("ansible_winrm_transport", "ntlm") or "ntlm")
    first = transport.split(",")[0].strip().lower() or "ntlm"
    where = f"host {name}: ansible_user"
    if first == "kerberos":
        manual = str(hvars.get("ansible_winrm_kinit_mode", "")).lower() == "manual"
        if has_password and not user and not manual:
            return [InputError(where, "Kerberos with a password needs the principal (user@REALM)")]
        return []
    if first == "certificate":
        return [
            InputError(
                f"host {name}: ansible_winrm_transport",
                "certificate authentication is not supported in this version; expected ntlm, "
                "kerberos, basic or credssp",
            )
        ]
    if first not in WINRM_TRANSPORTS:
        return []  # check_winrm_transport names the unknown transport
    found = []
    if not user:
        found.append(
            InputError(
                where,
                f"WinRM {first} authentication needs a user (ansible_user, e.g. "
                "DOMAIN\\svc-e8scan or svc-e8scan@corp.example); none is set",
            )
        )
    if not has_password:
        found.append(
            InputError(
                f"host {name}: e8_password_env",
                f"WinRM {first} authentication needs a password: name the environment variable "
                "that holds it in e8_password_env",
            )
        )
    return found


def bastion_user(spec: ConnectionSpec) -> str | None:
    """Who logs in to ``spec``'s bastion when ProxyJump names no user (None: the local login).

    An SSH target's own login, as before; never a WinRM target's Windows account, which is no
    login on a Linux bastion (OpenSSH itself uses the local login for ``-J host``).
    """
    return spec.user if spec.connection == "ssh" else None


def bastion_spec(jump: JumpHost, via: ConnectionSpec) -> ConnectionSpec:
    """The SSH connection to the bastion ``jump`` for the target ``via``.

    User: the jump's, else :func:`bastion_user`. Credentials: the target's key file, then
    ssh-agent; an SSH target's password too, but never a WinRM target's (a Windows password
    is not sent to a bastion).
    """
    return ConnectionSpec(
        name=f"bastion {jump}",
        connection="ssh",
        address=jump.host,
        port=jump.port,
        user=jump.user or bastion_user(via),
        key_file=via.key_file,
        password=via.password if via.connection == "ssh" else None,
    )


def local_login() -> str:
    """The local login name (what OpenSSH uses when no user is given)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return str(os.getuid())


def _ldap_settings(name: str, hvars: Mapping[str, Any]) -> dict[str, Any]:
    """A directory target's LDAP settings (the host profile has validated the values).

    LDAPS by default (636, or the global catalog's 3269 through ``ansible_port``). Plain LDAP
    (``e8_ldap_scheme=ldap``, 389) only with Kerberos, which seals the session: a simple bind
    there would send the password readable on the network.
    """
    scheme = str(hvars.get("e8_ldap_scheme") or "ldaps").lower()
    auth = str(hvars.get("e8_ldap_auth") or "simple").lower()
    if scheme == "ldap" and auth != "kerberos":
        raise InputError(
            f"host {name}: e8_ldap_scheme",
            "plain LDAP is only sealed by Kerberos, and a simple bind there sends the password "
            "readable on the network; expected e8_ldap_scheme=ldaps (the default) or "
            "e8_ldap_auth=kerberos",
        )
    ca = hvars.get("e8_ldap_ca_trust_path")
    base = hvars.get("e8_ldap_base")
    return {
        "ldap_scheme": scheme,
        "ldap_auth": auth,
        "ldap_ca_trust_path": os.path.expanduser(str(ca)) if ca else None,
        "ldap_base": str(base) if base else None,
    }


# ansible_winrm_transport → (pywinrm transport, module that must be importable, pip extra)
WINRM_TRANSPORTS: dict[str, tuple[str, str | None, str | None]] = {
    "ntlm": ("ntlm", None, None),
    "basic": ("basic", None, None),
    "certificate": ("certificate", None, None),
    "kerberos": ("kerberos", "gssapi", "e8scan[kerberos]"),
    "credssp": ("credssp", "requests_credssp", "pywinrm[credssp]"),
}


def check_winrm_transport(name: str, host: str) -> str:
    """The pywinrm transport for ``ansible_winrm_transport``; InputError when unusable here."""
    first = name.split(",")[0].strip().lower() or "ntlm"
    if first not in WINRM_TRANSPORTS:
        raise InputError(
            f"host {host}: ansible_winrm_transport",
            f"unknown transport {name!r}; expected one of {', '.join(WINRM_TRANSPORTS)}",
        )
    transport, module, extra = WINRM_TRANSPORTS[first]
    if module and importlib.util.find_spec(module) is None:
        raise InputError(
            f"host {host}: ansible_winrm_transport",
            f"{first} needs the {module} package, which is not installed: pip install '{extra}'",
        )
    return transport
