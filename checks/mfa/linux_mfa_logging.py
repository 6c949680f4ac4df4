"""Linux: are successful and unsuccessful SSH/PAM authentication events logged and shipped off?

**Collected:** ``sshd -T`` (root; fact ``linux.sshd_config``, shared with ``mfa.linux_ssh_mfa``
and run once) for ``loglevel``, and the forwarding evidence shared with the ISM-1815 checks
(fact ``linux.syslog_forwarding``, judged in ``checks/_logging.py``): non-comment
rsyslog/syslog-ng configuration, running agent processes (Splunk, Elastic Agent, Filebeat,
Fluent Bit, Wazuh, OSSEC …) and ``systemctl is-active`` of systemd-journal-upload.

**ISM-1683** (ML2-3, successful and unsuccessful MFA events are centrally logged), host-side
part: sshd and PAM write accepted and failed authentications (including keyboard-interactive
second factors such as pam_u2f, pam_google_authenticator, pam_duo) to the ``auth``/``authpriv``
syslog facility and the journal.
- effective: sshd ``LogLevel`` is INFO, VERBOSE or DEBUG* (VERBOSE also records key
  fingerprints) — or sshd is not installed — **and** logs leave the host (an rsyslog remote rule
  whose selector covers ``*``, ``auth`` or ``authpriv``, or an ``omfwd``/``omrelp`` action;
  a syslog-ng network destination; systemd-journal-upload active; or a known agent running);
- ineffective: ``LogLevel`` QUIET, FATAL or ERROR (failed logons are not written), or no
  forwarding;
- no_visibility: ``sshd -T`` or the root read refused (no sudo) or timed out.
Not visible: which facilities an agent actually ships, events kept by an external MFA service
(Duo, RADIUS), and the collector side. An rsyslog rule whose selector excludes auth is not
counted; RainerScript ``omfwd`` actions are counted without checking their filter. Evidence
grade: good.

A running log agent (Splunk, Wazuh, Fluent Bit, …) is not evidence that these events are shipped:
its configuration, which says which logs it ships, is not read, so when it is the only shipper seen
the result is no_visibility, never effective.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from checks._logging import agent_unread, agents, syslog_ways
from checks.facts.fact import Unknown
from checks.facts.linux.sshd import SSHD
from checks.facts.linux.syslog_forwarding import SYSLOG_FORWARDING, RemoteRule
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

GOOD_LEVELS = ("INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3")


def _covers_auth(rule: RemoteRule) -> bool:
    """False for an rsyslog rule whose selector names facilities but not ``*``/auth/authpriv."""
    if rule.daemon != "rsyslog" or "omfwd" in rule.rule or "omrelp" in rule.rule:
        return True
    selector = rule.rule.split()[0] if rule.rule.split() else ""
    facilities = {s.split(".")[0] for s in selector.split(";") if "." in s}
    names = {n for f in facilities for n in f.split(",")}
    return bool(names & {"*", "auth", "authpriv"})


def _not_read(why: Unknown) -> list[Finding]:
    return [
        Finding(
            ism="ISM-1683",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"logging configuration not read: {why.reason}",
        )
    ]


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    fwd = SYSLOG_FORWARDING.read(outputs.get("forwarders"))
    sshd = SSHD.read(outputs.get("sshd"))
    if isinstance(fwd, Unknown):
        return _not_read(fwd)
    if isinstance(sshd, Unknown):
        return _not_read(sshd)
    missing = not sshd.installed
    level = "sshd not installed" if missing else sshd.value("loglevel")
    auth_rules = tuple(r for r in fwd.remote_rules if _covers_auth(r))
    ways = syslog_ways(replace(fwd, remote_rules=auth_rules), agents_count=False)
    running_agents = agents(fwd)
    observed: dict[str, Any] = {
        "sshd_loglevel": level,
        "forwarding": ways,
        "agents_running": running_agents,
    }
    problems = []
    if not missing and level.upper() not in GOOD_LEVELS:
        problems.append(f"sshd LogLevel {level or 'unknown'} does not record failed logons")
    if not ways and not running_agents:
        problems.append("authentication logs are not forwarded off the host")
    if not problems and not ways:
        return [
            Finding(
                ism="ISM-1683",
                outcome=Outcome.NO_VISIBILITY,
                evidence=agent_unread(running_agents, "authentication events are logged"),
                observed=observed,
            )
        ]
    if problems:
        return [
            Finding(
                ism="ISM-1683",
                outcome=Outcome.INEFFECTIVE,
                evidence="authentication events are not centrally logged: " + "; ".join(problems),
                observed=observed,
            )
        ]
    return [
        Finding(
            ism="ISM-1683",
            outcome=Outcome.EFFECTIVE,
            evidence=(
                f"host-side part: sshd LogLevel {level if not missing else 'n/a (sshd not installed)'}; "
                f"authentication logs forwarded by "
                f"{'; '.join(ways)}; events kept by external MFA services and the collector "
                "side are not visible"
            ),
            observed=observed,
        )
    ]


CHECK = Check(
    id="mfa.linux_mfa_logging",
    title="Linux logs SSH/PAM authentication events and forwards them off the host",
    strategy=Strategy.MFA,
    ism=("ISM-1683",),
    platforms=frozenset({Platform.LINUX}),
    collect={
        "sshd": SSHD.cmd,
        "forwarders": SYSLOG_FORWARDING.cmd,
    },
    judge=judge,
    # v2: a module load or a syslog-ng network source is not forwarding; v3: a running log
    # agent alone is no_visibility (its configuration is not read)
    version=3,
)
