"""Boilerplate: no line repeated across many kept documents remains (menus, banners, footers)."""

from __future__ import annotations

import re
from collections import Counter

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_WORDS = re.compile(r"\b(?:boilerplate|cookie (?:banners?|notices?)|nav(?:igation)? (?:menus?|bars?)|footers?|headers and footers|"
                    r"repeated lines|menus|share buttons|templated lines)\b")


@register
class Boilerplate(RequirementKind):
    name = "boilerplate"
    description = "no line repeated across many documents remains"
    rank, order = 130, 6
    query = "boilerplate lines repeated across documents menus cookie"
    families, drives = frozenset({"dedup"}), ("lines_dedup",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.low
        m = _WORDS.search(low)
        if not m or re.search(rf"\b(?:keep|leave)\b[^.;]{{0,20}}{re.escape(m.group(0))}", low):
            return []
        return [self.requirement({}, "no line repeated across many documents remains (boilerplate removed)", m.group(0),
                                 read=[x.span() for x in _WORDS.finditer(low)])]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        return [self.step(op, why="remove lines repeated across at least 3 documents (menus, banners, footers)")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        lines: Counter[str] = Counter()
        for t in dry.kept_texts:
            for ln in {x.strip().lower() for x in t.split("\n") if len(x.strip()) >= 5}:
                lines[ln] += 1
        # a line that is only redaction placeholders (e.g. "<secret>") is PII handling, not boilerplate
        rep = [ln for ln, c in lines.items() if c >= 3 and re.search(r"[a-z]{3}", re.sub(r"<[a-z_]+>", "", ln))]
        return self.result(req, len(rep) == 0, f"{len(rep)} lines appear in >= 3 kept documents" + (f", e.g. {rep[0][:60]!r}" if rep else ""),
                           {"repeated_lines": len(rep)})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        for s in ctx.plan.steps:
            if s.op == "lines_dedup" and s.params.get("min_docs", 3) > 2:
                s.params["min_docs"] = 2
                ctx.actions.append("boilerplate: lines repeated in 2 documents now count")
