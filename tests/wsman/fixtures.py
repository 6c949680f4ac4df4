"""What each fake Windows host prints: a mapping from command text to recorded output.

A :class:`HostFixtures` maps the **exact text** of a command (or a compiled regex, matched with
``fullmatch``) to a :class:`FixtureOutput`. The WS-Man test server looks up

* each decoded ``E8Step`` command of a ``scanner.collect.ps_batch`` batch (stdin of the bootstrap);
* the decoded script of any other ``powershell -EncodedCommand`` (what ``Session.run_ps`` sends);
* the whole command line of anything else (a plain ``cmd`` command line).

Lookup order: exact text, then the text with surrounding whitespace stripped (on both sides),
then each regex in the order added. Text outputs are encoded by the server in whatever the
context needs (the shell's code page for raw output, UTF-8 inside the batch framing); give
``bytes`` (or ``stdout_b64`` in JSON) to send exact bytes recorded from a real host.

JSON form (one file per simulated host, e.g. ``tests/wsman/hosts/<name>.json``)::

    {
      "provenance": "where the outputs come from (host, build, date, corpus row)",
      "commands": [
        {"match": "exact command text", "stdout": "text", "stderr": "", "rc": 0},
        {"match": {"regex": "Get-ItemProperty .*", "flags": "is"}, "stdout_b64": "...", "delay": 0.5},
        {"match": "...", "stdout": "...", "note": "free text, kept but not interpreted"}
      ]
    }

Top level: ``provenance`` (text), ``commands`` (list) and an optional free-form ``host`` object
(name, OS build, …) that is kept in the file for people and not interpreted.
Keys per command: ``match`` (required), ``stdout`` or ``stdout_b64``, ``stderr`` or
``stderr_b64``, ``rc`` (int, default 0), ``delay`` (seconds before the output appears and the
command ends, default 0), ``hang`` (true: the command never returns, whatever the batch's
per-command timeout says — a hung WMI provider that ignores ``BeginStop``), ``note``. Unknown
keys are an error naming the file and the entry.
Regex ``flags`` letters: ``i`` IGNORECASE, ``s`` DOTALL, ``m`` MULTILINE, ``x`` VERBOSE.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HOSTS_DIR = Path(__file__).resolve().parent / "hosts"

Match = str | re.Pattern[str]

_FLAGS = {"i": re.IGNORECASE, "s": re.DOTALL, "m": re.MULTILINE, "x": re.VERBOSE}
_KEYS = {"match", "stdout", "stdout_b64", "stderr", "stderr_b64", "rc", "delay", "hang", "note"}


@dataclass(frozen=True)
class FixtureOutput:
    """One command's recorded result. ``str`` is text (encoded as the context needs), ``bytes`` exact."""

    stdout: bytes | str = ""
    stderr: bytes | str = ""
    rc: int = 0
    delay: float = 0.0
    hang: bool = False
    """Never returns: in a batch, the step's begin marker is the last thing the host writes."""

    def stdout_bytes(self, encoding: str) -> bytes:
        return _encode(self.stdout, encoding)

    def stderr_bytes(self, encoding: str) -> bytes:
        return _encode(self.stderr, encoding)


def _encode(value: bytes | str, encoding: str) -> bytes:
    # A code page cannot show every character: Windows writes '?' for those, so does "replace".
    return value if isinstance(value, bytes) else value.encode(encoding, errors="replace")


class FixtureError(ValueError):
    """A fixture file that does not have the documented shape."""


class HostFixtures:
    """Command text (or regex) → :class:`FixtureOutput`, plus where the outputs came from."""

    def __init__(
        self,
        commands: Mapping[Any, FixtureOutput | str]
        | Iterable[tuple[Match, FixtureOutput | str]] = (),
        provenance: str = "",
    ) -> None:
        self.provenance = provenance
        self._exact: dict[str, FixtureOutput] = {}
        self._stripped: dict[str, FixtureOutput] = {}
        self._patterns: list[tuple[re.Pattern[str], FixtureOutput]] = []
        items = commands.items() if isinstance(commands, Mapping) else commands
        for match, output in items:
            self.add(match, output)

    def add(self, match: Match, output: FixtureOutput | str) -> None:
        """Add (or replace) one entry; a plain ``str`` output is shorthand for its stdout."""
        out = FixtureOutput(stdout=output) if isinstance(output, str) else output
        if isinstance(match, re.Pattern):
            self._patterns.append((match, out))
        else:
            self._exact[match] = out
            self._stripped.setdefault(match.strip(), out)

    def lookup(self, text: str) -> FixtureOutput | None:
        """The output recorded for ``text``, or None when the host has no such command."""
        if text in self._exact:
            return self._exact[text]
        if text.strip() in self._stripped:
            return self._stripped[text.strip()]
        for pattern, out in self._patterns:
            if pattern.fullmatch(text) or pattern.fullmatch(text.strip()):
                return out
        return None

    def __len__(self) -> int:
        return len(self._exact) + len(self._patterns)

    def __iter__(self) -> Iterator[Match]:
        yield from self._exact
        for pattern, _ in self._patterns:
            yield pattern

    def merged(self, other: HostFixtures) -> HostFixtures:
        """A new set: these entries, then ``other``'s (``other`` wins on an exact-text clash)."""
        merged = HostFixtures(
            provenance="\n".join(p for p in (self.provenance, other.provenance) if p)
        )
        for source in (self, other):
            merged._exact.update(source._exact)
            for key, out in source._exact.items():
                merged._stripped[key.strip()] = out
            merged._patterns.extend(source._patterns)
        return merged

    # -- JSON ---------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, source: str = "<fixtures>") -> HostFixtures:
        if not isinstance(data, dict) or not isinstance(data.get("commands"), list):
            raise FixtureError(f"{source}: expected an object with a 'commands' list")
        extra = set(data) - {"provenance", "commands", "host"}
        if extra:
            raise FixtureError(f"{source}: unknown top-level key(s) {sorted(extra)}")
        fixtures = cls(provenance=str(data.get("provenance", "")))
        for index, entry in enumerate(data["commands"]):
            where = f"{source}: commands[{index}]"
            match, output = _parse_entry(entry, where)
            fixtures.add(match, output)
        return fixtures

    @classmethod
    def from_json(cls, path: str | Path) -> HostFixtures:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise FixtureError(f"{path}: line {exc.lineno}: {exc.msg}") from None
        return cls.from_dict(data, source=str(path))


def load_host(name: str) -> HostFixtures:
    """The fixture set ``tests/wsman/hosts/<name>.json``."""
    return HostFixtures.from_json(HOSTS_DIR / f"{name}.json")


def _parse_entry(entry: Any, where: str) -> tuple[Match, FixtureOutput]:
    if not isinstance(entry, dict):
        raise FixtureError(f"{where}: expected an object")
    extra = set(entry) - _KEYS
    if extra:
        raise FixtureError(
            f"{where}: unknown key(s) {sorted(extra)}; expected some of {sorted(_KEYS)}"
        )
    match = _parse_match(entry.get("match"), where)
    rc = entry.get("rc", 0)
    delay = entry.get("delay", 0)
    if not isinstance(rc, int) or isinstance(rc, bool):
        raise FixtureError(f"{where}: 'rc' must be an integer")
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        raise FixtureError(f"{where}: 'delay' must be a number of seconds >= 0")
    hang = entry.get("hang", False)
    if not isinstance(hang, bool):
        raise FixtureError(f"{where}: 'hang' must be true or false")
    return match, FixtureOutput(
        stdout=_parse_stream(entry, "stdout", where),
        stderr=_parse_stream(entry, "stderr", where),
        rc=rc,
        delay=float(delay),
        hang=hang,
    )


def _parse_match(match: Any, where: str) -> Match:
    if isinstance(match, str):
        return match
    if (
        isinstance(match, dict)
        and isinstance(match.get("regex"), str)
        and set(match) <= {"regex", "flags"}
    ):
        flags = 0
        for letter in str(match.get("flags", "")):
            if letter not in _FLAGS:
                raise FixtureError(
                    f"{where}: unknown regex flag {letter!r}; expected some of 'imsx'"
                )
            flags |= _FLAGS[letter]
        try:
            return re.compile(match["regex"], flags)
        except re.error as exc:
            raise FixtureError(f"{where}: bad regex: {exc}") from None
    raise FixtureError(f'{where}: \'match\' must be a string or {{"regex": "...", "flags": "..."}}')


def _parse_stream(entry: dict[str, Any], name: str, where: str) -> bytes | str:
    text, b64 = entry.get(name), entry.get(f"{name}_b64")
    if text is not None and b64 is not None:
        raise FixtureError(f"{where}: give '{name}' or '{name}_b64', not both")
    if b64 is not None:
        if not isinstance(b64, str):
            raise FixtureError(f"{where}: '{name}_b64' must be a base64 string")
        try:
            return base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise FixtureError(f"{where}: '{name}_b64' is not valid base64") from None
    if text is None:
        return ""
    if not isinstance(text, str):
        raise FixtureError(f"{where}: '{name}' must be a string")
    return text
