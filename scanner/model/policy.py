"""Thresholds that judges compare against, with documented defaults.

Every value here is an organisation's choice the model leaves open (backup RPO) or a window the
model fixes (patch deadlines). ``--policy FILE`` (YAML) overrides any field; the policy in force is
recorded in results.json so a score can be traced to the thresholds that produced it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(
        default="default", description="A label for this policy, recorded in results."
    )
    organisation: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The organisation's name: Source-Organization in the evidence bag's "
        "bag-info.txt.",
    )
    patch_critical_hours: int = Field(
        default=48, ge=1, description="Critical or exploited fixes (ISM-1877/1696)."
    )
    patch_internet_facing_days: int = Field(
        default=14, ge=1, description="Internet-facing OS fixes (ISM-1694)."
    )
    patch_other_days: int = Field(
        default=30, ge=1, description="Workstations and other servers (ISM-1695/1902)."
    )
    package_cache_max_age_days: int = Field(
        default=7,
        ge=1,
        description="Older package metadata makes 'no pending updates' no_visibility.",
    )
    backup_rpo_hours: int = Field(
        default=24,
        ge=1,
        description="Newest backup must be younger (e8_backup_rpo_hours overrides per host).",
    )
    feed_max_age_days: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "Per feed (kev, endoflife, csaf-ot): the oldest snapshot, in days before the "
            "collection, a judgement may rest on (defaults: kev 30, endoflife 90, csaf-ot 90)."
        ),
    )

    @field_validator("feed_max_age_days")
    @classmethod
    def _known_feeds(cls, v: dict[str, int]) -> dict[str, int]:
        from scanner.model.feeds import FEEDS

        for name, days in v.items():
            if name not in FEEDS:
                raise ValueError(f"unknown feed {name!r}; expected one of {', '.join(FEEDS)}")
            if days < 1:
                raise ValueError(f"{name}: {days} is not a number of days (1 or more)")
        return v

    stale_privileged_days: int = Field(
        default=45, ge=1, description="Privileged access unused this long (ISM-1648)."
    )
    backup_rpo_hours_by_role: dict[str, int] = Field(
        default_factory=dict,
        description="RPO per e8_role (workstation, server, network_device); e8_backup_rpo_hours still wins.",
    )
    admin_allowlist: list[str] = Field(
        default_factory=list,
        description="Accounts allowed admin rights on every host (break-glass, LAPS); added to e8_admin_allowlist.",
    )
    adblock_extension_ids: list[str] = Field(
        default_factory=list,
        description="Approved ad-blocking browser extension ids; added to e8_adblock_extension_ids.",
    )

    eol_overrides: dict[str, date] = Field(
        default_factory=dict,
        description=(
            "End-of-support dates that replace the shipped tables: 'linux:<id> <version>' "
            "(e.g. 'linux:ubuntu 20.04'), 'windows:<build>' (e.g. 'windows:19045' for a contracted "
            "ESU), or 'app:<product>' as named in the application EOL table."
        ),
    )

    def eol_override(self, key: str) -> date | None:
        """The organisation's end-of-support date for a table entry, if the policy sets one."""
        return self.eol_overrides.get(key)


def load_policy(path: str | Path | None) -> Policy:
    """Read ``--policy FILE`` (YAML mapping of field → value); errors name the file and field."""
    if path is None:
        return Policy()
    from pydantic import ValidationError

    from scanner.model.errors import InputError
    from scanner.model.input_files import read_yaml

    data = read_yaml(Path(path), "policy file")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(
            str(path), f"expected a mapping of policy fields, found {type(data).__name__}"
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top)"
        raise InputError(f"{path}: field {field}", err["msg"]) from None
