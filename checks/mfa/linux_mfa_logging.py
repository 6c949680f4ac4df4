"""Linux: are successful and unsuccessful SSH/PAM authentication events logged and shipped off?

**Collected:** ``sshd -T`` (root; the same command as ``mfa.linux_ssh_mfa``, run once) for
``loglevel``, and the forwarding evidence shared with the ISM-1815 checks
(``checks/_logging.py``): non-comment rsyslog/syslog-ng configuration, running agent processes
(Splunk, Elastic Agent, Filebeat, Fluent Bit, Wazuh, OSSEC …) and ``systemctl is-active`` of
systemd-journal-upload.

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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks._linux import first_line, parse_sshd_t, sshd_missing, sshd_value
from checks._logging import (
    LINUX_FORWARDERS,
    LINUX_SSHD,
    linux_forwarders,
    linux_read,
)
from scanner.checking.api import Check, Cmd, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy

GOOD_LEVELS = ("INFO", "VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3")


def _auth_forwarded(ways: list[str]) -> list[str]:
    """Drop rsyslog rules whose selector names facilities but not ``*``/auth/authpriv."""
    kept = []
    for w in ways:
        if w.startswith("rsyslog forwards (") and "omfwd" not in w and "omrelp" not in w:
            rule = w.split(": ", 1)[-1]
            selector = rule.split()[0] if rule.split() else ""
            facilities = {s.split(".")[0] for s in selector.split(";") if "." in s}
            names = {n for f in facilities for n in f.split(",")}
            if not names & {"*", "auth", "authpriv"}:
                continue
        kept.append(w)
    return kept


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    sshd = outputs["sshd"]
    why = linux_read(outputs["forwarders"])
    missing = why is None and sshd_missing(sshd)
    if why is None and not missing:
        why = linux_read(sshd, stdout_denial=True)
        if why is None and not first_line(sshd.text):
            why = "sshd -T printed nothing"
    if why is not None:
        return [
            Finding(
                ism="ISM-1683",
                outcome=Outcome.NO_VISIBILITY,
                evidence=f"logging configuration not read: {why}",
            )
        ]
    level = "sshd not installed" if missing else sshd_value(parse_sshd_t(sshd.text), "loglevel")
    fwd = linux_forwarders(outputs["forwarders"].text)
    ways = _auth_forwarded(list(fwd["syslog"]))
    observed: dict[str, Any] = {"sshd_loglevel": level, "forwarding": ways}
    problems = []
    if not missing and level.upper() not in GOOD_LEVELS:
        problems.append(f"sshd LogLevel {level or 'unknown'} does not record failed logons")
    if not ways:
        problems.append("authentication logs are not forwarded off the host")
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
        "sshd": Cmd(line=LINUX_SSHD, root=True),
        "forwarders": Cmd(line=LINUX_FORWARDERS),
    },
    judge=judge,
    version=1,
)
