"""JSONL is parsed by Arrow's reader when a chunk is clean, line by line otherwise: both give the same rows."""

from __future__ import annotations

import json

import pytest

from gristmill.io import parse
from gristmill.io.inputs import resolve_inputs
from gristmill.io.readers import iter_chunks
from tests.conftest import DIRTY, SAMPLE, write_jsonl


def both_paths(path, monkeypatch):
    f = resolve_inputs(str(path))[0]
    chunks = list(iter_chunks(0, f, 500, 1 << 20))
    fast = [parse.parse_chunk(c, f, parse.ParseSpec()) for c in chunks]
    monkeypatch.setattr(parse, "_parse_lines_fast", lambda *a: None)
    slow = [parse.parse_chunk(c, f, parse.ParseSpec()) for c in chunks]
    return fast, slow


@pytest.mark.parametrize("path", [SAMPLE, DIRTY])
def test_fast_and_line_by_line_parsing_agree_on_the_samples(path, monkeypatch):
    fast, slow = both_paths(path, monkeypatch)
    for a, b in zip(fast, slow):
        assert (a.table is None) == (b.table is None)
        if a.table is not None:
            assert a.table.equals(b.table)
        assert [(r["location"], r["kind"]) for r in a.rejects] == [(r["location"], r["kind"]) for r in b.rejects]


def test_dates_stay_strings_and_nested_fields_survive(tmp_path, monkeypatch):
    rows = [
        {"id": 1, "text": "first", "ts": "2019-04-25T12:57:54Z", "meta": {"url": "http://x", "n": 3}, "tags": ["a"]},
        {"id": 2, "text": "second", "ts": "2020-01-01T00:00:00Z", "meta": {"url": "http://y", "n": 4}, "tags": []},
        {"id": 3, "text": "", "ts": "2021-02-03T04:05:06Z", "meta": {"url": "http://z", "n": 5}, "tags": ["b", "c"]},
    ]
    path = write_jsonl(tmp_path / "t.jsonl", [json.dumps(r) for r in rows])
    fast, slow = both_paths(path, monkeypatch)
    assert fast[0].table.equals(slow[0].table)
    assert fast[0].table.column("ts").to_pylist() == ["2019-04-25T12:57:54Z", "2020-01-01T00:00:00Z"]
    assert fast[0].table.column("id").to_pylist() == ["1", "2"]
    assert [r["kind"] for r in fast[0].rejects] == ["empty_text"]
    assert json.loads(fast[0].rejects[0]["raw"])["id"] == 3
