"""Thresholds that judges compare against, with documented defaults.

Every value here is an organisation's choice the model leaves open (backup RPO) or a window the
model fixes (patch deadlines). ``--policy FILE`` (YAML) overrides any field; the policy in force is
recorded in results.json so a score can be traced to the thresholds that produced it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(default="default", description="A label for this policy, recorded in results.")
    patch_critical_hours: int = Field(default=48, ge=1, description="Critical or exploited fixes (ISM-1877/1696).")
    patch_internet_facing_days: int = Field(default=14, ge=1, description="Internet-facing OS fixes (ISM-1694).")
    patch_other_days: int = Field(default=30, ge=1, description="Workstations and other servers (ISM-1695/1902).")
    package_cache_max_age_days: int = Field(
        default=7, ge=1, description="Older package metadata makes 'no pending updates' no_visibility."
    )
    backup_rpo_hours: int = Field(default=24, ge=1, description="Newest backup must be younger (e8_backup_rpo_hours overrides per host).")
    stale_privileged_days: int = Field(default=45, ge=1, description="Privileged access unused this long (ISM-1648).")
