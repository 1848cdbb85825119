"""Retention: keep at least a share of the documents or tokens (a target, met by relaxing quality)."""

from __future__ import annotations

import re

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import CheckContext, GoalText, RepairContext, RequirementKind, register
from gristmill.agent.phrases import NUM, parse_number
from gristmill.agent.requirement import Requirement

_KEEP = re.compile(rf"\b(?:keep|retain|preserve|hold on to|save|leave)\s+(?:at least\s+|no less than\s+|>=?\s*|around\s+|about\s+|roughly\s+)?{NUM}\s*(?:%|percent|per cent)(?:\s+of)?(?:\s+(?:the|all|my|our))?\s*(documents?|docs?|rows?|records?|tokens?|data|corpus|text|words?)?")
_LOSE = re.compile(rf"\b(?:(?:drop|lose|remove|discard|throw away|filter out)\s+(?:at most|no more than|less than|under)|(?:don'?t|do not|never)\s+(?:drop|lose|remove|discard)\s+more than)\s+{NUM}\s*(?:%|percent)(?:\s+of)?(?:\s+the)?\s*(documents?|docs?|rows?|tokens?|data)?")


# "without dropping any record", "don't remove anything", "no document should be dropped": keep them all
_ALL = re.compile(r"\bwithout (?:dropping|removing|deleting|losing|filtering(?: out)?) (?:any|a single)(?: \w+)?\b|"
                  r"\b(?:do not|don'?t|never|must not|mustn'?t|should not|shouldn'?t) (?:drop|remove|delete|lose|filter(?: out)?) "
                  r"(?:any(?:thing| documents?| docs?| records?| rows?)?|a single \w+)(?: out)?\b|"
                  r"\bno (?:documents?|docs?|records?|rows?|entries) (?:should|must|may|can|is to|are to)? ?(?:be )?(?:dropped|removed|deleted|lost)\b|"
                  r"\b(?:drop|remove|delete|filter out) nothing\b|\bnothing (?:should|must|is to)? ?(?:be )?(?:dropped|removed|deleted|filtered)\b|"
                  r"\b(?:keep|retain|preserve) (?:all|every|each) (?:of )?(?:the |my )?(?:documents?|docs?|records?|rows?|entries)\b")
_KEEP_THE_DOCS = re.compile(r"^(?:but )?(?:keep|retain|preserve) (?:the|all(?: the)?|every) (?:documents?|docs?|records?|rows?|pages?)$")


@register
class Retention(RequirementKind):
    name = "retention"
    description = "the dry run keeps at least a share of the documents or tokens"
    rank, order = 110, 14
    target = True

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.low.replace("≥", " ")  # same length: positions stay those of the goal
        out = []
        for m in _KEEP.finditer(low):
            unit = "tokens" if m.group(2) and m.group(2).startswith(("tok", "word")) else "docs"
            v = parse_number(m.group(1)) / 100
            out.append(self.requirement({"unit": unit, "min": v}, f"keep ≥ {v:.0%} of {unit}", m.group(0), span=m.span()))
        for m in _ALL.finditer(low):
            out.append(self.requirement({"unit": "docs", "min": 1.0}, "keep 100% of docs (nothing dropped)", m.group(0), span=m.span()))
        for c in goal.clauses:  # "Remove hyperlinks from the text, but keep the documents."
            m = _KEEP_THE_DOCS.match(low[c.start : c.end])
            if m and not any(r.params == {"unit": "docs", "min": 1.0} for r in out):
                out.append(self.requirement({"unit": "docs", "min": 1.0}, "keep 100% of docs (nothing dropped)", c.text,
                                            span=(c.start, c.end)))
        for m in _LOSE.finditer(low):
            unit = "tokens" if m.group(2) and m.group(2).startswith("tok") else "docs"
            v = 1 - parse_number(m.group(1)) / 100
            out.append(self.requirement({"unit": unit, "min": round(v, 4)}, f"keep ≥ {v:.0%} of {unit}", m.group(0), span=m.span()))
        return out

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        docs, toks = dry.retention()
        p = req.params
        v = toks if p["unit"] == "tokens" else docs
        return self.result(req, v >= p["min"] - 1e-9, f"dry run kept {docs:.1%} of documents and {toks:.1%} of tokens (target "
                           f"{p['unit']} ≥ {p['min']:.0%})", {"docs": docs, "tokens": toks})

    def repair(self, req: Requirement, check: Check, ctx: RepairContext) -> None:
        ctx.relax_quality()
