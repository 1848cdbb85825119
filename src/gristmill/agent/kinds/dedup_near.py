"""Near dedup: no two kept documents share most of their word 5-grams (MinHash LSH, Jaccard threshold)."""

from __future__ import annotations

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
from gristmill.agent.plan import Plan, PlanStep
from gristmill.agent.requirement import Requirement


def near_text(t: float, n: int = 5) -> str:
    return f"no near-duplicate pairs with word-{n}-gram Jaccard ≥ {t}"


def minhash_step(kind: RequirementKind, plan: Plan, threshold: float, why: str, n: int = 5) -> list[PlanStep]:
    """One MinHash step per plan: a second near-dup request lowers the existing step's threshold instead."""
    existing = next((s for s in plan.steps if s.op == "minhash_dedup"), None)
    if existing is not None:
        if threshold < existing.params.get("threshold", 0.8):
            existing.params["threshold"] = threshold
            existing.why += f"; threshold lowered to {threshold} ({kind.name})"
        return []
    return [kind.step("minhash_dedup", {"threshold": threshold, **({"n": n} if n != 5 else {})}, why=why)]


def near_pairs_check(kind: RequirementKind, req: Requirement, dry: DryRun, t: float, note: str = "", n: int = 5) -> Check:
    from gristmill.agent.profile import near_dup_pairs

    texts = dry.kept_texts
    pairs = near_dup_pairs(texts, t, n)
    ex = ""
    if pairs:
        ids = dry.kept.column("id").to_pylist()
        a, b, j = pairs[0]
        ex = f"; e.g. {ids[a]} ~ {ids[b]} (Jaccard {j})"
    # MinHash is probabilistic: a pair or two in hundreds of documents is within its false-negative rate
    allowed = max(0, int(0.002 * len(texts)))
    return kind.result(req, len(pairs) <= allowed, f"{len(pairs)} kept pairs with exact word-{n}-gram Jaccard >= {t}{note}{ex}",
                       {"pairs": len(pairs)})


def lower_minhash(ctx: RepairContext) -> None:
    for s in ctx.plan.steps:
        if s.op == "minhash_dedup":
            t = round(max(0.5, s.params.get("threshold", 0.8) - 0.1), 2)
            s.params.update(threshold=t, num_perm=256)
            s.why += f"; repair: LSH threshold lowered to {t} with 256 permutations (pairs above the target remained)"
            ctx.actions.append(f"MinHash threshold lowered to {t}, 256 permutations")


@register
class DedupNear(RequirementKind):
    name = "dedup_near"
    description = "no near-duplicate pairs (word 5-gram Jaccard) among the kept documents"
    rank, order = 31, 11
    query = "remove near duplicate documents minhash jaccard similarity"
    families, drives = frozenset({"dedup"}), ("minhash_dedup",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        w = dedup_wording(goal)
        if w.off or w.near_off:
            return []
        t = w.threshold or 0.8
        params = {"threshold": t, **({"n": w.n} if w.n and w.n != 5 else {})}
        text = near_text(t, w.n or 5)
        if w.near:
            return [self.requirement(params, text, w.near.group(0), span=w.near.span(), read=w.generic_spans)]
        if w.generic and not (w.exact or w.semantic):
            assumption = None if w.threshold else f"near-duplicate threshold Jaccard {t} (FineWeb/datatrove default)"
            return [self.requirement(params, text, w.generic.group(0), assumption, span=w.generic.span(), read=w.generic_spans)]
        return []

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        self.choose(req, ctx.index)
        t = req.params.get("threshold", 0.8)
        n = req.params.get("n", 5)
        return minhash_step(self, ctx.plan, t, f"near duplicates at word-{n}-gram Jaccard >= {t} (sample: "
                                               f"{ctx.profile.near_dup_rate:.1%} of documents in a pair >= 0.8)", n)

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        return near_pairs_check(self, req, dry, req.params.get("threshold", 0.8), n=req.params.get("n", 5))

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        lower_minhash(ctx)
