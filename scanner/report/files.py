"""Atomic file output: write to a temporary name in the same folder, then rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO

from pydantic import BaseModel


def write_atomic(path: Path, fill: Callable[[IO[bytes]], None]) -> None:
    """Call ``fill`` with a temporary file beside ``path``; rename it over ``path`` when done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are meant to be read by their audience
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    data = text.encode("utf-8")

    def fill(fh: IO[bytes]) -> None:
        fh.write(data)

    write_atomic(path, fill)


def json_chunks(model: BaseModel, stream: str) -> Iterator[str]:
    """``model.model_dump_json(indent=1)``, in pieces: the list field ``stream`` one item at a
    time, so a 10,000-host document never sits in memory whole. The text is byte-identical."""
    yield "{"
    first = True
    for name in type(model).model_fields:
        yield "\n" if first else ",\n"
        first = False
        if name != stream:
            one = model.model_dump_json(indent=1, include={name})
            yield one[2:-2]  # '{\n "name": value\n}' → ' "name": value'
            continue
        items: Sequence[BaseModel] = getattr(model, name)
        if not items:
            yield f' "{name}": []'
            continue
        yield f' "{name}": [\n'
        for i, item in enumerate(items):
            text = item.model_dump_json(indent=1)
            yield ("  " if i == 0 else ",\n  ") + text.replace("\n", "\n  ")
        yield "\n ]"
    yield "\n}"


def write_json_atomic(path: Path, model: BaseModel, stream: str) -> None:
    """Write ``model`` as indented JSON, streaming its list field ``stream`` (see json_chunks)."""

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
