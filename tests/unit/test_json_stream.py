"""results.json and raw.json are streamed host by host, and the bytes are pydantic's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from scanner.assess.pipeline import assess
from scanner.assess.results import Results
from scanner.model.policy import Policy
from scanner.record.jsonstream import ItemError, json_chunks, read_model
from scanner.record.raw import RawRecord
from scanner.report.files import write_json_atomic
from tests.unit.test_xlsx import CHECK, HOSTILE, record


def test_streamed_json_is_byte_identical_to_a_whole_dump(tmp_path: Path) -> None:
    raw = record()
    results = assess(raw, [CHECK], Policy())
    for model in (raw, results, results.model_copy(update={"hosts": []})):
        assert "".join(json_chunks(model, "hosts")) == model.model_dump_json(indent=1)
    write_json_atomic(tmp_path / "results.json", results, "hosts")
    text = (tmp_path / "results.json").read_text(encoding="utf-8")
    assert Results.model_validate_json(text) == results
    assert HOSTILE in {h["name"] for h in json.loads(text)["hosts"]}


def test_the_hosts_come_one_chunk_each(tmp_path: Path) -> None:
    results = assess(record(), [CHECK], Policy())
    chunks = list(json_chunks(results, "hosts"))
    names = [h.name for h in results.hosts]
    host_chunks = [c for c in chunks if c.lstrip(",\n").startswith("  {")]
    assert len(host_chunks) == len(names)
    for chunk, name in zip(host_chunks, names, strict=True):
        assert json.dumps(name) in chunk


def test_read_back_a_host_at_a_time_or_whole_in_any_other_layout(tmp_path: Path) -> None:
    raw = record()
    results = assess(raw, [CHECK], Policy())
    for model, kind in ((raw, RawRecord), (results, Results)):
        ours = tmp_path / "ours.json"
        write_json_atomic(ours, model, "hosts")
        assert read_model(ours, kind, "hosts") == model
        minified = tmp_path / "min.json"
        minified.write_text(model.model_dump_json())
        crlf = tmp_path / "crlf.json"
        crlf.write_bytes(ours.read_bytes().replace(b"\n", b"\r\n"))
        for other in (minified, crlf):
            assert read_model(other, kind, "hosts") == model
    empty = results.model_copy(update={"hosts": []})
    write_json_atomic(tmp_path / "empty.json", empty, "hosts")
    assert read_model(tmp_path / "empty.json", Results, "hosts") == empty


def test_a_bad_host_is_named_with_its_line(tmp_path: Path) -> None:
    raw = record()
    path = tmp_path / "raw.json"
    write_json_atomic(path, raw, "hosts")
    lines = path.read_text().splitlines(keepends=True)
    host_starts = [i for i, line in enumerate(lines) if line.rstrip() == "  {"]
    bad = next(i for i in range(host_starts[2], len(lines)) if lines[i].startswith('   "port":'))
    lines[bad] = '   "port": "twenty-two",\n'
    path.write_text("".join(lines))
    with pytest.raises(ItemError) as err:
        read_model(path, RawRecord, "hosts")
    assert err.value.line == host_starts[2] + 1 and err.value.loc == "hosts.2.port"


def test_a_file_cut_short_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "raw.json"
    write_json_atomic(path, record(), "hosts")
    text = path.read_text()
    path.write_text(text[: text.index('"commands"', len(text) // 2)])
    with pytest.raises(ValidationError):
        read_model(path, RawRecord, "hosts")
