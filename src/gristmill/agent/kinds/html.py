"""HTML: kept text carries no markup tags ("strip the HTML and keep the text", "convert HTML to plain text",
"remove html tags"). ``html_to_text`` rewrites each document (scripts, styles and navigation dropped,
paragraphs kept); documents are not dropped for it. Dropping documents that *are* markup ("no HTML pages")
is the content kind's. The check scans the kept text for tags with its own pattern.
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

_ASK = re.compile(r"\b(?:strip(?:ping)?|remove|removing|delete|clean(?: up)?|get rid of|drop)\s+(?:the\s+|all\s+|any\s+)?"
                  r"(?:html|xml)?\s*(?:tags|markup|html|xml)(?:\s+tags)?\b|\b(?:convert|turn|render|transform)\w*\s+(?:the\s+)?"
                  r"(?:html|web pages?)\s+(?:in)?to\s+(?:plain\s+)?text\b|\bhtml[- ]to[- ]text\b|\bextract\w*\s+(?:the\s+)?"
                  r"(?:plain\s+)?text\s+(?:from|out of)\s+(?:the\s+)?(?:html|web pages?|markup)\b")
_DOCS = re.compile(r"\b(?:docs?|documents?|pages?|records?|files)\s*$")
_KEEP_TEXT = re.compile(r"\b(?:keep|preserve|retain)\s+(?:the\s+|only\s+the\s+)?(?:plain\s+)?(?:text|content|words)\b")
_TAG = re.compile(r"</?(?:html|head|body|div|span|p|a|br|ul|ol|li|table|tr|td|th|script|style|nav|header|footer|h[1-6]|img|meta|link)\b[^>]*>",
                  re.IGNORECASE)


@register
class Html(RequirementKind):
    name = "html"
    description = "kept text carries no HTML tags (markup turned into plain text, documents kept)"
    rank, order = 44, 0.5
    query = "turn html documents into plain text"
    families, drives = frozenset({"clean"}), ("html_to_text",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        m = _ASK.search(low)
        if not m or _DOCS.search(low[: m.start()]) or re.match(r"\s*(?:docs?|documents?|pages?|records?|files)\b", low[m.end():]):
            return []  # "drop HTML documents": the content kind's
        read = [m.span()] + [k.span() for k in _KEEP_TEXT.finditer(low)]
        for s in read:
            goal.claim(s, self.name)
        return [self.requirement({}, "kept text carries no HTML tags (markup turned into plain text)", m.group(0), read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        return [self.step(op, why=f"{req.text}: scripts, styles and navigation dropped, paragraphs kept")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        left = [m.group(0) for t in dry.kept_texts for m in [_TAG.search(t)] if m]
        return self.result(req, not left, f"{len(left)} of {len(dry.kept_texts)} kept documents still hold tags"
                           + (f", e.g. {left[0][:40]!r}" if left else ""), {"violations": len(left)})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
