"""results.json and raw.json are streamed host by host, and the bytes are pydantic's own."""

from __future__ import annotations

import json
from pathlib import Path

from scanner.policy import Policy
from scanner.report.files import json_chunks, write_json_atomic
from scanner.results import Results
from scanner.sweep import assess
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
    host_chunks = [c for c in chunks if '"controls"' in c]
    assert len(host_chunks) == len(names)
    for chunk, name in zip(host_chunks, names, strict=True):
        assert json.dumps(name) in chunk
