"""Reading the small text files a user gives (policy, framework definition and its tables):
UTF-8 and YAML problems become one :class:`InputError` naming the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from scanner.model.errors import InputError


def read_utf8(path: Path, what: str) -> str:
    """The text of ``path``; an unreadable file or bytes that are not UTF-8 raise InputError."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read {what}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}", f"{what} is not valid UTF-8 text") from None


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader; a date the calendar does not have (2026-02-30) is refused at its line."""

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_yaml(path: Path, what: str) -> Any:
    """The YAML document in ``path``; every problem is one InputError line with the file:line."""
    text = read_utf8(path, what)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = " ".join(str(exc.problem or exc.context or "invalid syntax").split())
        raise InputError(where, f"not valid YAML ({problem})") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise InputError(f"{path}:{line}", f"not valid YAML ({exc.reason})") from None
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"not valid YAML ({' '.join(str(exc).split())})") from None
    except RecursionError:
        raise InputError(str(path), "the YAML is nested too deeply") from None
