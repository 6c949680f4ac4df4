"""The forwarder facts ask the host for exactly the agents they can name."""

from __future__ import annotations

import re

from checks.facts.linux.syslog_forwarding import AGENT_UNITS, LOGGING_UNITS, SYSLOG_FORWARDING
from checks.facts.windows.log_forwarders import LOG_FORWARDERS, WINDOWS_AGENTS


def test_the_snippet_asks_for_every_known_agent_and_no_other() -> None:
    line = next(ln for ln in LOG_FORWARDERS.cmd.line.splitlines() if ln.startswith("$names = "))
    assert re.findall(r"'([^']+)'", line) == list(WINDOWS_AGENTS)


def test_the_linux_unit_loop_asks_for_the_logging_units_and_every_agent_unit() -> None:
    line = SYSLOG_FORWARDING.cmd.line
    loop = re.search(r"for u in ([^;]+); do", line)
    assert loop is not None
    assert loop.group(1).split() == [*LOGGING_UNITS, *AGENT_UNITS]
