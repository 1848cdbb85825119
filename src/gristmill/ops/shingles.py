"""Vectorised text normalisation, tokenisation and n-gram hashing for a whole batch at once.

Near-duplicate dedup and decontamination both need "the set of hashed n-grams of each document". Doing
that one document and one n-gram at a time in Python (join the words, hash the string) is what makes
peer implementations slow. Here the normalisation and word splitting run in Arrow's C++ kernels over the
whole batch, each *distinct* token of the batch is hashed once with xxhash, and n-gram hashes are derived
from the token hashes with a few numpy operations (an order-sensitive 64-bit mix of the n token hashes).

The result is a flat ``uint64`` array of n-gram hashes plus ``offsets`` (CSR layout): the n-grams of
document ``i`` are ``hashes[offsets[i]:offsets[i + 1]]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

ShingleUnit = Literal["word", "char"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche (wrapping uint64 arithmetic)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


@dataclass(frozen=True)
class Normalization:
    """How text is simplified before shingling (defaults follow datatrove's MinHash text normalisation)."""

    lowercase: bool = True
    strip_punctuation: bool = True
    normalize_numbers: bool = True
    strip_accents: bool = False


def normalize_texts(texts: pa.Array | Sequence[str], norm: Normalization) -> pa.Array:
    """Simplify every text with Arrow kernels: NFC/NFD, lower case, digits -> 0, punctuation removed."""
    arr = texts if isinstance(texts, (pa.Array, pa.ChunkedArray)) else pa.array(texts, pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = pc.fill_null(arr, "")
    if norm.strip_accents:
        arr = pc.replace_substring_regex(pc.utf8_normalize(arr, "NFD"), r"\p{Mn}+", "")
        arr = pc.utf8_normalize(arr, "NFC")
    else:
        arr = pc.utf8_normalize(arr, "NFC")
    if norm.lowercase:
        arr = pc.utf8_lower(arr)
    if norm.normalize_numbers:
        arr = pc.replace_substring_regex(arr, r"\p{Nd}+", "0")
    if norm.strip_punctuation:
        arr = pc.replace_substring_regex(arr, r"[\p{P}\p{S}]+", "")
    return arr


def _token_hashes(values: pa.Array) -> np.ndarray:
    """xxh3-64 of every token, hashing each distinct token of the batch only once."""
    if len(values) == 0:
        return np.zeros(0, np.uint64)
    enc = pc.dictionary_encode(values)
    uniq = enc.dictionary.to_pylist()
    table = np.fromiter((xxhash.xxh3_64_intdigest(t.encode()) for t in uniq), np.uint64, len(uniq))
    return table[enc.indices.to_numpy(zero_copy_only=False)]


def tokenize(texts: pa.Array, unit: ShingleUnit) -> tuple[np.ndarray, np.ndarray]:
    """Per-token 64-bit hashes and CSR offsets. ``word``: whitespace tokens; ``char``: code points with
    whitespace runs collapsed to one space (so layout changes do not matter)."""
    n_docs = len(texts)
    if unit == "word":
        lists = pc.utf8_split_whitespace(texts)
        flat = lists.flatten()
        counts = np.diff(lists.offsets.to_numpy())
        nonempty = pc.greater(pc.utf8_length(flat), 0).to_numpy(zero_copy_only=False)
        doc_of = np.repeat(np.arange(n_docs), counts)[nonempty]
        hashes = _token_hashes(flat.filter(pa.array(nonempty)))
        counts = np.bincount(doc_of, minlength=n_docs)
    else:
        collapsed = pc.utf8_trim_whitespace(pc.replace_substring_regex(texts, r"\s+", " "))
        parts, lens = [], np.zeros(n_docs, np.int64)
        for i, t in enumerate(collapsed.to_pylist()):
            cps = np.frombuffer(t.encode("utf-32-le"), np.uint32)
            parts.append(cps)
            lens[i] = len(cps)
        cps = np.concatenate(parts) if parts else np.zeros(0, np.uint32)
        hashes = mix64(cps.astype(np.uint64) + _GOLD)
        counts = lens
    offsets = np.zeros(n_docs + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return hashes, offsets


def ngram_hashes(tok: np.ndarray, offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Order-sensitive hashes of every run of ``n`` consecutive tokens inside each document.

    A document with fewer than ``n`` (but at least one) tokens yields one n-gram made of all its tokens, so
    short documents still have a fingerprint; an empty document yields none.
    """
    n_docs = len(offsets) - 1
    counts = np.diff(offsets)
    total = len(tok)
    if total == 0:
        return np.zeros(0, np.uint64), np.zeros(n_docs + 1, np.int64)
    # Combine windows over the flat array, then keep only windows that lie inside one document.
    acc = np.zeros(total, np.uint64)
    doc_end = np.repeat(offsets[1:], counts)
    pos = np.arange(total)
    for k in range(n):
        shifted = np.zeros(total, np.uint64)
        if k < total:
            shifted[: total - k] = tok[k:]
        inside = pos + k < doc_end
        acc = np.where(inside, mix64(acc * _GOLD + shifted + np.uint64(k + 1)), acc)
    out_counts = np.where(counts >= n, counts - n + 1, np.minimum(counts, 1))
    starts = np.repeat(offsets[:-1], out_counts)
    rank = np.arange(out_counts.sum()) - np.repeat(np.cumsum(out_counts) - out_counts, out_counts)
    hashes = acc[starts + rank]
    out_offsets = np.zeros(n_docs + 1, np.int64)
    np.cumsum(out_counts, out=out_offsets[1:])
    return hashes, out_offsets


def shingle_hashes(
    texts: pa.Array | Sequence[str], unit: ShingleUnit, n: int, norm: Normalization
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise, tokenise and hash the n-gram shingles of every document (CSR: hashes, offsets)."""
    tok, offsets = tokenize(normalize_texts(texts, norm), unit)
    return ngram_hashes(tok, offsets, n)
