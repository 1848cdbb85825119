"""Percentile ranks of a signal within groups: "drop the top 10% by excess loss within each domain".

A threshold such as ``train.r1.excess_loss < 2.5`` means different things in different domains (code and
prose do not share a loss scale) and from one run to the next, while a share does not. A share needs the
distribution over the whole input, so this is a global step, like dedup: while the data streams each
document contributes a compact signature (its value and a 64-bit hash of its group), the ranks are computed
once over all of them, and each chunk then receives its ranks and keep mask.

Definitions, chosen so that a document's fate depends on its value and its group's distribution only, never
on its position, engine or worker count:

- ``rank`` = share of the group's documents (with a value) whose value is ≤ this one's (pandas'
  ``rank(pct=True, method="max")``): in (0, 1], 1 for the group's largest; null when the value is undefined.
- ``drop_top: p`` drops a document when fewer than ``p × n`` documents of its group (``n`` with a value)
  are strictly above it; without ties that is the top ``⌈p × n⌉``; tied documents share a fate.
- ``drop_bottom: p`` is the mirror image (fewer than ``p × n`` strictly below).
- A document whose value is undefined (null, NaN, not a number) is ranked in no group and kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import xxhash
from pydantic import Field, model_validator

from gristmill.batch import Batch, RuleEnv
from gristmill.ops.base import GlobalOperator, OpParams, Signal, SignatureSource
from gristmill.ops.registry import register
from gristmill.recipe.rules import numbers

_NULL_GROUP = np.uint64(0)
_TOLERANCE = 1e-9  # p × n is compared with this slack, so 0.3 × 10 counts as 3, not 2.9999999999999996


class SignalPercentileParams(OpParams):
    of: str = Field(
        description="the value to rank: a column (a signal of an earlier step, an input column such as "
        "train.r1.excess_loss) or an expression over columns in the keep-rule language"
    )
    by: str | None = Field(None, description="a field to rank within (e.g. domain); None: one group, the whole input")
    drop_top: float = Field(0.0, ge=0, lt=1, description="drop this share of each group with the highest values")
    drop_bottom: float = Field(0.0, ge=0, lt=1, description="drop this share of each group with the lowest values")

    @model_validator(mode="after")
    def _shares(self) -> SignalPercentileParams:
        if self.drop_top + self.drop_bottom >= 1:
            raise ValueError(f"drop_top + drop_bottom must be below 1, got {self.drop_top} + {self.drop_bottom}")
        return self


@dataclass
class PercentileDecision:
    """Per chunk: the rank of each row (NaN: undefined) and the keep mask; per group: its size."""

    ranks: dict[int, np.ndarray] = field(default_factory=dict)
    keep: dict[int, np.ndarray] = field(default_factory=dict)
    group_sizes: dict[int, int] = field(default_factory=dict)
    undefined: int = 0


@register
class SignalPercentile(GlobalOperator):
    name = "signal_percentile"
    family = "select"
    description = """Rank documents by a signal within groups (e.g. training loss or excess loss within
    each domain) and optionally drop the top or bottom share of each group: "drop the 10% with the highest
    excess loss in every domain", "remove the documents the last model found hardest". Writes the percentile
    rank as a signal (for later rules) and decides over the whole input, so shares are exact and the same
    on every engine and worker count. Use it instead of a fixed threshold when the signal's scale differs
    between domains or runs."""
    Params = SignalPercentileParams
    reads = ()
    signals = (Signal("rank", "float", "share of the group's documents whose value is <= this one's, in (0, 1]"),)
    expression_params = ("of",)
    column_params = ("by",)
    cost = "cheap"

    @property
    def drop_rule(self) -> str:  # type: ignore[override]
        p: SignalPercentileParams = self.params  # type: ignore[assignment]
        if p.drop_top and p.drop_bottom:
            return "top_or_bottom_share"
        return "bottom_share" if p.drop_bottom else "top_share"

    def signature(self, batch: Batch) -> pa.Array:
        n = batch.num_rows
        rule = self.expression("of", batch)
        values = numbers(rule.evaluate(RuleEnv(batch), n), n)
        values = np.where(np.isfinite(values), values, np.nan)
        return pa.StructArray.from_arrays([pa.array(values, pa.float64()), pa.array(self._groups(batch), pa.uint64())],
                                          names=["v", "g"])

    def _groups(self, batch: Batch) -> np.ndarray:
        by = self.params.by  # type: ignore[attr-defined]
        if by is None:
            return np.ones(batch.num_rows, np.uint64)
        if by not in batch.column_names:
            return np.full(batch.num_rows, _NULL_GROUP, np.uint64)
        out = np.empty(batch.num_rows, np.uint64)
        for i, v in enumerate(batch.column(by).to_pylist()):
            out[i] = _NULL_GROUP if v is None else (xxhash.xxh3_64_intdigest(str(v).encode("utf-8", "surrogatepass")) or 1)
        return out

    def decide(self, signatures: SignatureSource) -> PercentileDecision:
        p: SignalPercentileParams = self.params  # type: ignore[assignment]
        sizes, vs, gs = [], [], []
        for cid, arr in signatures:
            sizes.append((cid, len(arr)))
            vs.append(arr.field("v").to_numpy(zero_copy_only=False))
            gs.append(arr.field("g").to_numpy(zero_copy_only=False))
        if not sizes:
            return PercentileDecision()
        v, g = np.concatenate(vs).astype(np.float64), np.concatenate(gs).astype(np.uint64)
        rank, above, below, n_group = group_ranks(v, g)
        keep = np.ones(len(v), dtype=bool)
        ok = ~np.isnan(v)
        if p.drop_top:
            keep &= ~(ok & (above < p.drop_top * n_group - _TOLERANCE))
        if p.drop_bottom:
            keep &= ~(ok & (below < p.drop_bottom * n_group - _TOLERANCE))
        out = PercentileDecision(undefined=int((~ok).sum()))
        uniq, counts = np.unique(g[ok], return_counts=True)
        out.group_sizes = {int(k): int(c) for k, c in zip(uniq, counts)}
        start = 0
        for cid, n in sizes:
            out.ranks[cid] = rank[start : start + n]
            out.keep[cid] = keep[start : start + n]
            start += n
        return out

    def apply_decision(self, batch: Batch, chunk_id: int, decision: PercentileDecision) -> np.ndarray:
        rank = decision.ranks.get(chunk_id)
        if rank is None or len(rank) != batch.num_rows:
            raise ValueError(f"signal_percentile: chunk {chunk_id} has {batch.num_rows} rows, its decision "
                             f"{0 if rank is None else len(rank)}")
        batch.set_column(self.signal_column("rank"), pa.array(rank, pa.float64(), mask=np.isnan(rank)))
        return decision.keep[chunk_id]


def group_ranks(v: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: rank (share of its group at or below its value), documents strictly above and strictly below
    it, and its group's size; rows whose value is NaN get NaN rank and belong to no group."""
    n = len(v)
    rank = np.full(n, np.nan)
    above = np.zeros(n, np.int64)
    below = np.zeros(n, np.int64)
    size = np.zeros(n, np.int64)
    idx = np.flatnonzero(~np.isnan(v))
    if not len(idx):
        return rank, above, below, size
    order = idx[np.lexsort((v[idx], g[idx]))]
    gs, vs = g[order], v[order]
    m = len(order)
    pos = np.arange(m)
    new_group = np.ones(m, dtype=bool)
    new_group[1:] = gs[1:] != gs[:-1]
    new_value = new_group.copy()
    new_value[1:] |= vs[1:] != vs[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, pos, 0))
    tie_start = np.maximum.accumulate(np.where(new_value, pos, 0))
    # ends: the same scan from the right (the next start, minus one)
    end_group = np.ones(m, dtype=bool)
    end_group[:-1] = new_group[1:]
    end_value = np.ones(m, dtype=bool)
    end_value[:-1] = new_value[1:]
    group_end = np.minimum.accumulate(np.where(end_group, pos, m)[::-1])[::-1]
    tie_end = np.minimum.accumulate(np.where(end_value, pos, m)[::-1])[::-1]
    n_group = group_end - group_start + 1
    at_or_below = tie_end - group_start + 1
    rank[order] = at_or_below / n_group
    above[order] = group_end - tie_end
    below[order] = tie_start - group_start
    size[order] = n_group
    return rank, above, below, size
