"""How far a host's evidence can be trusted: the cap on every finding's evidence grade.

A check declares the grade its reads deserve (``good`` for a live read of configuration). What
the check cannot know is how the output reached us, and two ways lower it for every finding of
the host, whatever the check (one mechanism, one cap, ``fair``: ASD's grade for evidence whose
provenance rests on something weaker than a verified live read):

- **Collected offline** (transport ``offline``, the field kit): a copy of the configuration
  brought back by hand; the seals detect damage, they are not a signature.
- **Weak SSH crypto** (:func:`weak_ssh`): the host proved its identity with an SHA-1 signature,
  or the channel the output came through was keyed, encrypted or authenticated with an
  algorithm current guidance retires. The output may still be exactly what the host printed;
  the grade says the assurance that it is, and that it came from that host, is lower.

Everything here is read from the raw record (``HostRecord.connection`` and
``HostRecord.ssh_algorithms``), so ``e8scan rescore`` reproduces the cap with no network. A
raw record written before e8scan recorded the negotiated algorithms carries none: its hosts are
graded as before.

The weak list, and why each entry is on it:

- Host-key signature ``ssh-rsa`` (and its certificate form): RSA with SHA-1 (RFC 4253
  section 6.6); RFC 8332 added ``rsa-sha2-256``/``-512`` for the same keys; OpenSSH 8.2's
  release notes announced its deprecation because SHA-1 chosen-prefix collisions cost under
  USD 50K, and OpenSSH 8.8 disabled it by default. ``ssh-dss``: DSA with SHA-1 and a 1024-bit
  key, disabled by default since OpenSSH 7.0.
- Key exchange with an SHA-1 exchange hash: ``diffie-hellman-group1-sha1``,
  ``diffie-hellman-group14-sha1``, ``diffie-hellman-group-exchange-sha1`` and the GSS
  ``gss-*-sha1-*`` methods. RFC 9142 (2022) rates group1-sha1 and the SHA-1 group exchange
  SHOULD NOT and keeps group14-sha1 only as MAY, for interoperability; group1 is also a
  1024-bit group, below RFC 8270's 2048-bit minimum.
- Ciphers: CBC mode (``*-cbc``: plaintext recovery against SSH, Albrecht, Paterson and Watson
  2009; removed from sshd's defaults in OpenSSH 6.7), 64-bit block ciphers (``3des``,
  ``blowfish``, ``cast128``, ``des``: SWEET32; OpenSSH 7.4 removed 3des-cbc from the client's
  defaults), RC4 (``arcfour*``: RFC 8758, MUST NOT) and ``none``.
- MACs: MD5 and SHA-1 (``hmac-md5*``, ``hmac-sha1*``, ``-96`` and ``-etm`` forms included) and
  ``none``. HMAC-SHA1 has no practical forgery, but SHA-1 and MD5 are not among ASD's approved
  hash algorithms (ISM, Guidelines for cryptography), so evidence carried under them is not
  graded above ``fair`` either. A MAC negotiated beside an AEAD cipher (AES-GCM, ChaCha20-
  Poly1305) is not used, and the raw record holds none for it.

Not on it, because the name alone does not show weakness: ``diffie-hellman-group-exchange-
sha256`` (the group size is the server's choice and is not recorded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.model.vocabulary import OFFLINE, Grade
from scanner.record.raw import HostRecord, SSHAlgorithms

__all__ = ["GradeCap", "grade_cap", "weak_ssh"]

OFFLINE_WHY = (
    "collected offline by the field kit (a copy of the configuration brought back by hand)"
)

SHA1_SIGNATURES = {
    "ssh-rsa": "an SHA-1 signature (ssh-rsa)",
    "ssh-rsa-cert-v01@openssh.com": "an SHA-1 signature (ssh-rsa-cert-v01@openssh.com)",
    "ssh-dss": "a DSA signature with SHA-1 (ssh-dss)",
    "ssh-dss-cert-v01@openssh.com": "a DSA signature with SHA-1 (ssh-dss-cert-v01@openssh.com)",
}
"""Host-key signature algorithms that rest on SHA-1, and how the note names them."""
_SHA1_NAME = re.compile(r"(?:^|-)sha1(?:-|$)")  # group1-sha1, gex-sha1, gss-group14-sha1-<oid>
_SMALL_GROUPS = ("diffie-hellman-group1-", "gss-group1-")  # the 1024-bit Oakley group 2
_BLOCK64 = ("3des", "blowfish", "cast128", "des-", "idea")


def _kex(name: str) -> str | None:
    if not _SHA1_NAME.search(name):
        return None
    return "SHA-1, 1024-bit group" if name.startswith(_SMALL_GROUPS) else "SHA-1"


def _cipher(name: str) -> str | None:
    if name == "none":
        return "no encryption"
    if name.startswith(("arcfour", "rc4")):
        return "RC4"
    why = []
    if name.endswith("-cbc") or name == "rijndael-cbc@lysator.liu.se":
        why.append("CBC")
    if name.startswith(_BLOCK64) or name == "des":
        why.append("64-bit block")
    return ", ".join(why) or None


def _mac(name: str | None) -> str | None:
    if name is None:  # an AEAD cipher: no MAC used
        return None
    if name == "none":
        return "no integrity protection"
    if name.startswith("hmac-md5"):
        return "MD5"
    if name.startswith("hmac-sha1"):
        return "SHA-1"
    return None


def weak_ssh(algs: SSHAlgorithms) -> str | None:
    """Why the host's identity or the channel rests on weak crypto, as a note's opening; None
    when nothing agreed is on the weak list (see the module docstring)."""
    parts = []
    signature = SHA1_SIGNATURES.get(algs.host_key_algorithm)
    if signature is not None:
        parts.append(f"host identity verified by {signature}")
    channel = []
    if (why := _kex(algs.kex)) is not None:
        channel.append(f"key exchange {algs.kex} ({why})")
    for word, names, judge in (
        ("cipher", (algs.cipher_c2s, algs.cipher_s2c), _cipher),
        ("MAC", (algs.mac_c2s, algs.mac_s2c), _mac),
    ):
        for name in dict.fromkeys(names):  # one mention when both directions agree
            if name is not None and (why := judge(name)) is not None:
                channel.append(f"{word} {name} ({why})")
    if channel:
        parts.append("SSH channel rests on " + ", ".join(channel))
    return "; ".join(parts) or None


@dataclass(frozen=True, slots=True)
class GradeCap:
    """The best grade any finding of a host may carry, and why."""

    grade: Grade
    why: str

    @property
    def note(self) -> str:
        """The host note (results.json ``notes``, the Coverage sheet's "Connection notes")."""
        return f"{self.why}; evidence grade capped at {self.grade.value}"


def grade_cap(rec: HostRecord) -> GradeCap | None:
    """The cap on every finding of this host (None: the checks' own grades stand)."""
    why = []
    if rec.connection == OFFLINE:
        why.append(OFFLINE_WHY)
    if rec.ssh_algorithms is not None and (weak := weak_ssh(rec.ssh_algorithms)) is not None:
        why.append(weak)
    return GradeCap(Grade.FAIR, "; ".join(why)) if why else None
