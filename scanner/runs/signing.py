"""Ed25519 keys and detached signatures for the evidence manifest.

Keys are PEM files a site can also make with OpenSSL (``openssl genpkey -algorithm ed25519`` and
``openssl pkey -pubout``): an unencrypted PKCS#8 private key and a SubjectPublicKeyInfo public
key. The signature (``manifest.json.sig``) is the raw 64-byte Ed25519 signature of the manifest's
exact bytes, so ``openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in manifest.json -sigfile
manifest.json.sig`` checks it without e8scan. A key is named by its fingerprint:
``SHA256:`` and the unpadded base64 of the SHA-256 of the 32-byte raw public key (as OpenSSH does).
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from scanner.model.errors import InputError

__all__ = [
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "fingerprint",
    "generate_keys",
    "load_private_key",
    "load_public_key",
    "signature_valid",
]


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read the {what} ({exc.strerror or exc})") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM (PKCS#8) file ``path``; :class:`InputError` otherwise."""
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError(
            str(path), "the signing key is encrypted; give an unencrypted PKCS#8 PEM key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(
            str(path), "not a PEM private key (expected PKCS#8, e.g. from `e8scan keys generate`)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(str(path), f"not an Ed25519 key ({type(key).__name__.lstrip('_')})")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in the PEM (SubjectPublicKeyInfo) file ``path``."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(
            str(path),
            "not a PEM public key (expected SubjectPublicKeyInfo, '-----BEGIN PUBLIC KEY')",
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(str(path), f"not an Ed25519 public key ({type(key).__name__.lstrip('_')})")
    return key


def signature_valid(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _create(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, mode)  # the umask may have taken bits away; a private key is 0600 exactly


def generate_keys(private: Path, public: Path) -> Ed25519PublicKey:
    """Write a new key pair (private key mode 0600); never replaces an existing file."""
    for path in (private, public):
        if path.exists() or path.is_symlink():
            raise InputError(str(path), "exists; not replacing a key file")
        if not path.parent.is_dir():
            raise InputError(str(path), "its folder does not exist")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = key.public_key()
    pub_pem = pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        _create(private, pem, 0o600)
        try:
            _create(public, pub_pem, 0o644)
        except OSError:
            private.unlink()
            raise
    except OSError as exc:
        raise InputError(str(exc.filename or private), f"cannot write ({exc.strerror})") from None
    return pub
