"""The exception register and attestations: the organisation's own statements, validated data.

**Exceptions** (``--exceptions FILE``) follow ASD's Assessment Process Guide: per host, group or
pattern × ISM id (or a whole strategy), with justification, compensating control, approver,
approval date, expiry (at most one year after approval) and the risk before and after. A valid,
unexpired exception *with* a compensating control turns an ``ineffective`` control into
``alternate_control``; one *without* a compensating control is a risk acceptance: the control is
``not_implemented`` and the host's strategy is ML0, as ASD says. An expired or incomplete exception
changes nothing and is reported.

**Attestations** (``--attestations FILE``) state that a control no host can show (incident
reporting, vulnerability-scanning frequency, DR restore tests…) is in place, with owner, date,
evidence reference and validity. They fill only controls nothing else assessed, with evidence
grade ``poor``, or ``fair`` when an evidence file is attached. Expired ones leave the control
``not_assessed`` and are reported.

Both files are YAML, validated at load — before any host is contacted — with file:line errors.
Host patterns match a host's name or one of its groups: exact names, globs, or ``~regex``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from scanner.inventory.yml import Document, load_document
from scanner.model.errors import InputError
from scanner.model.framework import requirements
from scanner.model.vocabulary import Grade, Outcome, Strategy
from scanner.record.raw import SourceFile

Day = date  # an alias: Attestation has a field called ``date``
_KNOWN_ISM = {r.ism for r in requirements()}
_STRATEGIES = {s.value for s in Strategy}
MAX_EXCEPTION_DAYS = 366  # "no longer than one year" (a leap year included)


def _patterns(v: Any) -> list[str]:
    if isinstance(v, str):
        return [p.strip() for p in re.split(r"[,:]", v) if p.strip()]
    if not isinstance(v, list) or not all(isinstance(p, str | int) for p in v):
        raise ValueError(
            f"expected a list of names or a comma-separated string, found {type(v).__name__}"
            if not isinstance(v, list)
            else "expected a list of names (text), found a nested value"
        )
    return [str(p) for p in v]


def _check_pattern(p: str) -> str:
    """A host pattern that can be matched: ``~regex`` must compile."""
    if p.startswith("~"):
        try:
            re.compile(p[1:])
        except re.error as exc:
            raise ValueError(f"{p!r} is not a valid regular expression ({exc})") from None
    return p


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    hosts: list[str] = Field(
        default_factory=lambda: ["all"], description="Host names, groups, globs or ~regex."
    )
    controls: list[str] = Field(min_length=1, description="ISM ids (ISM-1234) or strategy ids.")

    @field_validator("hosts", mode="before")
    @classmethod
    def _split_hosts(cls, v: Any) -> Any:
        return _patterns(v) if v is not None else ["all"]

    @field_validator("hosts")
    @classmethod
    def _compile_hosts(cls, v: list[str]) -> list[str]:
        return [_check_pattern(p) for p in v]

    @field_validator("controls", mode="before")
    @classmethod
    def _split_controls(cls, v: Any) -> Any:
        return _patterns(v) if isinstance(v, str) else v

    @field_validator("controls")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        for c in v:
            if c not in _KNOWN_ISM and c not in _STRATEGIES:
                raise ValueError(
                    f"{c!r} is neither an ISM id of the November 2023 model nor a strategy id"
                )
        return v

    def matches_host(self, name: str, groups: list[str]) -> bool:
        for p in self.hosts:
            if p in ("all", "*"):
                return True
            if p.startswith("~"):
                if re.search(p[1:], name):
                    return True
            elif any(fnmatch.fnmatchcase(x, p) for x in (name, *groups)):
                return True
        return False

    def matches_control(self, strategy: Strategy, ism: str) -> bool:
        return ism in self.controls or strategy.value in self.controls


class ExceptionEntry(_Entry):
    justification: str = ""
    compensating_control: str = ""
    approver: str = ""
    approved: date
    expires: date
    risk_before: str = ""
    risk_after: str = ""
    next_review: date | None = None
    evidence: str = ""

    @model_validator(mode="after")
    def _one_year(self) -> ExceptionEntry:
        if self.expires < self.approved:
            raise ValueError("expires is before approved")
        if (self.expires - self.approved).days > MAX_EXCEPTION_DAYS:
            raise ValueError("an exception may not run for more than one year after approval (ASD)")
        return self

    @property
    def missing(self) -> list[str]:
        """Governance fields ASD requires that this entry leaves empty."""
        need = ["justification", "approver", "risk_before"] + (
            ["risk_after"] if self.compensating_control else []
        )
        return [f for f in need if not getattr(self, f)]

    @property
    def risk_acceptance(self) -> bool:
        return not self.compensating_control


class Attestation(_Entry):
    outcome: Literal["effective", "not_implemented"] = "effective"
    owner: str = Field(min_length=1)
    date: Day
    valid_days: int = Field(default=365, ge=1, le=3 * 366, validate_default=True)
    evidence: str = Field(
        min_length=1, description="Where the evidence is kept (document id, ticket, path)."
    )
    evidence_file: str | None = None
    statement: str = ""

    @field_validator("valid_days")
    @classmethod
    def _expiry_is_a_date(cls, v: int, info: ValidationInfo) -> int:
        made = info.data.get("date")
        if isinstance(made, Day) and made.toordinal() + v > Day.max.toordinal():
            raise ValueError(
                f"date {made} plus valid_days {v} is past {Day.max}; "
                "expected the day the attestation was made"
            )
        return v

    def expires(self) -> Day:
        return self.date + timedelta(days=self.valid_days)


@dataclass(frozen=True)
class Register:
    exceptions: tuple[ExceptionEntry, ...] = ()
    attestations: tuple[Attestation, ...] = ()
    attached: frozenset[str] = frozenset()  # attestation ids whose evidence file exists
    sources: tuple[SourceFile, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.exceptions and not self.attestations

    def exception_for(
        self, name: str, groups: list[str], strategy: Strategy, ism: str
    ) -> ExceptionEntry | None:
        hits = [
            e
            for e in self.exceptions
            if e.matches_host(name, groups) and e.matches_control(strategy, ism)
        ]
        return hits[-1] if hits else None

    def attestation_for(
        self, name: str, groups: list[str], strategy: Strategy, ism: str
    ) -> Attestation | None:
        hits = [
            a
            for a in self.attestations
            if a.matches_host(name, groups) and a.matches_control(strategy, ism)
        ]
        return hits[-1] if hits else None


@dataclass
class Applied:
    """What a register entry did to one control (for evidence and the run's register report)."""

    outcome: Outcome
    evidence: str
    grade: Grade
    entry: str
    notes: list[str] = field(default_factory=list)


def judge_exception(e: ExceptionEntry, outcome: Outcome, at: datetime) -> Applied | None:
    """The effect of exception ``e`` on a control whose live outcome is ``outcome``, at time ``at``."""
    day = at.date()
    if day > e.expires:
        return Applied(
            outcome,
            f"exception {e.id} expired on {e.expires} (not applied)",
            Grade.NONE,
            e.id,
            ["expired"],
        )
    if day < e.approved:
        return Applied(
            outcome,
            f"exception {e.id} is approved only from {e.approved} (not applied)",
            Grade.NONE,
            e.id,
            ["not yet valid"],
        )
    if e.missing:
        return Applied(
            outcome,
            f"exception {e.id} is incomplete: no {', '.join(e.missing)} (not applied)",
            Grade.NONE,
            e.id,
            ["incomplete"],
        )
    grade = Grade.FAIR if e.evidence else Grade.POOR
    if e.risk_acceptance:
        return Applied(
            Outcome.NOT_IMPLEMENTED,
            f"risk accepted without a compensating control (exception {e.id}, approved by {e.approver} on "
            f"{e.approved}, expires {e.expires}): not implemented, strategy ML0",
            grade,
            e.id,
            ["risk acceptance"],
        )
    if outcome is Outcome.INEFFECTIVE:
        return Applied(
            Outcome.ALTERNATE_CONTROL,
            f"alternate control under exception {e.id}: {e.compensating_control} (approved by {e.approver} on "
            f"{e.approved}, expires {e.expires}; risk {e.risk_before} → {e.risk_after})",
            grade,
            e.id,
            ["applied"],
        )
    return None


def judge_attestation(a: Attestation, attached: bool, at: datetime) -> Applied:
    day = at.date()
    if day > a.expires():
        return Applied(
            Outcome.NOT_ASSESSED,
            f"attestation {a.id} expired on {a.expires()} (not applied)",
            Grade.NONE,
            a.id,
            ["expired"],
        )
    if day < a.date:
        return Applied(
            Outcome.NOT_ASSESSED,
            f"attestation {a.id} is dated {a.date}, after the scan (not applied)",
            Grade.NONE,
            a.id,
            ["not yet valid"],
        )
    outcome = Outcome.EFFECTIVE if a.outcome == "effective" else Outcome.NOT_IMPLEMENTED
    return Applied(
        outcome,
        f"attested by {a.owner} on {a.date} ({a.id}; evidence: {a.evidence}; valid to {a.expires()})"
        + (f": {a.statement}" if a.statement else ""),
        Grade.FAIR if attached else Grade.POOR,
        a.id,
        ["applied"],
    )


def _entries(doc: Document, key: str, model: type[_Entry]) -> list[Any]:
    data = doc.data
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {key}:
        raise InputError(doc.where(data), f"expected a mapping with one key {key!r} holding a list")
    items = data.get(key) or []
    if not isinstance(items, list):
        raise InputError(doc.where(data, key), f"{key!r} must be a list of entries")
    out: list[Any] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = doc.where(item) if isinstance(item, dict) else doc.where(data, key)
        if not isinstance(item, dict):
            raise InputError(where, f"entry {i + 1} must be a mapping")
        unknown = [k for k in item if k not in model.model_fields]
        if unknown:
            raise InputError(
                doc.where(item, unknown[0]),
                f"{key} entry {item.get('id', i + 1)}: unknown field {unknown[0]!r}; expected one of "
                + ", ".join(model.model_fields),
            )
        try:
            entry = model.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            field_name = str(err["loc"][0]) if err["loc"] else None
            at = doc.where(item, field_name) if field_name in item else where
            label = f"field {field_name}" if field_name else "entry"
            raise InputError(
                at,
                f"{key} entry {item.get('id', i + 1)}: {label}: "
                + err["msg"].removeprefix("Value error, "),
            ) from None
        if entry.id in seen:
            raise InputError(where, f"{key} id {entry.id!r} is used twice")
        seen.add(entry.id)
        out.append(entry)
    return out


def _source(path: Path) -> SourceFile:
    return SourceFile(path=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def load_register(exceptions: str | Path | None, attestations: str | Path | None) -> Register:
    """Read and validate both files (either may be None)."""
    ex: list[ExceptionEntry] = []
    at: list[Attestation] = []
    attached: set[str] = set()
    sources: list[SourceFile] = []
    if exceptions:
        path = Path(exceptions)
        if not path.is_file():
            raise InputError(str(path), "exception register not found")
        ex = _entries(load_document(path), "exceptions", ExceptionEntry)
        sources.append(_source(path))
    if attestations:
        path = Path(attestations)
        if not path.is_file():
            raise InputError(str(path), "attestations file not found")
        doc = load_document(path)
        at = _entries(doc, "attestations", Attestation)
        for a in at:
            if a.evidence_file:
                f = (path.parent / a.evidence_file).resolve()
                if not f.is_file():
                    raise InputError(
                        f"{path}: attestation {a.id}", f"evidence_file {a.evidence_file} not found"
                    )
                attached.add(a.id)
                sources.append(_source(f))
        sources.append(_source(path))
    return Register(tuple(ex), tuple(at), frozenset(attached), tuple(sources))
