"""Exact dedup: no two kept documents have the same (whitespace-normalised) text."""

from __future__ import annotations

import re
from collections import Counter

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds._dedup import dedup_wording
from gristmill.agent.kinds.base import CheckContext, GoalText, PlanContext, RequirementKind, register
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

TEXT = "no two kept documents have identical text"


@register
class DedupExact(RequirementKind):
    name = "dedup_exact"
    description = "no exact duplicates among the kept documents"
    rank, order = 30, 10
    query = "remove exact duplicate documents identical text"
    families, drives = frozenset({"dedup"}), ("exact_dedup",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        w = dedup_wording(goal)
        if w.off:
            return []
        if w.exact:
            return [self.requirement({}, TEXT, w.exact.group(0), span=w.exact.span(), read=w.generic_spans)]
        if w.generic and w.near and re.search(r"\b(?:duplicates|dupes|copies)\b", w.rest):
            return [self.requirement({}, TEXT, w.generic.group(0), span=w.generic.span(), read=w.generic_spans)]
        if w.generic and not (w.near or w.semantic):
            return [self.requirement({}, TEXT, w.generic.group(0), None if w.near_off else "'duplicates' read as exact and near duplicates",
                                     span=w.generic.span(), read=w.generic_spans)]
        return []

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        return [self.step(op, why=f"exact duplicates (sample rate {ctx.profile.exact_dup_rate:.1%})")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.agent.profile import norm_key

        texts = dry.kept_texts
        keys = Counter(norm_key(t) for t in texts)
        dups = sum(c - 1 for c in keys.values() if c > 1)
        return self.result(req, dups == 0, f"{dups} exact duplicates among {len(texts)} kept documents (whitespace-normalised hash)",
                           {"duplicates": dups})
