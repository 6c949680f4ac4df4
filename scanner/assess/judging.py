"""Judge: raw record × checks × policy → findings. Pure; the same record always judges the same.

A judge that raises, or returns verdicts for controls it does not declare, cannot silently pass:
its controls come out ``no_visibility`` with the error as evidence.

Checks that declare ``uses_directory`` also see the outputs of the record's directory hosts
(:func:`directory_outputs`, built once per run); every other check sees only its own host.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scanner.assess.role import ResolvedRole, record_profile, resolve_role
from scanner.checking.api import Check, Context, Finding, Output
from scanner.inventory.profile import HostProfile, for_judging
from scanner.model.feeds import Snapshot
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
        outputs[name] = _output(line, by_line.get(line))
    return outputs


def _output(line: str, c: CommandRecord | None) -> Output:
    if c is None:
        return Output(command=line, ran=False)
    return Output(
        command=line,
        stdout=c.stdout,
        stderr=c.stderr,
        exit_code=c.exit_code,
        truncated=c.truncated,
        timed_out=c.timed_out,
        ran=c.ran,
        stderr_truncated=c.stderr_truncated,
    )


Directories = Mapping[str, Mapping[str, Output]]


def directory_outputs(hosts: Sequence[HostRecord]) -> dict[str, dict[str, Output]]:
    """What each directory host of the record returned, keyed by command line (searches are
    never rendered per host, so the line is the check's own); an unreached host maps to its
    commands as recorded (usually none), which a judge reads as "not run"."""
    return {
        rec.name: {c.command: _output(c.command, c) for c in rec.commands}
        for rec in hosts
        if rec.platform is Platform.DIRECTORY
    }


def context_for(
    rec: HostRecord,
    policy: Policy,
    resolved: ResolvedRole | None = None,
    feeds: Snapshot | None = None,
) -> Context:
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
        feeds=feeds if feeds is not None else Snapshot(None),
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


def judge_host(
    rec: HostRecord,
    checks: Sequence[Check],
    policy: Policy,
    directories: Directories | None = None,
    feeds: Snapshot | None = None,
) -> list[Judged]:
    """One host's verdicts; ``directories``: :func:`directory_outputs` of the whole record,
    handed only to the checks that declare ``uses_directory``; ``feeds``: the feed snapshot."""
    if rec.reach is not Reach.OK:
        return []
    profile = record_profile(rec)
    resolved = resolve_role(rec, profile)
    ctx = context_for(rec, policy, resolved, feeds)
    # model_copy: no revalidation, the mapping is shared, not copied, per host.
    joined = ctx.model_copy(update={"directories": directories or {}})
    by_line = {c.command: c for c in rec.commands}
    judged = []
    for check in checks:
        if rec.platform not in check.platforms:
            continue
        outputs = outputs_for(check, rec, by_line, profile)
        for f in run_judge(check, outputs, joined if check.uses_directory else ctx):
            judged.append(Judged(check, _with_role_note(f, resolved)))
    return judged
