"""Model-based signals trained locally: a fast hashed n-gram quality classifier and an n-gram perplexity.

Both models are small numpy files the user trains from their own text (``gristmill model fit-classifier``,
``gristmill model fit-lm``) and an operator then applies: nothing is downloaded.

* The classifier is fastText's idea without fastText: word unigrams and bigrams hashed into 2^20 buckets,
  a logistic regression trained with AdaGrad. It is the "is this like my good data?" filter of GPT-3,
  DCLM and FineWeb-Edu, at a smaller scale.
* The language model is a word trigram model with Jelinek-Mercer interpolation down to an add-one unigram,
  so probabilities are normalised and perplexity means what it says. CCNet used a KenLM 5-gram on
  SentencePiece pieces; ours is simpler and needs no compiled dependency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import xxhash
from pydantic import Field

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register

_WORD = re.compile(r"\w+", re.UNICODE)
DIM_BITS = 20


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def features(text: str, dim_bits: int = DIM_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Hashed unigram + bigram bucket ids and their L2-normalised counts."""
    words = tokens(text)
    grams = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
    if not grams:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    ids = np.fromiter((xxhash.xxh3_64_intdigest(g.encode()) for g in grams), np.uint64, len(grams))
    ids = (ids >> np.uint64(64 - dim_bits)).astype(np.int64)
    uniq, counts = np.unique(ids, return_counts=True)
    vals = counts.astype(np.float64)
    return uniq, vals / np.linalg.norm(vals)


class HashedClassifier:
    """Logistic regression over hashed n-gram features; ``score`` is P(positive)."""

    def __init__(self, weights: np.ndarray, bias: float, dim_bits: int = DIM_BITS) -> None:
        self.weights, self.bias, self.dim_bits = weights, bias, dim_bits

    @classmethod
    def fit(cls, positive: Iterable[str], negative: Iterable[str], epochs: int = 8, lr: float = 0.5,
            l2: float = 1e-6, dim_bits: int = DIM_BITS, seed: int = 0) -> HashedClassifier:
        docs = [(features(t, dim_bits), 1.0) for t in positive] + [(features(t, dim_bits), 0.0) for t in negative]
        if not docs:
            raise UsageError("a classifier needs positive and negative examples")
        w = np.zeros(1 << dim_bits)
        g2 = np.full(1 << dim_bits, 1e-8)
        b, gb2 = 0.0, 1e-8
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            for i in rng.permutation(len(docs)):
                (idx, val), y = docs[i]
                z = float(w[idx] @ val) + b
                p = 1.0 / (1.0 + np.exp(-z))
                grad = (p - y) * val + l2 * w[idx]
                g2[idx] += grad * grad
                w[idx] -= lr * grad / np.sqrt(g2[idx])
                gb = p - y
                gb2 += gb * gb
                b -= lr * gb / np.sqrt(gb2)
        return cls(w, b, dim_bits)

    def score(self, texts: list[str]) -> np.ndarray:
        out = np.empty(len(texts))
        for i, t in enumerate(texts):
            idx, val = features(t, self.dim_bits)
            out[i] = 1.0 / (1.0 + np.exp(-(float(self.weights[idx] @ val) + self.bias)))
        return out

    def save(self, path: str | Path) -> None:
        nz = np.flatnonzero(self.weights)
        np.savez_compressed(path, kind="hashed_classifier", idx=nz, w=self.weights[nz], bias=self.bias, dim_bits=self.dim_bits)

    @classmethod
    def load(cls, path: str | Path) -> HashedClassifier:
        z = _load(path, "hashed_classifier")
        w = np.zeros(1 << int(z["dim_bits"]))
        w[z["idx"]] = z["w"]
        return cls(w, float(z["bias"]), int(z["dim_bits"]))


class NgramLM:
    """Word trigram LM, Jelinek-Mercer interpolated with a bigram and an add-one unigram (normalised)."""

    LAMBDAS = (0.6, 0.3, 0.1)  # trigram, bigram, unigram; a missing context passes its share down

    def __init__(self, keys: list[np.ndarray], counts: list[np.ndarray], ctx_keys: list[np.ndarray],
                 ctx_counts: list[np.ndarray], total: int, vocab: int) -> None:
        self.keys, self.counts, self.ctx_keys, self.ctx_counts = keys, counts, ctx_keys, ctx_counts
        self.total, self.vocab = total, vocab

    @staticmethod
    def _h(*words: str) -> int:
        return xxhash.xxh3_64_intdigest("\x1f".join(words).encode())

    @classmethod
    def fit(cls, texts: Iterable[str]) -> NgramLM:
        from collections import Counter

        grams: list[Counter] = [Counter(), Counter(), Counter()]
        ctx: list[Counter] = [Counter(), Counter()]  # contexts of bigrams (1 word) and trigrams (2 words)
        for t in texts:
            w = ["<s>", "<s>", *tokens(t), "</s>"]
            for i in range(2, len(w)):
                grams[0][cls._h(w[i])] += 1
                grams[1][cls._h(w[i - 1], w[i])] += 1
                grams[2][cls._h(w[i - 2], w[i - 1], w[i])] += 1
                ctx[0][cls._h(w[i - 1])] += 1
                ctx[1][cls._h(w[i - 2], w[i - 1])] += 1

        def arrays(c: Counter) -> tuple[np.ndarray, np.ndarray]:
            k = np.fromiter(c.keys(), np.uint64, len(c))
            v = np.fromiter(c.values(), np.int64, len(c))
            o = np.argsort(k)
            return k[o], v[o]

        g = [arrays(c) for c in grams]
        x = [arrays(c) for c in ctx]
        return cls([a for a, _ in g], [b for _, b in g], [a for a, _ in x], [b for _, b in x],
                   int(g[0][1].sum()), len(grams[0]) + 1)

    @staticmethod
    def _count(keys: np.ndarray, counts: np.ndarray, q: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(keys, q)
        pos = np.minimum(pos, len(keys) - 1) if len(keys) else pos
        hit = (keys[pos] == q) if len(keys) else np.zeros(len(q), bool)
        return np.where(hit, counts[pos] if len(keys) else 0, 0)

    def probs(self, triples: list[tuple[str, str, str]]) -> np.ndarray:
        """P(w | u v) for each (u, v, w)."""
        h = self._h
        uni = np.array([h(w) for _, _, w in triples], np.uint64)
        bi = np.array([h(v, w) for _, v, w in triples], np.uint64)
        tri = np.array([h(u, v, w) for u, v, w in triples], np.uint64)
        c1 = np.array([h(v) for _, v, _ in triples], np.uint64)
        c2 = np.array([h(u, v) for u, v, _ in triples], np.uint64)
        p1 = (self._count(self.keys[0], self.counts[0], uni) + 1) / (self.total + self.vocab)
        n1 = self._count(self.ctx_keys[0], self.ctx_counts[0], c1)
        n2 = self._count(self.ctx_keys[1], self.ctx_counts[1], c2)
        p2 = np.where(n1 > 0, self._count(self.keys[1], self.counts[1], bi) / np.maximum(n1, 1), 0.0)
        p3 = np.where(n2 > 0, self._count(self.keys[2], self.counts[2], tri) / np.maximum(n2, 1), 0.0)
        l3, l2, l1 = self.LAMBDAS
        # an unseen context hands its weight to the lower orders, so every distribution still sums to one
        w3 = np.where(n2 > 0, l3, 0.0)
        w2 = np.where(n1 > 0, l2 + (l3 - w3) * l2 / (l2 + l1), 0.0)
        return w3 * p3 + w2 * p2 + (1.0 - w3 - w2) * p1

    def perplexity(self, text: str) -> float:
        w = ["<s>", "<s>", *tokens(text), "</s>"]
        p = self.probs([(w[i - 2], w[i - 1], w[i]) for i in range(2, len(w))])
        return float(np.exp(-np.log(p).sum() / len(p)))

    def save(self, path: str | Path) -> None:
        arrays = {f"k{i}": k for i, k in enumerate(self.keys)} | {f"c{i}": c for i, c in enumerate(self.counts)}
        arrays |= {f"xk{i}": k for i, k in enumerate(self.ctx_keys)} | {f"xc{i}": c for i, c in enumerate(self.ctx_counts)}
        np.savez_compressed(path, kind="ngram_lm", total=self.total, vocab=self.vocab, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> NgramLM:
        z = _load(path, "ngram_lm")
        return cls([z[f"k{i}"] for i in range(3)], [z[f"c{i}"] for i in range(3)], [z[f"xk{i}"] for i in range(2)],
                   [z[f"xc{i}"] for i in range(2)], int(z["total"]), int(z["vocab"]))


def _load(path: str | Path, kind: str) -> np.lib.npyio.NpzFile:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"model file {path} not found (train one with `gristmill model fit-{'classifier' if kind == 'hashed_classifier' else 'lm'}`)")
    z = np.load(p, allow_pickle=False)
    if str(z["kind"]) != kind:
        raise UsageError(f"{path} holds a {z['kind']}, not a {kind}")
    return z


class ClassifierParams(OpParams):
    model: str = Field(..., min_length=1, description="a .npz written by `gristmill model fit-classifier`")
    threshold: float = Field(0.5, ge=0.0, le=1.0, description="keep documents scoring at least this")


@register
class QualityClassifier(Operator):
    name = "quality_classifier"
    family = "quality"
    description = """Score each document with a fast quality classifier you trained on your own positive and
    negative examples (hashed word unigram+bigram features, logistic regression, fastText-style; train with
    `gristmill model fit-classifier`). Signal: the probability that a document is like the positives; keeps
    documents scoring at least `threshold`. Use it for "keep text like this reference set" goals."""
    Params = ClassifierParams
    signals = (Signal("score", "float", "P(document is like the positive examples)"),)
    cost = "moderate"
    references = ("Joulin et al. 2017, Bag of Tricks for Efficient Text Classification", "Brown et al. 2020 (GPT-3 quality filter)")

    def setup(self) -> None:
        self._model = HashedClassifier.load(self.params.model)

    def rules(self) -> dict[str, str]:
        return {"low_score": f"{self.signal_column('score')} >= {self.params.threshold}"}

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        if not hasattr(self, "_model"):
            self.setup()
        return {"score": self._model.score(batch.texts())}


class PerplexityParams(OpParams):
    model: str = Field(..., min_length=1, description="a .npz written by `gristmill model fit-lm`")
    max_perplexity: float | None = Field(None, gt=0, description="drop documents above this (None: measure only)")


@register
class NgramPerplexity(Operator):
    name = "ngram_perplexity"
    family = "quality"
    description = """Measure each document's perplexity under a word trigram language model trained locally
    on reference text you trust (`gristmill model fit-lm`): low perplexity means the document reads like
    the reference (CCNet's idea, with a smaller model). Optionally drop documents above `max_perplexity`;
    set it from the measured distribution (e.g. the 90th percentile of the reference itself)."""
    Params = PerplexityParams
    signals = (Signal("perplexity", "float", "word-level perplexity under the reference trigram model"),)
    cost = "moderate"
    references = ("Wenzek et al. 2020, CCNet",)

    def setup(self) -> None:
        self._lm = NgramLM.load(self.params.model)

    def rules(self) -> dict[str, str]:
        m = self.params.max_perplexity
        return {} if m is None else {"high_perplexity": f"{self.signal_column('perplexity')} <= {m}"}

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        if not hasattr(self, "_lm"):
            self.setup()
        return {"perplexity": np.array([self._lm.perplexity(t) for t in batch.texts()])}
