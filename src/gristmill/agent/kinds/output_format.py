"""Output format: the kept documents are written as Parquet, JSONL or gzipped JSONL."""

from __future__ import annotations

import re

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import CheckContext, GoalText, PlanContext, RequirementKind, register
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

EXTENSIONS = {"parquet": ".parquet", "jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz"}


@register
class OutputFormat(RequirementKind):
    name = "output_format"
    description = "the output files are written in the named format"
    rank, order = 120, 14
    target = True

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.low
        m = re.search(r"\b(?:jsonl\.gz|gzip(?:ped)? jsonl|gzip(?:ped)? json ?lines|compressed jsonl|compressed json ?lines|jsonl gz)\b", low)
        fmt = "jsonl.gz" if m else None
        if not fmt:
            m = re.search(r"\b(?:jsonl|json ?lines|ndjson|json)\b", low)
            fmt = "jsonl" if m and re.search(r"\b(?:as|to|in|into|output|write|save|format|export|emit)\b", low) else None
        if not fmt:
            m = re.search(r"\bparquet\b", low)
            fmt = "parquet" if m else None
        if not fmt or m is None:
            return []
        read = [m.span()] + [x.span() for x in re.finditer(r"\b(?:format|output|files?)\b", low)]
        return [self.requirement({"format": fmt}, f"output written as {fmt}", fmt, span=m.span(), read=read)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        ctx.plan.output_format = req.params["format"]
        return []

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        files = [f.name for f in dry.out_dir.glob("part-*")]
        ext = EXTENSIONS[req.params["format"]]
        ok = bool(files) and all(f.endswith(ext) for f in files) or not files and dry.summary.get("kept", 0) == 0
        return self.result(req, ok, f"output files {files[:3]}")
