"""Ansible Vault (formats 1.1 and 1.2, cipher AES256): decrypt inline ``!vault`` values and
whole vault-encrypted vars files with the passwords ``ansible-inventory`` would use.

The envelope: a header line ``$ANSIBLE_VAULT;1.1;AES256`` (1.2 adds ``;<vault-id>``), then
hex text; unhexlified it is three lines: the hex salt, the hex HMAC and the hex ciphertext.
PBKDF2-HMAC-SHA256 (10000 iterations) of the password and salt gives 80 bytes: the AES-256 key,
the HMAC-SHA256 key and the 16-byte initial CTR counter. The HMAC of the ciphertext must match
(else: wrong password); AES-256-CTR decrypts it; PKCS#7 padding is removed.

Secrets stay inside :class:`VaultedText` (whose ``str()`` and ``repr()`` never show the
plaintext) until a caller asks for them with :meth:`VaultedText.reveal`.
"""

from __future__ import annotations

import binascii
import hmac
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from scanner.model.errors import InputError

HEADER = "$ANSIBLE_VAULT"
ENV_PASSWORD_FILE = "ANSIBLE_VAULT_PASSWORD_FILE"
_HOW = "give --vault-password-file FILE or --vault-id [label@]FILE (or set ANSIBLE_VAULT_PASSWORD_FILE)"


@dataclass(frozen=True)
class VaultSecret:
    """One vault password with its label (``default`` when none was given)."""

    label: str
    password: bytes

    def __repr__(self) -> str:
        return f"VaultSecret(label={self.label!r})"


@dataclass(frozen=True)
class VaultKeys:
    """Every vault password given, in the order given."""

    secrets: tuple[VaultSecret, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.secrets)


SCRIPT_TIMEOUT = 30.0
"""Seconds a vault password script may run."""
Prompt = Callable[[str], str]
"""Asks on the terminal for a vault password, given the prompt text."""


def _is_client(path: str) -> bool:
    """Ansible's rule: a script named ``*-client`` (any extension) is given ``--vault-id LABEL``."""
    return os.path.splitext(os.path.basename(path))[0].endswith("-client")


def _run_password_script(path: str, label: str, where: str) -> bytes:
    """The password a vault password script prints (CR/LF stripped, as Ansible strips it)."""
    command = [path, "--vault-id", label] if _is_client(path) else [path]
    what = "vault password client script" if _is_client(path) else "vault password script"
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(where, f"{what} {path} ran past {SCRIPT_TIMEOUT:g} s") from None
    except OSError as exc:
        raise InputError(where, f"cannot run {what} {path}: {exc.strerror or exc}") from None
    password = proc.stdout.strip(b"\r\n")
    if proc.returncode != 0:
        # its first stderr line, but never a shell trace (`set -x`: "+ PW=..."), nor anything
        # it printed on stdout (the password, when it printed that and then failed)
        said = proc.stderr.decode("utf-8", "replace").splitlines()
        first = next((ln.strip()[:200] for ln in said if ln.strip()[:1] not in ("", "+")), "")
        for secret in {password, proc.stdout.strip()} - {b""}:
            first = first.replace(secret.decode("utf-8", "replace"), "<redacted>")
        why = f"exited with status {proc.returncode}"
        if _is_client(path):  # Ansible's client protocol: status 2 is "no such vault id"
            why += f" for vault id {label!r}" + (
                " (it has no such id)" if proc.returncode == 2 else ""
            )
        raise InputError(where, f"{what} {path} {why}" + (f": {first}" if first else ""))
    if not password:
        raise InputError(where, f"{what} {path} printed no password")
    return password


def _read_password_file(path: str, where: str, label: str = "default") -> bytes:
    """A password file's stripped text, or an executable one's output (Ansible's script rule)."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return _run_password_script(path, label, where)
    try:
        with open(path, "rb") as fh:
            password = fh.read().strip()
    except OSError as exc:
        raise InputError(where, f"cannot read vault password file {path}: {exc.strerror}") from None
    if not password:
        raise InputError(where, f"vault password file {path} is empty")
    return password


def _prompted(label: str | None, prompt: Prompt | None, where: str) -> bytes:
    """Ask for a password; Ansible's prompts: ``Vault password`` for --ask-vault-pass,
    ``Vault password (LABEL)`` for --vault-id LABEL@prompt."""
    if prompt is None:
        raise InputError(where, "prompting for a vault password needs a terminal")
    text = "Vault password" if label is None else f"Vault password ({label})"
    password = prompt(text).strip().encode("utf-8")
    if not password:
        raise InputError(where, "an empty vault password was given")
    return password


def vault_keys(
    password_files: Sequence[str | Path] = (),
    vault_ids: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    ask: bool = False,
    prompt: Prompt | None = None,
) -> VaultKeys:
    """The passwords of ``--vault-id [label@]FILE|prompt``, ``--vault-password-file FILE``,
    ``--ask-vault-pass`` (``ask``) and ``ANSIBLE_VAULT_PASSWORD_FILE`` (label ``default`` unless
    given), as Ansible reads them: an executable file is run and prints the password; ``prompt``
    asks on the terminal."""
    env = os.environ if environ is None else environ
    found: list[VaultSecret] = []
    for vid in vault_ids:
        label, sep, path = vid.partition("@")
        if not sep:
            label, path = "default", vid
        label = label or "default"
        if path == "prompt":
            found.append(VaultSecret(label, _prompted(label, prompt, "--vault-id")))
            continue
        found.append(VaultSecret(label, _read_password_file(path, "--vault-id", label)))
    for pfile in password_files:
        found.append(
            VaultSecret("default", _read_password_file(str(pfile), "--vault-password-file"))
        )
    if ask:
        found.append(VaultSecret("default", _prompted(None, prompt, "--ask-vault-pass")))
    if env.get(ENV_PASSWORD_FILE):
        path = env[ENV_PASSWORD_FILE]
        found.append(VaultSecret("default", _read_password_file(path, ENV_PASSWORD_FILE)))
    return VaultKeys(tuple(found))


def is_vaulted(text: str) -> bool:
    return text.lstrip().startswith(HEADER)


def _parse(envelope: str, where: str) -> tuple[str | None, bytes, bytes, bytes]:
    """(vault id, salt, hmac, ciphertext) of an envelope."""
    lines = [line.strip() for line in envelope.strip().splitlines()]
    fields = lines[0].split(";") if lines else []
    if len(fields) < 3 or fields[0] != HEADER or fields[1] not in ("1.1", "1.2"):
        raise InputError(where, "not an Ansible Vault 1.1/1.2 envelope")
    if fields[2].strip() != "AES256":
        raise InputError(where, f"vault cipher {fields[2]!r} is not supported; expected AES256")
    vault_id = fields[3].strip() if fields[1] == "1.2" and len(fields) > 3 else None
    try:
        inner = binascii.unhexlify("".join(lines[1:])).decode("ascii").split("\n")
        salt, tag, ciphertext = (binascii.unhexlify(part) for part in inner)
    except (ValueError, UnicodeDecodeError):
        raise InputError(
            where, "the vault text is damaged; expected hex salt, HMAC and data"
        ) from None
    return vault_id, salt, tag, ciphertext


def _try(password: bytes, salt: bytes, tag: bytes, ciphertext: bytes) -> bytes | None:
    kdf = PBKDF2HMAC(algorithm=SHA256(), length=80, salt=salt, iterations=10000)
    derived = kdf.derive(password)
    aes_key, mac_key, counter = derived[:32], derived[32:64], derived[64:]
    if not hmac.compare_digest(hmac.new(mac_key, ciphertext, sha256).digest(), tag):
        return None
    decryptor = Cipher(algorithms.AES(aes_key), modes.CTR(counter)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        return None


def decrypt(envelope: str, keys: VaultKeys | None, where: str) -> str:
    """The plaintext of ``envelope``; InputError naming ``where`` when there is no password or
    none of the passwords opens it. A secret whose label matches a 1.2 vault id is tried first."""
    if not keys:
        raise InputError(where, f"vault-encrypted and no vault password was given; {_HOW}")
    vault_id, salt, tag, ciphertext = _parse(envelope, where)
    ordered = sorted(keys.secrets, key=lambda s: s.label != vault_id)
    for secret in ordered:
        plain = _try(secret.password, salt, tag, ciphertext)
        if plain is not None:
            try:
                return plain.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(where, "the decrypted vault data is not UTF-8 text") from None
    raise InputError(
        where, "the vault password given does not open this vault (HMAC mismatch); wrong password?"
    )


class VaultedText:
    """An inline ``!vault`` value: the envelope, where it was read, and the passwords to open it
    with. ``str()`` and ``repr()`` never show the plaintext (nor the envelope)."""

    __slots__ = ("_keys", "_plain", "envelope", "where")
    PLACEHOLDER = "<vault-encrypted>"

    def __init__(self, envelope: str, where: str, keys: VaultKeys | None = None) -> None:
        self.envelope = envelope
        self.where = where
        self._keys = keys
        self._plain: str | None = None

    def reveal(self, variable: str = "") -> str:
        """The decrypted text; InputError naming the file, line and ``variable`` otherwise."""
        if self._plain is None:
            where = f"{self.where} ({variable})" if variable else self.where
            self._plain = decrypt(self.envelope, self._keys, where)
        return self._plain

    @property
    def can_reveal(self) -> bool:
        return bool(self._keys)

    def __str__(self) -> str:
        return self.PLACEHOLDER

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VaultedText) and other.envelope == self.envelope

    def __hash__(self) -> int:
        return hash(self.envelope)
