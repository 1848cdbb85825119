"""Deterministic sampling down to a share of the tokens, uniform or weighted by a signal.

**Uniform (streaming).** Each document gets a number in [0, 1) from a hash of its text and a seed; the rule
keeps those below ``fraction``. The draw depends only on the content, so the same documents are kept on
every engine, with any number of workers or shards, on a resumed run and when a threshold elsewhere
changes. It streams (no global pass) and meets a budget in expectation: kept tokens ≈ fraction × tokens
that reach the step, with a relative spread of about 1/sqrt(kept documents). An exact cut-off ("the first
N tokens") would need a global ordered pass and would keep whichever documents happen to come first.

**Weighted (global).** With ``weight`` (an expression over signals, e.g. ``exp(-train.r1.loss)``: lower
loss, more likely) or ``max_tokens``, the step samples without replacement with probability increasing in
the weight (Efraimidis & Spirakis 2006, "Weighted random sampling with a reservoir"): each document's key is
``u^(1/w)`` with ``u`` the same content hash, and the documents with the highest keys are kept, in key order,
until the next one would exceed the budget (``fraction`` of the tokens that reach the step, or
``max_tokens``). That needs every key before deciding, so the step is global, like dedup (16 bytes per
document). The budget is then met exactly, never exceeded; a document whose weight is 0, negative or
undefined comes last (kept only when the budget holds everything else). Tokens are estimated as
characters / 4 unless ``tokens`` names a column that counts them (e.g. ``token_count.tokens``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from pydantic import Field, model_validator

from gristmill.batch import Batch, RuleEnv
from gristmill.ops.base import GlobalOperator, OpParams, Signal, SignatureSource
from gristmill.ops.registry import register
from gristmill.recipe.rules import numbers


class BudgetSampleParams(OpParams):
    fraction: float = Field(1.0, gt=0, le=1, description="share of the tokens (and, when uniform, of the documents) to keep")
    seed: int = Field(0, ge=0, description="change to draw a different subset")
    weight: str | None = Field(
        None,
        description="weight each document by this expression over signals (keep-rule language, >= 0), e.g. "
        "exp(-train.r1.loss) or 1 / (1 + train.r1.excess_loss): higher weight, more likely kept; makes the step global",
    )
    max_tokens: int | None = Field(None, ge=1, description="keep at most this many tokens (exact; makes the step global)")
    tokens: str | None = Field(
        None, description="a column or expression counting each document's tokens (default: characters / 4)"
    )

    @model_validator(mode="after")
    def _tokens_need_global(self) -> BudgetSampleParams:
        if self.tokens is not None and self.weight is None and self.max_tokens is None:
            raise ValueError("tokens is used only by a weighted or max_tokens sample (set weight or max_tokens)")
        return self


@dataclass
class BudgetDecision:
    """Per chunk, which rows the weighted sample keeps; and the figures the budget was met with."""

    keep: dict[int, np.ndarray] = field(default_factory=dict)
    budget: float = 0.0
    total_tokens: float = 0.0
    kept_tokens: float = 0.0
    zero_weight: int = 0


@register
class BudgetSample(GlobalOperator):
    name = "budget_sample"
    family = "select"
    description = """Keep a deterministic random share of the documents, drawn by a hash of each document's
    text, to trim the output to a token budget or a target size (cap, limit, at most N tokens, subsample,
    downsample). The same documents are kept on every run, engine and worker count. With `weight`, an
    expression over signals (e.g. `exp(-train.r1.loss)` to prefer what a trained model found easy), or with
    `max_tokens`, it samples without replacement in proportion to the weight and meets the token budget
    exactly (then the step is global)."""
    Params = BudgetSampleParams
    signals = (Signal("u", "float", "uniform number in [0, 1) from the hash of the text and the seed"),)
    expression_params = ("weight", "tokens")
    drop_rule = "over_budget"
    is_global = False  # per step: global when weighted or capped (see __init__)

    def __init__(self, params: BudgetSampleParams | None = None, step: str | None = None) -> None:
        super().__init__(params, step)
        p: BudgetSampleParams = self.params  # type: ignore[assignment]
        self.is_global = p.weight is not None or p.max_tokens is not None  # type: ignore[misc]

    def rules(self) -> dict[str, str]:
        if self.is_global:
            return {}
        p: BudgetSampleParams = self.params  # type: ignore[assignment]
        return {"over_budget": f"{self.signal_column('u')} < {p.fraction!r}"}

    def _uniform(self, batch: Batch) -> np.ndarray:
        seed = str(self.params.seed).encode()  # type: ignore[attr-defined]
        texts = batch.texts()
        out = np.empty(len(texts), np.float64)
        for i, t in enumerate(texts):
            h = hashlib.blake2b((t or "").encode("utf-8", "surrogatepass"), digest_size=8, key=seed).digest()
            out[i] = int.from_bytes(h, "big") / 2**64
        return out

    def apply(self, batch: Batch) -> dict[str, np.ndarray]:
        return {"u": self._uniform(batch)}

    # -- weighted: a global step ----------------------------------------------------------------------------
    def signature(self, batch: Batch) -> pa.Array:
        n = batch.num_rows
        env = RuleEnv(batch)
        u = self._uniform(batch)
        batch.set_column(self.signal_column("u"), u)
        rule = self.expression("weight", batch)
        w = numbers(rule.evaluate(env, n), n) if rule is not None else np.ones(n)
        count = self.expression("tokens", batch)
        if count is not None:
            tokens = np.nan_to_num(numbers(count.evaluate(env, n), n), nan=0.0, posinf=0.0).clip(0, None)
        else:
            tokens = np.fromiter(((len(t or "") + 3) // 4 for t in batch.texts()), np.float64, n)
        return pa.StructArray.from_arrays(
            [pa.array(sample_keys(u, w), pa.float64()), pa.array(tokens, pa.float64()), pa.array(~(w > 0), pa.bool_())],
            names=["key", "tokens", "zero"],
        )

    def decide(self, signatures: SignatureSource) -> BudgetDecision:
        p: BudgetSampleParams = self.params  # type: ignore[assignment]
        sizes, keys, toks, zero = [], [], [], 0
        for cid, arr in signatures:
            sizes.append((cid, len(arr)))
            keys.append(arr.field("key").to_numpy(zero_copy_only=False))
            toks.append(arr.field("tokens").to_numpy(zero_copy_only=False))
            zero += int(np.count_nonzero(arr.field("zero").to_numpy(zero_copy_only=False)))
        if not sizes:
            return BudgetDecision()
        key, tok = np.concatenate(keys), np.concatenate(toks)
        total = float(tok.sum())
        budget = total * p.fraction
        if p.max_tokens is not None:
            budget = min(budget, float(p.max_tokens))
        order = np.lexsort((np.arange(len(key)), -key))  # highest key first; ties in input order
        within = np.cumsum(tok[order]) <= budget
        stop = int(np.argmin(within)) if not within.all() else len(order)
        keep = np.zeros(len(key), dtype=bool)
        keep[order[:stop]] = True
        out = BudgetDecision(budget=budget, total_tokens=total, kept_tokens=float(tok[keep].sum()), zero_weight=zero)
        start = 0
        for cid, n in sizes:
            out.keep[cid] = keep[start : start + n]
            start += n
        return out

    def apply_decision(self, batch: Batch, chunk_id: int, decision: BudgetDecision) -> np.ndarray:
        return decision.keep[chunk_id]  # ``u`` was written beside the signature and travels with the rows


def sample_keys(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Efraimidis–Spirakis keys in log form, ``log(1 - u) / w`` (higher is kept first; ``1 - u`` so that with
    equal weights the kept documents are the lowest ``u``, as in the uniform mode): a weight that is not
    positive (0, negative, NaN) gets -inf, an infinite one 0, the top."""
    u = np.asarray(u, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    logu = np.log1p(-np.minimum(u, 1 - 2.0**-53))  # u = k / 2^64 may round to 1.0
    out = np.full(len(u), -np.inf)
    ok = w > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out[ok] = logu[ok] / w[ok]
    return out
