"""Without --out, each scan gets a folder of its own under reports/: two cron scans started in the
same second once shared `reports/scan-<second>` and the second overwrote the first's raw.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli.support import _fresh_dir, writable_dir


def test_a_taken_default_folder_is_never_reused(tmp_path: Path) -> None:
    base = tmp_path / "reports" / "scan-20261207T210000Z"
    assert _fresh_dir(base) == base
    (base / "raw.json").write_text("{}")  # the first scan's output
    assert _fresh_dir(base) == base.with_name(base.name + "-2")
    assert _fresh_dir(base) == base.with_name(base.name + "-3")
    assert (base / "raw.json").read_text() == "{}"


def test_two_scans_without_out_get_two_empty_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = writable_dir(None), writable_dir(None)
    assert first != second
    assert first.parent == second.parent == Path("reports")
    assert list(first.iterdir()) == [] and list(second.iterdir()) == []


def test_an_explicit_out_folder_is_used_as_given(tmp_path: Path) -> None:
    out = tmp_path / "today"
    assert writable_dir(out) == out and writable_dir(out) == out  # --resume reopens it
