"""Dedup operators: global, they see every document's signature before deciding."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa
import xxhash

from gristmill.batch import Batch
from gristmill.ops.base import GlobalOperator, OpParams, SignatureSource, cut_per_chunk
from gristmill.ops.registry import register

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_WS = re.compile(r"\s+")


class ExactDedupParams(OpParams):
    lowercase: bool = False
    collapse_whitespace: bool = True
    strip_punctuation: bool = False


def dedup_key(text: str, lowercase: bool, collapse_whitespace: bool, strip_punctuation: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.casefold()
    if strip_punctuation:
        text = _PUNCT.sub("", text)
    if collapse_whitespace:
        text = _WS.sub(" ", text).strip()
    return text


def first_occurrences(keys: np.ndarray) -> np.ndarray:
    """Mask of rows whose (n, 2) uint64 key is seen for the first time, in row order."""
    n = len(keys)
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    order = np.lexsort((np.arange(n), keys[:, 1], keys[:, 0]))
    k = keys[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (k[1:, 0] != k[:-1, 0]) | (k[1:, 1] != k[:-1, 1])
    keep[order[new_group]] = True
    return keep


@register
class ExactDedup(GlobalOperator):
    name = "exact_dedup"
    family = "dedup"
    description = """Remove exact duplicates: documents whose text is identical after light normalisation
    (Unicode NFC, whitespace collapsed; optionally lower-cased and without punctuation). The first
    occurrence in input order is kept. State is a 128-bit hash per document, never the text, so it scales to
    large corpora. Use it in every pretraining recipe; for documents that differ by a few words use
    near-duplicate (MinHash) dedup instead."""
    Params = ExactDedupParams
    cost = "cheap"

    def signature(self, batch: Batch) -> pa.Array:
        p = self.params
        digests = b"".join(
            xxhash.xxh3_128_digest(dedup_key(t, p.lowercase, p.collapse_whitespace, p.strip_punctuation).encode())
            for t in batch.texts()
        )
        return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), batch.num_rows, [None, pa.py_buffer(digests)])

    def decide(self, signatures: SignatureSource) -> dict[int, np.ndarray]:
        ids, parts = [], []
        for cid, arr in signatures:
            ids.append((cid, len(arr)))
            parts.append(np.frombuffer(arr.buffers()[1], dtype=np.uint64, count=2 * len(arr), offset=arr.offset * 16))
        if not parts:
            return {}
        keys = np.concatenate(parts).reshape(-1, 2)
        return cut_per_chunk(ids, first_occurrences(keys))
