"""The README renders as Markdown: every code fence closes, and no section hides inside a fence."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from scanner.assess.target import EXIT_REGRESSION

README = Path(__file__).resolve().parents[2] / "README.md"


def _fence_problems(text: str) -> list[str]:
    lines = text.splitlines()
    problems = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map
        last = lines[end - 1].strip() if end - 1 > start else ""
        closed = last.startswith(token.markup) and set(last) <= set(token.markup[0])
        if not closed:
            problems.append(
                f"README.md line {start + 1}: code fence {token.markup!r} is never closed"
            )
        for offset, line in enumerate(token.content.splitlines()):
            if line.startswith("## "):
                problems.append(
                    f"README.md line {start + 2 + offset}: section heading {line!r} is inside the code "
                    f"fence opened on line {start + 1}"
                )
    return problems


def test_readme_fences_all_close() -> None:
    assert _fence_problems(README.read_text(encoding="utf-8")) == []


def test_fence_check_catches_an_unclosed_fence() -> None:
    broken = (
        "# T\n\n```yaml\ngroups: []\n\n## Outputs\n\ntext\n\n```\nblock\n```\n\nmore\n\n```sh\nx\n"
    )
    problems = _fence_problems(broken)
    assert any("is never closed" in p for p in problems)
    assert any("'## Outputs' is inside" in p for p in problems)


def test_readme_exit_codes_match_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith(f"| {EXIT_REGRESSION} |"))
    assert "regression against the baseline" in row
    assert "later release" not in row


def test_readme_has_no_repeated_sentence_start() -> None:
    text = README.read_text(encoding="utf-8")
    assert "The very first\nThe first run" not in text
    assert text.count("has nothing to compare with") == 1
