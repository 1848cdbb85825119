"""Build a corpus with near-duplicates injected at known Jaccard similarities, and its exact ground truth.

Base documents: sections of real technical prose (the Python and Linux documentation sources shipped by
Debian's python3.11-doc and linux-doc packages, or any JSONL with a ``text`` field), ~150-600 words each.
Near-duplicates: copies of base documents edited (word substitutions, deletions, insertions) until the
exact Jaccard similarity of their word 5-gram sets with the original reaches a target drawn uniformly from
[0.5, 1.0]. Ground truth is the exact Jaccard of *every* pair of documents sharing at least one 5-gram
(natural near-duplicates in the base corpus included), computed with Python sets on the same normalised
words the operator sees.
"""

from __future__ import annotations

import gzip
import json
import pickle
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from gristmill.ops.shingles import Normalization, normalize_texts

WORK = Path(__file__).resolve().parents[1] / "_work"
DOC_ROOTS = ["/usr/share/doc/python3.11/html/_sources", "/usr/share/doc/linux-doc-6.1/html/_sources"]
_BLANK = re.compile(r"\n\s*\n")


def iter_sections(roots: list[str] = DOC_ROOTS, min_words: int = 150, max_words: int = 600) -> Iterator[str]:
    """Documents of min_words..max_words words made of consecutive paragraphs of the documentation files."""
    files = sorted(p for r in roots for p in Path(r).rglob("*.rst.txt"))
    if not files:
        raise SystemExit(f"no documentation sources under {roots}: apt-get install python3.11-doc linux-doc")
    for f in files:
        buf: list[str] = []
        words = 0
        for para in _BLANK.split(f.read_text(errors="replace")):
            n = len(para.split())
            if words + n > max_words and words >= min_words:
                yield "\n\n".join(buf)
                buf, words = [], 0
            buf.append(para)
            words += n
        if words >= min_words:
            yield "\n\n".join(buf)


def iter_jsonl(path: str) -> Iterator[str]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            t = json.loads(line).get("text", "")
            if 150 <= len(t.split()) <= 3000:
                yield t


def shingle_sets(texts: list[str], n: int = 5) -> list[set[tuple[str, ...]]]:
    norm = normalize_texts(texts, Normalization()).to_pylist()
    out = []
    for t in norm:
        w = t.split()
        out.append({tuple(w[i : i + n]) for i in range(len(w) - n + 1)} if len(w) >= n else {tuple(w)})
    return out


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def make_near_duplicate(
    text: str, target: float, rng: np.random.Generator, vocab: list[str]
) -> tuple[str, float]:
    """Edit a copy of ``text`` until its 5-gram Jaccard with ``text`` is as close as possible to ``target``."""
    words = text.split()
    base = shingle_sets([text])[0]
    order = rng.permutation(len(words))
    kinds = rng.integers(0, 3, len(words))  # 0 substitute, 1 delete, 2 insert
    fresh = [vocab[i] for i in rng.integers(0, len(vocab), len(words))]

    def edited(m: int) -> str:
        w = list(words)
        for pos, kind, new in sorted(zip(order[:m], kinds[:m], fresh[:m]), reverse=True):
            if kind == 0:
                w[pos] = new
            elif kind == 1:
                del w[pos]
            else:
                w.insert(pos, new)
        return " ".join(w)

    lo, hi = 0, len(words)
    while lo < hi:  # smallest number of edits with Jaccard <= target
        mid = (lo + hi) // 2
        if jaccard(base, shingle_sets([edited(mid)])[0]) <= target:
            hi = mid
        else:
            lo = mid + 1
    candidates = [m for m in (lo - 1, lo) if m >= 0]
    best = min(candidates, key=lambda m: abs(jaccard(base, shingle_sets([edited(m)])[0]) - target))
    out = edited(best)
    return out, jaccard(base, shingle_sets([out])[0])


def build(
    n_base: int, n_dups: int, seed: int = 0, source: str | None = None
) -> tuple[list[str], list[tuple[int, int, float]]]:
    """Texts (base documents and injected copies shuffled together) and the injected (original, copy, J)."""
    rng = np.random.default_rng(seed)
    it = iter_jsonl(source) if source else iter_sections()
    base = [t for _, t in zip(range(n_base), it)]
    vocab = sorted({w for t in base[:200] for w in t.split() if w.isalpha()})
    picks = rng.choice(len(base), n_dups, replace=n_dups > len(base))
    targets = rng.uniform(0.5, 1.0, n_dups)
    texts = list(base)
    injected = []
    for src, target in zip(picks, targets):
        copy, j = make_near_duplicate(base[src], float(target), rng, vocab)
        texts.append(copy)
        injected.append((int(src), len(texts) - 1, j))
    perm = rng.permutation(len(texts))
    where = np.empty_like(perm)
    where[perm] = np.arange(len(perm))
    texts = [texts[i] for i in perm]
    injected = [(int(where[a]), int(where[b]), j) for a, b, j in injected]
    return texts, injected


def exact_pairs(texts: list[str], n: int = 5, min_j: float = 0.3) -> dict[tuple[int, int], float]:
    """Exact Jaccard of every pair of documents (i < j) that share a shingle, when at least ``min_j``."""
    sets = shingle_sets(texts, n)
    ids: dict[tuple[str, ...], int] = {}
    rows, cols = [], []
    for d, s in enumerate(sets):
        for sh in s:
            rows.append(ids.setdefault(sh, len(ids)))
            cols.append(d)
    sh_arr, doc_arr = np.array(rows), np.array(cols)
    order = np.lexsort((doc_arr, sh_arr))
    sh_arr, doc_arr = sh_arr[order], doc_arr[order]
    starts = np.flatnonzero(np.r_[True, sh_arr[1:] != sh_arr[:-1]])
    ends = np.r_[starts[1:], len(sh_arr)]
    keys = []
    n_docs = len(texts)
    for s, e in zip(starts, ends):
        if e - s < 2:
            continue
        members = doc_arr[s:e]
        i, j = np.triu_indices(len(members), 1)
        keys.append(members[i] * n_docs + members[j])
    if not keys:
        return {}
    pair, inter = np.unique(np.concatenate(keys), return_counts=True)
    sizes = np.array([len(s) for s in sets])
    a, b = pair // n_docs, pair % n_docs
    jac = inter / (sizes[a] + sizes[b] - inter)
    ok = jac >= min_j
    return {(int(x), int(y)): float(z) for x, y, z in zip(a[ok], b[ok], jac[ok])}


def true_duplicates(n_docs: int, pairs: dict[tuple[int, int], float], threshold: float) -> np.ndarray:
    """Documents that have an earlier document with exact Jaccard >= threshold (what keep='first' removes)."""
    dup = np.zeros(n_docs, bool)
    for (a, b), j in pairs.items():
        if j >= threshold:
            dup[max(a, b)] = True
    return dup


def load_corpus(n_base: int, n_dups: int, seed: int, source: str | None):
    WORK.mkdir(parents=True, exist_ok=True)
    cache = WORK / f"dedup_quality_{n_base}_{n_dups}_{seed}_{Path(source).name if source else 'docs'}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    t = time.time()
    texts, injected = build(n_base, n_dups, seed, source)
    pairs = exact_pairs(texts)
    print(f"built corpus in {time.time() - t:.1f}s", file=sys.stderr)
    cache.write_bytes(pickle.dumps((texts, injected, pairs)))
    return texts, injected, pairs


def scores(pred_dup: np.ndarray, true_dup: np.ndarray) -> tuple[float, float, float]:
    tp = int((pred_dup & true_dup).sum())
    p = tp / max(int(pred_dup.sum()), 1)
    r = tp / max(int(true_dup.sum()), 1)
    return p, r, 2 * p * r / max(p + r, 1e-12)
