"""Drift between two runs: what regressed, what was fixed, who came and went (``e8scan diff``).

A **regression** (exit 5) is any of:
- a host × control (key: host, strategy, ISM id) that was effective, alternate_control or
  not_applicable in the old run and is ineffective, not_implemented or no_visibility in the new;
- a host that was reachable and is not any more;
- a host × strategy level that went down (from one number to a lower one).

Controls are compared only where the host was reachable in both runs: a host that went dark is
reported once as newly unreachable, not as every one of its controls turning no_visibility.
A level that becomes or stops being null (not assessed) is listed but is not a regression on
its own. Hosts added or removed are listed, never a failure. Exceptions and attestations that
expired, or expire within ``soon_days`` of the new run's finish, are listed as a warning.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from scanner.assess.results import RESULTS_SCHEMA_VERSION, HostResult, Level, Results
from scanner.model.errors import InputError, field_where
from scanner.model.terminal import printable
from scanner.model.vocabulary import Outcome, Reach, Strategy

GOOD = frozenset({Outcome.EFFECTIVE, Outcome.ALTERNATE_CONTROL, Outcome.NOT_APPLICABLE})
BAD = frozenset({Outcome.INEFFECTIVE, Outcome.NOT_IMPLEMENTED, Outcome.NO_VISIBILITY})


class RunRef(BaseModel):
    id: str
    finished: datetime


class ControlChange(BaseModel):
    host: str
    strategy: Strategy
    ism: str
    old: Outcome
    new: Outcome


class ReachChange(BaseModel):
    host: str
    old: Reach
    new: Reach
    detail: str = ""


class LevelChange(BaseModel):
    host: str
    strategy: Strategy
    old: Level
    new: Level

    @property
    def down(self) -> bool:
        return self.old is not None and self.new is not None and self.new < self.old


class RegisterExpiry(BaseModel):
    id: str
    kind: str
    expires: date
    hosts: list[str]


class Drift(BaseModel):
    """What changed between two runs; ``regressed`` decides exit code 5."""

    old_run: RunRef
    new_run: RunRef
    regressed: bool
    new_failures: list[ControlChange]
    fixed: list[ControlChange]
    still_failing: list[ControlChange]
    newly_unreachable: list[ReachChange]
    recovered: list[ReachChange]
    hosts_added: list[str]
    hosts_removed: list[str]
    level_changes: list[LevelChange]
    register_expired: list[RegisterExpiry]
    register_expiring: list[RegisterExpiry]


def _controls(
    old: HostResult, new: HostResult
) -> tuple[list[ControlChange], list[ControlChange], list[ControlChange]]:
    before = {(c.strategy, c.ism): c.outcome for c in old.controls}
    failures, fixed, still = [], [], []
    for c in new.controls:
        was = before.get((c.strategy, c.ism))
        if was is None:
            continue
        change = ControlChange(
            host=new.name, strategy=c.strategy, ism=c.ism, old=was, new=c.outcome
        )
        if was in GOOD and c.outcome in BAD:
            failures.append(change)
        elif was in BAD and c.outcome in GOOD:
            fixed.append(change)
        elif was in BAD and c.outcome in BAD:
            still.append(change)
    return failures, fixed, still


def _levels(old: HostResult, new: HostResult) -> list[LevelChange]:
    return [
        LevelChange(host=new.name, strategy=s, old=old.levels.get(s), new=new.levels.get(s))
        for s in Strategy
        if old.levels.get(s) != new.levels.get(s)
    ]


def _register(new: Results, soon_days: int) -> tuple[list[RegisterExpiry], list[RegisterExpiry]]:
    today = new.run.finished.date()
    expired, expiring = [], []
    for use in new.register_use:
        try:
            when = date.fromisoformat(use.expires[:10])
        except ValueError:
            continue  # no expiry date (e.g. "None"): nothing to warn about
        entry = RegisterExpiry(id=use.id, kind=use.kind, expires=when, hosts=use.hosts)
        if when < today:
            expired.append(entry)
        elif (when - today).days <= soon_days:  # no date arithmetic past year 9999
            expiring.append(entry)
    return expired, expiring


def compare(old: Results, new: Results, soon_days: int = 30) -> Drift:
    """The drift from ``old`` to ``new`` (see the module docstring for what regresses)."""
    before = {h.name: h for h in old.hosts}
    after = {h.name: h for h in new.hosts}
    failures: list[ControlChange] = []
    fixed: list[ControlChange] = []
    still: list[ControlChange] = []
    dark: list[ReachChange] = []
    back: list[ReachChange] = []
    levels: list[LevelChange] = []
    for name, n in after.items():
        o = before.get(name)
        if o is None:
            continue
        if o.reach is Reach.OK and n.reach is not Reach.OK:
            dark.append(ReachChange(host=name, old=o.reach, new=n.reach, detail=n.reach_detail))
        elif o.reach is not Reach.OK and n.reach is Reach.OK:
            back.append(ReachChange(host=name, old=o.reach, new=n.reach))
        if o.reach is Reach.OK and n.reach is Reach.OK:
            f, x, s = _controls(o, n)
            failures += f
            fixed += x
            still += s
            levels += _levels(o, n)
    expired, expiring = _register(new, soon_days)
    return Drift(
        old_run=RunRef(id=old.run.id, finished=old.run.finished),
        new_run=RunRef(id=new.run.id, finished=new.run.finished),
        regressed=bool(failures or dark or any(lc.down for lc in levels)),
        new_failures=failures,
        fixed=fixed,
        still_failing=still,
        newly_unreachable=dark,
        recovered=back,
        hosts_added=[h for h in after if h not in before],
        hosts_removed=[h for h in before if h not in after],
        level_changes=levels,
        register_expired=expired,
        register_expiring=expiring,
    )


# -- loading a run by reference ------------------------------------------------------------------


def _read_results_file(path: Path) -> Results:
    if path.is_dir():
        path = path / "results.json"
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(str(path), f"cannot read results file: {exc.strerror}") from None
    except ValueError as exc:
        raise InputError(str(path), f"not JSON: {exc}") from None
    except RecursionError:
        raise InputError(str(path), "not JSON: nested too deeply") from None
    if not isinstance(data, dict) or data.get("kind") != "e8scan-results":
        raise InputError(str(path), "not an e8scan results.json (kind is not e8scan-results)")
    version = data.get("schema_version")
    if isinstance(version, int) and version > RESULTS_SCHEMA_VERSION:
        raise InputError(
            str(path),
            f"schema_version {version} was written by a newer e8scan; this version reads up to "
            f"{RESULTS_SCHEMA_VERSION}",
        )
    try:
        return Results.model_validate(data)
    except ValidationError as exc:
        where, msg = field_where(str(path), exc)
        raise InputError(where, f"not a valid results file: {msg}") from None


def load_results_ref(ref: str, history_file: Path | None) -> Results:
    """A results.json path (or a scan folder holding one), else a history run id / last / previous."""
    path = Path(ref)
    if path.exists():
        return _read_results_file(path)
    if ref.endswith(".json") or "/" in ref:
        raise InputError(ref, "file not found")
    if history_file is None:
        raise InputError(ref, "not a file, and no run history to look it up in (--no-history)")
    from scanner.runs.history import History

    with History.open(history_file, create=False) as hist:
        return hist.get(ref)


# -- rendering -----------------------------------------------------------------------------------


def _lv(level: Level) -> str:
    return "-" if level is None else f"ML{level}"


def _section(title: str, rows: list[str]) -> list[str]:
    return [f"{title} ({len(rows)}):", *(f"  {r}" for r in rows)] if rows else []


def _control_rows(changes: list[ControlChange]) -> list[str]:
    return [
        f"{c.host}  {c.strategy.value}  {c.ism}  {c.old.value} -> {c.new.value}" for c in changes
    ]


def render_table(d: Drift) -> str:
    """Plain text for terminals and cron mail; still-failing controls are counted, not listed.
    No control character from the runs' data survives (see scanner.model.terminal)."""
    verdict = "REGRESSION" if d.regressed else "no regression"
    lines = [f"drift {d.old_run.id} -> {d.new_run.id}: {verdict}"]
    lines += _section("new failures", _control_rows(d.new_failures))
    lines += _section(
        "newly unreachable",
        [
            f"{r.host}  {r.old.value} -> {r.new.value}  {r.detail}".rstrip()
            for r in d.newly_unreachable
        ],
    )
    lines += _section(
        "levels down",
        [
            f"{c.host}  {c.strategy.value}  {_lv(c.old)} -> {_lv(c.new)}"
            for c in d.level_changes
            if c.down
        ],
    )
    lines += _section(
        "levels up or changed",
        [
            f"{c.host}  {c.strategy.value}  {_lv(c.old)} -> {_lv(c.new)}"
            for c in d.level_changes
            if not c.down
        ],
    )
    lines += _section("fixed", _control_rows(d.fixed))
    lines += _section("recovered", [f"{r.host}  {r.old.value} -> ok" for r in d.recovered])
    lines += _section("hosts added", d.hosts_added)
    lines += _section("hosts removed", d.hosts_removed)
    lines += _section(
        "register entries expired",
        [f"{e.kind} {e.id}  expired {e.expires}" for e in d.register_expired],
    )
    lines += _section(
        "register entries expiring soon",
        [f"{e.kind} {e.id}  expires {e.expires}" for e in d.register_expiring],
    )
    if d.still_failing:
        lines.append(f"still failing: {len(d.still_failing)} host x control(s)")
    # Host names, run ids, reach details come from hosts and files: escaped, line by line.
    return "\n".join(printable(line) for line in lines)
