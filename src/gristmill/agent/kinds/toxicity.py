"""Toxicity: the share of flagged (profane, obscene) words in every kept document stays under a bound."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import CheckContext, GoalText, PlanContext, RequirementKind, register
from gristmill.agent.kinds.language import single_language
from gristmill.agent.plan import PlanStep
from gristmill.agent.requirement import Requirement
from gristmill.ops.registry import all_ops

_WORDS = re.compile(r"\b(?:toxic\w*|profan\w*|obscen\w*|offensive|nsfw|explicit|swear\w*|curse words|cursing|hate speech|hateful|"
                    r"adult content|vulgar\w*|slurs?|porn\w*|sexual content|bad words|foul language|insults?)\b")
_READ = re.compile(_WORDS.pattern + r"(?:\s+(?:language|content|speech|words|text|comments|material|posts))?")


@register
class Toxicity(RequirementKind):
    name = "toxicity"
    description = "flagged-word share at most a bound in every kept document"
    rank, order = 50, 8
    query = "explicit profane flagged words toxic"
    families, drives = frozenset({"safety"}), ("flagged_words",)

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        m = _WORDS.search(low)
        if not m:
            return []
        strict = bool(re.search(r"\b(?:any|zero|all|strict\w*|no trace|completely)\b", low[max(0, m.start() - 30) : m.end() + 10]))
        thr = 0.0 if strict else 0.01
        return [self.requirement({"max_ratio": thr}, f"flagged-word share ≤ {thr} in every kept document", m.group(0),
                                 read=[x.span() for x in _READ.finditer(low)])]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        op = self.choose(req, ctx.index)
        lang = single_language(ctx.goal.requirements) or "en"
        cls = all_ops()[op]
        params: dict = {"max_flagged_ratio": req.params["max_ratio"]}
        try:
            cls.Params(language=lang)
            params["language"] = lang
        except Exception:  # noqa: BLE001 - no flagged-word list for that language: the default one
            pass
        return [self.step(op, params, why=f"drop documents whose share of flagged words exceeds {req.params['max_ratio']}")]

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        from gristmill.batch import Batch

        texts = dry.kept_texts
        n = len(texts)
        cls = all_ops()["flagged_words"]
        sig = cls(cls.Params(max_flagged_ratio=None)).apply(Batch(pa.table({"text": texts}))) if n else {"flagged_ratio": np.zeros(0)}
        r = np.asarray(sig["flagged_ratio"], dtype=float)
        bad = int((r > req.params["max_ratio"] + 1e-12).sum())
        return self.result(req, bad == 0, f"{bad} of {n} kept documents above flagged-word share {req.params['max_ratio']} "
                           f"(max {r.max() if len(r) else 0:.4f})", {"violations": bad})
