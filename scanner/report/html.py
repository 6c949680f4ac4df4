"""The self-contained HTML report: one file, inline CSS, readable offline and printed.

It shows what the workbook's main sheets show (run, fleet summary, host × strategy heatmap, next
level blockers, coverage, register, findings grouped per host). Host text is untrusted: the
template is rendered with autoescaping on, every value passes through :func:`markup_text` (control
characters escaped, length capped), and a Content-Security-Policy forbids any script but the one
inline print helper, whose hash it names.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from scanner.assess.results import Level, Results
from scanner.assess.target import fleet_meets, host_meets
from scanner.model.vocabulary import Outcome, Reach
from scanner.report.files import write_text_atomic
from scanner.report.xlsx.style import NOT_APPLICABLE_FILL, OUTCOME_FILL, level_fills

TEMPLATE = "templates/report.html.j2"
MAX_TEXT = 32_000

# Opens every <details> before printing, so a printed report holds all the findings.
PRINT_SCRIPT = (
    "addEventListener('beforeprint',function(){"
    "document.querySelectorAll('details').forEach(function(d){d.open=true;});});"
)

# Characters HTML and XML cannot carry as text: C0 controls (bar tab/newline/CR), lone
# surrogates and the two non-characters U+FFFE/U+FFFF.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def markup_text(value: object, limit: int = MAX_TEXT) -> str:
    """Any value as text safe to put in a markup document: unsafe characters shown as ``\\xNN``
    (or ``\\uNNNN``), length capped. Escaping ``<``/``&`` is left to the serialiser."""
    text = value if isinstance(value, str) else str(value)

    def esc(m: re.Match[str]) -> str:
        n = ord(m.group())
        return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"

    text = _UNSAFE.sub(esc, text)
    return text if len(text) <= limit else text[: limit - 20] + " …[truncated]"


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return markup_text(value)
    return value


def level_text(v: Level) -> str:
    return "not assessed" if v is None else f"ML{v}"


def level_fill(v: Level, top: int = 3) -> str:
    """The workbook's colour for level ``v`` of a framework whose top level is ``top``."""
    return "#" + level_fills(top)[v]


def outcome_fill(o: Outcome) -> str:
    return "#" + OUTCOME_FILL[o]


def _script_hash() -> str:
    digest = hashlib.sha256(PRINT_SCRIPT.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src '{_script_hash()}'; base-uri 'none'; form-action 'none'"
)


@cache
def _environment() -> Environment:
    env = Environment(
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(level=level_text, level_fill=level_fill, outcome_fill=outcome_fill)
    return env


def _template_source() -> str:
    return files("scanner.report").joinpath(TEMPLATE).read_text(encoding="utf-8")


def _coverage(results: Results) -> list[dict[str, Any]]:
    """Hosts with no visibility at all (unreachable …) and reachable hosts with blind controls."""
    rows: list[dict[str, Any]] = []
    for h in results.hosts:
        blind = [c.ism for c in h.controls if c.outcome is Outcome.NO_VISIBILITY]
        if h.reach is not Reach.OK:
            rows.append({"host": h, "what": h.reach.value, "why": h.reach_detail, "controls": []})
        elif blind:
            rows.append({"host": h, "what": f"{len(blind)} controls", "why": "", "controls": blind})
    return rows


def render_html(results: Results) -> str:
    """The report as one HTML document."""
    template = _environment().from_string(_template_source())
    target = results.run.target_level
    return template.render(
        r=results,
        strategies=results.framework.groups,
        top=results.framework.top,
        distribution_keys=[
            "0",
            *map(str, results.framework.levels),
            "not_applicable",
            "not_assessed",
            "no_visibility",
        ],
        outcomes=list(Outcome),
        coverage=_coverage(results),
        heat=[(h, host_meets(h, target)) for h in results.hosts],
        fleet_met=fleet_meets(results),
        policy_version=results.run.policy.get("version", ""),
        policy_json=json.dumps(results.run.policy, sort_keys=True),
        csp=CSP,
        print_script=PRINT_SCRIPT,
        level_fill_map={
            **{
                level_text(k): level_fill(k, results.framework.top)
                for k in level_fills(results.framework.top)
            },
            "not applicable": "#" + NOT_APPLICABLE_FILL,
        },
        na_fill=NOT_APPLICABLE_FILL,
    )


def write_html(results: Results, path: Path) -> None:
    """Write the self-contained HTML report atomically."""
    write_text_atomic(path, render_html(results))
