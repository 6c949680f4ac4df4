"""Plan: which checks apply to each host and the exact commands a scan would run there.

Every host also runs the engine's role probe (:mod:`scanner.checking.role_probe`), listed as
``e8scan.role``; a directory target also runs the computers search, listed as
``e8scan.coverage``. Planning connects to nothing. ``e8scan plan`` prints it for an OT change
board; ``scan`` executes it. Every connection problem found in the inventory (unknown connection type, unset password
variable, unreadable key) is raised here, before any host is contacted.
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scanner.checking.api import Check
from scanner.checking.role_probe import ENGINE_PROBES
from scanner.collect import posix_batch, ps_batch
from scanner.collect.posix_batch import Step
from scanner.inventory.connection import ConnectionSpec, check_winrm_transport, spec_for
from scanner.inventory.load import InventoryHost
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

    @property
    def platform(self) -> Platform:
        return self.spec.platform

    @property
    def login(self) -> str:
        return self.spec.user or getpass.getuser()

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
    """One host's plan; ``secrets=False`` (``e8scan plan``) reads no password."""
    spec = spec_for(host.name, host.vars, environ, secrets)
    if spec.connection == "winrm":
        transport = check_winrm_transport(spec.winrm_transport, host.name)
        if transport == "basic" and spec.winrm_scheme == "http":
            _refuse_basic_over_http(host)
    windows = spec.platform is Platform.WINDOWS
    verbatim = spec.platform is not Platform.LINUX  # PowerShell steps and directory searches
    applicable = [c for c in checks if spec.platform in c.platforms]
    login = spec.user or getpass.getuser()
    by_line: dict[tuple[str, bool], PlannedCommand] = {}
    asks = [(c.id, cmd) for c in applicable for cmd in c.collect.values()]
    for check_id, cmd in [*asks, *ENGINE_PROBES[spec.platform]]:
        line = cmd.render(host.profile, powershell=windows)
        sudo = cmd.root and spec.become and login != "root" and not verbatim
        planned = by_line.setdefault((line, sudo), PlannedCommand(Step(line, sudo, verbatim)))
        if check_id not in planned.checks:
            planned.checks.append(check_id)
    return HostPlan(host=host, spec=spec, checks=applicable, commands=list(by_line.values()))


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
    return [plan_host(h, checks, environ, secrets) for h in hosts]
