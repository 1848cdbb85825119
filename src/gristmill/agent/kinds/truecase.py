"""Truecase: no kept sentence starts with a lower-case letter ("Truecase the dataset: fix sentences that start
with a lowercase letter", "capitalise the first letter of every sentence", "fix the capitalisation").

``sentence_case`` rewrites the text (a heuristic that leaves abbreviations, initials, ellipses, quotes and code
alone) and drops nothing. The check does not reuse the operator's rule: it counts sentence ends (a word of
three or more letters, then ". ", "? " or "! ") followed by one of the common sentence openers in lower case
("how", "the", "it", ...), which are mistakes wherever they occur.
"""

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
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_CASE = r"(?:letter[- ]?case|casing|case|capitali[sz]ation|capital letters?|upper[- ]?case)"
_ASK = re.compile(
    r"\btrue[- ]?cas(?:e|ed|ing)\b|"
    rf"\b(?:fix|fixing|correct|correcting|repair|restore|normali[sz]e)\s+(?:the\s+)?(?:sentence\s+)?{_CASE}\b|"
    r"\bcapitali[sz](?:e|ing)\s+(?:the\s+)?(?:first\s+(?:letter|word)s?\s+of\s+)?(?:each\s+|every\s+|all\s+|the\s+)?sentences?\b|"
    r"\b(?:fix|fixing|correct|repair|capitali[sz]e)\s+(?:the\s+|all\s+|any\s+)?sentences?\s+(?:that|which)\s+"
    r"(?:start|starts|begin|begins)\s+(?:with\s+)?(?:a\s+)?(?:lower[- ]?case|small)(?:\s+letters?)?|"
    r"\b(?:lower[- ]?case|uncapitali[sz]ed)\s+sentence\s+(?:starts?|beginnings?)\b")
# an example of the mistake the user gives: 'like "Hello. how are you?"' is read as part of the request
_EXAMPLE = re.compile(r"\b(?:like|e\.g\.|for example|such as)\s*[:,]?\s*([\"“'])[^\"”']{1,200}[\"”']")
_MORE = re.compile(r"\b(?:sentences?|letters?|lower[- ]?case|start|starts|begin|begins|with|dataset|corpus|text|texts)\b")
OPENERS = ("the", "this", "that", "these", "there", "they", "then", "it", "its", "i", "we", "you", "he", "she", "how",
           "what", "why", "when", "where", "which", "who", "can", "could", "would", "should", "do", "does", "is",
           "are", "if", "in", "on", "for", "but", "and", "so", "however", "also", "please", "thank", "thanks",
           "yes", "no", "let", "here", "my", "our", "your", "a", "an")
_MISTAKE = re.compile(r"\b([A-Za-z]{3,})[.?!] (" + "|".join(OPENERS) + r")\b")


@register
class Truecase(RequirementKind):
    name = "truecase"
    description = "no kept sentence starts with a lower-case letter (sentence starts capitalised, nothing dropped)"
    rank, order = 46, 0.6
    query = "capitalise sentence starts truecase fix letter case"
    families, drives = frozenset({"clean"}), ("sentence_case",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        asks = list(_ASK.finditer(low))
        if not asks:
            return []
        read = [m.span() for m in asks]
        for c in goal.clauses:  # the rest of the asking clause: the words that describe the mistake, its example
            if any(c.start <= s < c.end for s, _ in read):
                part = low[c.start : c.end]
                read += [(c.start + m.start(), c.start + m.end()) for m in _EXAMPLE.finditer(part)]
                read += [(c.start + m.start(), c.start + m.end()) for m in _MORE.finditer(part)]
        for s in read:
            goal.claim(s, self.name)
        return [self.requirement({}, "no kept sentence starts with a lower-case letter (sentence starts capitalised)",
                                 asks[0].group(0), read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        return [self.step(op, why="capitalise sentences that start in lower case (abbreviations, initials, quotes "
                                  "and code left alone); drops nothing")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.ops.casing import ABBREVIATIONS  # "etc. the" is not a sentence end

        left = [m.group(0) for t in dry.kept_texts
                for m in [next((x for x in _MISTAKE.finditer(t) if x.group(1).lower() not in ABBREVIATIONS), None)] if m]
        return self.result(req, not left, f"{len(left)} of {len(dry.kept_texts)} kept documents still have a sentence "
                           "that starts with a common word in lower case" + (f", e.g. {left[0]!r}" if left else ""),
                           {"violations": len(left)})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
