"""Atomic file output: write to a temporary name in the same folder, then rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from pydantic import BaseModel

from scanner.model.errors import InputError
from scanner.record.jsonstream import json_chunks


def check_writable(
    path: Path, option: str, folder: bool = False, what: str = "output file"
) -> None:
    """Refuse, before any work, an output ``path`` (file, or with ``folder`` a folder written
    through a sibling) that cannot be written: a folder where a file goes, a parent that is a
    file or cannot be created, a read-only or full file system. Leaves no file behind; a
    missing parent folder is created (as writing would)."""
    where = f"{option} {path}"
    if not folder and path.is_dir():
        raise InputError(where, "is a folder; expected a file name")
    existing = next((p for p in path.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError(where, f"{what} not writable ({existing} is a file, not a folder)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise InputError(where, f"{what} not writable ({exc.strerror or exc})") from None


def write_atomic(path: Path, fill: Callable[[IO[bytes]], None]) -> None:
    """Call ``fill`` with a temporary file beside ``path``; rename it over ``path`` when done."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be read by their audience
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno is not None and exc.filename in (tmp, None):  # the file the user named
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    data = text.encode("utf-8")

    def fill(fh: IO[bytes]) -> None:
        fh.write(data)

    write_atomic(path, fill)


def write_json_atomic(path: Path, model: BaseModel, stream: str) -> None:
    """Write ``model`` as indented JSON, streaming its list field ``stream`` (see
    :mod:`scanner.record.jsonstream`)."""

    def fill(fh: IO[bytes]) -> None:
        buf: list[str] = []
        size = 0
        for chunk in json_chunks(model, stream):
            buf.append(chunk)
            size += len(chunk)
            if size > 1 << 20:
                fh.write("".join(buf).encode("utf-8"))
                buf, size = [], 0
        fh.write("".join(buf).encode("utf-8"))

    write_atomic(path, fill)
