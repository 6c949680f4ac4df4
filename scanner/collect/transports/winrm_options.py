"""The WinRM transport's timing options, apart from the transport itself.

The runner holds these for every sweep, but pywinrm (with requests, spnego and gssapi: about a
quarter of a second to import) is loaded only when a sweep has a WinRM host to reach.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WinRMOptions:
    operation_timeout: int = 20  # seconds one Receive may block on the host (w:OperationTimeout)
    read_timeout: int = 30  # HTTP read timeout; must exceed operation_timeout
