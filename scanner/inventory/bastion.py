"""Bastions (jump hosts) as Ansible users write them, read into one :class:`JumpHost` or refused.

Ansible's ``ssh`` connection passes ``ansible_ssh_args``, ``ansible_ssh_common_args`` and
``ansible_ssh_extra_args`` to OpenSSH, so a bastion appears there as ``-J [user@]host[:port]``, ``-o ProxyJump=…``,
``-o 'ProxyJump …'`` or ``-oProxyJump=…``; e8scan's own ``e8_jump_host`` takes the bare value.
The arguments are split as a shell would (:func:`shlex.split`, quotes honoured). Every form is
either honoured or refused with an error naming the host: a ``ProxyCommand`` (any program
between us and the host) and a chain of bastions (``a,b``) are refused, never ignored — a
silently dropped bastion would send the scan straight at a host that must only be reached
through it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scanner.model.errors import InputError

__all__ = ["ROUTE_VARS", "JumpHost", "jump_of_vars", "parse_jump", "ssh_args_jump"]

_JUMP = re.compile(
    r"^(?:ssh://)?(?:(?P<user>[^@\s]+)@)?(?:\[(?P<v6>[^\]\s]+)\]|(?P<host>[^:@\s\[\]]+))"
    r"(?::(?P<port>\d{1,5}))?$"
)
SSH_ARG_VARS = ("ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args")
ROUTE_VARS = frozenset({"e8_jump_host", *SSH_ARG_VARS})
"""Every variable that says how a host is reached through a bastion."""


@dataclass(frozen=True)
class JumpHost:
    """One bastion: ``user@host:port`` (``user`` None: see :func:`bastion_user`)."""

    host: str
    port: int = 22
    user: str | None = None

    def __str__(self) -> str:
        """As known_hosts names it: ``[user@]host`` on port 22, else ``[user@][host]:port``."""
        who = f"{self.user}@" if self.user else ""
        return who + (self.host if self.port == 22 else f"[{self.host}]:{self.port}")


def parse_jump(text: str) -> JumpHost | None:
    """Parse a ProxyJump value; None for ``none``. Raises ValueError when unusable.

    Accepts ``host``, ``user@host``, ``user@host:port``, ``user@[v6addr]:port`` and the
    ``ssh://`` form. Chained jumps (``a,b``) are refused: only one bastion is supported.
    """
    value = text.strip()
    if value.lower() == "none":
        return None
    if "," in value:
        raise ValueError(
            f"chained ProxyJump {value!r} is not supported (one bastion only); "
            "expected [user@]host[:port]"
        )
    m = _JUMP.match(value)
    if m is None:
        raise ValueError(f"cannot parse ProxyJump {value!r} (expected [user@]host[:port])")
    port = int(m.group("port") or 22)
    if not 0 < port < 65536:
        raise ValueError(f"ProxyJump {value!r}: port {port} is not a TCP port")
    return JumpHost(host=m.group("v6") or m.group("host"), port=port, user=m.group("user"))


def ssh_args_jump(args: str) -> str | None:
    """The ProxyJump value in OpenSSH command-line arguments, or None; ValueError on a
    ProxyCommand, an unbalanced quote or a ``-J`` / ``-o`` missing its value."""
    try:
        tokens = shlex.split(args)
    except ValueError as exc:  # the text is not quoted: it may carry a secret (sshpass -p …)
        raise ValueError(f"cannot split the arguments as a shell would ({exc})") from None
    found: str | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        flag = tok[:2]
        if flag not in ("-J", "-o") or tok.startswith("--"):
            continue
        value = tok[2:]
        if not value:
            if i >= len(tokens):
                raise ValueError(f"{flag} at the end of the arguments has no value")
            value, i = tokens[i], i + 1
        if flag == "-J":
            found = value
            continue
        key, _, rest = value.replace("=", " ", 1).partition(" ")
        rest = rest.strip()
        if key.lower() == "proxyjump":
            found = rest
        elif key.lower() == "proxycommand" and rest.lower() != "none":
            # The command is not quoted back: it may carry a secret (sshpass -p …).
            raise ValueError(
                "a ProxyCommand is not supported (e8scan runs no local program to reach a "
                "host); expected -J or -o ProxyJump=[user@]bastion[:port], or e8_jump_host"
            )
    return found


def jump_of_vars(name: str, hvars: Mapping[str, Any]) -> str | None:
    """The host's bastion (its validated ProxyJump text) from ``e8_jump_host`` and its SSH
    arguments, None for none; InputError if unusable.

    When both name one, they must agree: two different bastions for one host is a mistake
    that must not be settled by a rule the user cannot see.
    """
    candidates: list[tuple[str, str, JumpHost | None]] = []
    own = hvars.get("e8_jump_host")
    if own is not None and str(own).strip():
        try:
            candidates.append(("e8_jump_host", str(own).strip(), parse_jump(str(own))))
        except ValueError as exc:
            raise InputError(f"host {name}: e8_jump_host", str(exc)) from None
    for var in SSH_ARG_VARS:
        args = hvars.get(var)
        if not args:
            continue
        try:
            value = ssh_args_jump(str(args))
            if value is not None:
                candidates.append((var, value.strip(), parse_jump(value)))
        except ValueError as exc:
            raise InputError(f"host {name}: {var}", str(exc)) from None
    if not candidates:
        return None
    first_var, text, first = candidates[0]
    for var, _, other in candidates[1:]:
        if other != first:
            raise InputError(
                f"host {name}: {var}",
                f"names bastion {other or 'none'} but {first_var} names {first or 'none'}; "
                "expected one bastion per host",
            )
    return text if first is not None else None
