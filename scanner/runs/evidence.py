"""The sealed evidence bundle: what was run on each host, what came back, and a SHA-256 manifest.

``e8scan scan --evidence DEST`` writes a folder (or, for a path ending in ``.zip``, a zip holding
one folder) that an assessor can file and an archive's BagIt tools can validate: a BagIt bag
(RFC 8493, :mod:`scanner.runs.bag`) whose payload under ``data/`` holds per host
``hosts/<host>/host.json`` and per command ``hosts/<host>/NN-<slug>/`` with the declared command,
the command exactly as run, the raw stdout/stderr bytes and their metadata, plus copies of
``results.json``, ``raw.json`` and the input files (``sources/``: the inventory's files as its
loader read them, named by the path it opened, never re-read and never through a link it did not
follow; ``source_notes`` says where a followed link led); ``manifest.json`` and its
signature are tag files at the bag's root. ``e8scan verify`` recomputes every hash and reports
altered, missing and extra files, for this layout (schema_version 2) and for bundles written
before it (1: everything at the top, no BagIt files). Secrets never enter a bundle: the raw
record holds none, and secrets in copied source files are replaced by ``<redacted>``
(:mod:`scanner.runs.source_copies`; the manifest lists those copies).

Why one ~700-line module: writing a bundle and verifying it are the two halves of one manifest
format; keeping them together keeps what ``verify`` checks identical to what ``scan`` wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from scanner import __version__
from scanner.assess.results import Results
from scanner.checking.role_probe import PROBE_VERSIONS
from scanner.inventory.load import FileRead, Inventory
from scanner.model.errors import InputError
from scanner.record.raw import CommandRecord, HostRecord, RawRecord
from scanner.report.files import check_writable, write_atomic
from scanner.runs.bag import (
    BAG_INFO,
    BAGIT,
    BAGIT_TXT,
    PAYLOAD,
    PAYLOAD_MANIFEST,
    TAG_MANIFEST,
    bag_info,
    manifest_text,
    sha256,
)
from scanner.runs.signing import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
    fingerprint,
    signature_valid,
)
from scanner.runs.source_copies import redact_secrets, redact_source

__all__ = [
    "Verdict",
    "check_bundle",
    "manifest_sha256",
    "redact_secrets",
    "safe_name",
    "verify_bundle",
    "write_bundle",
]

KIND = "e8scan-evidence"
SCHEMA_VERSION = 2  # 2: a BagIt bag, payload under data/; 1 (still verified): all at the top
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"  # raw Ed25519 signature of manifest.json's exact bytes
READABLE_SCHEMAS = (1, 2)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")


# --- names ---------------------------------------------------------------------------------


def safe_name(text: str, limit: int = 64) -> str:
    """A file name made from untrusted text: letters, digits, ``._-`` only, never ``.``/``..``."""
    name = _SAFE.sub("_", text).strip("._")[:limit].rstrip("._")
    return name or "_"


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``… when it (case-insensitively) is already taken."""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate.lower())
    return candidate


def _slug(cmd: CommandRecord) -> str:
    """A short folder name for a command: its first check's name and the command's first words."""
    words = re.findall(r"[A-Za-z0-9]+", cmd.command)[:2]
    head = [cmd.checks[0].rsplit(".", 1)[-1]] if cmd.checks else []
    return safe_name("-".join(head + words).lower(), limit=48)


# --- bundle contents -----------------------------------------------------------------------


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _host_clock(t: float | None) -> str | None:
    # The record holds only times a datetime can show; an impossible reading is in ``invalid``.
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def _host_json(host: HostRecord) -> bytes:
    data = host.model_dump(mode="json", exclude={"commands", "vars"})
    data["commands"] = len(host.commands)
    return _json(data)


def _meta_json(cmd: CommandRecord, versions: Mapping[str, int]) -> bytes:
    return _json(
        {
            "exit_code": cmd.exit_code,
            "started": cmd.started,
            "finished": cmd.finished,
            "started_utc": _host_clock(cmd.started),
            "finished_utc": _host_clock(cmd.finished),
            "truncated": cmd.truncated,
            "stderr_truncated": cmd.stderr_truncated,
            "invalid": cmd.invalid,
            "timed_out": cmd.timed_out,
            "ran": cmd.ran,
            "checks": [{"id": c, "version": versions.get(c)} for c in cmd.checks],
            "stdout_bytes": len(cmd.stdout),
            "stderr_bytes": len(cmd.stderr),
        }
    )


def _host_files(folder: str, host: HostRecord, versions: Mapping[str, int]) -> dict[str, bytes]:
    files = {f"{folder}/host.json": _host_json(host)}
    width = max(2, len(str(len(host.commands))))
    for i, cmd in enumerate(host.commands, start=1):
        sub = f"{folder}/{i:0{width}d}-{_slug(cmd)}"
        files[f"{sub}/command.txt"] = cmd.command.encode("utf-8")
        files[f"{sub}/as_run.txt"] = cmd.as_run.encode("utf-8")
        files[f"{sub}/stdout.bin"] = cmd.stdout
        files[f"{sub}/stderr.bin"] = cmd.stderr
        files[f"{sub}/meta.json"] = _meta_json(cmd, versions)
    return files


def _source_paths(src: Path) -> Iterator[tuple[Path, str]]:
    """Each file of ``src`` (a file, or a folder's files) with its path inside the source copy."""
    if src.is_dir():
        for f in sorted(p for p in src.rglob("*") if p.is_file()):
            rel = f.relative_to(src).parts
            yield f, "/".join(safe_name(part, limit=128) for part in rel)
    else:
        yield src, ""


def _under(path: str, root: str) -> tuple[str, ...] | None:
    """The parts of ``path`` below ``root``, compared as written (no link is looked at)."""
    try:
        return PurePosixPath(path).relative_to(root).parts
    except ValueError:
        return None


def _inventory_names(
    sources: Sequence[Path], reads: Sequence[FileRead], taken: set[str]
) -> list[str]:
    """A name under ``sources/`` for each file the inventory read, made from its path as the
    loader gave it: a ``-i`` file is ``<name>``; a file of a ``-i`` folder ``<folder>/<path in
    it>``; group_vars/host_vars beside a ``-i`` file ``group_vars/…`` (as the loader reached
    them, so a link is named by its own path, never by its target)."""
    roots: list[tuple[str, int, str | None]] = []  # prefix, source, top (None: the next part)
    for i, src in enumerate(sources):
        if src.is_dir():
            name = src.name or os.path.basename(os.path.realpath(src))  # `-i .`
            roots += [(str(src), i, name), (os.path.realpath(src), i, name)]
        elif src.exists():  # not a `-i host1,host2` list
            base = os.path.realpath(os.path.dirname(os.path.abspath(src)))
            roots += [(str(src), i, src.name), (base, i, None)]
    tops: dict[tuple[int, str], str] = {}
    used: set[str] = set()
    names = []
    for f in reads:
        parts: tuple[str, ...] = (f.path.name,)
        key: tuple[int, str] = (-1, f.path.name)
        for prefix, i, top in roots:
            rel = _under(str(f.path), prefix)
            if rel is None or (top is None and not rel):
                continue
            parts = rel if top is None else (top, *rel)
            key = (i, parts[0])
            break
        if key not in tops or key[0] < 0:
            tops[key] = _unique(safe_name(parts[0], limit=128), taken)
        name = "/".join([tops[key], *(safe_name(p, limit=128) for p in parts[1:])])
        names.append(_unique(name, used))
    return names


def _note(f: FileRead) -> str | None:
    """What a reader of the copy must know: a link was followed, or a script's output is kept."""
    notes = []
    if f.script:
        notes.append("the JSON this inventory script printed (--list), not the script")
    if f.target is not None:
        notes.append(f"read through a symbolic link: the bytes of {f.target}")
    return "; ".join(notes) or None


def _source_files(
    sources: Sequence[Path], inventory: Inventory | None = None
) -> tuple[dict[str, bytes], dict[str, str], list[str], dict[str, str]]:
    """Copies for ``sources/``, the originals' SHA-256 by original path, the redacted copies and
    notes on copies (a link followed, a script's output).

    The inventory's files are copied from what its loader read (the bytes it parsed, named by
    the path it opened), so nothing the loader did not read enters the bundle; ``sources`` are
    the other input files (policy, exceptions, attestations, framework), read here."""
    files: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    redacted: list[str] = []
    notes: dict[str, str] = {}
    taken: set[str] = set()

    def add(name: str, original: str, data: bytes, digest: str) -> None:
        copy = redact_source(data)
        files[name] = copy
        hashes[original] = digest
        if copy != data:
            redacted.append(name)

    if inventory is not None:
        names = _inventory_names(inventory.sources, inventory.reads, taken)
        for f, name in zip(inventory.reads, names, strict=True):
            add(f"sources/{name}", str(f.path), f.data, f.sha256)
            note = _note(f)
            if note:
                notes[f"sources/{name}"] = note
    for src in sources:
        top = _unique(safe_name(src.name, limit=128), taken)
        try:
            for path, rel in _source_paths(src):
                data = path.read_bytes()
                name = f"sources/{top}/{rel}" if rel else f"sources/{top}"
                add(name, str(path), data, hashlib.sha256(data).hexdigest())
        except OSError as exc:
            raise InputError(
                str(src), f"cannot copy into the evidence bundle: {exc.strerror}"
            ) from None
    return files, hashes, redacted, notes


def _tag_files(
    raw: RawRecord, payload: Mapping[str, bytes], organization: str | None
) -> dict[str, bytes]:
    """``bagit.txt``, ``bag-info.txt`` and ``manifest-sha256.txt`` for ``payload`` (paths under
    ``data/``)."""
    return {
        BAGIT: BAGIT_TXT,
        BAG_INFO: bag_info(
            bagging_date=raw.run.finished.astimezone(UTC).date(),
            payload=payload,
            description=f"e8scan evidence bundle of run {raw.run.id}: the commands run on each "
            "host, their raw output, raw.json, results.json and the (redacted) input files",
            identifier=raw.run.id,
            agent=f"e8scan {__version__}",
            organization=organization,
        ),
        PAYLOAD_MANIFEST: manifest_text({k: sha256(v) for k, v in payload.items()}),
    }


def bundle_files(
    raw: RawRecord,
    results: Results,
    sources: Sequence[Path],
    sign_key: Ed25519PrivateKey | None = None,
    inventory: Inventory | None = None,
) -> dict[str, bytes]:
    """Every file of the bundle (relative path → bytes): a BagIt bag whose payload is under
    ``data/``, with ``manifest.json`` and, with ``sign_key``, its detached signature
    ``manifest.json.sig`` (over the whole manifest: run id, times, versions, hosts, the hash of
    every file but the tag manifest — payload, ``bagit.txt``, ``bag-info.txt``,
    ``manifest-sha256.txt`` —, source hashes and the redaction list) at the bag's root."""
    versions = PROBE_VERSIONS | {c.id: c.version for c in raw.run.checks}
    files: dict[str, bytes] = {
        "raw.json": raw.model_dump_json(indent=1).encode("utf-8"),
        "results.json": results.model_dump_json(indent=1).encode("utf-8"),
    }
    hosts: dict[str, str] = {}
    taken: set[str] = set()
    for host in raw.hosts:
        folder = f"hosts/{_unique(safe_name(host.name), taken)}"
        hosts[host.name] = PAYLOAD + folder
        files.update(_host_files(folder, host, versions))
    copies, source_hashes, redacted, notes = _source_files(sources, inventory)
    files.update(copies)
    payload = {PAYLOAD + k: v for k, v in sorted(files.items())}
    organisation = results.run.policy.get("organisation")
    tags = _tag_files(raw, payload, organisation if isinstance(organisation, str) else None)
    manifest = {
        "kind": KIND,
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "model_version": raw.model_version,
        "run_id": raw.run.id,
        "created": raw.run.finished.isoformat(),
        "hosts": hosts,
        "files": {k: sha256(v) for k, v in sorted((payload | tags).items())},
        "sources": source_hashes,
        "redacted": [PAYLOAD + name for name in redacted],
    }
    if notes:  # only when there is something to say: bundles without links read as before
        manifest["source_notes"] = {PAYLOAD + k: v for k, v in sorted(notes.items())}
    data = _json(manifest)
    signed = {MANIFEST: data} | ({} if sign_key is None else {SIGNATURE: sign_key.sign(data)})
    tagmanifest = manifest_text({k: sha256(v) for k, v in (tags | signed).items()})
    return {**tags, **signed, TAG_MANIFEST: tagmanifest, **payload}


# --- writing -------------------------------------------------------------------------------


def _is_bundle_manifest(data: bytes) -> bool:
    try:
        manifest = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == KIND


def _is_bundle(path: Path) -> bool:
    """Whether ``path`` (folder or zip) already holds an e8scan evidence bundle."""
    try:
        if path.is_dir():
            return _is_bundle_manifest((path / MANIFEST).read_bytes())
        with zipfile.ZipFile(path) as zf:
            return _is_bundle_manifest(zf.read(_zip_root(zf) + MANIFEST))
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def _refuse_zip(dest: Path) -> None:
    if dest.exists() and not (dest.is_file() and _is_bundle(dest)):
        raise InputError(str(dest), "exists and is not an e8scan evidence bundle; not replacing it")


def _refuse_folder(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise InputError(str(dest), "exists and is not a folder")
    if dest.exists() and any(dest.iterdir()) and not _is_bundle(dest):
        raise InputError(
            str(dest),
            "folder is not empty and is not an e8scan evidence bundle; not writing into it",
        )


def check_destination(dest: Path) -> None:
    """Refuse, before a scan, an evidence destination :func:`write_bundle` would refuse (a
    non-empty folder or a file that is not a bundle) or could not write (the bundle is staged
    beside ``dest`` and renamed into place, so ``dest``'s folder must be writable)."""
    try:
        if dest.suffix.lower() == ".zip":
            _refuse_zip(dest)
        else:
            _refuse_folder(dest)
    except OSError as exc:
        raise InputError(str(dest), f"cannot read it ({exc.strerror or exc})") from None
    check_writable(dest, "--evidence", folder=True, what="evidence folder")


def _zip_time(created: datetime) -> tuple[int, int, int, int, int, int]:
    t = max(created.astimezone(UTC), datetime(1980, 1, 1, tzinfo=UTC))
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def _write_zip(dest: Path, files: Mapping[str, bytes], created: datetime) -> None:
    """The bag serialized as RFC 8493 4.2 asks: one top-level folder, named as the zip."""
    _refuse_zip(dest)
    stamp = _zip_time(created)
    top = safe_name(dest.stem, limit=128)

    def fill(fh: IO[bytes]) -> None:
        with zipfile.ZipFile(fh, "w") as zf:
            for name, data in files.items():
                info = zipfile.ZipInfo(f"{top}/{name}", stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)

    write_atomic(dest, fill)


def _filler(data: bytes) -> Callable[[IO[bytes]], None]:
    def fill(fh: IO[bytes]) -> None:
        fh.write(data)

    return fill


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_folder(dest: Path, files: Mapping[str, bytes]) -> None:
    """Fill a temporary sibling folder, then swap it in for ``dest`` (empty or an old bundle)."""
    replace = dest.exists()
    _refuse_folder(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        os.chmod(staging, 0o777 & ~_umask())
        for name, data in files.items():
            write_atomic(staging / name, _filler(data))
        _swap_in(staging, dest, replace)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging: Path, dest: Path, replace: bool) -> None:
    if not replace:
        staging.rename(dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old.", dir=dest.parent))
    old.rmdir()
    dest.rename(old)
    try:
        staging.rename(dest)
    except OSError:
        old.rename(dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_bundle(
    dest: Path,
    raw: RawRecord,
    results: Results,
    sources: Sequence[Path],
    sign_key: Ed25519PrivateKey | None = None,
    inventory: Inventory | None = None,
) -> Path:
    """Write the evidence bundle to ``dest`` (a folder, or a zip when it ends in ``.zip``),
    signed with ``sign_key`` when one is given.

    An existing bundle at ``dest`` is replaced whole; anything else that is in the way is an
    :class:`InputError`, as is a destination that cannot be written. Returns ``dest``."""
    files = bundle_files(raw, results, sources, sign_key, inventory)
    try:
        if dest.suffix.lower() == ".zip":
            _write_zip(dest, files, raw.run.finished)
        else:
            _write_folder(dest, files)
    except OSError as exc:
        raise InputError(
            str(dest), f"evidence folder not writable ({exc.strerror or exc})"
        ) from None
    return dest


def manifest_sha256(dest: Path) -> str:
    """The SHA-256 of the written bundle's ``manifest.json`` (for a change record)."""
    reader = _Reader(dest)
    try:
        data = reader.read(MANIFEST)
    finally:
        reader.close()
    if data is None:
        raise InputError(str(dest), f"not an evidence bundle (no {MANIFEST})")
    return hashlib.sha256(data).hexdigest()


# --- verifying -----------------------------------------------------------------------------


def _zip_root(zf: zipfile.ZipFile) -> str:
    """Where a zip's bundle starts: ``""`` (manifest.json at the top, as before BagIt) or the
    top-level folder of a serialized bag (``"<name>/"``, RFC 8493 4.2) that holds manifest.json."""
    names = zf.namelist()
    if MANIFEST in names:
        return ""
    roots = {n.split("/", 1)[0] + "/" for n in names if n.count("/") == 1 and n.endswith(MANIFEST)}
    return roots.pop() if len(roots) == 1 else ""


class _Reader:
    """Uniform read access to a bundle folder or zip. ``read`` returns None for a missing file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.root = ""  # a zip's top-level folder, "<name>/", when it is a serialized bag
        if path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
                self.root = _zip_root(self.zip)
            except (zipfile.BadZipFile, OSError):
                raise InputError(
                    str(path), "not an evidence bundle (neither a folder nor a zip)"
                ) from None
        elif not path.is_dir():
            raise InputError(str(path), "no such evidence bundle")

    def names(self) -> set[str]:
        if self.zip is not None:
            cut, root = len(self.root), self.root
            return {n[cut:] for n in self.zip.namelist() if n.startswith(root) and n[-1:] != "/"}
        found: set[str] = set()
        for top, dirs, files in os.walk(self.path):  # never follows a link
            rel = Path(top).relative_to(self.path)
            found.update((rel / f).as_posix() for f in files)
            found.update((rel / d).as_posix() for d in dirs if (Path(top) / d).is_symlink())
        return found

    def refused(self) -> list[str]:
        """What no bundle may hold: links (folder or zip) and zip entries named twice."""
        if self.zip is not None:
            seen: dict[str, int] = {}
            links: list[str] = []
            for info in self.zip.infolist():
                seen[info.filename] = seen.get(info.filename, 0) + 1
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    links.append(info.filename)
            twice = sorted(n for n, k in seen.items() if k > 1)
            beside = sorted(n for n in seen if not n.startswith(self.root))
            return (
                [f"duplicate: {n} (the zip holds {seen[n]} entries of that name)" for n in twice]
                + [f"symlink: {n} (links are refused in a bundle)" for n in sorted(set(links))]
                + [f"extra: {n} (outside the bag's folder {self.root})" for n in beside]
            )
        return [
            f"symlink: {n} (links are refused in a bundle)"
            for n in sorted(self.names())
            if (self.path / n).is_symlink()
        ]

    def read(self, name: str) -> bytes | None:
        if self.zip is not None:
            try:
                return self.zip.read(self.root + name)
            except KeyError:
                return None
        p = self.path / name
        parts = PurePosixPath(name).parts  # no link anywhere on the way: never read through one
        linked = any(self.path.joinpath(*parts[:i]).is_symlink() for i in range(1, len(parts) + 1))
        if linked or not p.is_file():
            return None
        return p.read_bytes()

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _manifest_files(data: bytes) -> tuple[dict[str, str] | None, int, str]:
    """The manifest's file → SHA-256 map and schema version, or None and what is wrong."""
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        return None, 0, f"{MANIFEST}: not valid JSON ({exc})"
    except RecursionError:
        return None, 0, f"{MANIFEST}: not valid JSON (nested too deeply)"
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        return None, 0, f"{MANIFEST}: not an e8scan evidence manifest (kind is not {KIND!r})"
    schema = manifest.get("schema_version")
    if schema not in READABLE_SCHEMAS or isinstance(schema, bool):
        return None, 0, f"{MANIFEST}: unsupported schema_version {schema!r}"
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _SHA256.fullmatch(v) for k, v in files.items()
    ):
        return None, 0, f"{MANIFEST}: 'files' is not a map of relative path to SHA-256"
    return files, int(schema), ""


def _safe_relative(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name


def _read(reader: _Reader, name: str) -> bytes | str | None:
    """The file's bytes, None when it is missing, or why it cannot be read."""
    try:
        return reader.read(name)
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        return f"unreadable: {exc}"


def _check_file(reader: _Reader, name: str, expected: str, reserved: set[str]) -> str | None:
    if not _safe_relative(name) or name in reserved:
        return f"unsafe: {name} (the manifest lists a path outside the bundle)"
    data = _read(reader, name)
    if isinstance(data, str):
        return f"altered: {name} ({data})"
    if data is None:
        return f"missing: {name}"
    if sha256(data) != expected:
        return f"altered: {name} (SHA-256 does not match the manifest)"
    return None


def _bag_problems(reader: _Reader, files: Mapping[str, str], intact: set[str]) -> list[str]:
    """What is wrong with a schema-2 bundle as a BagIt bag: its two BagIt manifests must be
    exactly what the (signed) manifest.json and the tag files imply, so a bag ``verify`` passes is
    one a BagIt validator passes, and nothing in it escapes the signature."""
    absent = [n for n in (BAGIT, BAG_INFO, PAYLOAD_MANIFEST) if n not in files]
    if absent:
        return [f"{MANIFEST}: lists no {', '.join(absent)} (a schema_version 2 bundle is a bag)"]
    problems = []
    payload = {k: v for k, v in files.items() if k.startswith(PAYLOAD)}
    if PAYLOAD_MANIFEST in intact and reader.read(PAYLOAD_MANIFEST) != manifest_text(payload):
        problems.append(
            f"altered: {PAYLOAD_MANIFEST} (does not list exactly the payload files of {MANIFEST})"
        )
    tagmanifest = _read(reader, TAG_MANIFEST)
    if tagmanifest is None:
        return [*problems, f"missing: {TAG_MANIFEST}"]
    tags = {
        name: sha256(data)
        for name in (BAGIT, BAG_INFO, PAYLOAD_MANIFEST, MANIFEST, SIGNATURE)
        if isinstance(data := _read(reader, name), bytes)
    }
    if tagmanifest != manifest_text(tags):
        problems.append(
            f"altered: {TAG_MANIFEST} (does not list exactly the bag's tag files and their SHA-256)"
        )
    return problems


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found: the problems (none when intact) and the signature's state."""

    problems: list[str]
    signature: str  # "signed by <fingerprint>", "unsigned" or "signature not checked"


def _check_signature(reader: _Reader, data: bytes, key: Ed25519PublicKey | None) -> tuple[str, str]:
    """(state, problem) of the manifest's signature; problem is "" when there is none."""
    signature = reader.read(SIGNATURE)
    if key is None:
        return ("unsigned" if signature is None else "signature not checked"), ""
    if signature is None:
        return "unsigned", f"unsigned: no {SIGNATURE}, but --pubkey asks for a signed bundle"
    if not signature_valid(key, signature, data):
        return "bad signature", (
            f"bad signature: {SIGNATURE} does not sign this {MANIFEST} with key {fingerprint(key)} "
            "(the manifest was changed, or another key signed it)"
        )
    return f"signed by {fingerprint(key)}", ""


def check_bundle(path: Path, public_key: Ed25519PublicKey | None = None) -> Verdict:
    """Every problem with the bundle at ``path`` (folder or zip), and its signature's state; with
    ``public_key`` a missing or bad signature is a problem.

    Raises :class:`InputError` when ``path`` is not a bundle at all (nothing there, or no
    ``manifest.json``)."""
    reader = _Reader(path)
    try:
        refused = reader.refused()
        data = reader.read(MANIFEST)
        if data is None:
            if refused:
                return Verdict(refused, "unknown")
            raise InputError(str(path), f"not an evidence bundle (no {MANIFEST})")
        state, bad = _check_signature(reader, data, public_key)
        problems = refused + ([bad] if bad else [])
        files, schema, problem = _manifest_files(data)
        if files is None:
            return Verdict([*problems, problem], state)
        tags = {MANIFEST, SIGNATURE} | ({TAG_MANIFEST} if schema >= 2 else set())
        found = {name: _check_file(reader, name, files[name], tags) for name in sorted(files)}
        problems += [p for p in found.values() if p]
        if schema >= 2:
            problems += _bag_problems(reader, files, {n for n, p in found.items() if p is None})
        extra = reader.names() - set(files) - tags
        problems += [f"extra: {name} (not in the manifest)" for name in sorted(extra)]
        return Verdict(problems, state)
    finally:
        reader.close()


def verify_bundle(path: Path, public_key: Ed25519PublicKey | None = None) -> list[str]:
    """Every problem with the bundle at ``path`` (folder or zip); ``[]`` when it is intact."""
    return check_bundle(path, public_key).problems
