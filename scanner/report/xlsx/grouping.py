"""Which host × control rows the workbook gives once per control (Controls sheet) instead of once
per host (Findings).

A control no host can show — organisational, or not visible from the host's platform
(``checkable`` ``no``) — comes out not_assessed with the same sentence on every host that no
attestation covers. Those rows say nothing about the host, so Findings leaves them out and the
Controls sheet says the reason once with the number of hosts. Everything else stays on Findings:
what a host showed, every row an attestation or exception touched (applied, expired, not yet
valid: a per-host judgement with its register reference), and not_assessed rows of controls a
host *can* show (no check ran for them, e.g. ``--checks``): those count towards the host's
level and name a gap in this run, so they are listed per host. Organisational rows count only
towards the claimable level, and the per-strategy sheets still show them per host.
"""

from __future__ import annotations

from collections import Counter

from scanner.assess.results import ControlResult, Results
from scanner.model.vocabulary import Outcome, Platform, Strategy

ATTEST = "attest it with --attestations"


def grouped(c: ControlResult) -> bool:
    """True for a row Findings leaves to the Controls sheet: not_assessed because no host can
    show the control, with no check, attestation or exception involved."""
    return (
        c.outcome is Outcome.NOT_ASSESSED
        and c.checkable == "no"
        and c.register_entry is None
        and c.check is None
    )


def grouped_counts(results: Results) -> dict[tuple[Strategy, str], Counter[Platform]]:
    """Per control: how many hosts of each platform have a grouped row for it."""
    per: dict[tuple[Strategy, str], Counter[Platform]] = {}
    for h in results.hosts:
        for c in h.controls:
            if grouped(c):
                per.setdefault((c.strategy, c.ism), Counter())[h.platform] += 1
    return per


def _hosts(n: int) -> str:
    return f"{n} host" if n == 1 else f"{n} hosts"


def grouped_notes(results: Results) -> dict[tuple[Strategy, str], str]:
    """Per control with grouped rows, the Controls sheet's note: why no host showed it, what to
    do, and on how many hosts (one line per distinct reason)."""
    excluded = results.framework.exclusions
    notes: dict[tuple[Strategy, str], str] = {}
    for key, platforms in sorted(grouped_counts(results).items()):
        by_reason: dict[str, tuple[list[str], int]] = {}
        for p, n in sorted(platforms.items()):
            why = excluded.get((key[0], key[1], p), "")
            names, total = by_reason.get(why, ([], 0))
            by_reason[why] = ([*names, p.value], total + n)
        lines = []
        for why, (names, n) in by_reason.items():
            if why:
                head = f"not shown from a {' or '.join(names)} host: {why.rstrip('. ')}"
            else:
                head = "organisational: not shown from a host"
            lines.append(f"{head}; {ATTEST} — {_hosts(n)}")
        notes[key] = "\n".join(lines)
    return notes
