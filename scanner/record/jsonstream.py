"""Big JSON documents (raw.json, results.json) a host at a time, both ways.

e8scan writes them with :func:`json_chunks`: pydantic's own indented text, but produced one list
item at a time so a 10,000-host document never sits in memory whole. :func:`read_model` reads
that layout back one item at a time (each host parsed and validated on its own); a file in any
other layout (re-indented, minified, CRLF) is read whole, with the same result.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def json_chunks(model: BaseModel, stream: str) -> Iterator[str]:
    """``model.model_dump_json(indent=1)``, in pieces: the list field ``stream`` one item at a
    time. The text is byte-identical."""
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


class ItemError(ValueError):
    """An item of the streamed list failed validation: which one, and where it starts."""

    def __init__(self, field: str, index: int, line: int, error: ValidationError) -> None:
        first = error.errors()[0]
        self.line = line
        self.loc = ".".join([field, str(index), *(str(p) for p in first["loc"])])
        self.msg = " ".join(str(first["msg"]).removeprefix("Value error, ").split())
        super().__init__(f"line {line}: field {self.loc}: {self.msg}")


def read_model(path: Path, model: type[M], stream: str) -> M:
    """Read ``path`` as ``model``, its list field ``stream`` an item at a time when the file has
    the layout :func:`json_chunks` writes. Raises OSError, ValidationError or ItemError."""
    opening = f' "{stream}": [\n'.encode()
    with path.open("rb") as fh:
        head = []
        for line in fh:
            if line == opening:
                break
            head.append(line)
        else:
            return model.model_validate_json(b"".join(head))
        item_type = typing.get_args(model.model_fields[stream].annotation)[0]
        items: list[object] = []
        chunk: list[bytes] = []
        start = len(head) + 2
        number = start - 1
        closing = b""
        for number, line in enumerate(fh, start=start):
            if line in (b" ]\n", b" ],\n"):
                closing = line
                break
            chunk.append(line)
            if line in (b"  }\n", b"  },\n"):
                text = b"".join(chunk).rstrip().removesuffix(b",")
                try:
                    items.append(item_type.model_validate_json(text))
                except ValidationError as exc:
                    raise ItemError(stream, len(items), number - len(chunk) + 1, exc) from None
                chunk = []
        if not closing or chunk:
            # Not our layout after all (or cut short): let the whole-file parse say what is wrong.
            fh.seek(0)
            return model.model_validate_json(fh.read())
        envelope = b"".join(head) + f' "{stream}": []'.encode() + closing[2:] + fh.read()
    parsed = model.model_validate_json(envelope)
    return parsed.model_copy(update={stream: items})
