"""Judge: raw record × checks × policy → findings. Pure; the same record always judges the same.

A judge that raises, or returns verdicts for controls it does not declare, cannot silently pass:
its controls come out ``no_visibility`` with the error as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scanner.assess.role import ResolvedRole, record_profile, resolve_role
from scanner.checking.api import Check, Context, Finding, Output
from scanner.inventory.profile import HostProfile, for_judging
from scanner.model.policy import Policy
from scanner.model.vocabulary import Outcome, Platform, Reach
from scanner.record.raw import CommandRecord, HostRecord


@dataclass(frozen=True)
class Judged:
    """One check's verdict on one control of one host."""

    check: Check
    finding: Finding


def outputs_for(
    check: Check,
    rec: HostRecord,
    by_line: Mapping[str, CommandRecord] | None = None,
    profile: HostProfile | None = None,
) -> dict[str, Output]:
    """The outputs a check's judge sees; ``by_line``: the host's commands by line and
    ``profile``: its typed vars (both built once per host by :func:`judge_host`)."""
    if by_line is None:
        by_line = {c.command: c for c in rec.commands}
    if profile is None:
        profile = record_profile(rec)
    outputs = {}
    for name, cmd in check.collect.items():
        line = cmd.render(profile, powershell=rec.platform is Platform.WINDOWS)
        c = by_line.get(line)
        if c is None:
            outputs[name] = Output(command=line, ran=False)
        else:
            outputs[name] = Output(
                command=line,
                stdout=c.stdout,
                stderr=c.stderr,
                exit_code=c.exit_code,
                truncated=c.truncated,
                timed_out=c.timed_out,
                ran=c.ran,
                stderr_truncated=c.stderr_truncated,
            )
    return outputs


def context_for(rec: HostRecord, policy: Policy, resolved: ResolvedRole | None = None) -> Context:
    """What judges know of a host: its typed profile with the resolved role and the policy."""
    profile = record_profile(rec)
    resolved = resolved or resolve_role(rec, profile)
    return Context(
        host=rec.name,
        platform=rec.platform,
        profile=for_judging(profile, policy, resolved.role),
        policy=policy,
        collected_at=rec.collected_at,
        user=rec.user,
        become=rec.become,
    )


def _with_role_note(finding: Finding, resolved: ResolvedRole) -> Finding:
    """A finding that judged the role (its ``observed`` holds it) carries the disagreement."""
    if resolved.note is None or not {"role", "e8_role"} & finding.observed.keys():
        return finding
    return finding.model_copy(
        update={
            "evidence": f"{finding.evidence} [role: {resolved.note}]",
            "observed": {**finding.observed, "role_note": resolved.note},
        }
    )


def run_judge(check: Check, outputs: dict[str, Output], ctx: Context) -> list[Finding]:
    """Call one judge, turning any failure into no_visibility findings for its controls."""
    try:
        found = check.judge(outputs, ctx)
        by_ism = {f.ism: f for f in found}
        stray = set(by_ism) - set(check.ism)
        if stray:
            raise ValueError(f"verdicts for undeclared controls {sorted(stray)}")
    except Exception as exc:
        msg = f"check error ({type(exc).__name__}: {exc})"[:300]
        return [Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence=msg) for i in check.ism]
    return [
        by_ism.get(i)
        or Finding(ism=i, outcome=Outcome.NO_VISIBILITY, evidence="the check gave no verdict")
        for i in check.ism
    ]


def judge_host(rec: HostRecord, checks: Sequence[Check], policy: Policy) -> list[Judged]:
    if rec.reach is not Reach.OK:
        return []
    profile = record_profile(rec)
    resolved = resolve_role(rec, profile)
    ctx = context_for(rec, policy, resolved)
    by_line = {c.command: c for c in rec.commands}
    judged = []
    for check in checks:
        if rec.platform not in check.platforms:
            continue
        for f in run_judge(check, outputs_for(check, rec, by_line, profile), ctx):
            judged.append(Judged(check, _with_role_note(f, resolved)))
    return judged
