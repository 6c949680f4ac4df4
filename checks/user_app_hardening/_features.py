"""Judging Windows optional features and server roles (facts in
``checks/facts/windows/features.py``): is a legacy component on, off, or not decidable? Pure
functions only; no check lives here.
"""

from __future__ import annotations

from checks.facts.windows.features import Features

ENABLED = {"enabled", "enablepending"}
OFF = {"disabled", "disabledwithpayloadremoved", "disablepending", "unknown", "absent"}
SERVER_ON = {"installed", "installpending"}
SERVER_OFF = {"available", "removed", "uninstallpending", "absent"}


def verdict(
    data: Features, optional: tuple[str, ...], server: tuple[str, ...]
) -> tuple[bool | None, str]:
    """(True = some feature is on, False = all read and off, None = not decidable), and the text."""
    opt = data.optional
    srv = data.server
    on = [f"{n} {s}" for n, s in opt.items() if s.lower() in ENABLED]
    on += [f"{n} {s}" for n, s in srv.items() if s.lower() in SERVER_ON]
    seen = ", ".join(f"{n} {s}" for n, s in {**opt, **srv}.items())
    if on:
        return True, f"feature state: {', '.join(on)} (all read: {seen})"
    opt_done = all(opt.get(n, "").lower() in OFF for n in optional)
    if not opt_done:
        unknown = [f"{n} {opt[n]}" for n in optional if n in opt and opt[n].lower() not in OFF]
        err = data.optional_error
        why = (
            f"unrecognised state {', '.join(unknown)}"
            if unknown
            else f"optional feature read failed: {err or 'no state returned'}"
        )
        return None, why
    if server and data.server_error:
        return None, f"server feature read failed: {data.server_error}"
    return False, f"feature state: {seen}"
