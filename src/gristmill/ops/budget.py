"""Deterministic sampling down to a share of the documents, used to trim a corpus to a token budget.

Each document gets a number in [0, 1) from a hash of its text and a seed; the rule keeps those below
``fraction``. The draw depends only on the content, so the same documents are kept on every engine, with
any number of workers or shards, on a resumed run and when a threshold elsewhere changes. It streams (no
global pass) and meets a budget in expectation: kept tokens ≈ fraction × tokens that reach the step, with a
relative spread of about 1/sqrt(kept documents). An exact cut-off ("the first N tokens") would need a
global ordered pass and would keep whichever documents happen to come first.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

import numpy as np
from pydantic import Field

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import register


class BudgetSampleParams(OpParams):
    decision_params: ClassVar[frozenset[str]] = frozenset({"fraction"})
    fraction: float = Field(1.0, gt=0, le=1, description="share of documents (drawn by content hash) to keep")
    seed: int = Field(0, ge=0, description="change to draw a different subset")


@register
class BudgetSample(Operator):
    name = "budget_sample"
    family = "select"
    description = """Keep a deterministic random share of the documents, drawn by a hash of each document's
    text, to trim the output to a token budget or a target size (cap, limit, at most N tokens, subsample,
    downsample). The same documents are kept on every run, engine and worker count."""
    Params = BudgetSampleParams
    signals = (Signal("u", "float", "uniform number in [0, 1) from the hash of the text and the seed"),)

    def rules(self) -> dict[str, str]:
        p: BudgetSampleParams = self.params  # type: ignore[assignment]
        return {"over_budget": f"{self.signal_column('u')} < {p.fraction!r}"}

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        seed = str(self.params.seed).encode()  # type: ignore[attr-defined]
        texts = batch.texts()
        out = np.empty(len(texts), np.float64)
        for i, t in enumerate(texts):
            h = hashlib.blake2b((t or "").encode("utf-8", "surrogatepass"), digest_size=8, key=seed).digest()
            out[i] = int.from_bytes(h, "big") / 2**64
        return {"u": out}
