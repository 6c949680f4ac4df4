"""Every PowerShell snippet e8scan can send parses with an independent PowerShell parser.

The parser is tree-sitter with the PowerShell grammar (PyPI ``tree-sitter-powershell``), not
PowerShell itself: no PowerShell runs on this machine, so this is the boundary of what is tested
here. It catches unbalanced braces, quotes and parentheses, broken pipelines and here-strings.

**The one allowance.** The grammar does not accept a comma-separated list of bare words as a
command argument (``Select-Object Name,Status``), which PowerShell reads as an array of strings.
Before parsing, such lists after ``Select-Object`` / ``Sort-Object`` (and only there) get their
bare words quoted (``'Name','Status'``), which PowerShell reads identically
(:func:`quote_comma_lists`); every other parse error fails the test.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from scanner.checking.loader import load_checks
from scanner.collect import kit, ps_batch
from scanner.collect.kit import kit_plan, platform_host, write_kit
from scanner.inventory.profile import parse_profile
from scanner.model.vocabulary import Platform

ROOT = Path(__file__).resolve().parents[2]
PARSER = Parser(Language(tree_sitter_powershell.language()))
_LIST_START = re.compile(
    r"(?i)\b(?:Select-Object|Sort-Object)(?:\s+-(?:Property|First|Last|Unique|Descending)(?:\s+\d+)?)*\s+"
)
_BARE = re.compile(r"[A-Za-z_][\w.]*")


def _item_end(text: str, i: int) -> int | None:
    """Where the list item at ``i`` ends: a bare name, or ``@{...}`` with balanced braces."""
    if text.startswith("@{", i):
        depth = 0
        for j in range(i + 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return j + 1
        return None
    m = _BARE.match(text, i)
    return m.end() if m else None


def quote_comma_lists(text: str) -> str:
    """The allowance: ``Select-Object A,B,@{...}`` → ``Select-Object 'A','B',@{...}``.

    Quoting bare words that PowerShell already reads as strings changes nothing for PowerShell;
    only lists of two or more items after Select-Object/Sort-Object are touched.
    """
    out, pos = [], 0
    for m in _LIST_START.finditer(text):
        if m.start() < pos:
            continue
        items, i = [], m.end()
        while True:
            end = _item_end(text, i)
            if end is None:
                break
            items.append((i, end))
            k = end
            while k < len(text) and text[k] == " ":
                k += 1
            if k < len(text) and text[k] == ",":
                i = k + 1
                while i < len(text) and text[i] == " ":
                    i += 1
                continue
            break
        if len(items) < 2:
            continue
        for a, b in items:
            out.append(text[pos:a])
            word = text[a:b]
            out.append(word if word.startswith("@{") else f"'{word}'")
            pos = b
    out.append(text[pos:])
    return "".join(out)


def field_kit() -> str:
    """The Windows field kit for every built-in check (``e8scan kit --platform windows``)."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = kit_plan(platform_host(Platform.WINDOWS), load_checks())
        path = write_kit(plan, Path(tmp), False, datetime.now(UTC))
        return path.read_text(encoding="utf-8-sig")


def snippets() -> dict[str, str]:
    """Every Windows command of every built-in check, every ``.ps1`` file, and the batch script."""
    found: dict[str, str] = {}
    for check in load_checks():
        if Platform.WINDOWS not in check.platforms:
            continue
        for key, cmd in check.collect.items():
            args = {cmd.args_var: ["D:/Backups"]} if cmd.args_var else {}
            text = cmd.render(parse_profile(args, lambda name: name), True)
            found.setdefault(text, f"{check.id}:{key}")
    for path in sorted((ROOT / "checks").rglob("*.ps1")):
        found.setdefault(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    script, _ = ps_batch.build(["Get-Date | ConvertTo-Json"], 30)
    found.setdefault(script, "scanner/collect/ps_batch.py (the per-host batch)")
    found.setdefault(field_kit(), "scanner/collect/kit.py (the Windows field kit)")
    return {where: text for text, where in found.items()}


SNIPPETS = snippets()


def error_nodes(node: Node) -> list[Node]:
    if node.is_error or node.is_missing:
        return [node]
    return [e for child in node.children for e in error_nodes(child)]


@pytest.mark.parametrize("where", sorted(SNIPPETS))
def test_snippet_parses(where: str) -> None:
    source = SNIPPETS[where]
    source = quote_comma_lists(source)
    bad = error_nodes(PARSER.parse(source.encode()).root_node)
    lines = source.splitlines()
    detail = [f"line {e.start_point[0] + 1}: {lines[e.start_point[0]][:120]!r}" for e in bad]
    assert not bad, f"{where}: PowerShell syntax errors at " + "; ".join(detail)


def test_the_parser_finds_real_errors() -> None:
    # Guard against a grammar that accepts anything: these must fail.
    for broken in ("if ($a) { Get-Item x", "$x = (Get-Item x", "Get-Item 'x | ConvertTo-Json"):
        assert error_nodes(PARSER.parse(broken.encode()).root_node), broken


def test_the_allowance_quotes_only_comma_lists_after_select_object() -> None:
    src = "Get-X | Select-Object -First 3 Name,Id,@{n='H';e={$_.P -split ','}} | ConvertTo-Json"
    assert quote_comma_lists(src) == (
        "Get-X | Select-Object -First 3 'Name','Id',@{n='H';e={$_.P -split ','}} | ConvertTo-Json"
    )
    assert error_nodes(PARSER.parse(src.encode()).root_node)  # the grammar's known limit
    assert not error_nodes(PARSER.parse(quote_comma_lists(src).encode()).root_node)
    for untouched in ("Write-Output a, b", "Get-X | Select-Object Name", "$x = 1, 2"):
        assert quote_comma_lists(untouched) == untouched


def test_the_field_kit_frame_is_powershell_2() -> None:
    """The kit's own code around the commands uses nothing PowerShell 2.0 lacks."""
    frame = "".join([kit.PS_HEAD, kit.PS_RECORDS, kit.PS_STEP, kit.PS_TAIL, ps_batch.PREAMBLE])
    later = ["[ordered]", "::new(", " -Raw", "class ", "?.", "??", "[pscustomobject]", "using "]
    assert [w for w in later if w.lower() in frame.lower()] == []
    assert "param([string]$Out" in field_kit()  # the kit's parameters, before anything runs
