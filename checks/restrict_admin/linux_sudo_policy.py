"""Linux: does sudo give root only to registered privileged accounts that re-authenticate, and is
direct root login over SSH refused?

**Collected (root, through ``sudo -n``):** ``/etc/sudoers`` and every file in ``/etc/sudoers.d``
(each preceded by a ``### <path>`` marker), and the effective sshd configuration ``sshd -T``;
``/etc/passwd`` (name, UID, GID) and ``getent group sudo wheel admin`` to resolve group grants.

**ISM-1380** (ML1-3, privileged users use separate privileged and unprivileged operating
environments; "partly" host-checkable). On a host, the privileged environment is a root session;
a user's everyday session is a separate, unprivileged one only when it cannot become root. So the
judge asks who sudo lets run commands as root (users, ``%groups`` — directory groups and names
with spaces included —, ``#uid``, ``+netgroups``, ``User_Alias`` members, ``ALL``) and how:
- ineffective: a ``NOPASSWD`` tag or ``Defaults !authenticate`` (any process in the session
  becomes root without the user re-authenticating; ComplianceAsCode ``sudo_remove_nopasswd`` /
  ``sudo_remove_no_authenticate``); root granted to everyone (``ALL``, ``%users``,
  ``%domain users`` …: every everyday session is privileged); or root granted to an account that
  is not in ``e8_admin_allowlist`` (the register of dedicated privileged accounts), i.e. an
  everyday account;
- effective: sudoers, ``/etc/passwd`` and the admin groups read, every account sudo grants root
  to is allowlisted (groups other than sudo/wheel/admin, whose members are not visible, only when
  the allowlist names them, e.g. ``%linux-admins``), and each re-authenticates;
- no_visibility: sudoers, ``/etc/passwd`` or the groups not readable; no allowlist while sudo
  grants root to accounts; a group grant whose members are not visible and not registered; or
  sudo grants root to no one besides root (nothing shows how privileged users work).

**ISM-0445** (ML1-3, privileged users have a dedicated privileged account used only for
privileged duties). Logging in directly as ``root`` uses a shared account that no person owns.
- ineffective: ``permitrootlogin`` is anything but ``no`` (``yes``, ``prohibit-password`` /
  ``without-password``, ``forced-commands-only``), or sudoers sets ``Defaults rootpw`` /
  ``targetpw`` (users authenticate with the shared root password);
- effective: sshd refuses root and no such default is set;
- no_visibility: ``sshd -T`` refused or failed, or there is no OpenSSH sshd (the host is still
  reached over SSH, e.g. dropbear), or sshd refuses root but sudoers could not be read.

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

from checks._sudo import registered, root_holders
from checks.facts.fact import Unknown
from checks.facts.linux.accounts import ADMIN_GROUPS, PASSWD, Account, Group
from checks.facts.linux.sshd import SSHD
from checks.facts.linux.sudoers import SUDOERS, Sudoers
from scanner.checking.api import Check, Context, Finding, Output
from scanner.model.vocabulary import Outcome, Platform, Strategy


def _sudoers_finding(
    parsed: Sudoers | None,
    why: str | None,
    accounts: tuple[Account, ...] | Unknown,
    groups: dict[str, Group] | Unknown,
    ctx: Context,
) -> Finding:
    if parsed is None:
        return Finding(
            ism="ISM-1380",
            outcome=Outcome.NO_VISIBILITY,
            evidence=f"sudoers not readable: {why}",
        )
    observed: dict[str, object] = {
        "files": parsed.files,
        "nopasswd": parsed.nopasswd,
        "no_authenticate": parsed.no_authenticate,
        "skipped": parsed.skipped,
        "uncollected_includes": parsed.uncollected,
        "root_grants": [g.where for g in parsed.grants],
    }
    note = (
        f"; includes not collected: {', '.join(parsed.uncollected)}" if parsed.uncollected else ""
    )
    problems = (
        [
            f"sudo without re-authentication: {'; '.join((parsed.nopasswd + parsed.no_authenticate)[:5])}"
        ]
        if parsed.nopasswd or parsed.no_authenticate
        else []
    )
    unread = next((r.reason for r in (accounts, groups) if isinstance(r, Unknown)), None)
    held = None
    if not isinstance(accounts, Unknown) and not isinstance(groups, Unknown):
        held = root_holders(parsed, accounts, groups)
        observed.update(
            root_holders=sorted(held.accounts),
            broad_grants=held.broad,
            unexpanded_grants=sorted(held.unexpanded),
        )
        if held.broad:
            problems.append(
                "sudo grants root to everyone's everyday account: " + "; ".join(held.broad[:3])
            )
    allow = ctx.profile.listed("e8_admin_allowlist")
    if held is not None and allow is not None:
        everyday = sorted(a for a in held.accounts if a not in allow)
        observed["not_allowlisted"] = everyday
        if everyday:
            problems.append(
                "sudo grants root to accounts that are not registered privileged accounts "
                f"(e8_admin_allowlist), so their everyday sessions are privileged: {', '.join(everyday)}"
            )
    if problems:
        return Finding(
            ism="ISM-1380",
            outcome=Outcome.INEFFECTIVE,
            evidence="; ".join(problems) + note,
            observed=observed,
        )
    blind: str | None = None
    if held is None:
        blind = f"who sudo grants root to is not known: {unread}"
    elif held.unexpanded and (
        allow is None or not all(registered(p, allow) for p in held.unexpanded)
    ):
        groups_text = ", ".join(sorted(held.unexpanded))
        blind = (
            f"sudo grants root to {groups_text}, whose members are not visible from the host "
            f"(name the group in e8_admin_allowlist, e.g. %group, if it is a registered admin group)"
        )
    elif allow is None and held.accounts:
        blind = (
            "no e8_admin_allowlist in the inventory: the register of dedicated privileged accounts "
            f"is needed to tell them from everyday accounts; sudo grants root to "
            f"{', '.join(sorted(held.accounts))}"
        )
    elif not held.accounts and not held.unexpanded:
        blind = (
            "sudo grants root to no account besides root: how privileged users reach root is not "
            "shown here (direct root login is judged under ISM-0445)"
        )
    if blind is not None:
        return Finding(
            ism="ISM-1380", outcome=Outcome.NO_VISIBILITY, evidence=blind + note, observed=observed
        )
    assert held is not None
    who = ", ".join(sorted(held.accounts) + sorted(held.unexpanded))
    return Finding(
        ism="ISM-1380",
        outcome=Outcome.EFFECTIVE,
        evidence=(
            f"host-side part: sudo grants root only to registered privileged accounts ({who}), "
            f"each re-authenticating (no NOPASSWD or !authenticate in {len(parsed.files)} sudoers "
            f"files: {', '.join(parsed.files)}){note}"
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
        root_ssh, sshd_why = (
            "",
            (
                "no OpenSSH sshd binary, yet the host is reached over SSH (dropbear or another "
                "server?): whether it admits root is not read"
            ),
        )
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
    accounts = PASSWD.read(outputs.get("passwd"))
    groups = ADMIN_GROUPS.read(outputs.get("admin_groups"))
    return [
        _sudoers_finding(parsed, why, accounts, groups, ctx),
        _root_login_finding(outputs.get("sshd"), parsed, why),
    ]


CHECK = Check(
    id="restrict_admin.linux_sudo_policy",
    title="Linux sudo gives root only to registered accounts that re-authenticate; sshd refuses root",
    strategy=Strategy.RESTRICT_ADMIN,
    ism=("ISM-1380", "ISM-0445"),
    platforms=frozenset({Platform.LINUX}),
    collect={
        "sudoers": SUDOERS.cmd,
        "sshd": SSHD.cmd,
        "passwd": PASSWD.cmd,
        "admin_groups": ADMIN_GROUPS.cmd,
    },
    # ISM-1380 is about who sudo lets reach root and how: sshd plays no part in it. ISM-0445
    # here is direct root login (sshd) and the shared root password (sudoers); who holds root is
    # ISM-0445 in restrict_admin.linux_privileged_accounts.
    rests_on={
        "ISM-1380": ("sudoers", "passwd", "admin_groups"),
        "ISM-0445": ("sshd", "sudoers"),
    },
    judge=judge,
    version=2,  # v2: ISM-1380 judges who sudo grants root to; no sshd is no_visibility
)
