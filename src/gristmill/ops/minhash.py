"""MinHash-LSH near-duplicate dedup (Broder 1997; LSH banding as in Leskovec et al., *Mining of Massive
Datasets*, ch. 3; as used for GPT-3, The Pile, RefinedWeb and FineWeb).

Pipeline: shingles (word or character n-grams of normalised text) -> one 32-bit hash per shingle -> MinHash
signature with ``num_perm`` universal hash functions ``((a*x + b) mod (2^61 - 1)) mod 2^32``, computed for
a whole batch as one numpy matrix operation per block of shingles -> ``bands`` band hashes of ``rows``
values each. Two documents become candidates when any band hash is equal; with ``verify`` (default) a
candidate pair is joined only when its MinHash estimate of Jaccard reaches the threshold (b-bit MinHash,
Li & Konig 2010: one byte per value). Joined pairs form clusters through a union-find, and one document per
cluster is kept (first, longest, or highest score). Only hashes travel to the decide phase, never text:
8 bytes per band, one sort key, and num_perm bytes when verifying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, model_validator

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops.base import GlobalOperator, Operator, OpParams, Signal, SignatureSource, cut_per_chunk
from gristmill.ops.registry import register
from gristmill.ops.shingles import Normalization, mix64, shingle_hashes

MERSENNE_61 = np.uint64((1 << 61) - 1)
trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 names it trapz
_MASK32 = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint32(0xFFFFFFFF)
_BITS_DTYPE = {8: np.uint8, 16: np.uint16, 32: np.uint32}


# -- choosing bands x rows ---------------------------------------------------------------------------------
def candidate_probability(s: np.ndarray | float, bands: int | np.ndarray, rows: int | np.ndarray) -> np.ndarray:
    """Probability that two documents with Jaccard ``s`` share at least one band: 1 - (1 - s^r)^b."""
    return 1.0 - (1.0 - np.asarray(s, dtype=np.float64) ** rows) ** bands


@lru_cache(maxsize=256)
def optimal_bands_rows(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """The (bands, rows) with ``bands * rows <= num_perm`` minimising the weighted area of false positives
    (candidate probability below the threshold) plus false negatives (miss probability above it)."""
    grid = 512
    lo = np.linspace(0.0, threshold, grid)
    hi = np.linspace(threshold, 1.0, grid)
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bands = np.array([b for b, _ in pairs], dtype=np.float64)[:, None]
    rows = np.array([r for _, r in pairs], dtype=np.float64)[:, None]
    # every pair at once (each process that builds the operator paid ~0.1 s looping over 1,466 pairs)
    fp = trapezoid(candidate_probability(lo[None, :], bands, rows), lo, axis=1)
    fn = trapezoid(1.0 - candidate_probability(hi[None, :], bands, rows), hi, axis=1)
    errors = fp_weight * fp + fn_weight * fn
    best, best_err = (1, 1), np.inf
    for pair, err in zip(pairs, errors.tolist()):  # the first pair clearly better than those before it
        if err < best_err - 1e-12:
            best, best_err = pair, err
    return best


# -- signatures -------------------------------------------------------------------------------------------
class MinHasher:
    """``num_perm`` hash functions ``h_i(x) = ((a_i x + b_i) mod p) mod 2^32`` with p = 2^61 - 1.

    Shingle hashes are 32-bit and ``a_i, b_i < 2^32``, so ``a_i x + b_i < 2^64`` never overflows and the
    Mersenne reduction is exact.
    """

    def __init__(self, num_perm: int, seed: int = 1, block_rows: int = 4096) -> None:
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self.a = rng.integers(1, 1 << 32, size=num_perm, dtype=np.uint64)
        self.b = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint64)
        self.block_rows = block_rows

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(documents, num_perm) uint32 MinHash matrix; documents without shingles get all 0xFFFFFFFF.

        Works on blocks of ``block_rows`` shingles laid out (num_perm, block) so that every numpy pass is
        contiguous and the block stays in cache; buffers are reused across blocks.
        """
        n_docs = len(offsets) - 1
        out = np.full((self.num_perm, n_docs), _EMPTY, np.uint32)
        total = len(hashes)
        if total:
            x32 = hashes >> np.uint64(32)  # top 32 bits of the 64-bit shingle hash
            doc_of = np.repeat(np.arange(n_docs), np.diff(offsets))
            width = min(self.block_rows, total)
            buf = np.empty((self.num_perm, width), np.uint64)
            tmp = np.empty((self.num_perm, width), np.uint64)
            a, b = self.a[:, None], self.b[:, None]
            for start in range(0, total, self.block_rows):
                xs = x32[start : start + self.block_rows]
                m = len(xs)
                v, t = buf[:, :m], tmp[:, :m]
                np.multiply(a, xs[None, :], out=v)
                v += b
                np.right_shift(v, np.uint64(61), out=t)  # v mod (2^61 - 1) = (v & p) + (v >> 61), once more
                v &= MERSENNE_61
                v += t
                np.subtract(v, MERSENNE_61, out=v, where=v >= MERSENNE_61)
                docs = doc_of[start : start + m]
                seg = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
                partial = np.minimum.reduceat(v.astype(np.uint32), seg, axis=1)  # astype keeps low 32 bits
                cols = docs[seg]
                out[:, cols] = np.minimum(out[:, cols], partial)
        return np.ascontiguousarray(out.T)


def band_hashes(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(documents, bands) uint64: one hash of each band of ``rows`` consecutive MinHash values."""
    n = sig.shape[0]
    s = sig[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    h = np.full((n, bands), np.uint64(0x243F6A8885A308D3), np.uint64)
    salt = mix64(np.arange(1, rows + 1, dtype=np.uint64))
    for k in range(rows):
        h = mix64(h ^ (s[:, :, k] + salt[k]))
    return h


# -- union-find -------------------------------------------------------------------------------------------
def connected_components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised union-find: label of each of ``n`` nodes = smallest node index in its component.

    Union by smaller index (hooking roots onto smaller roots), path compression by pointer jumping,
    repeated until every edge joins two nodes with the same root.
    """
    parent = np.arange(n, dtype=np.int64)
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    while True:
        ru, rv = parent[u], parent[v]
        differ = ru != rv
        if not differ.any():
            return parent
        u, v = u[differ], v[differ]
        lo, hi = np.minimum(ru[differ], rv[differ]), np.maximum(ru[differ], rv[differ])
        np.minimum.at(parent, hi, lo)
        while True:  # compress every path to its root
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt


def keep_one_per_cluster(labels: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Keep mask choosing, in each cluster, the row with the largest ``key`` (ties: earliest row)."""
    n = len(labels)
    key = np.where(np.isnan(key), -np.inf, key)
    order = np.lexsort((np.arange(n), -key, labels))
    first = np.ones(n, bool)
    first[1:] = labels[order[1:]] != labels[order[:-1]]
    keep = np.zeros(n, bool)
    keep[order[first]] = True
    return keep


# -- operator ---------------------------------------------------------------------------------------------
class MinHashParams(OpParams):
    threshold: float = Field(0.8, gt=0.0, lt=1.0, description="target Jaccard similarity of near-duplicates")
    shingle: Literal["word", "char"] = Field(
        "word", description="shingle unit: word n-grams or character n-grams"
    )
    n: int = Field(5, ge=1, le=64, description="shingle length in units (datatrove/FineWeb: 5 words)")
    num_perm: int = Field(
        256, ge=8, le=1024, description="number of MinHash functions (more: less estimate noise)"
    )
    bands: int | None = Field(None, ge=1, le=1024, description="LSH bands (None: derived from threshold)")
    rows: int | None = Field(None, ge=1, le=1024, description="MinHash values per band (None: derived)")
    false_positive_weight: float = Field(
        0.1, ge=0.0, le=1.0, description="weight of the false-positive area (low: verification removes them)"
    )
    false_negative_weight: float = Field(0.9, ge=0.0, le=1.0, description="weight of the false-negative area")
    verify: bool = Field(
        True,
        description="also ship the MinHash signature (verify_bits/8 bytes x num_perm per document) and join a "
        "candidate pair only when its estimated Jaccard reaches the threshold: fewer false positives",
    )
    verify_bits: Literal[8, 16, 32] = Field(
        8,
        description="bits kept of each MinHash value for verification (b-bit MinHash, Li & Konig 2010); the "
        "estimate is corrected for chance collisions of the low bits",
    )
    keep: Literal["first", "longest", "score"] = Field(
        "first", description="which document of a cluster survives: first in input order, longest, best score"
    )
    score_column: str | None = Field(None, description="signal column to maximise when keep='score'")
    seed: int = Field(1, ge=0, description="seed of the hash functions (same seed, same result)")
    lowercase: bool = True
    strip_punctuation: bool = True
    normalize_numbers: bool = Field(True, description="replace every run of digits by 0 before shingling")
    strip_accents: bool = False

    @model_validator(mode="after")
    def _check(self) -> MinHashParams:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they are derived from threshold)")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        if self.keep == "score" and not self.score_column:
            raise ValueError("keep='score' needs score_column (a signal column such as 'quality.score')")
        return self


@dataclass
class ClusterDecision:
    """Per chunk: the keep mask and the size of each row's near-duplicate cluster."""

    keep: dict[int, np.ndarray] = field(default_factory=dict)
    cluster_size: dict[int, np.ndarray] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def get(self, chunk_id: int) -> np.ndarray | None:
        return self.keep.get(chunk_id)

    @classmethod
    def from_rows(cls, chunks: list[tuple[int, int]], keep: np.ndarray, sizes: np.ndarray, stats: dict[str, Any]) -> ClusterDecision:
        """Cut row-order arrays over the whole dataset back into per-chunk pieces (chunks: (id, rows))."""
        return cls(keep=cut_per_chunk(chunks, keep), cluster_size=cut_per_chunk(chunks, sizes), stats=stats)

    def apply(self, op: Operator, batch: Batch, chunk_id: int) -> np.ndarray | None:
        """Write the cluster-size signal of ``op`` and return the chunk's keep mask."""
        sizes = self.cluster_size.get(chunk_id)
        if sizes is not None:
            batch.set_column(op.signal_column("cluster_size"), pa.array(sizes, pa.int64()))
        return self.keep.get(chunk_id)


@register
class MinHashDedup(GlobalOperator):
    name = "minhash_dedup"
    family = "dedup"
    description = """Remove near-duplicate documents (same article with different boilerplate, small edits,
    mirrored pages) with MinHash locality-sensitive hashing: documents whose shingle sets have an estimated
    Jaccard similarity around or above `threshold` are clustered and one per cluster is kept (the first,
    the longest, or the one with the highest score signal). Word 5-gram shingles suit natural-language
    text; character shingles suit short texts, code and languages without spaces (Chinese, Japanese).
    Use after exact_dedup in a pretraining recipe. State is a few band hashes per document."""
    Params = MinHashParams
    signals = (
        Signal("cluster_size", "int", "documents in this document's near-duplicate cluster (1: unique)"),
    )
    cost = "moderate"
    drop_rule = "near_duplicate"
    references = (
        "Broder, On the resemblance and containment of documents, 1997",
        "Leskovec, Rajaraman, Ullman, Mining of Massive Datasets, ch. 3 (LSH banding)",
        "Penedo et al., The FineWeb Datasets, 2024 (5-gram shingles, 14x8 buckets)",
    )

    def __init__(self, params: OpParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        p: MinHashParams = self.params  # type: ignore[assignment]
        if p.bands is not None and p.rows is not None:
            self.bands, self.rows = p.bands, p.rows
        else:
            self.bands, self.rows = optimal_bands_rows(
                p.threshold, p.num_perm, p.false_positive_weight, p.false_negative_weight
            )
        self._hasher = MinHasher(p.num_perm, p.seed)
        self._norm = Normalization(p.lowercase, p.strip_punctuation, p.normalize_numbers, p.strip_accents)

    # -- phase 1 ------------------------------------------------------------------------------------------
    def minhash(self, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
        """(rows, num_perm) MinHash matrix of a batch, and the mask of documents without any shingle."""
        p: MinHashParams = self.params  # type: ignore[assignment]
        hashes, offsets = shingle_hashes(batch.table.column(batch.text_field), p.shingle, p.n, self._norm)
        return self._hasher.signatures(hashes, offsets), np.diff(offsets) == 0

    def _sort_key(self, batch: Batch) -> np.ndarray:
        p: MinHashParams = self.params  # type: ignore[assignment]
        if p.keep == "longest":
            col = batch.table.column(batch.text_field)
            return pc.fill_null(pc.utf8_length(col), 0).to_numpy().astype(np.float64)
        if p.keep == "score":
            if p.score_column not in batch.column_names:
                raise UsageError(
                    f"{self.step}: score_column {p.score_column!r} is not a column of the data; "
                    f"available: {batch.column_names}"
                )
            col = batch.table.column(p.score_column)
            return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        return np.zeros(batch.num_rows)

    def signature(self, batch: Batch) -> pa.Array:
        sig, empty = self.minhash(batch)
        n = batch.num_rows
        bands = band_hashes(sig, self.bands, self.rows)
        validity = pa.py_buffer(np.packbits(~empty, bitorder="little").tobytes()) if empty.any() else None
        fields = [
            pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(8 * self.bands), n, [validity, pa.py_buffer(bands.tobytes())]
            ),
            pa.array(self._sort_key(batch), pa.float64()),
        ]
        names = ["bands", "key"]
        if self.params.verify:  # type: ignore[attr-defined]
            low = sig.astype(_BITS_DTYPE[self.params.verify_bits])  # type: ignore[attr-defined]  # low bits
            width = low.dtype.itemsize * self._hasher.num_perm
            fields.append(
                pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n, [None, pa.py_buffer(low.tobytes())])
            )
            names.append("minhash")
        return pa.StructArray.from_arrays(fields, names=names)

    # -- phase 2 ------------------------------------------------------------------------------------------
    def decide(self, signatures: SignatureSource) -> ClusterDecision:
        p: MinHashParams = self.params  # type: ignore[assignment]
        chunks, bands_l, keys_l, valid_l, sig_l = [], [], [], [], []
        for cid, arr in signatures:
            chunks.append((cid, len(arr)))
            b = arr.field("bands")
            valid_l.append(b.is_valid().to_numpy(zero_copy_only=False))
            bands_l.append(fixed_binary_to_numpy(b, np.uint64, self.bands))
            keys_l.append(arr.field("key").to_numpy(zero_copy_only=False))
            if p.verify:
                sig_l.append(
                    fixed_binary_to_numpy(arr.field("minhash"), _BITS_DTYPE[p.verify_bits], p.num_perm)
                )
        if not chunks:
            return ClusterDecision()
        bands = np.concatenate(bands_l)
        valid = np.concatenate(valid_l)
        keys = np.concatenate(keys_l).astype(np.float64)
        sig = np.concatenate(sig_l) if p.verify else None
        n = len(valid)
        rows_idx = np.flatnonzero(valid)
        us, vs = [], []
        for j in range(self.bands if rows_idx.size else 0):
            h = bands[rows_idx, j]
            order = np.argsort(h, kind="stable")
            hs, rs = h[order], rows_idx[order]
            start = np.r_[True, hs[1:] != hs[:-1]]
            leader = rs[np.flatnonzero(start)][np.cumsum(start) - 1]
            dup = ~start
            u, v = rs[dup], leader[dup]
            if sig is not None and u.size:
                chance = 2.0**-p.verify_bits  # equal low bits by accident
                sim = ((sig[u] == sig[v]).mean(axis=1) - chance) / (1.0 - chance)
                ok = sim >= p.threshold
                u, v = u[ok], v[ok]
            us.append(u)
            vs.append(v)
        u = np.concatenate(us) if us else np.zeros(0, np.int64)
        v = np.concatenate(vs) if vs else np.zeros(0, np.int64)
        labels = connected_components(n, u, v)
        key = -np.arange(n, dtype=np.float64) if p.keep == "first" else keys
        keep = keep_one_per_cluster(labels, key)
        sizes = np.bincount(labels, minlength=n)[labels]
        stats = {"documents": n, "candidate_pairs": int(len(u)), "kept": int(keep.sum()), "bands": self.bands, "rows": self.rows}
        return ClusterDecision.from_rows(chunks, keep, sizes, stats)

    # -- phase 3 ------------------------------------------------------------------------------------------
    def apply_decision(self, batch: Batch, chunk_id: int, decision: ClusterDecision) -> np.ndarray | None:
        return decision.apply(self, batch, chunk_id)


def fixed_binary_to_numpy(arr: pa.Array, dtype: type, width: int) -> np.ndarray:
    """View a FixedSizeBinary Arrow array as a (rows, width) numpy matrix (null rows: zeros)."""
    itemsize = np.dtype(dtype).itemsize
    buf = arr.buffers()[1]
    data = np.frombuffer(buf, dtype=dtype, count=(arr.offset + len(arr)) * width)
    out = data.reshape(-1, width)[arr.offset :]
    assert out.shape[1] * itemsize == arr.type.byte_width
    return out
