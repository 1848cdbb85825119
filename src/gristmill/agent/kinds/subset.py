"""Subset: keep a random subset of a given size ("a subset of 40 dialogues", "give me 20 random
conversations", "sample about half of the chats").

Served by ``budget_sample`` (a content-hash draw: the same documents on every engine and rerun) as the last
step. The first dry run keeps everything and records each document's draw; the repair then sets the
fraction between the draws of the N-th and (N+1)-th kept document, so the dry run keeps exactly N (or the
asked share). When the input is larger than the sample, N is scaled to the sample and holds on the full
input in expectation.
"""

from __future__ import annotations

import re

import numpy as np

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import FRACTION, FRACTIONS, NUM, parse_number
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_NOUNS = (r"(?:docs?|documents?|records?|rows?|entries|examples?|samples?|items?|pages?|files?|texts?|dialog(?:ue)?s?|"
          r"conversations?|chats?|threads?|instructions?|pairs?|articles?|posts?)")
_CUE = r"(?:subset|sample|random|randomly|pick|select|choose|take|draw|subsample|downsample|give me|grab)"
_COUNT = re.compile(rf"\b{_CUE}\b[^.;,]{{0,25}}?\b{NUM}\s+(?:random(?:ly chosen)?\s+|distinct\s+|different\s+)?{_NOUNS}\b|"
                    rf"\b{NUM}\s+(?:random(?:ly (?:chosen|picked|selected))?\s+){_NOUNS}\b")
_SHARE = re.compile(rf"\b{_CUE}\b[^.;,]{{0,25}}?\b(?:(?:about|roughly|around|approximately|~)\s+)?(?:({FRACTION})|{NUM}\s*(?:%|percent|per cent))"
                    rf"(?:\s+of)?(?:\s+(?:the|all|my|our))?\s*{_NOUNS}?")


_RANDOM = re.compile(r"\b(?:at random|randomly(?: (?:chosen|picked|selected|drawn))?|random(?:ly)?)\b")


@register
class Subset(RequirementKind):
    name = "subset"
    description = "the output is a random subset of N documents (or of a share of them)"
    rank, order = 112, 14.5
    query = "random subset sample documents deterministic hash"
    families, drives = frozenset({"select"}), ("budget_sample",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        extra = [x.span() for x in _RANDOM.finditer(low)]
        m = _COUNT.search(low)
        if m:
            n = int(parse_number(m.group(1) or m.group(2)))
            if n >= 1:
                return [self.requirement({"count": n}, f"a random subset of {n} documents", m.group(0), span=m.span(),
                                         read=[m.span(), *extra])]
        m = _SHARE.search(low)
        if m:
            v = FRACTIONS[" ".join(m.group(1).split())] if m.group(1) else parse_number(m.group(2)) / 100
            if 0 < v < 1:
                return [self.requirement({"share": round(v, 4)}, f"a random subset of {v:.0%} of the documents", m.group(0),
                                         span=m.span(), read=[m.span(), *extra])]
        return []

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        return [self.step("budget_sample", {"fraction": 1.0, "seed": 0}, None,
                          f"{req.text}: a content-hash draw (the fraction is set from the dry run)", name="subset")]

    def _target(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> tuple[int, int]:
        """(documents the subset step should keep on the sample, documents that reached it)."""
        dropped = sum(dry.summary.get("dropped", {}).get("by_step", {}).get("subset", {}).values())
        reached = dry.summary.get("kept", 0) + dropped
        if "count" in req.params:
            n = req.params["count"]
            total, sample = ctx.total_input_docs, dry.summary.get("input", 0)
            if total and sample and total > sample:  # N on the full input: scaled to the sample
                n = round(n * sample / total)
            return min(n, reached), reached
        return round(req.params["share"] * reached), reached

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        want, reached = self._target(req, dry, ctx)
        kept = dry.summary.get("kept", 0)
        u = dry.kept.column("subset.u").to_numpy(zero_copy_only=False) if "subset.u" in dry.kept.column_names else np.zeros(0)
        frac = None
        if kept > want and len(u) == kept:
            s = np.sort(np.asarray(u, dtype=float))
            frac = float((s[want - 1] + s[want]) / 2) if want > 0 else float(s[0] / 2)
        return self.result(req, kept == want, f"{kept} documents kept, {want} wanted of the {reached} that reach the subset step",
                           {"kept": kept, "wanted": want, "fraction": frac})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        step = next((s for s in ctx.plan.steps if s.name == "subset"), None)
        frac = check.measured.get("fraction")
        if step is None:
            return
        if frac is None:  # fewer kept than wanted: draw from everything again, refine next round
            if step.params.get("fraction", 1.0) < 1.0:
                step.params["fraction"] = 1.0
                ctx.actions.append("subset: fraction reset to 1.0 to measure every draw")
            return
        step.params["fraction"] = round(frac, 9)
        step.why = f"{req.text}: keep the documents whose content-hash draw is below {frac:.6f}"
        ctx.actions.append(f"subset: fraction set to {frac:.6f} to keep {check.measured.get('wanted')} documents")
