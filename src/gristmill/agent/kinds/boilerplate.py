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

_WORDS = re.compile(r"\b(?:boilerplate|cookie (?:banners?|notices?|popups?|consent)|nav(?:igation)? (?:menus?|bars?|links)|footers?|"
                    r"headers and footers|page headers|repeated lines|menus|share buttons|templated lines|site chrome|"
                    r"(?:lines|paragraphs|text|sentences|blocks)(?: that (?:are|is|repeats?)| repeated)?(?: repeated)? across "
                    r"(?:(?:many|several|other|multiple|the) )?(?:documents|docs|pages|files|records)|"
                    r"(?:paragraph|line)[- ]level (?:dedup\w*|de-duplication)|(?:repeated|duplicated?|shared) paragraphs)\b")
_PARAGRAPH = re.compile(r"\bparagraph")
_TWO = re.compile(r"\b(?:repeated|repeats?|shared|appear\w*|duplicated?)\b[^.;]{0,12}\bacross\b|\bparagraph[- ]level\b|"
                  r"\b(?:repeated|duplicated?|shared) paragraphs\b")


MIN_WORDS = 3  # lines_dedup never removes shorter units (headings, code like "}"); neither does the check count them


@register
class Boilerplate(RequirementKind):
    name = "boilerplate"
    description = "no line repeated across many documents remains"
    rank, order = 130, 6
    query = "boilerplate lines repeated across documents menus cookie"
    families, drives = frozenset({"dedup"}), ("lines_dedup",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        m = _WORDS.search(low)
        if not m or re.search(rf"\b(?:keep|leave)\b[^.;]{{0,20}}{re.escape(m.group(0))}", low):
            return []
        read = [x.span() for x in _WORDS.finditer(low)]
        for s in read:
            goal.claim(s, self.name)
        para = any(_PARAGRAPH.search(low[s:e]) for s, e in read)
        params = {"unit": "paragraph" if para else "line", "min_docs": 2 if any(_TWO.search(low[s:e]) for s, e in read) else 3}
        unit = "paragraph" if para else "line"
        return [self.requirement(params, f"no {unit} repeated across {params['min_docs']} or more documents remains (boilerplate removed)",
                                 m.group(0), read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        unit, min_docs = req.params.get("unit", "line"), req.params.get("min_docs", 3)
        params = {} if (unit, min_docs) == ("line", 3) else {"unit": unit, "min_docs": min_docs}
        if unit == "paragraph":  # paragraph-level dedup (Dolma) removes every repeated paragraph, short ones too
            params["min_words"] = 1
        return [self.step(op, params, why=f"remove {unit}s repeated across at least {min_docs} documents (menus, banners, footers)")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        unit, min_docs = req.params.get("unit", "line"), req.params.get("min_docs", 3)
        units: Counter[str] = Counter()
        for t in dry.kept_texts:
            parts = re.split(r"\n\s*\n", t) if unit == "paragraph" else t.split("\n")
            # boilerplate is a unit of 3+ words: a one-word heading ("Changes:", "See also") legitimately repeats
            min_words = 1 if unit == "paragraph" else MIN_WORDS
            units.update({" ".join(x.split()).lower() for x in parts if len(x.split()) >= min_words})
        # a line that is only redaction placeholders (e.g. "<secret>") is PII handling, not boilerplate
        rep = [u for u, c in units.items() if c >= min_docs and re.search(r"[a-z]{3}", re.sub(r"<[a-z_]+>", "", u))]
        return self.result(req, len(rep) == 0, f"{len(rep)} {unit}s{'' if unit == 'paragraph' else f' of {MIN_WORDS}+ words'} appear in >= {min_docs} kept documents"
                           + (f", e.g. {rep[0][:60]!r}" if rep else ""), {"repeated_lines": len(rep)})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        for s in ctx.plan.steps:
            if s.op == "lines_dedup" and s.params.get("min_docs", 3) > 2:
                s.params["min_docs"] = 2
                ctx.actions.append("boilerplate: lines repeated in 2 documents now count")
