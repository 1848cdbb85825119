"""Whitespace: kept text has no runs of blanks, no tabs and no leading or trailing whitespace ("normalize
whitespace: collapse runs of spaces and tabs into one space and strip leading and trailing whitespace").

Every plan starts with ``normalize_text``, which does exactly that; this kind reads the request (so it is
understood, not a silent no-op), makes sure the step normalises whitespace, and checks the result.
"""

from __future__ import annotations

import re

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import CheckContext, GoalText, PlanContext, RequirementKind, register
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_WORDS = re.compile(r"(?<![\w-])(?:normali[sz]\w*|collaps\w*|tid(?:y|ied|ying)(?: up)?|clean(?:ing)? up|squash\w*|trim\w*|"
                    r"strip\w*|fix\w*)?\s*(?:the\s+)?(?:(?:leading|trailing|extra|excess|redundant|repeated|double|multiple|"
                    r"consecutive|runs of)\s+(?:and\s+(?:leading|trailing)\s+)?)*(?:white-?space|spaces|blanks|tabs|"
                    r"blank lines|newlines)(?:\s+(?:and|or|,)\s+(?:white-?space|spaces|blanks|tabs|newlines))*"
                    r"(?:\s+into\s+(?:one|a single)\s+space)?(?![\w-])")
_VERB = re.compile(r"\b(?:normali[sz]\w*|collaps\w*|tid(?:y|ied|ying)|squash\w*|trim\w*|strip\w*|fix\w*|clean\w*|remove|"
                   r"get rid of|drop)\b")


@register
class Whitespace(RequirementKind):
    name = "whitespace"
    description = "kept text has no runs of blanks, tabs, or leading/trailing whitespace"
    rank, order = 135, 0
    families, drives = frozenset({"clean"}), ("normalize_text",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        ms = [m for m in _WORDS.finditer(low) if m.group(0).strip()]
        if not ms or not any(_VERB.search(low[max(0, m.start() - 40) : m.end()]) for m in ms):
            return []
        read = [m.span() for m in ms] + [m.span() for m in re.finditer(r"\b(?:leading|trailing|runs|collapse\w*|one space)\b", low)]
        return [self.requirement({}, "kept text has no runs of blanks, no tabs, no leading or trailing whitespace",
                                 "whitespace", read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        for s in ctx.plan.steps:
            if s.op == "normalize_text":
                s.params["whitespace"] = True
                s.why += "; the goal asks for normalised whitespace"
        return []

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        bad = [t for t in dry.kept_texts if t != t.strip() or "  " in t or "\t" in t or re.search(r" \n|\n ", t)]
        return self.result(req, not bad, f"{len(bad)} of {len(dry.kept_texts)} kept documents have runs of blanks, tabs or "
                           "leading/trailing whitespace", {"violations": len(bad)})
