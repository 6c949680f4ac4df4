"""The engine's role probe and the Windows OS fact are one command, so a scan runs it once.

The engine (``scanner``) may not import the checks, so the text lives in both places; this test
keeps them the same.
"""

from __future__ import annotations

from checks.facts.windows.os_identity import WIN32_OS
from scanner.checking.role_probe import WINDOWS_OS


def test_the_windows_role_probe_is_the_win32_os_fact() -> None:
    assert WIN32_OS.cmd.line == WINDOWS_OS.line
