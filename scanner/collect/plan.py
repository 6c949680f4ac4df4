"""Plan: which checks apply to each host and the exact commands a scan would run there.

Every host also runs the engine's role probe (:mod:`scanner.checking.role_probe`), listed as
``e8scan.role``; a directory target also runs the computers search, listed as
``e8scan.coverage``. Planning connects to nothing. ``e8scan plan`` prints it for an OT change
board; ``scan`` executes it. Every connection problem found in the inventory is found here,
before any host is contacted: a malformed value (unknown connection type, bad port, a
ProxyCommand) is raised; a host's missing credentials (unset password variable, unreadable key,
a WinRM host with no user) become that host's :attr:`HostPlan.problem`, and the other hosts
are still planned and scanned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scanner.checking.api import Check
from scanner.checking.role_probe import ENGINE_PROBES
from scanner.collect import posix_batch, ps_batch
from scanner.collect.posix_batch import Step
from scanner.inventory import ssh_config
from scanner.inventory.bastion import JumpHost, jump_of_vars
from scanner.inventory.connection import (
    ConnectionSpec,
    bastion_spec,
    check_winrm_transport,
    local_login,
    spec_for,
)
from scanner.inventory.load import InventoryHost
from scanner.inventory.profile import SSH_LEGACY_ALGORITHMS
from scanner.model.errors import InputError
from scanner.model.vocabulary import Platform

BATCHED = (Platform.LINUX, Platform.WINDOWS)
"""Platforms whose commands run as one batch on the host (a directory is searched over LDAP)."""


@dataclass(frozen=True)
class PlannedCommand:
    step: Step
    checks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HostPlan:
    host: InventoryHost
    spec: ConnectionSpec
    checks: list[Check]
    commands: list[PlannedCommand]
    problem: InputError | None = None
    """Why this host cannot be contacted as the inventory stands (missing credentials): it is
    recorded as an error without any connection, and the rest of the sweep goes on."""

    @property
    def platform(self) -> Platform:
        return self.spec.platform

    @property
    def login(self) -> str:
        """The account the scan really authenticates as (``plan`` prints it)."""
        return login_of(self.spec)

    @property
    def bastion(self) -> tuple[str, JumpHost] | None:
        """(the user it logs in to the bastion as, the bastion), or None for a direct route."""
        jump = self.spec.jump
        if jump is None:
            return None
        return bastion_spec(jump, self.spec).user or local_login(), jump

    @property
    def route(self) -> str:
        """``direct``, or ``via bastion user@host:port``."""
        if self.bastion is None:
            return "direct"
        user, jump = self.bastion
        host = f"[{jump.host}]" if ":" in jump.host else jump.host
        return f"via bastion {user}@{host}:{jump.port}"

    @property
    def ssh_legacy(self) -> bool:
        """An SSH host whose inventory allows the SHA-1 algorithms (``e8_ssh_legacy``)."""
        return self.spec.connection == "ssh" and self.host.profile.e8_ssh_legacy

    @property
    def ssh_legacy_note(self) -> str | None:
        """What ``e8scan plan`` says about ``e8_ssh_legacy`` for this host (None: not set)."""
        if not self.ssh_legacy:
            return None
        return (
            "e8_ssh_legacy: also allows " + ", ".join(SSH_LEGACY_ALGORITHMS) + " (SHA-1) for "
            "this host only, tried after every modern algorithm; host key still checked"
        )

    @property
    def low_priority(self) -> bool:
        """The batch runs at the lowest scheduling priority (``e8_target_priority: low``)."""
        return self.host.profile.e8_target_priority == "low" and self.platform in BATCHED

    @property
    def root_steps(self) -> int:
        """How many steps run in the host's one root shell (``sudo -n sh -s``)."""
        return sum(1 for pc in self.commands if pc.step.sudo)

    @property
    def root_note(self) -> str:
        """How root reads are made, for ``plan``: one sudo per host, never one per command."""
        n = self.root_steps
        if not n:
            return ""
        return (
            f"root: one {posix_batch.ROOT_SHELL} for {n} step{'s' if n != 1 else ''} (marked "
            f"'{posix_batch.ROOT_SHELL}:'); if sudo refuses, each of them gets its refusal"
        )

    @property
    def priority_note(self) -> str:
        """How the batch is scheduled on the host, for ``plan`` (a change board approves it)."""
        if self.platform not in BATCHED:
            return ""
        if not self.low_priority:
            return "target priority: normal (e8_target_priority: normal)"
        if self.platform is Platform.WINDOWS:
            return f"target priority: low — first {'; '.join(ps_batch.LOWER_PRIORITY)}"
        return (
            f"target priority: low — the batch shell first runs {'; '.join(posix_batch.LOWER_PRIORITY)}"
            " (each where the host has it; every step inherits it)"
        )


def login_of(spec: ConnectionSpec) -> str:
    """Who a host's connection authenticates as: the inventory's user; else, over SSH, the local
    login (as OpenSSH); for Kerberos, the default principal of the ticket cache."""
    if spec.user:
        return spec.user
    if spec.connection == "winrm":
        return (
            "(the ticket cache's principal)"
            if spec.winrm_transport.startswith("kerberos")
            else "(no user)"
        )
    if spec.connection == "ldap":
        return "(the ticket cache's principal)" if spec.ldap_auth == "kerberos" else "(no user)"
    return local_login()


def select_checks(checks: Sequence[Check], wanted: Sequence[str]) -> list[Check]:
    """``--checks`` filter: ids or id prefixes (``patch_os``, ``mfa.linux_ssh_mfa``)."""
    if not wanted:
        return list(checks)
    chosen: list[Check] = []
    for w in wanted:
        hits = [c for c in checks if c.id == w or c.id.startswith(w.rstrip(".") + ".")]
        if not hits:
            known = ", ".join(sorted({c.id for c in checks}))
            raise InputError("--checks", f"no check matches {w!r}; known checks: {known}")
        chosen.extend(h for h in hits if h not in chosen)
    return sorted(chosen, key=lambda c: c.id)


def plan_host(
    host: InventoryHost,
    checks: Sequence[Check],
    environ: Mapping[str, str] | None = None,
    secrets: bool = True,
) -> HostPlan:
    """One host's plan; ``secrets=False`` (``e8scan plan``) reads no password.

    Raises InputError for a malformed inventory value; missing credentials become
    :attr:`HostPlan.problem` (the first one found).
    """
    problems: list[InputError] = []
    spec = spec_for(host.name, host.vars, environ, secrets, problems)
    if spec.connection == "ssh" and jump_of_vars(host.name, host.vars) is None:
        found = ssh_config.cached_routes(ssh_config.default_path())
        route = ssh_config.route_for((spec.address, host.name), found)
        if route is not None:
            # a ProxyCommand is never quoted back: it can carry a password (sshpass -p …)
            what = f"ProxyJump {route.value}" if route.keyword == "ProxyJump" else "a ProxyCommand"
            problems.append(
                InputError(
                    f"host {host.name}: {route.where()}",
                    f"{what} would route this host through a bastion, "
                    "and e8scan does not read ssh_config; expected the route in the inventory "
                    "(e8_jump_host, or ansible_ssh_common_args='-J [user@]bastion[:port]', or "
                    "-o ProxyJump=none to connect directly)",
                )
            )
    if spec.connection == "winrm":
        transport = check_winrm_transport(spec.winrm_transport, host.name)
        if transport == "basic" and spec.winrm_scheme == "http":
            _refuse_basic_over_http(host)
    windows = spec.platform is Platform.WINDOWS
    verbatim = spec.platform is not Platform.LINUX  # PowerShell steps and directory searches
    applicable = [c for c in checks if spec.platform in c.platforms]
    login = login_of(spec)
    by_line: dict[tuple[str, bool], PlannedCommand] = {}
    asks = [(c.id, cmd) for c in applicable for cmd in c.collect.values()]
    for check_id, cmd in [*asks, *ENGINE_PROBES[spec.platform]]:
        line = cmd.render(host.profile, powershell=windows)
        sudo = cmd.root and spec.become and login != "root" and not verbatim
        planned = by_line.setdefault((line, sudo), PlannedCommand(Step(line, sudo, verbatim)))
        if check_id not in planned.checks:
            planned.checks.append(check_id)
    return HostPlan(
        host=host,
        spec=spec,
        checks=applicable,
        commands=list(by_line.values()),
        problem=problems[0] if problems else None,
    )


BASIC_OVER_HTTP = (
    "WinRM Basic authentication over plain HTTP sends the password base64-encoded, readable by "
    "anyone on the network path; expected ansible_winrm_scheme=https (or the ntlm/kerberos "
    "transport), or e8_allow_basic_over_http: true to accept that risk"
)


def _refuse_basic_over_http(host: InventoryHost) -> None:
    if not host.profile.e8_allow_basic_over_http:
        raise InputError(f"host {host.name}: ansible_winrm_transport", BASIC_OVER_HTTP)


def make_plan(
    hosts: Sequence[InventoryHost],
    checks: Sequence[Check],
    environ: Mapping[str, str] | None = None,
    secrets: bool = True,
) -> list[HostPlan]:
    """Every host's plan; raises the first malformed inventory value (see :func:`plan_each`)."""
    return [plan_host(h, checks, environ, secrets) for h in hosts]


def plan_each(
    hosts: Sequence[InventoryHost],
    checks: Sequence[Check],
    environ: Mapping[str, str] | None = None,
    secrets: bool = True,
) -> list[tuple[InventoryHost, HostPlan | InputError]]:
    """Every host with its plan, or the InputError that stops planning it (``e8scan plan``
    shows them all, not only the first)."""
    out: list[tuple[InventoryHost, HostPlan | InputError]] = []
    for h in hosts:
        try:
            out.append((h, plan_host(h, checks, environ, secrets)))
        except InputError as exc:
            out.append((h, exc))
    return out
