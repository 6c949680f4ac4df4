"""Installed software as both platforms' inventories show it: :class:`App`.

The Windows Uninstall-key inventory (fact ``windows.uninstall_inventory``) gives ``App`` values
directly; a dpkg/rpm package of the fact ``linux.packages`` becomes one through
``Package.app``. The application patching judges compare these against their product tables.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class App:
    """One installed application or package.

    ``version`` as registered ("" when none); ``publisher`` and ``installed`` (``InstallDate`` as
    written, usually ``YYYYMMDD``) from the Windows Uninstall key; ``where`` is the registry hive
    (Windows) or the package manager (Linux: deb | rpm).
    """

    name: str
    version: str
    publisher: str = ""
    installed: str = ""
    where: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()
