"""Per-document signals counted while the run trains: how often each document was drawn and, opt-in, its
loss at its first and at its last draw.

A training sample is a window of ``seq_len + 1`` tokens at an offset ``start`` inside one domain's packed
stream; the documents it trains on are those with a token among the ``seq_len`` it predicts (``start + 1`` to
``start + seq_len``), a range of the shard's index: ``searchsorted(offsets, start + 1, "right") - 1`` to the
same for the window's last token (one index over all domains, so a batch costs two binary searches). Counting a draw for each is two binary searches per sample and an
increment on a difference array (cumulated once, at the end): cheap enough to be on by default. The loss at a
draw needs the per-token loss on the host, one device-to-host copy per micro-batch, so it is opt-in
(``signals.doc_losses``).

Every rank counts its own samples; the state is saved with the rank's sampler state (``rank{r}.pt``), so a
resumed run counts exactly what an uninterrupted one does. At the end, :meth:`DocTracker.finish` sums the
ranks (first draw: the lowest step on any rank; last draw: the highest) and returns one row per training
document, ordered by its row in the input (the catalog version), with the document's id.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import torch

from gristmill.shards import DOC_MAP_FILE, DomainShard, read_doc_map
from gristmill.train import dist


class DocTracker:
    """Draws (and, with ``losses``, first/last-draw losses) per document of every training shard."""

    def __init__(self, shards: list[DomainShard], seq_len: int, losses: bool = False) -> None:
        self.shards, self.seq_len, self.losses = shards, seq_len, losses
        self.offsets = [s.offsets for s in shards]
        # one index over every domain's documents (domain d's tokens shifted by the tokens before it), so a
        # batch's draws are two searchsorted calls and two increments, whatever the number of domains
        n_docs = np.array([s.n_docs for s in shards], dtype=np.int64)
        self.doc_base = np.concatenate([[0], np.cumsum(n_docs)])
        self.token_base = np.concatenate([[0], np.cumsum([s.n_tokens for s in shards])])
        self.flat_offsets = np.concatenate([s.offsets[:-1] + b for s, b in zip(shards, self.token_base, strict=False)]
                                           + [self.token_base[-1:]])
        self.diff = np.zeros(int(self.doc_base[-1]) + 1, dtype=np.int32)  # 4 bytes a document
        if losses:
            self.first_step = [np.full(s.n_docs, np.inf) for s in shards]
            self.first_loss = [np.full(s.n_docs, np.nan) for s in shards]
            self.last_step = [np.full(s.n_docs, -np.inf) for s in shards]
            self.last_loss = [np.full(s.n_docs, np.nan) for s in shards]

    @classmethod
    def for_shards(cls, shards: list[DomainShard], seq_len: int, losses: bool = False) -> DocTracker | None:
        """A tracker when every shard has a document map (shards built from documents with ids), else None."""
        if not shards or any(not (s.path / DOC_MAP_FILE).is_file() for s in shards):
            return None
        return cls(shards, seq_len, losses)

    def add_draws(self, domains: np.ndarray, starts: np.ndarray) -> None:
        """Count one draw for every document each window predicts a token of (start + 1 .. start + seq_len);
        a window never leaves its domain, so its documents are a contiguous range of the flat index."""
        first = self.token_base[domains] + starts
        lo = np.searchsorted(self.flat_offsets, first + 1, side="right") - 1
        hi = np.searchsorted(self.flat_offsets, first + self.seq_len, side="right") - 1
        np.add.at(self.diff, lo, 1)
        np.add.at(self.diff, hi + 1, -1)

    def add_losses(self, step: int, domains: np.ndarray, starts: np.ndarray, token_loss: np.ndarray) -> None:
        """Record each touched document's mean loss over its tokens in the window (``token_loss`` [B, T]: the
        loss of predicting token ``start + 1 + j``) as its last-draw loss, and as its first when it is new."""
        positions = np.arange(1, token_loss.shape[1] + 1)
        for b, (d, s) in enumerate(zip(domains.tolist(), starts.tolist(), strict=True)):
            docs = np.searchsorted(self.offsets[d], s + positions, side="right") - 1
            uniq, inverse = np.unique(docs, return_inverse=True)
            mean = np.bincount(inverse, weights=token_loss[b]) / np.bincount(inverse)
            new = ~np.isfinite(self.first_step[d][uniq])
            self.first_step[d][uniq[new]] = step
            self.first_loss[d][uniq[new]] = mean[new]
            self.last_step[d][uniq] = step
            self.last_loss[d][uniq] = mean

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"diff": self.diff}
        if self.losses:
            state |= {"first_step": self.first_step, "first_loss": self.first_loss, "last_step": self.last_step,
                      "last_loss": self.last_loss}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.diff = np.asarray(state["diff"], dtype=np.int32)
        if self.losses and "first_step" in state:
            for key in ("first_step", "first_loss", "last_step", "last_loss"):
                setattr(self, key, [np.asarray(x, dtype=np.float64) for x in state[key]])

    def finish(self, device: torch.device | str = "cpu") -> pa.Table:
        """Every rank's counts summed (a collective: call on every rank); one row per training document,
        sorted by its input row: ``row``, ``id``, ``domain``, ``draws``, ``first_loss``, ``last_loss``."""
        parts = []
        all_draws = _reduce(np.cumsum(self.diff)[:-1], "sum", device).astype(np.int64)
        for d, shard in enumerate(self.shards):
            draws = all_draws[self.doc_base[d] : self.doc_base[d + 1]]
            doc_map = read_doc_map(shard.path)
            cols: dict[str, Any] = {"row": doc_map.column("row"), "id": doc_map.column("id"),
                                    "domain": pa.array([shard.domain] * shard.n_docs, pa.string()),
                                    "draws": pa.array(draws, pa.int64())}
            if self.losses:
                cols["first_loss"] = _pick(self.first_step[d], self.first_loss[d], "min", device)
                cols["last_loss"] = _pick(self.last_step[d], self.last_loss[d], "max", device)
            else:
                cols["first_loss"] = pa.nulls(shard.n_docs, pa.float64())
                cols["last_loss"] = pa.nulls(shard.n_docs, pa.float64())
            parts.append(pa.table(cols))
        table = pa.concat_tables(parts)
        return table.sort_by("row")


def _reduce(x: np.ndarray, op: str, device: torch.device | str) -> np.ndarray:
    if not dist.is_dist():
        return x
    import torch.distributed as tdist

    t = torch.tensor(np.asarray(x, dtype=np.float64), device=device)  # a copy: the reduction is in place
    tdist.all_reduce(t, op={"sum": tdist.ReduceOp.SUM, "min": tdist.ReduceOp.MIN, "max": tdist.ReduceOp.MAX}[op])
    return t.cpu().numpy()


def _pick(steps: np.ndarray, losses: np.ndarray, op: str, device: torch.device | str) -> pa.Array:
    """The loss recorded at the globally first (``min``) or last (``max``) step over ranks; ranks that drew the
    document at that same step are averaged. Null for a document never drawn."""
    best = _reduce(steps, op, device)
    mine = np.isfinite(best) & (steps == best)
    total = _reduce(np.where(mine, np.nan_to_num(losses), 0.0), "sum", device)
    count = _reduce(mine.astype(np.float64), "sum", device)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = total / count
    return pa.array(value, pa.float64(), mask=count == 0)
