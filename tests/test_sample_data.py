"""The bundled samples, run through the minimal recipe, match what their manifest says was injected."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from gristmill.engine.layout import Layout
from tests.conftest import DIRTY, ROOT, SAMPLE, gristmill, read_kept, read_rejects, summary

MANIFEST = json.loads((ROOT / "data" / "dirty_manifest.json").read_text())


def test_sample_schema_and_domains():
    import gzip

    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    assert all(list(r) == ["id", "text", "source", "domain", "license"] for r in rows)
    domains = {r["domain"] for r in rows}
    assert domains == {"books", "code", "docs", "reference", "legal", "multilingual", "chat"}
    assert len({r["id"] for r in rows}) == len(rows)


def test_dirty_sample_rejects_exactly_the_malformed_lines_and_drops_injected_duplicates(tmp_path):
    out = tmp_path / "out"
    res = gristmill("run", ROOT / "examples/recipes/minimal.yaml", "--input", DIRTY, "--output", out)
    assert res.returncode == 0, res.stderr
    s = summary(out)
    assert s["balance"]["holds"] and s["input"] == MANIFEST["total_lines"]
    malformed_lines = {d["line"] for d in MANIFEST["kinds"]["malformed"]["details"]}
    rejected_lines = {r["location"] for r in read_rejects(out) if r["kind"] != "empty_text"}
    assert rejected_lines == malformed_lines
    # of each group of identical texts (an original, if present, and its injected copies) exactly one is kept
    dropped = pq.read_table(Layout(out).dropped_dir).to_pylist()
    dup_ids = {d["id"] for d in dropped if d["rule"] == "duplicate"}
    kept = set(read_kept(out, ["id"]).column("id").to_pylist())
    groups: dict[str, set[str]] = {}
    for d in MANIFEST["kinds"]["exact_duplicate"]["details"]:
        groups.setdefault(d["original_id"], {d["original_id"]}).add(d["id"])
    present = kept | dup_ids
    for members in groups.values():
        members &= present
        assert len(members & kept) == 1 and len(members & dup_ids) == len(members) - 1, members
    short = {d["id"] for d in MANIFEST["kinds"]["short"]["details"]}
    too_short = {d["id"] for d in dropped if d["rule"] == "too_short"}
    assert short <= too_short | {r["id"] for r in dropped}
