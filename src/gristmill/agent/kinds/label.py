"""Label: every kept document carries a label column ("label each document with its language", "classify
the text", "tag each doc with what kind of content it is"), measured, not filtered.

Labels are signals: ``lang_id`` (its ``language`` column), ``content_kind`` (``kind``, ``code_language``)
or ``topic_filter``, run to measure only, so no document is dropped for its label. "classify" with nothing
named labels the kind of content, as an assumption. The check looks for the column, filled on every kept
document.
"""

from __future__ import annotations

import re

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import CheckContext, GoalText, PlanContext, RequirementKind, register
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement

_VERB = re.compile(r"(?<![\w-])(?:label\w*|tag(?:s|ged|ging)?|annotat\w*|classif\w*|categori[sz]\w*|mark(?:s|ed|ing)?|"
                   r"identify|detect|add (?:a |an )?(?:column|field)|record|note)(?![\w-])")
_WHAT = {
    "language": re.compile(r"\b(?:language|languages|lang|locale)\b"),
    "content": re.compile(r"\b(?:kind|kinds|type|types|sort) of (?:content|text|document)|\bcontent (?:kind|type)s?\b|"
                          r"\bwhat (?:kind|sort|type) of (?:content|text|document|thing)\b|\bformat\b|\bdomain\b|\bcategor\w+\b"),
}
COLUMNS = {"language": "lang_id.language", "content": "content_kind.kind"}


@register
class Label(RequirementKind):
    name = "label"
    description = "kept documents carry a label column (language, kind of content), nothing dropped for it"
    rank, order = 125, 9
    query = "label classify documents language content kind"
    families, drives = frozenset({"lang", "quality"}), ("lang_id", "content_kind")

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        out = []
        for clause in goal.clauses:
            c = low[clause.start : clause.end]
            v = _VERB.search(c)
            if not v or re.search(r"\b(?:drop|remove|delete|exclude|filter out)\b[^,;]{0,20}" + re.escape(v.group(0)), c):
                continue
            if v.group(0).startswith(("mark", "record", "note", "identify", "detect")) and not any(w.search(c) for w in _WHAT.values()):
                continue
            read = [(clause.start + v.start(), clause.start + v.end())]
            found = []
            for what, rx in _WHAT.items():
                for m in rx.finditer(c):
                    found.append(what)
                    read.append((clause.start + m.start(), clause.start + m.end()))
            assumption = None
            named = re.search(r"\b(?:by|with|using)\s+(?:the\s+|its\s+|their\s+|a\s+)?(\w+)", c[v.end():])
            if not found and named and named.group(1) not in ("content", "kind", "type", "category", "class"):
                continue  # "label documents by topic": no labeller for that; the clause stays not understood
            if not found:
                found = ["content"]
                assumption = "'classify' read as labelling each document's kind of content (code, prose, math, table, log, markup)"
            for what in dict.fromkeys(found):
                out.append(self.requirement({"label": what, "column": COLUMNS[what]},
                                            f"every kept document is labelled with its {what} ({COLUMNS[what]})",
                                            what, assumption, read=read))
        return out

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = req.params["column"].split(".")[0]
        if any(s.op == op and not s.name for s in ctx.plan.steps):
            for s in ctx.plan.steps:  # a filtering step of the same operator already writes the column
                if s.op == op and not s.name:
                    return []
        if op == "lang_id":
            return [self.step("lang_id", {"min_score": 0.0}, {}, f"{req.text}: measured only, nothing dropped")]
        return [self.step("content_kind", {}, {}, f"{req.text}: measured only, nothing dropped")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        col = req.params["column"]
        if col not in dry.kept.column_names:
            return self.result(req, dry.kept.num_rows == 0, f"no column {col!r} in the output")
        vals = dry.kept.column(col).to_pylist()
        empty = sum(1 for v in vals if v in (None, ""))
        distinct = len({v for v in vals if v})
        return self.result(req, empty == 0 or req.params["label"] == "content" and empty < len(vals),
                           f"{col}: {len(vals) - empty} of {len(vals)} kept documents labelled, {distinct} distinct values",
                           {"unlabelled": empty})
