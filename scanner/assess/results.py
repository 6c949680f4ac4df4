"""results.json: the versioned, published contract (``e8scan schema`` prints its JSON Schema)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scanner.model.framework import Checkable, Framework, builtin
from scanner.model.vocabulary import Grade, Outcome, Platform, Reach, Strategy
from scanner.record.raw import CheckRef, SourceFile

RESULTS_SCHEMA_VERSION = 1

Level = int | None


# A slotted dataclass, not a model: a fleet has one per host and control (1.5 million for 10,000
# hosts) and this is a fraction of a model's memory and build time. Pydantic still validates,
# serialises and documents it inside HostResult.
@dataclass(frozen=True, slots=True, kw_only=True)
class ControlResult:
    """One ISM control on one host, with ASD's outcome and the evidence behind it."""

    ism: str
    strategy: Strategy
    local_id: str
    requirement: str
    levels: Annotated[
        tuple[int, ...], Field(description="The maturity levels that require this control.")
    ]
    checkable: Annotated[
        Checkable,
        Field(description="Whether a host can show it: yes, partly, or no (organisational)."),
    ]
    outcome: Outcome
    check: str | None = None
    check_version: int | None = None
    evidence: str
    observed: dict[str, Any] = field(default_factory=dict)
    grade: Annotated[Grade, Field(description="ASD evidence quality of the finding.")]
    register_entry: Annotated[
        str | None,
        Field(
            description="Exception or attestation that decided or touched this control (id:status)."
        ),
    ] = None


class HostResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    address: str
    platform: Platform
    connection: str
    groups: list[str]
    role: str | None = Field(
        default=None,
        description="The role the host was judged as: workstation, server or network_device.",
    )
    role_source: str = Field(
        default="",
        description=(
            "Where the role came from: 'inventory' (e8_role), 'host: …' (the host's own report, "
            "e.g. 'host: ProductType=1') or 'default: server (why)'."
        ),
    )
    role_note: str | None = Field(
        default=None,
        description="Set when the inventory's e8_role and the host's own report disagree.",
    )
    ot_zone: str | None = None
    internet_facing: bool = False
    reach: Reach
    reach_detail: str = ""
    host_key: str | None = None
    notes: list[str] = Field(default_factory=list)
    grade_cap: Grade | None = Field(
        default=None,
        description="The best evidence grade any finding of this host carries, when something "
        "about the collection lowers it (collected offline by the field kit; weak SSH crypto: "
        "an SHA-1 host-key signature, an SHA-1 key exchange, CBC or 64-bit-block ciphers, "
        "MD5/SHA-1 MACs); the reason is in notes. Null: the checks' own grades stand.",
    )
    user: str | None = None
    collected_at: datetime
    levels: dict[Strategy, Level] = Field(
        description="Per strategy (the framework's groups): the level the host's own evidence "
        "supports (null: not assessed)."
    )
    claimable: dict[Strategy, Level] = Field(
        description="Per strategy: the level an assessor could sign, organisational controls included."
    )
    blockers: dict[Strategy, list[str]] = Field(
        default_factory=dict,
        description="Per strategy: the controls (ISM id and outcome) that stop `levels` one level higher.",
    )
    not_applicable: list[Strategy] = Field(
        default_factory=list,
        description="Strategies whose host-showable controls were all not_applicable on this host "
        "(their level is null and they do not lower the host's level).",
    )
    level: Level
    claimable_level: Level
    counts: dict[Outcome, int]
    controls: list[ControlResult]


class StrategySummary(BaseModel):
    strategy: Strategy
    title: str
    level: Level = Field(description="Fleet level: the lowest over assessed in-scope hosts.")
    distribution: dict[str, int] = Field(
        description="Hosts per level ('0' up to the framework's top level), plus 'not_assessed' "
        "and 'no_visibility'."
    )


class RegisterUse(BaseModel):
    """What one exception or attestation did across the run."""

    id: str
    kind: Literal["exception", "attestation"]
    expires: str
    statuses: dict[str, int] = Field(
        description="Controls per status: applied, risk acceptance, expired, incomplete…"
    )
    hosts: list[str]


class FeedUsed(BaseModel):
    """One feed of the snapshot a run was judged with."""

    name: str = Field(description="kev, endoflife or csaf-ot.")
    as_of: date = Field(description="The date the feed's data is as of.")
    sha256: str = Field(description="sha256 over the feed's files (scanner.model.feeds).")
    source: str = Field(description="Where the feed was fetched from.")


class RunSummary(BaseModel):
    id: str
    started: datetime
    finished: datetime
    inventory: list[SourceFile]
    limit: str | None = None
    target_level: int
    checks: list[CheckRef]
    policy: dict[str, Any]
    register_files: list[SourceFile] = Field(
        default_factory=list, description="Exception register and attestation files (with SHA-256)."
    )
    raw_record: str = Field(
        default="", description="File name of the raw record these results come from."
    )
    merged_from: list[str] = Field(
        default_factory=list, description="For `e8scan merge`: the collector runs combined here."
    )
    incomplete: bool = Field(
        default=False,
        description="True when the scan was stopped (Ctrl-C, SIGTERM) before every host was "
        "collected: the hosts listed in not_collected are missing, not assessed.",
    )
    incomplete_reason: str = Field(default="", description="Why the run is incomplete.")
    not_collected: list[str] = Field(
        default_factory=list, description="In-scope hosts an incomplete run did not collect."
    )
    feeds: list[FeedUsed] = Field(
        default_factory=list,
        description="The feed snapshot the judgements used (README 'Feeds'): per feed its name, "
        "the date its data is as of, the sha256 of its files and its source. Empty: none.",
    )


class NotScanned(BaseModel):
    """An active computer object of a directory that matches no host of the run."""

    name: str = Field(
        description="sAMAccountName without the trailing $ (the CN when it has none)."
    )
    dns_name: str = Field(default="", description="dNSHostName.")
    operating_system: str = Field(default="", description="operatingSystem.")
    os_version: str = Field(default="", description="operatingSystemVersion.")
    last_logon: datetime = Field(
        description="lastLogonTimestamp (replicated with up to 14 days' lag behind the real logon)."
    )
    dn: str = Field(description="The object's distinguished name: its OU shows where it sits.")


class NotInDirectory(BaseModel):
    """An inventory host that matches no computer object of any directory read in the run."""

    host: str
    address: str
    platform: Platform


class DirectoryCoverage(BaseModel):
    """One directory target's computer objects joined with the run's hosts (README "Directory
    coverage"): active computers nobody listed, and listed Windows hosts the directory lacks."""

    directory: str = Field(description="The directory target's inventory name.")
    read: bool = Field(description="False when its computer objects could not be read.")
    reason: str = Field(default="", description="Why they could not be read (read false).")
    collected_at: datetime | None = Field(
        default=None, description="When the directory was read: 'active' counts back from here."
    )
    active_days: int = Field(
        default=90, description="Active: enabled, lastLogonTimestamp within this many days."
    )
    computers: int = Field(default=0, description="Computer objects the search returned.")
    active: int = Field(default=0, description="Of those, enabled and active.")
    undetermined: list[str] = Field(
        default_factory=list,
        description="Computer objects whose userAccountControl or lastLogonTimestamp could not "
        "be read as a number (neither counted active nor listed as not scanned).",
    )
    not_scanned: list[NotScanned] = Field(
        default_factory=list,
        description="Active computer objects that match no host of the run (not in the inventory, "
        "or outside --limit).",
    )
    not_in_directory: list[NotInDirectory] = Field(
        default_factory=list,
        description="Windows hosts of the run that match no computer object of any directory read "
        "in the run (a workgroup host or a stale inventory line).",
    )
    unmatched_ip_hosts: int = Field(
        default=0,
        description="Hosts of the run known only by an IP address: they cannot be matched by name, "
        "so any of them may be one of not_scanned.",
    )
    ip_only_hosts: list[str] = Field(
        default_factory=list, description="Their inventory names (unmatched_ip_hosts of them)."
    )
    notes: list[str] = Field(default_factory=list, description="How to read the lists.")


class Results(BaseModel):
    kind: Literal["e8scan-results"] = "e8scan-results"
    schema_version: int = RESULTS_SCHEMA_VERSION
    tool_version: str
    model_version: str = Field(
        default_factory=lambda: builtin().model_version,
        description="The framework scored against and its ISM OSCAL release "
        "(e.g. 'essential-eight@ISM-OSCAL 2025.12.9').",
    )
    run: RunSummary
    hosts: list[HostResult]
    fleet: list[StrategySummary]
    fleet_level: Level
    register_use: list[RegisterUse] = Field(default_factory=list)
    coverage: list[DirectoryCoverage] = Field(
        default_factory=list,
        description="Per directory target of the run: its active computer objects that are not in "
        "the inventory, and the inventory's Windows hosts it does not hold (empty when the run "
        "read no directory).",
    )
    framework: Framework = Field(
        default_factory=builtin,
        description="The framework scored against: levels, groups (strategy ids) and controls "
        "with their statements and the OSCAL catalogs they come from.",
    )

    @model_validator(mode="after")
    def _levels_in_range(self) -> Results:
        problem = level_problem(self)
        if problem:
            raise ValueError(f"{problem[0]}: {problem[1]}")
        return self


def _level_problem(value: object, top: int) -> str | None:
    if value is None or (isinstance(value, int) and 0 <= value <= top):
        return None
    return f"level {value!r} is not 0 to the framework's top level {top} (or null)"


def host_level_problem(h: HostResult, i: int, framework: Framework) -> tuple[str, str] | None:
    """The first level of host ``h`` (``hosts[i]``) that the framework does not have, as
    (field path, what is wrong); None when every level is one of its levels."""
    top = framework.top
    for name in ("levels", "claimable"):
        per_group: dict[Strategy, Level] = getattr(h, name)
        for s in framework.groups:
            if s not in per_group:
                return f"hosts.{i}.{name}", f"no entry for {s.value}"
        for s, v in per_group.items():
            if (why := _level_problem(v, top)) is not None:
                return f"hosts.{i}.{name}.{s.value}", why
    for name in ("level", "claimable_level"):
        if (why := _level_problem(getattr(h, name), top)) is not None:
            return f"hosts.{i}.{name}", why
    return None


def level_problem(results: Results) -> tuple[str, str] | None:
    """The first level in ``results`` outside its framework's levels, as (field path, what is
    wrong): writers index colours and columns by level, so one must never reach them."""
    fw = results.framework
    if not 1 <= results.run.target_level <= fw.top:
        return "run.target_level", f"expected 1 to the framework's top level {fw.top}"
    if (why := _level_problem(results.fleet_level, fw.top)) is not None:
        return "fleet_level", why
    for i, f in enumerate(results.fleet):
        if (why := _level_problem(f.level, fw.top)) is not None:
            return f"fleet.{i}.level", why
    for i, h in enumerate(results.hosts):
        if (found := host_level_problem(h, i, fw)) is not None:
            return found
    return None


def schema() -> dict[str, Any]:
    """The JSON Schema of results.json."""
    s = Results.model_json_schema()
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["$id"] = f"https://e8scan.invalid/schema/results-v{RESULTS_SCHEMA_VERSION}.json"
    return s
