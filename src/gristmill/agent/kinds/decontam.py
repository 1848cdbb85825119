"""Decontamination: no kept document shares a 13-word sequence with a named evaluation set."""

from __future__ import annotations

import re
from pathlib import Path

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import CheckContext, GoalText, PlanContext, RequirementKind, register
from gristmill.agent.plan import PlanStep, Unsupported
from gristmill.agent.requirement import Requirement

_WORDS = re.compile(r"\b(?:decontam\w*|contaminat\w*|benchmark leak\w*|test[- ]set leak\w*|overlap\w* with|eval(?:uation)? (?:set|data)|test set|benchmark)\b")
_PATH = re.compile(r"(?:^|\s|['\"`])((?:[\w.~-]*/)*[\w.-]+\.(?:jsonl(?:\.gz|\.zst)?|json|txt|parquet))\b")


@register
class Decontam(RequirementKind):
    name = "decontam"
    description = "no kept document shares a 13-gram with the evaluation set"
    rank, order = 100, 12
    query = "evaluation set benchmark contamination overlap"
    families, drives = frozenset({"dedup"}), ("decontaminate",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.low
        m = _WORDS.search(low)
        if not m:
            return []
        read = [x.span() for x in _WORDS.finditer(low)] + [x.span(1) for x in _PATH.finditer(goal.text)]
        h = re.search(r"human[- ]?eval", low)
        if h:
            read.append(h.span())
        paths = _PATH.findall(goal.text)
        builtin = ["humaneval"] if h else []
        if not paths and not builtin:
            return [self.requirement({"references": [], "builtin": []}, "no kept document shares a 13-gram with the evaluation set",
                                     "decontaminate", "no reference file was named: give its path in the goal", read=read)]
        return [self.requirement({"references": paths, "builtin": builtin},
                                 f"no kept document shares a 13-word sequence with {', '.join(paths + builtin)}", "decontaminate", read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        if not req.params.get("references") and not req.params.get("builtin"):
            raise Unsupported("decontamination needs the evaluation set: name its file in the goal, e.g. "
                              "'decontaminate against evals/test.jsonl'")
        op = self.choose(req, ctx.index)
        params = {k: v for k, v in req.params.items() if k in ("references", "builtin") and v}
        return [self.step(op, params, why=f"drop documents sharing a 13-word sequence with {params}")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.agent.profile import shingles

        texts = dry.kept_texts
        refs: set[int] = set()
        for path in req.params.get("references", []):
            for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
                refs |= shingles(line, 13)
        bad = sum(1 for t in texts if shingles(t, 13) & refs) if refs else 0
        return self.result(req, bad == 0, f"{bad} of {len(texts)} kept documents share a 13-word sequence with the references", {"violations": bad})
