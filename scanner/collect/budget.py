"""How long one host may hold a sweep: its time budget, derived from its plan.

Each step of a batch must end within ``--command-timeout`` plus :data:`COMMAND_GRACE`, a limit
the client enforces itself (:class:`scanner.collect.transports.base.Progress`), so a host's
batch needs at most its step count times that. The default budget is therefore::

    min(steps × --command-timeout, BATCH_CAP) + COMMAND_GRACE + 3 × --connect-timeout

(the connect allowance covers the TCP connect, the banner and the key exchange, each bounded by
``--connect-timeout``). An explicit ``--host-timeout`` replaces it for every host. ``e8scan
plan`` prints each host's budget; ``scan`` ends a host that is still running when its budget has
passed (``timeout``, what it finished kept), so no host holds a sweep longer than its budget.
"""

from __future__ import annotations

BATCH_CAP = 600.0
"""Seconds: the most the steps of one host's batch are allowed together by default (the old
fixed ``--host-timeout``)."""
COMMAND_GRACE = 10.0
"""Seconds a step may run past ``--command-timeout`` before the client ends the host: the
on-host timeout's own kill delay (``timeout -k 2``), the markers' clock reads, the link."""


def host_budget(
    steps: int,
    command_timeout: float,
    connect_timeout: float,
    explicit: float | None = None,
    grace: float = COMMAND_GRACE,
) -> float:
    """Seconds one host may take, connect included (``explicit``: ``--host-timeout``)."""
    if explicit is not None:
        return float(explicit)
    return min(max(1, steps) * command_timeout, BATCH_CAP) + grace + 3 * connect_timeout


def describe(
    steps: int,
    command_timeout: float,
    connect_timeout: float,
    explicit: float | None = None,
    grace: float = COMMAND_GRACE,
    batch: bool = True,
) -> str:
    """The budget and where it comes from, for ``e8scan plan``; ``batch``: the host's commands
    run as one framed batch, watched step by step (not a directory target's searches)."""
    total = host_budget(steps, command_timeout, connect_timeout, explicit, grace)
    if explicit is not None:
        text = f"host budget {total:g} s (--host-timeout)"
    else:
        part = f"{max(1, steps)} × {command_timeout:g} s" + (
            f" capped at {BATCH_CAP:g} s" if max(1, steps) * command_timeout > BATCH_CAP else ""
        )
        text = (
            f"host budget {total:g} s ({part} + {grace:g} s grace + "
            f"3 × {connect_timeout:g} s connect)"
        )
    if batch:
        return f"{text}; a step still running after {command_timeout + grace:g} s ends the host"
    return f"{text}; each search at most {command_timeout:g} s"
