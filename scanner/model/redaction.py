"""What counts as a secret, found by meaning rather than by where it happens to be written.

A value is secret when a key *naming* a secret holds it, at any depth (``password`` inside
``e8_extra: {…}``), once YAML anchors are resolved (so ``note: *pw`` is as secret as
``ansible_password: &pw …``), or when it follows a known secret-bearing argument in a command
line (``sshpass -p …``, ``--password=…``, ``--token …``) or a URL's ``user:password@``.
:func:`secret_values` collects those values from parsed data; :func:`redact_data` returns the
data with them replaced by :data:`REDACTED`; :func:`redact_text` replaces them inside text.
:func:`redact_lines` works on unparsed INI/YAML text, line by line (``key=value``,
``key: value``, YAML block scalars under such keys): for text that may not parse (an error
message quoting a line) and as the first pass over a file's copy.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

REDACTED = "<redacted>"
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SECRET_ENDS = ("password", "passwd", "passphrase", "secret", "secrets", "token", "tokens")
_SECRET_STARTS = ("password", "passwd", "secret", "token", "credential", "vault")
NOT_SECRET = frozenset({"e8_password_env"})
"""Keys that match :data:`SECRET_WORDS` but hold no secret (it names an environment variable)."""
_SHORT = 4  # secrets shorter than this are replaced only as whole words

_VALUE = r"""(?P<val>'[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"]+)"""
_SECRET_ARGS = (
    # sshpass -p SECRET, sshpass -e -pSECRET (its other options come first)
    re.compile(rf"\bsshpass(?:\s+-[^p\s]\S*)*\s+-p\s*{_VALUE}"),
    # --password=SECRET, --password SECRET, -token SECRET, --api-key=SECRET, --client-secret …
    re.compile(
        rf"(?<![\w-])--?(?:[\w]+[-_])*(?:password|passwd|pass|pwd|token|secret|api[-_]?key)"
        rf"(?:=|\s+){_VALUE}",
        re.IGNORECASE,
    ),
    # scheme://user:SECRET@host
    re.compile(r"://[^/\s:@]*:(?P<val>[^@\s/]+)@"),
)


def names_secret(key: object) -> bool:
    """Whether a variable or key named ``key`` holds a secret, judged by its words
    (``ansible_ssh_pass``, ``dbPassword``, ``client_secret``, ``api-key``, ``private_key_file``,
    ``vault_id``), not by letters inside other words (``passive``, ``bypass_proxy``)."""
    if not isinstance(key, str) or key in NOT_SECRET:
        return False
    words = [w.lower() for w in _WORD.findall(key)]
    if any(
        w in ("pass", "pwd") or w.endswith(_SECRET_ENDS) or w.startswith(_SECRET_STARTS)
        for w in words
    ):
        return True
    joined = "_".join(words)
    return any(pair in joined for pair in ("private_key", "privatekey", "api_key", "apikey"))


def secrets_in_text(text: str) -> list[str]:
    """The values of secret-bearing arguments written in ``text`` (``sshpass -p X`` → ``X``)."""
    found = []
    for pattern in _SECRET_ARGS:
        for match in pattern.finditer(text):
            value = match["val"]
            if value[:1] in "'\"" and value[-1:] == value[:1] and len(value) > 1:
                value = value[1:-1]
            if value:
                found.append(value)
    return found


def _leaves(value: Any) -> Iterable[str]:
    """Every scalar value under ``value`` as text (not the keys of nested mappings)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _leaves(v)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def secret_values(data: Any) -> set[str]:
    """Every secret value in parsed data: what keys naming a secret hold (at any depth), and
    the values of secret-bearing arguments inside any text."""
    found: set[str] = set()
    stack: list[Any] = [data]
    seen: set[int] = set()
    while stack:
        value = stack.pop()
        if isinstance(value, dict | list | tuple):
            if id(value) in seen:  # aliases share objects: walk each once
                continue
            seen.add(id(value))
        if isinstance(value, dict):
            for k, v in value.items():
                if names_secret(k):
                    found.update(s for s in _leaves(v) if not is_redacted(s))
                else:
                    stack.append(v)
                stack.append(k)
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, str):
            found.update(secrets_in_text(value))
    return found


def _pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for every secret, longest first; short ones only as whole words."""
    parts = []
    for s in sorted(set(secrets), key=len, reverse=True):
        if not s:
            continue
        escaped = re.escape(s)
        parts.append(escaped if len(s) >= _SHORT else rf"(?<![A-Za-z0-9]){escaped}(?![A-Za-z0-9])")
    return re.compile("|".join(parts)) if parts else None


def redact_text(text: str, secrets: Collection[str]) -> str:
    """``text`` with every occurrence of every secret (and every secret-bearing argument's
    value) replaced by :data:`REDACTED`."""
    pattern = _pattern([*secrets, *secrets_in_text(text)])
    return pattern.sub(REDACTED, text) if pattern else text


def redact_data(data: Any, secrets: Collection[str] = ()) -> Any:
    """A copy of ``data`` where every value under a key naming a secret (at any depth) is
    :data:`REDACTED`, and every secret inside other text is replaced.

    ``secrets`` are further values to hide (a password read from the environment); the secret
    values found in ``data`` itself are always hidden wherever else they appear (aliases).
    """
    pattern = _pattern([*secrets, *secret_values(data)])

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: REDACTED if names_secret(k) else walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        if isinstance(value, str) and pattern is not None:
            return type(value)(pattern.sub(REDACTED, value)) if pattern.search(value) else value
        return value

    return walk(data)


def is_redacted(value: Any) -> bool:
    """Whether ``value`` (what a key naming a secret holds in a redacted copy) shows nothing."""
    if value is None or value == "" or value == REDACTED:
        return True
    if isinstance(value, str):
        return all(line.strip() in ("", REDACTED) for line in value.splitlines())
    if isinstance(value, dict):
        return all(is_redacted(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_redacted(v) for v in value)
    return False


def unredacted_keys(data: Any) -> list[str]:
    """Keys naming a secret whose value in ``data`` still shows something (at any depth)."""
    found: list[str] = []
    stack: list[Any] = [data]
    seen: set[int] = set()
    while stack:
        value = stack.pop()
        if isinstance(value, dict | list | tuple):
            if id(value) in seen:
                continue
            seen.add(id(value))
        if isinstance(value, dict):
            for k, v in value.items():
                if names_secret(k) and not is_redacted(v):
                    found.append(str(k))
                else:
                    stack.append(v)
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return found


# --- line by line (text that is not, or not yet, parsed) ----------------------------------------

_SECRET_KEY = r"[\w.-]*(?:pass|secret|token|credential|private_key|vault)[\w.-]*"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'"
_SECRET_INI = re.compile(
    rf"(?P<key>\b{_SECRET_KEY})(?P<sep>[ \t]*=[ \t]*)(?P<val>{_QUOTED}|[^\s]*)", re.IGNORECASE
)
_SECRET_YAML_FLOW = re.compile(
    rf"(?P<key>[\"']?\b{_SECRET_KEY}[\"']?)(?P<sep>[ \t]*:[ \t]*)(?P<val>{_QUOTED}|[^,}}\]\r\n]*)",
    re.IGNORECASE,
)
_SECRET_YAML_BLOCK = re.compile(
    rf"(?P<key>[\"']?\b{_SECRET_KEY}[\"']?)(?P<sep>[ \t]*:[ \t]*)(?P<val>{_QUOTED}|[^\r\n]*)",
    re.IGNORECASE,
)
_BLOCK_STARTS = ("", "|", ">", "|-", ">-", "|+", ">+")


def redact_lines(text: str) -> str:
    """``text`` with the values of secret-looking keys (``ansible_password=…``, ``token: …``,
    YAML block scalars under such keys) replaced by :data:`REDACTED`, line by line.
    ``e8_password_env`` is kept: it names a variable, it holds no secret."""
    out: list[str] = []
    block_indent: int | None = None
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" \t"))
        if block_indent is not None:
            if not line.strip():
                out.append(line)
                continue
            if indent > block_indent:
                out.append(line[:indent] + REDACTED + ("\r" if line.endswith("\r") else ""))
                continue
            block_indent = None
        new, block = redact_line(line)
        if block:
            block_indent = indent
        out.append(new)
    return "\n".join(out)


def redact_line(line: str) -> tuple[str, bool]:
    """The line with secret values redacted, and whether a YAML block value follows it."""
    block = False

    def sub(m: re.Match[str]) -> str:
        nonlocal block
        if m["key"].strip("\"'").lower() in NOT_SECRET:
            return m[0]
        val = m["val"].rstrip()
        tail = "\r" if m["val"].endswith("\r") else ""
        if val.startswith("!"):  # a tag: !unsafe VALUE is redacted after it, !vault | is a block
            tag, _, rest = val.partition(" ")
            if rest.strip() not in _BLOCK_STARTS:
                return f"{m['key']}{m['sep']}{tag} {REDACTED}{tail}"
            val = ""
        if val in _BLOCK_STARTS:
            block = block or ":" in m["sep"]
            return m[0]
        if len(val) >= 2 and val[0] in "\"'" and val[-1] == val[0]:
            # a quoted value keeps its quotes: a JSON file (or quoted YAML) stays parseable
            return f"{m['key']}{m['sep']}{val[0]}{REDACTED}{val[0]}{m['val'][len(val) :]}"
        return f"{m['key']}{m['sep']}{REDACTED}{tail}"

    yaml = _SECRET_YAML_FLOW if "{" in line else _SECRET_YAML_BLOCK
    return yaml.sub(sub, _SECRET_INI.sub(sub, line)), block


def contains_secret(text: str, secrets: Collection[str]) -> bool:
    """Whether any of ``secrets`` occurs in ``text`` (as :func:`redact_text` would find it)."""
    pattern = _pattern(secrets)
    return bool(pattern and pattern.search(text))
