"""Regex: every kept document matches (or does not match) a pattern the goal gives ("match /func \\w+\\(/")."""

from __future__ import annotations

import re

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.phrases import negated_before
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

REGEX = re.compile(r"\b(?:regex|regexp|regular expression|pattern)\s*[:=]?\s*(?:/(.+?)/|`(.+?)`|\"(.+?)\"|'(.+?)')|\bmatch(?:es|ing)?\s+/(.+?)/",
                   re.IGNORECASE)


@register
class Regex(RequirementKind):
    name = "regex"
    description = "every kept document matches (or does not match) a regular expression"
    rank, order = 79, 4
    query = "regular expression pattern match"
    families, drives = frozenset({"select"}), ("regex_filter",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        out = []
        for clause in goal.clauses:
            text = goal.text[clause.start : clause.end]
            rx = REGEX.search(text)
            if not rx:
                continue
            pat = next(g for g in rx.groups() if g)
            mode = "exclude" if negated_before(goal.low[clause.start : clause.end], rx.start(), 60) else "include"
            out.append(self.requirement({"pattern": pat, "mode": mode},
                                        f"every kept document {'does not match' if mode == 'exclude' else 'matches'} /{pat}/", pat,
                                        span=(clause.start + rx.start(), clause.start + rx.end())))
        return out

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        return [self.step(op, {"pattern": req.params["pattern"], "mode": req.params["mode"]}, why=f"template operator: {req.text}")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        texts = dry.kept_texts
        pat = re.compile(req.params["pattern"])
        has = sum(1 for t in texts if pat.search(t))
        bad = has if req.params["mode"] == "exclude" else len(texts) - has
        return self.result(req, bad == 0, f"{has} of {len(texts)} kept documents match /{req.params['pattern']}/", {"violations": bad})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
