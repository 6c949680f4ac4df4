"""Which SSH algorithms a connection may use: modern ones for everybody, SHA-1 only by opt-in.

paramiko 5 removed SHA-1 key exchange (``diffie-hellman-group14-sha1``, ``group1-sha1``) and
``ssh-rsa`` (RSA with SHA-1) signatures, so it cannot reach a server that offers only those:
RHEL/CentOS 6-era historians, IOS 12/15-era switches, many OT appliances. Measured against a
real OpenSSH 9.2 sshd with ``KexAlgorithms diffie-hellman-group14-sha1``, ``HostKeyAlgorithms
ssh-rsa`` and an RSA host key only: paramiko 5.1 fails with ``IncompatiblePeer ("no acceptable
kex algorithm")`` and says nothing about what the server offered; OpenSSH 9.2's own client
refuses too until ``-o KexAlgorithms=+diffie-hellman-group14-sha1 -o HostKeyAlgorithms=+ssh-rsa``.

Two transport classes, one per policy:

- :class:`ModernTransport` (every host by default): paramiko's own algorithm lists with every
  SHA-1 key exchange and ``ssh-rsa`` signature filtered out, whatever paramiko version is
  installed (older releases offered some of them by default). It also records the server's
  KEXINIT offer, so a failed negotiation can say what the server offered (:func:`offer_text`).
- :class:`LegacyTransport` (only hosts with ``e8_ssh_legacy: true``): the same lists with
  exactly :data:`LEGACY_KEX` and :data:`LEGACY_HOST_KEYS` appended *last*, so a host that
  also speaks modern algorithms still negotiates them. The two SHA-1 key exchanges are
  re-added as small classes (RFC 4253 section 8; RFC 3526/2409 primes) built on paramiko's own
  ``KexGroup14SHA256``, and ``ssh-rsa`` signatures are verified (and, for an RSA login key on a
  server that only accepts ``ssh-rsa``, made) by :class:`LegacyRSAKey`, an ``RSAKey`` whose hash
  table also maps ``ssh-rsa`` to SHA-1.

Why paramiko's extension points, and not an older paramiko or the system ``ssh`` client:

- *Nobody else is weakened.* The algorithm lists live on the transport *class* (paramiko reads
  ``_preferred_kex``, ``_kex_info`` and ``_key_info`` through ``self``), so a subclass changes
  them for the opted-in host's connection only: no module-level patch of paramiko, and the
  bastion connection shared by many hosts (:mod:`scanner.collect.transports.jump`) is always
  a :class:`ModernTransport`, whichever host opened it.
- *Nothing else changes.* The host key is still checked against known_hosts before any
  credential is sent, with the same strict/accept-new rules (an ``ssh-rsa`` host key is an RSA
  key: the known_hosts line and fingerprint are the same as for ``rsa-sha2-*``); the batch, the
  watchdogs, the output caps and the ``direct-tcpip`` route through a bastion are the same
  code. The system OpenSSH client would bring ``~/.ssh/config``, ``ProxyCommand``,
  certificates and GSSAPI, but also a second transport with its own host-key, timeout,
  output-capping and bastion semantics to keep in step, and a process per host. Pinning an
  older paramiko (issue 15 reports that 3.5 and 4.0 still connect to such servers) would hold
  every host back on an older SSH stack to serve a few; two versions cannot be installed side
  by side.
- *The price is private names.* ``_parse_kex_init``, ``_kex_info``, ``_key_info`` and the
  ``_preferred_*`` tuples are paramiko internals (all present since paramiko 2.9, when
  ``_preferred_pubkeys`` came with ``rsa-sha2-*``). pyproject caps paramiko below 6, and
  ``tests/transports/test_ssh_legacy.py`` runs both classes against real legacy sshds and a
  modern one, so a paramiko that moves them fails the suite, not a sweep.

Not re-enabled: ``ssh-dss`` (paramiko dropped DSA keys entirely) and
``diffie-hellman-group-exchange-sha1`` (not among the algorithms the opt-in was asked for). A
server that offers only those stays unreachable, and its refusal names what it offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from hashlib import sha1
from typing import Any, ClassVar

import paramiko
from cryptography.hazmat.primitives import hashes
from paramiko.kex_group14 import KexGroup14SHA256
from paramiko.message import Message

from scanner.inventory.profile import SSH_LEGACY_ALGORITHMS, SSH_LEGACY_KEX, SSH_LEGACY_SIGNATURES

__all__ = [
    "LEGACY_ALGORITHMS",
    "LEGACY_HOST_KEYS",
    "LEGACY_KEX",
    "LegacyRSAKey",
    "LegacyTransport",
    "ModernTransport",
    "offer_text",
]

LEGACY_KEX = SSH_LEGACY_KEX
"""The SHA-1 key exchanges ``e8_ssh_legacy`` allows (2048-bit and 1024-bit fixed groups)."""
LEGACY_HOST_KEYS = SSH_LEGACY_SIGNATURES
"""The SHA-1 signature algorithm ``e8_ssh_legacy`` allows (host key and RSA login key)."""
LEGACY_ALGORITHMS = SSH_LEGACY_ALGORITHMS
_SHA1_KEX = (*LEGACY_KEX, "diffie-hellman-group-exchange-sha1")
_SHA1_KEYS = ("ssh-rsa", "ssh-rsa-cert-v01@openssh.com", "ssh-dss", "ssh-dss-cert-v01@openssh.com")
# Names in a KEXINIT kex list that are protocol flags, not algorithms (RFC 8308, strict kex).
_PSEUDO_KEX = ("ext-info-", "kex-strict-")
_SHOWN = 16  # names per list in a refusal (the server's text is untrusted and unbounded)
_NAME_CHARS = 64


class KexGroup14SHA1(KexGroup14SHA256):
    """``diffie-hellman-group14-sha1`` (RFC 4253 section 8, the 2048-bit group of RFC 3526)."""

    name = "diffie-hellman-group14-sha1"
    hash_algo = sha1


class KexGroup1SHA1(KexGroup14SHA1):
    """``diffie-hellman-group1-sha1`` (RFC 4253 section 8.1, Oakley group 2 of RFC 2409)."""

    P = int(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
        "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
        "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
        16,
    )
    name = "diffie-hellman-group1-sha1"


class LegacyRSAKey(paramiko.RSAKey):
    """An RSA key that also verifies and makes ``ssh-rsa`` (SHA-1) signatures."""

    HASHES = {  # type: ignore[misc]  # the stubs call it final; paramiko reads it via self
        **paramiko.RSAKey.HASHES,
        "ssh-rsa": hashes.SHA1,
        "ssh-rsa-cert-v01@openssh.com": hashes.SHA1,
    }


# paramiko's algorithm tables (the stubs do not declare these private class attributes).
_PARAMIKO: Any = paramiko.Transport


def _without(names: tuple[str, ...], drop: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in names if n not in drop)


class ModernTransport(paramiko.Transport):
    """paramiko's transport without SHA-1 key exchange or signatures; records the server's offer."""

    _preferred_kex = _without(_PARAMIKO._preferred_kex, _SHA1_KEX)
    _preferred_keys = _without(_PARAMIKO._preferred_keys, _SHA1_KEYS)
    _preferred_pubkeys = _without(_PARAMIKO._preferred_pubkeys, _SHA1_KEYS)
    _kex_info: ClassVar[dict[str, Any]] = {
        k: v for k, v in _PARAMIKO._kex_info.items() if k not in _SHA1_KEX
    }
    _key_info: ClassVar[dict[str, Any]] = {
        k: v for k, v in _PARAMIKO._key_info.items() if k not in _SHA1_KEYS
    }

    offered: dict[str, list[str]] | None = None
    """The server's first KEXINIT: ``kex``, ``host_key``, ``ciphers``, ``macs`` (None before)."""
    negotiated: tuple[str, str] | None = None
    """(key exchange, host-key algorithm) the first key exchange agreed (None before)."""
    channel: tuple[str, str, str | None, str | None] | None = None
    """(cipher, cipher, MAC, MAC), client to server then server to client, the first key
    exchange agreed; a MAC is None where the cipher authenticates itself (AEAD: no MAC is used).
    None before."""

    def _parse_kex_init(self, m: Message) -> None:
        first = self.offered is None and not self.server_mode
        if first:
            try:
                self.offered = _read_kexinit(Message(m.get_remainder()))
            except Exception:  # a malformed KEXINIT: paramiko's own parse says so just below
                self.offered = {"kex": [], "host_key": [], "ciphers": [], "macs": []}
        super()._parse_kex_init(m)  # type: ignore[misc]
        if first:
            # The agreed kex by its engine's class (not every engine has a ``name``).
            engine = type(getattr(self, "kex_engine", None))
            names = [n for n, cls in self._kex_info.items() if cls is engine]
            key_type = getattr(self, "host_key_type", None)
            if names and isinstance(key_type, str):
                self.negotiated = (names[0], key_type)
            # paramiko's names for the agreed algorithms (client side: local = client to server).
            out, into = getattr(self, "local_cipher", ""), getattr(self, "remote_cipher", "")
            mac_out, mac_in = getattr(self, "local_mac", None), getattr(self, "remote_mac", None)
            if out and into and isinstance(mac_out, str) and isinstance(mac_in, str):
                self.channel = (
                    out,
                    into,
                    None if _aead(out) else mac_out,
                    None if _aead(into) else mac_in,
                )


class LegacyTransport(ModernTransport):
    """:class:`ModernTransport` plus exactly :data:`LEGACY_ALGORITHMS`, tried last."""

    _preferred_kex = ModernTransport._preferred_kex + LEGACY_KEX
    _preferred_keys = ModernTransport._preferred_keys + LEGACY_HOST_KEYS
    _preferred_pubkeys = ModernTransport._preferred_pubkeys + LEGACY_HOST_KEYS
    _kex_info: ClassVar[dict[str, Any]] = {
        **ModernTransport._kex_info,
        "diffie-hellman-group14-sha1": KexGroup14SHA1,
        "diffie-hellman-group1-sha1": KexGroup1SHA1,
    }
    _key_info: ClassVar[dict[str, Any]] = {
        **ModernTransport._key_info,
        "ssh-rsa": LegacyRSAKey,
        "ssh-rsa-cert-v01@openssh.com": LegacyRSAKey,
    }

    @property
    def preferred_pubkeys(self) -> tuple[str, ...]:
        """Signature algorithms for the login key, ``ssh-rsa`` first for a pre-RFC 8332 server.

        A server that sent no ``server-sig-algs`` (RFC 8308) predates ``rsa-sha2-*`` (OpenSSH
        before 7.2, IOS): paramiko would sign an RSA login key with ``rsa-sha2-512``, which
        such a server rejects; OpenSSH's client falls back to ``ssh-rsa`` there, and so do we.
        A server that lists its algorithms gets the first modern one it lists.
        """
        algorithms = tuple(super().preferred_pubkeys)
        if "server-sig-algs" in getattr(self, "server_extensions", {}):
            return algorithms
        return LEGACY_HOST_KEYS + _without(algorithms, LEGACY_HOST_KEYS)


def _aead(cipher: str) -> bool:
    """A cipher that authenticates its own packets, so the negotiated MAC is not used
    (RFC 5647 AES-GCM; OpenSSH's ``aes*-gcm@openssh.com`` and ``chacha20-poly1305``)."""
    return cipher.endswith("-gcm@openssh.com") or cipher.startswith(("chacha20-poly1305", "AEAD_"))


def _read_kexinit(m: Message) -> dict[str, list[str]]:
    """The algorithm lists of a KEXINIT payload (RFC 4253 section 7.1), after its type byte."""
    m.get_bytes(16)  # cookie
    kex, host_key, ciphers, _ciphers_s2c, macs = (m.get_list() for _ in range(5))
    return {
        "kex": [k for k in kex if not k.startswith(_PSEUDO_KEX)],
        "host_key": host_key,
        "ciphers": ciphers,
        "macs": macs,
    }


def _names(names: list[str]) -> str:
    """A server's list, shown: at most :data:`_SHOWN` names of at most :data:`_NAME_CHARS`."""
    shown = [n if len(n) <= _NAME_CHARS else n[:_NAME_CHARS] + "…" for n in names[:_SHOWN]]
    more = f" (and {len(names) - _SHOWN} more)" if len(names) > _SHOWN else ""
    return (", ".join(shown) or "none") + more


def offer_text(
    offered: Mapping[str, list[str]] | None, failure: str, legacy: bool, bastion: bool = False
) -> str:
    """What the server offered, for an ``IncompatiblePeer`` whose message is ``failure``.

    Names the key exchanges and host-key algorithms always, the ciphers or MACs when those
    were what failed. Without ``legacy`` (the host's ``e8_ssh_legacy``), an offer that only
    :data:`LEGACY_ALGORITHMS` would complete says which of them, and how to allow them (for
    a ``bastion``: that they are never allowed there).
    """
    if offered is None:
        return "the server's algorithm offer was not received"
    parts = [f"key exchange {_names(offered['kex'])}", f"host key {_names(offered['host_key'])}"]
    for word, key in (("cipher", "ciphers"), ("mac", "macs")):
        if word in failure.lower():
            parts.append(f"{key} {_names(offered[key])}")
    text = "the server offers " + "; ".join(parts)
    if legacy:
        return text + " (e8_ssh_legacy allows " + ", ".join(LEGACY_ALGORITHMS) + " as well)"
    kex = [k for k in offered["kex"] if k in ModernTransport._preferred_kex]
    keys = [k for k in offered["host_key"] if k in ModernTransport._preferred_keys]
    old_kex = [k for k in offered["kex"] if k in LEGACY_KEX]
    old_keys = [k for k in offered["host_key"] if k in LEGACY_HOST_KEYS]
    needed = ([] if kex else old_kex) + ([] if keys else old_keys)
    if (kex or old_kex) and (keys or old_keys) and needed:
        text += f"; {', '.join(needed)} use{'s' if len(needed) == 1 else ''} SHA-1, "
        if bastion:
            text += "never allowed for a bastion (its connection is shared by every host behind it)"
        else:
            text += (
                "disabled by default: set e8_ssh_legacy: true for this host to allow "
                + ", ".join(LEGACY_ALGORITHMS)
            )
    return text
