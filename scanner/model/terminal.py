"""Text from hosts and files made safe for a terminal: no control character ever reaches it.

A host's stderr, a host name in an inventory, a run id in a results file or a history are
untrusted: ``ESC]0;…BEL`` would retitle the operator's window, ``ESC[2J`` clear the screen, a
carriage return or a bidi override paint fake text over the real. Every line e8scan prints that
is built from such data goes through :func:`printable` (or :func:`printable_lines` for a block
of lines), which shows each non-printable character as a visible escape (``\\x1b``, ``\\u202e``)
instead of sending it: the operator sees that something odd was there, and the terminal obeys
none of it.
"""

from __future__ import annotations

__all__ = ["escape", "printable", "printable_lines"]


def escape(ch: str) -> str:
    """The visible form of one character: ``\\xNN`` below 0x20, else ``\\uNNNN`` (UTF-16 units).

    Both forms are also valid JSON escapes where JSON could carry the character raw (DEL, C1,
    format characters), so escaped JSON output stays JSON with the same meaning.
    """
    n = ord(ch)
    if n < 0x20:
        return f"\\x{n:02x}"
    if n <= 0xFFFF:
        return f"\\u{n:04x}"
    n -= 0x10000
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


def printable(text: str, tabs: bool = False) -> str:
    """``text`` with every character Python does not call printable (C0 and C1 controls, DEL,
    line and paragraph separators, bidi and other format characters, lone surrogates, spaces
    other than the ASCII one) shown as an escape. ``tabs`` keeps tab characters as they are."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or (tabs and c == "\t") else escape(c) for c in text)


def printable_lines(text: str) -> str:
    """A block of lines made safe line by line: its newlines are kept (and tabs, which only move
    the cursor right), every other non-printable character is escaped."""
    if text.isprintable():
        return text
    return "\n".join(printable(line, tabs=True) for line in text.split("\n"))
