"""Keyword: every kept document mentions (or mentions none of) quoted words ("drop documents mentioning 'lorem ipsum'")."""

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
from gristmill.agent.kinds.regex import REGEX
from gristmill.agent.phrases import QUOTED, negated_before, quoted_text
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_TRIGGER = re.compile(r"\b(?:contain\w*|mention\w*|includ\w*|with the (?:word|term|phrase)s?|about|the (?:word|term|phrase)s?|keywords?|"
                      r"talk(?:s|ing)? about|refer\w* to|say\w*|use[sd]? the word)\b")


@register
class Keyword(RequirementKind):
    name = "keyword"
    description = "every kept document mentions one of (or none of) the exact words the goal quotes"
    rank, order = 80, 4
    query = "keywords phrases documents contain mention"
    families, drives = frozenset({"select"}), ("keyword_filter",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        out = []
        for clause in goal.clauses:
            text = goal.text[clause.start : clause.end]
            low = goal.free(self.name)[clause.start : clause.end]
            if REGEX.search(text):
                continue  # the regex kind's clause
            quoted = [m for m in QUOTED.finditer(text) if not goal.is_claimed(clause.start + m.start(), clause.start + m.end())]
            words = [quoted_text(m) for m in quoted]
            spans = [m.span() for m in quoted]
            trig = _TRIGGER.search(low)
            if not words and trig:
                m = re.search(r"\b(?:word|term|phrase|keyword)s?\s+([a-z0-9][\w+#-]*(?:\s*(?:,|or|and)\s*[a-z0-9][\w+#-]*)*)", low)
                if m:
                    words = [w for w in re.split(r"\s*(?:,|\bor\b|\band\b)\s*", m.group(1)) if w]
                    spans = [m.span()]
            if not words or not trig and not re.search(r"\b(?:keyword|term|word|phrase)", low):
                continue
            pos = trig.start() if trig else 0
            mode = "exclude" if negated_before(low, pos + 1, 60) or re.search(r"\bno\s+(?:mention|reference)", low) else "include"
            if trig:
                spans.append(trig.span())
            out.append(self.requirement({"keywords": words, "mode": mode},
                                        f"every kept document {'mentions none of' if mode == 'exclude' else 'mentions one of'} {words}",
                                        ", ".join(words), read=[(clause.start + s, clause.start + e) for s, e in spans]))
        return out

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        return [self.step(op, {"keywords": req.params["keywords"], "mode": req.params["mode"]}, why=f"template operator: {req.text}")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        texts = dry.kept_texts
        pat = re.compile("|".join(re.escape(w) for w in req.params["keywords"]), re.IGNORECASE)
        has = sum(1 for t in texts if pat.search(t))
        bad = has if req.params["mode"] == "exclude" else len(texts) - has
        return self.result(req, bad == 0, f"{has} of {len(texts)} kept documents mention {req.params['keywords']}", {"violations": bad})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
