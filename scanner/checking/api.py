"""How a check is declared: metadata as validated data, commands as literal strings, a pure judge.

A check module holds a docstring (it feeds the catalogue), a pure ``judge`` function and one
module-level ``CHECK = Check(...)``. Defining ``CHECK`` registers nothing: the loader
(:mod:`scanner.checking.loader`) finds it through the ``e8scan.checks`` entry-point group.

``judge(outputs, ctx)`` receives only what was collected for its own commands and the host's
context (its typed inventory profile, policy, collection time), and returns one :class:`Finding` per ISM
control it judged. It must not read the clock, the network or files.

A check that declares ``uses_directory=True`` also finds, in ``ctx.directories``, what the
directory hosts (``ansible_connection=ldap``) of the same run returned: a Windows host's local
Administrators may hold domain groups whose members only the directory can show. The judge stays
a pure function of the raw record, so ``e8scan rescore`` gives the same verdict.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scanner.inventory.profile import LIST_VARS, HostProfile
from scanner.model.feeds import Snapshot
from scanner.model.framework import index
from scanner.model.policy import Policy
from scanner.model.vocabulary import Grade, Outcome, Platform, Role, Strategy

JsonValue = Any


class Cmd(BaseModel):
    """One read-only command line.

    ``root``: it needs root, so it runs through ``sudo -n`` on hosts with ``ansible_become``.
    ``args_var``: the name of a list variable of the host profile (``e8_backup_paths``) whose
    values reach the command quoted, never spliced into its text: on Linux as positional
    parameters (``set -- '/srv/backup' '/mnt/nas'; <line>`` → ``"$@"``), in PowerShell as the array
    ``$E8Args`` (``$E8Args = @('D:/Backups'); <line>``).
    """

    model_config = ConfigDict(frozen=True)

    line: str = Field(min_length=1)
    root: bool = False
    args_var: str | None = Field(default=None, pattern=r"^e8_[a-z0-9_]+$")

    @field_validator("args_var")
    @classmethod
    def _list_var(cls, v: str | None) -> str | None:
        if v is not None and v not in LIST_VARS:
            raise ValueError(f"{v} is not a list variable; expected one of {sorted(LIST_VARS)}")
        return v

    def args(self, profile: HostProfile) -> list[str]:
        """The positional parameters this command gets on a host."""
        return [] if self.args_var is None else profile.values(self.args_var)

    def render(self, profile: HostProfile, powershell: bool = False) -> str:
        """The exact command run on a host (before any sudo wrapper)."""
        if self.args_var is None:
            return self.line
        if powershell:
            quoted = ", ".join("'" + a.replace("'", "''") + "'" for a in self.args(profile))
            return f"$E8Args = @({quoted}); {self.line}"
        return f"set -- {' '.join(shlex.quote(a) for a in self.args(profile))}; {self.line}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """What one command gave back, as the judge sees it (a plain dataclass: judging builds one
    per host and command, so at fleet scale it must be cheap)."""

    command: str
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    truncated: bool = False  # stdout was cut at the per-command cap
    timed_out: bool = False
    ran: bool = True  # False when the host was never reached for this command
    stderr_truncated: bool = False

    @property
    def text(self) -> str:
        """stdout decoded as UTF-8; undecodable bytes become U+FFFD, never an exception."""
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")

    @property
    def ok(self) -> bool:
        return self.ran and self.exit_code == 0 and not self.timed_out


class Context(BaseModel):
    """Everything a judge may know besides its outputs."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    host: str
    platform: Platform
    profile: HostProfile = HostProfile()
    """The host's typed ``e8_`` variables, with the policy's organisation-wide values merged in
    and ``e8_role`` resolved (from the inventory, else from the host, else server)."""
    policy: Policy
    collected_at: datetime
    user: str | None = None
    become: bool = False
    feeds: Snapshot = Field(default_factory=lambda: Snapshot(None))
    """The installed feed snapshot (:mod:`scanner.model.feeds`): KEV, release and end-of-life
    dates, ICS advisories. A judge asks ``ctx.feeds.state(name, ctx.collected_at)`` before
    leaning on a feed, and reports its reason as no_visibility when it is not usable."""
    directories: Mapping[str, Mapping[str, Output]] = Field(default_factory=dict)
    """For checks that declare ``uses_directory`` only (empty for every other check): the
    directory hosts read in the same run, host name → that host's outputs keyed by command line
    (the search line as the check declared it, e.g. ``DOMAIN.cmd.line``). Every directory host of
    the record is there, read or not; a search it did not answer is absent or not ``ran``."""

    @property
    def role(self) -> Role:
        return self.profile.e8_role or Role.SERVER

    @property
    def internet_facing(self) -> bool:
        return self.profile.e8_internet_facing


class Finding(BaseModel):
    """A judge's verdict on one ISM control."""

    model_config = ConfigDict(frozen=True)

    ism: str = Field(pattern=r"^ISM-\d{4}$")
    outcome: Outcome
    evidence: str
    observed: dict[str, JsonValue] = Field(default_factory=dict)


Judge = Callable[[Mapping[str, Output], Context], list[Finding]]


class Check(BaseModel):
    """A check's declaration. Validated when the loader finds it."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    title: str = Field(min_length=5, max_length=120)
    strategy: Strategy
    ism: tuple[str, ...] = Field(min_length=1)
    platforms: frozenset[Platform] = Field(min_length=1)
    collect: dict[str, Cmd] = Field(min_length=1)
    judge: Judge
    version: int = Field(ge=1)
    grade: Grade = Grade.GOOD
    doc: str = ""
    rests_on: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Per ISM id, the commands (``collect`` keys) an effective verdict needs positive evidence
    from; ``"a|b"`` means either of two alternatives (a fallback). A control not listed rests on
    every command. The suite-wide positive-evidence test breaks commands (empty, not found,
    truncated, refused output): breaking one a control rests on must never leave it effective."""
    uses_directory: bool = False
    """The judge reads ``ctx.directories`` (the directory hosts' outputs from the same run). Only
    host checks may: a directory check judges its own searches. Checks that leave it False get
    an empty mapping, so ordinary judging does not carry the directory around."""

    @field_validator("collect", mode="before")
    @classmethod
    def _cmds(cls, v: Any) -> Any:
        if isinstance(v, Mapping):
            return {k: Cmd(line=c) if isinstance(c, str) else c for k, c in v.items()}
        return v

    @field_validator("ism")
    @classmethod
    def _ism_format(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i in v:
            if not i.startswith("ISM-") or len(i) != 8 or not i[4:].isdigit():
                raise ValueError(f"{i!r} is not an ISM id of the form ISM-1234")
        if len(set(v)) != len(v):
            raise ValueError("ISM ids repeat")
        return v

    @model_validator(mode="after")
    def _in_model(self) -> Check:
        table = index()
        for i in self.ism:
            if (self.strategy, i) not in table:
                raise ValueError(
                    f"{i} is not a {self.strategy.value} control in the November 2023 model"
                )
        return self

    @model_validator(mode="after")
    def _rests_on_declared(self) -> Check:
        for ism, keys in self.rests_on.items():
            if ism not in self.ism:
                raise ValueError(f"rests_on names {ism}, which the check does not judge")
            if not keys:
                raise ValueError(f"rests_on[{ism}] is empty; an effective verdict needs evidence")
            for alternatives in keys:
                unknown = [k for k in alternatives.split("|") if k not in self.collect]
                if unknown:
                    raise ValueError(f"rests_on[{ism}] names {unknown[0]!r}, not a collect key")
        return self

    @model_validator(mode="after")
    def _directory_users_are_host_checks(self) -> Check:
        if self.uses_directory and Platform.DIRECTORY in self.platforms:
            raise ValueError(
                "uses_directory is for host checks that read the run's directories; a directory "
                "check declares its own searches in collect"
            )
        return self

    def evidence_for(self, ism: str) -> tuple[tuple[str, ...], ...]:
        """The command groups ``ism`` rests on; each group is a set of alternatives."""
        declared = self.rests_on.get(ism, tuple(self.collect))
        return tuple(tuple(group.split("|")) for group in declared)

    @property
    def levels(self) -> frozenset[int]:
        """The maturity levels that require at least one of this check's controls."""
        table = index()
        return frozenset().union(*(table[(self.strategy, i)].levels for i in self.ism))
