"""known_hosts as OpenSSH reads it: patterns, hashed names, @revoked, and the verdict on a host key.

The SSH transport asks this module whether a server's key is the one recorded for the host
*before* any credential is sent: a recorded key passes, a revoked or changed key is refused with
both fingerprints, an unknown key is refused unless the policy is accept-new (then it is
appended to the user's known_hosts, under a lock, as OpenSSH would write it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.collect.transports.base import TransportError, one_line
from scanner.model.vocabulary import Reach

_RECORD_LOCK = threading.Lock()


def fingerprint(key_blob: bytes) -> str:
    """``SHA256:<base64, no padding>`` of a public key blob, as ``ssh-keygen -l`` prints it."""
    digest = hashlib.sha256(key_blob).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class KnownKey:
    """One usable line of a known_hosts file."""

    marker: str  # "" | "@revoked" | "@cert-authority"
    patterns: str
    key_type: str
    blob: bytes
    source: str  # "file:line", for messages

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)


def _wildcard_match(pattern: str, name: str) -> bool:
    """OpenSSH-style ``*`` / ``?`` matching (``[`` is literal, unlike fnmatch)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name) is not None


def _hashed_match(entry: str, name: str) -> bool:
    """Match a hashed known_hosts name (``|1|salt|hash``, HMAC-SHA1 of the host name)."""
    parts = entry.split("|")
    if len(parts) != 4 or parts[1] != "1":
        return False
    try:
        salt = base64.b64decode(parts[2])
        want = base64.b64decode(parts[3])
    except ValueError:
        return False
    got = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(got, want)


def _patterns_match(patterns: str, name: str) -> bool:
    """OpenSSH ``match_hostname``: any positive pattern matches and no negated one does."""
    name = name.lower()
    if patterns.startswith("|"):
        return _hashed_match(patterns, name)
    matched = False
    for raw in patterns.split(","):
        pat = raw.lower()
        negated = pat.startswith("!")
        if negated:
            pat = pat[1:]
        if _wildcard_match(pat, name):
            if negated:
                return False
            matched = True
    return matched


def parse(path: Path) -> list[KnownKey]:
    """Read one known_hosts file; malformed lines are skipped as OpenSSH does."""
    keys: list[KnownKey] = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = ""
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
        if len(fields) < 3:
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except ValueError:
            continue
        keys.append(KnownKey(marker, fields[0], fields[1], blob, f"{path}:{lineno}"))
    return keys


def key_algorithms(key_type: str) -> list[str]:
    """Host-key algorithms that produce a key of ``key_type`` (RSA keys sign with SHA-2)."""
    if key_type == "ssh-rsa":
        return ["rsa-sha2-512", "rsa-sha2-256"]
    return [key_type]


def files(extra: Sequence[Path], record_to: Path | None) -> list[Path]:
    """``~/.ssh/known_hosts``, the extra files and the accept-new file, each once."""
    candidates: list[Path] = [Path.home() / ".ssh" / "known_hosts", *extra]
    if record_to is not None:
        candidates.append(record_to)
    seen: set[Path] = set()
    unique: list[Path] = []
    for f in candidates:
        resolved = f.expanduser().resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(f.expanduser())
    return unique


def lookup(paths: Sequence[Path], host: str) -> tuple[list[KnownKey], list[KnownKey]]:
    """(keys recorded for ``host``, revoked keys) from every known_hosts file."""
    known: list[KnownKey] = []
    revoked: list[KnownKey] = []
    for path in paths:
        try:
            entries = parse(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise TransportError(
                Reach.ERROR, f"cannot read known_hosts file {path}: {one_line(exc)}"
            ) from None
        for e in entries:
            if not _patterns_match(e.patterns, host):
                continue
            if e.marker == "@revoked":
                revoked.append(e)
            elif e.marker == "":
                known.append(e)
    return known, revoked


def verify(
    blob: bytes,
    key_type: str,
    known: Sequence[KnownKey],
    revoked: Sequence[KnownKey],
    where: str,
    accept_new: bool,
) -> tuple[str, bool]:
    """(the key's fingerprint, whether it is new and to be recorded); TransportError to refuse."""
    got = fingerprint(blob)
    if any(r.blob == blob for r in revoked):
        raise TransportError(
            Reach.HOST_KEY_REFUSED,
            f"host key {got} ({key_type}) for {where} is marked @revoked in known_hosts",
        )
    if any(k.blob == blob for k in known):
        return got, False
    if known:
        same_type = [k for k in known if k.key_type == key_type]
        expected = same_type or known
        exp = " or ".join(f"{k.fingerprint} ({k.key_type}, {k.source})" for k in expected)
        raise TransportError(
            Reach.HOST_KEY_REFUSED,
            f"host key CHANGED for {where}: expected {exp}, got {got} ({key_type}); "
            "refusing to connect (possible man-in-the-middle); if the host was rebuilt, "
            "remove the old entry from known_hosts",
        )
    if not accept_new:
        raise TransportError(
            Reach.HOST_KEY_REFUSED,
            f"unknown host key {got} for {where}; add it to known_hosts "
            "or use --host-key-policy accept-new",
        )
    return got, True


def record(path: Path, where: str, key_type: str, b64: str) -> None:
    """Append ``where key_type b64`` to ``path`` (created 0600 in a 0700 folder when missing)."""
    line = f"{where} {key_type} {b64}\n"
    try:
        with _RECORD_LOCK:
            if not path.parent.exists():
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="ascii") as fh:
                if fh.tell() > 0 and not _ends_with_newline(path):
                    fh.write("\n")
                fh.write(line)
    except OSError as exc:
        raise TransportError(
            Reach.ERROR, f"cannot record the new host key in {path}: {one_line(exc)}"
        ) from None


def _ends_with_newline(path: Path) -> bool:
    """True when the (non-empty) file ends with a newline."""
    try:
        with path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"
    except OSError:
        return True
