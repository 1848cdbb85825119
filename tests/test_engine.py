"""The local executor: determinism across worker counts, stable ids, dedup across chunks, the summary."""

from __future__ import annotations

import json

import pytest

from gristmill.engine.layout import Layout
from tests.conftest import ROOT, SAMPLE, gristmill, read_kept, summary, write_recipe
from tests.corpus import make_corpus

STEPS = [
    {"op": "normalize_text"},
    {"op": "length_filter", "params": {"min_words": 5}},
    {"op": "exact_dedup"},
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    make_corpus(root / "in")
    recipe = write_recipe(root / "r.yaml", STEPS, engine={"chunk_rows": 97})
    return root, recipe


def test_same_rows_in_same_order_whatever_the_worker_count(corpus, tmp_path):
    root, recipe = corpus
    outs = {}
    for w in (1, 2, 3):
        out = tmp_path / f"w{w}"
        res = gristmill("run", recipe, "--input", root / "in", "--output", out, "--workers", w)
        assert res.returncode == 0, res.stderr
        outs[w] = read_kept(out, ["id", "text"]).to_pylist()
        s = summary(out)
        assert s["balance"]["holds"] and s["workers"] == w
    assert outs[1] == outs[2] == outs[3]
    assert len(outs[1]) > 1000


def test_summary_counts_per_step_and_dedup_keeps_first_occurrence(corpus, tmp_path):
    root, recipe = corpus
    out = tmp_path / "out"
    assert gristmill("run", recipe, "--input", root / "in", "--output", out, "--workers", "2").returncode == 0
    s = summary(out)
    steps = {st["name"]: st for st in s["steps"]}
    assert s["input"] == 1502 and s["rejected"]["total"] == 2
    assert steps["normalize_text"]["in"] == 1500
    assert steps["length_filter"]["out"] == steps["exact_dedup"]["in"]
    assert steps["exact_dedup"]["out"] == s["kept"]
    assert s["dropped"]["by_step"]["length_filter"]["too_few_words"] > 0
    assert s["dropped"]["by_step"]["exact_dedup"]["duplicate"] > 50
    assert s["input"] == s["kept"] + s["dropped"]["total"] + s["rejected"]["total"]
    assert all(st["seconds"] >= 0 for st in s["steps"])
    texts = read_kept(out, ["text"]).column("text").to_pylist()
    assert len(texts) == len(set(texts))
    # dropped ids + kept ids + rejects account for every row exactly once
    import pyarrow.parquet as pq

    dropped = pq.read_table(Layout(out).dropped_dir).column("id").to_pylist()
    kept_ids = read_kept(out, ["id"]).column("id").to_pylist()
    assert len(set(dropped) | set(kept_ids)) == len(dropped) + len(kept_ids) == 1500
    samples = [json.loads(line) for line in Layout(out).samples.read_text().splitlines()]
    assert {(x["step"], x["rule"]) for x in samples} == {("length_filter", "too_few_words"), ("exact_dedup", "duplicate")}
    assert all(len([x for x in samples if x["rule"] == r]) <= 5 for r in ("too_few_words", "duplicate"))


def test_generated_ids_are_stable_across_runs_and_input_ids_are_kept(corpus, tmp_path):
    root, recipe = corpus
    ids = []
    for k in range(2):
        out = tmp_path / f"o{k}"
        assert gristmill("run", recipe, "--input", root / "in", "--output", out, "--workers", "2").returncode == 0
        ids.append(read_kept(out, ["id"]).column("id").to_pylist())
    assert ids[0] == ids[1]
    assert any(i.startswith("a.jsonl#L") for i in ids[0]) and any(i.startswith("doc-") for i in ids[0])
    assert any(i.startswith("c.parquet#R") for i in ids[0])


def test_summary_records_recipe_hash_input_fingerprints_and_version(corpus, tmp_path):
    root, recipe = corpus
    out = tmp_path / "o"
    gristmill("run", recipe, "--input", root / "in", "--output", out)
    s = summary(out)
    assert len(s["recipe"]["hash"]) == 64
    assert [f["relpath"] for f in s["inputs"]] == ["a.jsonl", "b.jsonl.gz", "c.parquet"]
    assert all(f["fingerprint"].startswith("xxh3-128:") for f in s["inputs"])
    assert s["gristmill_version"]


def test_rerun_of_a_complete_run_is_a_no_op_and_a_different_recipe_is_refused(corpus, tmp_path):
    root, recipe = corpus
    out = tmp_path / "o"
    assert gristmill("run", recipe, "--input", root / "in", "--output", out).returncode == 0
    again = gristmill("run", recipe, "--input", root / "in", "--output", out)
    assert again.returncode == 0 and "already complete" in again.stderr
    other = write_recipe(tmp_path / "other.yaml", STEPS[:2])
    refused = gristmill("run", other, "--input", root / "in", "--output", out)
    assert refused.returncode == 2 and "different recipe" in refused.stderr
    assert gristmill("run", other, "--input", root / "in", "--output", out, "--overwrite").returncode == 0


def test_jsonl_output_on_request(corpus, tmp_path):
    root, _ = corpus
    recipe = write_recipe(tmp_path / "r.yaml", STEPS[:2], output={"format": "jsonl.gz", "keep_signals": False})
    out = tmp_path / "o"
    assert gristmill("run", recipe, "--input", root / "in", "--output", out).returncode == 0
    import gzip

    rows = [json.loads(line) for f in sorted(out.glob("part-*.jsonl.gz")) for line in gzip.decompress(f.read_bytes()).splitlines()]
    assert len(rows) == summary(out)["kept"]
    assert set(rows[0]) == {"id", "text", "domain"}


def test_operator_failure_on_one_document_quarantines_it(tmp_path, monkeypatch):
    """An operator that raises on one document: that document is rejected with the error, the rest go on."""
    from gristmill.engine.local import LocalExecutor, RunOptions
    from gristmill.ops.filters import LengthFilter
    from gristmill.recipe.compile import compile_recipe

    original = LengthFilter.apply

    def fragile(self, batch):
        if any("boom" in t for t in batch.texts()):
            raise ValueError("cannot measure boom")
        return original(self, batch)

    monkeypatch.setattr(LengthFilter, "apply", fragile)
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"id": f"d{i}", "text": "boom here" if i == 3 else f"fine doc {i}"}) + "\n" for i in range(6)))
    recipe = compile_recipe({"steps": [{"op": "length_filter"}]}, input_override=str(inp), output_override=str(tmp_path / "o"))
    result = LocalExecutor(recipe, RunOptions(workers=1, progress=False)).run()
    s = result.summary
    assert (s["kept"], s["rejected"]["by_kind"]) == (5, {"operator_error": 1})
    assert s["balance"]["holds"]


@pytest.mark.skipif(not SAMPLE.exists(), reason="bundled sample not built")
def test_minimal_example_runs_on_the_bundled_sample_with_overrides(tmp_path):
    out = tmp_path / "demo"
    res = gristmill("run", ROOT / "examples/recipes/minimal.yaml", "--input", SAMPLE, "--output", out)
    assert res.returncode == 0, res.stderr
    s = summary(out)
    assert s["balance"]["holds"] and s["kept"] > 1000
    assert s["inputs"][0]["relpath"] == "sample.jsonl.gz"
