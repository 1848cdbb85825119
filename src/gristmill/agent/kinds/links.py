"""Links: no URL remains in kept text ("remove hyperlinks from the text, but keep the documents"), or no
kept document contains one ("drop documents with URLs").

Removing the links rewrites the text with ``strip_urls_emails`` (URLs only) and keeps every document;
dropping documents that hold links is a ``regex_filter``. The check scans the kept text with its own URL
pattern.
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
from gristmill.agent.phrases import excluded
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_LINKS = re.compile(r"(?<![\w-])(?:hyper-?links?|links?|urls?|web addresses|web links|http links|https? links|website addresses|"
                    r"href(?:s| attributes)?)(?![\w-])")
_DOCS = re.compile(r"\b(?:docs?|documents?|pages?|records?|rows?|entries|texts|files|anything|everything)\b[^.;]{0,25}"
                   r"\b(?:with|containing|that contain|that have|having|including)\b[^.;]{0,15}$")
# no \b before the scheme: a URL right after a Han character ("访问http://...") has no word boundary
URL_PATTERN = r"(?i)(?<![a-z0-9])(?:https?://|ftp://|www\.)\S+"
_URL = re.compile(URL_PATTERN)


@register
class Links(RequirementKind):
    name = "links"
    description = "no URL remains in kept text (links removed from the text, or documents with links dropped)"
    rank, order = 45, 5.7
    query = "remove urls links from text"
    families, drives = frozenset({"clean", "select"}), ("strip_urls_emails", "regex_filter")

    def parse(self, goal: GoalText) -> list[Requirement]:
        free = goal.free(self.name)
        out = []
        for clause in goal.clauses:
            low = free[clause.start : clause.end]
            ms = list(_LINKS.finditer(low))
            if not ms or not excluded(low, ms[0].start(), ms[0].end(), 60):
                continue
            mode = "drop" if _DOCS.search(low[: ms[0].start()]) else "strip"
            text = ("no kept document contains a URL" if mode == "drop" else "no URL remains in kept text (links removed, documents kept)")
            read = [(clause.start + m.start(), clause.start + m.end()) for m in ms]
            out.append(self.requirement({"mode": mode}, text, "links", read=read))
        return out

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        if req.params["mode"] == "drop":
            return [self.step("regex_filter", {"pattern": URL_PATTERN, "mode": "exclude"}, why=req.text, name="drop_links")]
        return [self.step("strip_urls_emails", {"urls": True, "emails": False}, why=f"{req.text}: URLs deleted from the text")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        texts = dry.kept_texts
        left = [m.group(0) for t in texts for m in [_URL.search(t)] if m]
        return self.result(req, not left, f"{len(left)} of {len(texts)} kept documents still hold a URL"
                           + (f", e.g. {left[0][:60]!r}" if left else ""), {"violations": len(left)})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        self.move_late(ctx, self.name)
