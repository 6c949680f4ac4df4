"""Linux: does sudo demand re-authentication, and is direct root login over SSH refused?

**Collected (root, through ``sudo -n``):** ``/etc/sudoers`` and every file in ``/etc/sudoers.d``
(each preceded by a ``### <path>`` marker), and the effective sshd configuration ``sshd -T``.

**ISM-1380** (ML1-3, privileged users use separate privileged and unprivileged operating
environments). A ``NOPASSWD:`` tag or ``Defaults !authenticate`` lets any process running in a
user's everyday, unprivileged session become root without the user re-authenticating, so the
unprivileged environment is in effect a privileged one (ComplianceAsCode rules
``sudo_remove_nopasswd`` / ``sudo_remove_no_authenticate``).
- ineffective: any rule with ``NOPASSWD`` (including service accounts limited to one command, and
  cloud-init's ``NOPASSWD:ALL`` default user) or any ``!authenticate`` default; the evidence lists
  file and rule, and says whether it covers ALL commands;
- effective: sudoers read and neither appears;
- no_visibility: sudoers not readable (sudo refused, permission denied).

**ISM-0445** (ML1-3, privileged users have a dedicated privileged account used only for
privileged duties). Logging in directly as ``root`` uses a shared account that no person owns.
- ineffective: ``permitrootlogin`` is anything but ``no`` (``yes``, ``prohibit-password`` /
  ``without-password``, ``forced-commands-only``), or sudoers sets ``Defaults rootpw`` /
  ``targetpw`` (users authenticate with the shared root password);
- effective: sshd refuses root and no such default is set (sshd not installed counts as refusing
  root over SSH);
- no_visibility: ``sshd -T`` refused or failed, or sshd refuses root but sudoers could not be read.

Parsing: comments and blank lines are ignored, ``\\`` continuations joined; ``#include`` /
``@include`` / ``#includedir`` / ``@includedir`` are recognised; files in an include directory
whose names contain ``.`` or end in ``~`` are skipped, as sudo skips them; include targets outside
``/etc/sudoers.d`` are named in the evidence as not collected. ``Cmnd_Alias`` and other aliases
are not expanded (a ``NOPASSWD`` tag is found on the user specification itself). Caveats: rules
from LDAP/SSSD sudo providers are not visible; ``sshd -T`` without ``-C`` does not evaluate
``Match`` blocks, so a ``Match`` that re-enables root login is missed. Evidence grade: good.
"""

from __future__ import annotations

from collections.abc import Mapping

from checks.facts.fact import Unknown
from checks.facts.linux.sshd import SSHD
from checks.facts.linux.sudoers import SUDOERS, Sudoers
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def _sudoers_finding(parsed: Sudoers | None, why: str | None) -> Finding:
    if parsed is None:
        return Finding(
            ism="ISM-1380",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"sudoers not readable: {why}",
        )
    observed = {
        "files": parsed.files,
        "nopasswd": parsed.nopasswd,
        "no_authenticate": parsed.no_authenticate,
        "skipped": parsed.skipped,
        "uncollected_includes": parsed.uncollected,
    }
    bad = parsed.nopasswd + parsed.no_authenticate
    note = (
        f"; includes not collected: {', '.join(parsed.uncollected)}" if parsed.uncollected else ""
    )
    if bad:
        return Finding(
            ism="ISM-1380",
            outcome=Outcome.INEFFECTIVE,
            evidence=f"sudo without re-authentication: {'; '.join(bad[:5])}{note}",
            observed=observed,
        )
    return Finding(
        ism="ISM-1380",
        outcome=Outcome.EFFECTIVE,
        evidence=(
            f"no NOPASSWD or !authenticate in {len(parsed.files)} sudoers files "
            f"({', '.join(parsed.files)}){note}"
        ),
        observed=observed,
    )


def _root_login_finding(
    sshd: Output | None, parsed: Sudoers | None, sudoers_why: str | None
) -> Finding:
    problems: list[str] = []
    observed: dict[str, object] = {}
    sshd_why = None
    conf = SSHD.read(sshd)
    if isinstance(conf, Unknown):
        root_ssh, sshd_why = "", conf.reason
    elif not conf.installed:
        observed["permitrootlogin"] = None
        root_ssh = "sshd is not installed"
    else:
        value = conf.value("permitrootlogin", default="unknown")
        observed["permitrootlogin"] = value
        root_ssh = f"PermitRootLogin {value}"
        if value != "no":
            problems.append(f"sshd allows direct root login ({root_ssh})")
    if parsed is not None:
        observed["shared_password_defaults"] = parsed.shared_password
        if parsed.shared_password:
            problems.append(
                "sudo asks for the shared root/target password: "
                + "; ".join(parsed.shared_password[:3])
            )
    if problems:
        return Finding(
            ism="ISM-0445",
            outcome=Outcome.INEFFECTIVE,
            evidence="; ".join(problems),
            observed=observed,
        )
    if sshd_why is not None:
        return Finding(
            ism="ISM-0445",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"sshd configuration not readable: {sshd_why}",
            observed=observed,
        )
    if parsed is None:
        return Finding(
            ism="ISM-0445",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"{root_ssh}, but sudoers not readable ({sudoers_why})",
            observed=observed,
        )
    return Finding(
        ism="ISM-0445",
        outcome=Outcome.EFFECTIVE,
        evidence=f"{root_ssh}; sudo does not use a shared root password",
        observed=observed,
    )


def judge(outputs: Mapping[str, Output], ctx: Context) -> list[Finding]:
    read = SUDOERS.read(outputs.get("sudoers"))
    parsed, why = (None, read.reason) if isinstance(read, Unknown) else (read, None)
    return [
        _sudoers_finding(parsed, why),
        _root_login_finding(outputs.get("sshd"), parsed, why),
    ]


CHECK = Check(
    id="restrict_admin.linux_sudo_policy",
    title="Linux sudo re-authenticates and sshd refuses direct root login",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1380", "ISM-0445"),
    platforms=frozenset({Platform.LINUX}),
    collect={"sudoers": SUDOERS.cmd, "sshd": SSHD.cmd},
    judge=judge,
    version=1,
)
