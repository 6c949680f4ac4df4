"""Output of a Linux command that prints several things, each after a ``### name`` marker line."""

from __future__ import annotations


def sections(text: str) -> dict[str, list[str]]:
    """``### name`` marked sections of ``text``: name → its lines (lines before any marker are
    dropped; a repeated name continues its section)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("### "):
            current = out.setdefault(line[4:].strip(), [])
        elif current is not None:
            current.append(line)
    return out
