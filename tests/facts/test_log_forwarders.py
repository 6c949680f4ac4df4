"""The Windows forwarder fact asks the host for exactly the agents it can name."""

from __future__ import annotations

import re

from checks.facts.windows.log_forwarders import LOG_FORWARDERS, WINDOWS_AGENTS


def test_the_snippet_asks_for_every_known_agent_and_no_other() -> None:
    line = next(ln for ln in LOG_FORWARDERS.cmd.line.splitlines() if ln.startswith("$names = "))
    assert re.findall(r"'([^']+)'", line) == list(WINDOWS_AGENTS)
