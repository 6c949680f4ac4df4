"""NTLM for the WS-Man test server: pyspnego's pure-Python acceptor and WinRM message encryption.

**User file.** ``spnego.server(protocol="ntlm")`` looks passwords up in the file named by the
``NTLM_USER_FILE`` environment variable, which is process-global: every server in the process
shares one file, rewritten as servers come and go (lines ``DOMAIN:user:password``, ``:user:password``
for a bare local account, ``:user@DOM:password`` for a UPN). One user name therefore maps to one
password per process: :func:`register_users` refuses a clash. The server also checks that the
authenticated principal is one of *its own* users. The file is deleted, and the variable restored
to what it was, when the last NTLM server stops.

**Message encryption** (MS-WSMV 2.2.9.1.1, as pywinrm and Windows speak it over ``http://``): the
body is ``multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted"``, two MIME
parts, the second ``<uint32 LE signature length = 16><signature><RC4-sealed SOAP>``, closed by
``--Encrypted Boundary--\\r\\n``. Replies (faults too) use the same framing. NTLM sealing keeps a
sequence number per direction, so wrap/unwrap must follow the request order of the connection.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import tempfile
import threading
from collections.abc import Mapping

import spnego
from spnego.channel_bindings import GssChannelBindings

BOUNDARY = b"--Encrypted Boundary"
PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'
_OCTET = b"\tContent-Type: application/octet-stream\r\n"


class EncryptionError(Exception):
    """An encrypted body that cannot be unframed or unsealed."""


# -- the process-global user file --------------------------------------------------------------

_lock = threading.Lock()
_owners: dict[int, dict[tuple[str, str], str]] = {}
_state: dict[str, str | None] = {"path": None, "previous": None}


def _key(user: str) -> tuple[str, str]:
    if "\\" in user:
        domain, name = user.split("\\", 1)
        return domain, name
    return "", user


def register_users(owner: object, users: Mapping[str, str]) -> None:
    """Add ``owner``'s users to the shared NTLM_USER_FILE (ValueError on a password clash)."""
    entries: dict[tuple[str, str], str] = {}
    for user, password in users.items():
        if ":" in user or ":" in password or any(c in user + password for c in "\r\n"):
            raise ValueError(
                f"NTLM user {user!r}: the NTLM user file cannot hold ':' or line breaks"
            )
        entries[_key(user)] = password
    with _lock:
        for other in _owners.values():
            for key, password in entries.items():
                known = {(d.upper(), u.upper()): p for (d, u), p in other.items()}
                clash = known.get((key[0].upper(), key[1].upper()))
                if clash is not None and clash != password:
                    raise ValueError(
                        f"NTLM user {key[1]!r} already has another password on a running WSManServer: "
                        "NTLM_USER_FILE is process-global, so use another user name"
                    )
        _owners[id(owner)] = entries
        _write()


def unregister_users(owner: object) -> None:
    with _lock:
        if _owners.pop(id(owner), None) is not None:
            _write()


def _write() -> None:
    path = _state["path"]
    if not _owners:
        if path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            previous = _state["previous"]
            if previous is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = previous
        _state["path"] = None
        return
    if path is None:
        fd, path = tempfile.mkstemp(prefix="e8scan-wsman-ntlm-", suffix=".txt")
        os.close(fd)
        _state["path"], _state["previous"] = path, os.environ.get("NTLM_USER_FILE")
    lines = {f"{d}:{u}:{p}" for entries in _owners.values() for (d, u), p in entries.items()}
    tmp = f"{path}.new"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("".join(f"{line}\n" for line in sorted(lines)))
    os.replace(tmp, path)  # atomic: an acceptor reading the file never sees half of it
    os.environ["NTLM_USER_FILE"] = path


def user_file() -> str | None:
    """The shared NTLM user file while any NTLM server runs (for tests)."""
    return _state["path"]


# -- acceptor ----------------------------------------------------------------------------------


def acceptor(cbt_hash: bytes | None) -> spnego.ContextProxy:
    """A fresh NTLM acceptor; with ``cbt_hash`` it requires matching ``tls-server-end-point`` bindings."""
    bindings = None
    if cbt_hash is not None:
        bindings = GssChannelBindings(application_data=b"tls-server-end-point:" + cbt_hash)
    return spnego.server(protocol="ntlm", service="HTTP", channel_bindings=bindings)


def ntlm_message_type(token: bytes) -> int | None:
    """1, 2 or 3 for a raw NTLMSSP token; None for anything else (e.g. SPNEGO-wrapped)."""
    if token[:8] != b"NTLMSSP\x00" or len(token) < 12:
        return None
    return int(struct.unpack("<I", token[8:12])[0])


# -- message encryption ------------------------------------------------------------------------


def is_encrypted(content_type: str) -> bool:
    lowered = content_type.lower()
    return lowered.startswith("multipart/encrypted") and f'protocol="{PROTOCOL.lower()}"' in lowered


def split_encrypted(body: bytes) -> tuple[int, bytes]:
    """A ``multipart/encrypted`` body (MS-WSMV 2.2.9.1) cut into the OriginalContent length and
    the payload (4-byte header length, header, sealed data), whatever the security package."""
    start = BOUNDARY + b"\r\n"
    if not body.startswith(start):
        raise EncryptionError("body does not start with the MIME boundary")
    second = body.find(start, len(start))
    if second < 0:
        raise EncryptionError("no second MIME part")
    length = re.search(rb"Length=(\d+)", body[len(start) : second])
    if length is None:
        raise EncryptionError("no OriginalContent Length")
    payload = body[second + len(start) :]
    if not payload.startswith(_OCTET):
        raise EncryptionError("second part is not application/octet-stream")
    payload = payload[len(_OCTET) :]
    if payload.endswith(BOUNDARY + b"--\r\n"):
        payload = payload[: -len(BOUNDARY + b"--\r\n")]
    if len(payload) < 4:
        raise EncryptionError("truncated payload")
    return int(length.group(1)), payload


def unwrap_message(context: spnego.ContextProxy, body: bytes) -> bytes:
    """Decrypt a ``multipart/encrypted`` request body with the connection's NTLM context."""
    length, payload = split_encrypted(body)
    if struct.unpack("<I", payload[:4])[0] != 16:
        raise EncryptionError("NTLM signature length is not 16")
    try:
        plain = context.unwrap(payload[4:]).data  # signature + sealed data, as pyspnego wants it
    except Exception as exc:  # pyspnego raises its own hierarchy (bad signature, sequence, …)
        raise EncryptionError(f"cannot unseal: {exc}") from None
    if len(plain) != length:
        raise EncryptionError(f"decrypted {len(plain)} bytes, header says {length}")
    return plain


def wrap_message(context: spnego.ContextProxy, plain: bytes) -> bytes:
    """Encrypt a reply body in the same framing (signature first, as Windows sends it)."""
    sealed = context.wrap(plain, encrypt=True).data
    signature, data = sealed[:16], sealed[16:]
    return (
        BOUNDARY
        + b"\r\n\tContent-Type: "
        + PROTOCOL.encode()
        + b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length="
        + str(len(plain)).encode()
        + b"\r\n"
        + BOUNDARY
        + b"\r\n"
        + _OCTET
        + struct.pack("<I", len(signature))
        + signature
        + data
        + BOUNDARY
        + b"--\r\n"
    )
