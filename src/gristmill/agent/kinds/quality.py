"""Quality: heuristic quality filtering at a level (lenient, standard, strict), tuned on the sample."""

from __future__ import annotations

import re
from typing import Any

from gristmill.agent.checks import Check, DryRun
from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
)
from gristmill.agent.kinds.language import single_language
from gristmill.agent.phrases import vocabulary
from gristmill.agent.plan import Plan, PlanStep
from gristmill.agent.requirement import Goal, Requirement
from gristmill.agent.tuning import tune_rules
from gristmill.ops.registry import all_ops

_VOCAB = vocabulary("quality")
LEVELS = ("lenient", "standard", "strict")
LEVEL_OPS: dict[str, tuple[tuple[str, ...], float | None]] = {
    k: (tuple(v["operators"]), v["max_drop"]) for k, v in _VOCAB["levels"].items()}


def _words(key: str) -> str:
    return r"\b(?:" + "|".join(_VOCAB[key]) + r")\b"


_STRICT, _LENIENT, _STANDARD = _words("strict"), _words("lenient"), _words("standard")
_NONE = re.compile("|".join(_VOCAB["none"]))
FAMILIES: dict[str, dict[str, Any]] = _VOCAB["families"]
# a bare "filter" ("filter and deduplicate!", "clean and filter"): a request for quality filtering
_BARE_FILTER = re.compile(r"\bfilter(?:ing)?\b(?=\s*(?:$|[,.;!&]|and\b|then\b|plus\b|the (?:data|corpus|text)\b))")
_FAMILY_WORDS = (r"(?:\s+(?:filters?|rules?|heuristics?|filtering|criteria|thresholds?|pipeline))?"
                 r"(?:\s+(?:with|at|using)\s+(?:its|their|the)\s+(?:default|published|standard|original|paper'?s?)\s+"
                 r"(?:thresholds?|settings|parameters|values|rules|cut-?offs))?")


def named_families(low: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Operators of the published families the text names ("the Gopher quality and repetition filters" ->
    gopher_quality, gopher_repetition) and the spans of those words."""
    ops: list[str] = []
    spans: list[tuple[int, int]] = []
    for spec in FAMILIES.values():
        names = "|".join(re.escape(n) for n in sorted(spec["names"], key=len, reverse=True))
        parts = "|".join(re.escape(x) for x in sorted(spec["parts"], key=len, reverse=True))
        tail = rf"(?:(?:'s)?(?:\s*(?:,|and|&|/)?\s*(?:{parts})\b)+)?" if parts else r"(?:'s)?"
        for m in re.finditer(rf"(?<![\w-])(?:{names})(?![\w-]){tail}{_FAMILY_WORDS}", low):
            got = [spec["parts"][w] for w in re.findall(rf"\b(?:{parts})\b", m.group(0))] if parts else []
            ops += got or list(spec["default"])
            spans.append(m.span())
    return list(dict.fromkeys(ops)), spans


@register
class Quality(RequirementKind):
    name = "quality"
    description = "heuristic quality filtering (Gopher, C4, FineWeb rules) at a level"
    rank, order = 20, 7
    query = "quality heuristics filter low quality documents repetition stop words"
    families = frozenset({"quality"})
    drives = ("gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality")

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        if _NONE.search(low):
            return []
        ops, fam_spans = named_families(low)
        if ops:  # "the Gopher quality and repetition filters": those operators, published thresholds
            text = f"quality: {', '.join(ops)} (published thresholds, tuned only where one rule alone drops > 15% of the sample)"
            return [self.requirement({"level": "standard", "operators": ops, "published": True}, text, "quality",
                                     span=fam_spans[0], read=fam_spans)]
        m = re.search(_STRICT, low)
        level = "strict" if m else None
        if not level:
            m = re.search(_LENIENT + r".{0,40}\b(?:quality|filter|clean)\w*|\b(?:quality|filter|clean)\w*.{0,25}" + _LENIENT, low)
            level = "lenient" if m else None
        if not level:
            m = re.search(_STANDARD, low) or _BARE_FILTER.search(low)
            level = "standard" if m else None
        if not level or m is None:
            return []
        # every quality word counts as read (its span), not only the first
        spans = [x.span() for pat in (_STRICT, _LENIENT, _STANDARD) for x in re.finditer(pat, low)]
        spans += [x.span() for x in _BARE_FILTER.finditer(low)]
        return [self.requirement({"level": level}, f"quality level: {level}", level, span=m.span(), read=spans)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        level = req.params.get("level", "standard")
        ctx.plan.quality_level[level] = level
        if req.params.get("operators"):
            steps = self.steps_at(level, ctx.profile, ctx.goal, tuple(req.params["operators"]), published=True)
            # what the check re-measures the kept documents against: each named operator's rules as set here
            req.params["_rules"] = {s.op: {"params": s.params, "keep": s.keep or _default_rules(s.op, s.params)}
                                    for s in steps}
            return steps
        return self.steps_at(level, ctx.profile, ctx.goal)

    def steps_at(self, level: str, profile: Any, goal: Goal, operators: tuple[str, ...] | None = None,
                 published: bool = False) -> list[PlanStep]:
        names, max_drop = LEVEL_OPS[level]
        if operators:  # the named family's operators, tuned like any level (a rule alone may drop max_drop)
            names = operators
        registry = all_ops()
        steps = []
        lang = single_language(goal.requirements)
        en_share = profile.language_share(["en"]) if profile.languages else 1.0
        for name in names:
            cls = registry.get(name)
            if cls is None:
                continue
            params: dict[str, Any] = {}
            why_extra = ""
            if "language" in cls.Params.model_fields and lang:
                params["language"] = lang
            if name == "gopher_quality" and not lang and en_share < 0.9:
                params["min_stop_words"] = None
                why_extra = f"; English stop-word rule off: only {en_share:.0%} of the sample is English and no language was asked"
            try:
                op = cls(cls.Params(**params))
            except Exception:  # noqa: BLE001 - e.g. a language without a bundled list
                params.pop("language", None)
                op = cls(cls.Params(**params))
            rules, notes = tune_rules(name, op.rules(), profile, max_drop)
            why = (f"{name}, as the goal names it, with its published thresholds" if published
                   else f"quality ({level}): {name} with its published defaults") + why_extra
            if notes:
                why += "; tuned on the sample: " + "; ".join(notes)
            steps.append(self.step(name, params, rules if rules != op.rules() else None, why))
        return steps

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        """With operators the goal named, every kept document must pass each one's rules, re-measured on the
        kept text: a plan that left one out ("the Gopher quality and repetition filters" served by
        ``gopher_quality`` alone) fails here. A level alone is a tuned trade-off with nothing to re-measure."""
        texts = dry.kept_texts
        n = len(texts)
        named = req.params.get("_rules") or {}
        if not named or not n:
            return self.result(req, n > 0, f"{n} documents pass the quality rules; re-measured thresholds below", {"kept": n})
        bad: dict[str, int] = {}
        for op, spec in named.items():
            fails = _violations(op, spec["params"], spec["keep"], texts)
            if fails:
                bad[op] = fails
        worst = max(bad.values(), default=0)
        # a step after the quality filter may rewrite a kept document (redaction, link stripping): 1% slack
        passed = worst <= max(1, n // 100)
        per = ", ".join(f"{op} {k}" for op, k in bad.items()) or "none"
        return self.result(req, passed, f"kept documents failing a named operator's rules, re-measured: {per} "
                           f"(of {n}; at most {max(1, n // 100)})", {"kept": n, "violations": bad})


def _default_rules(op: str, params: dict[str, Any]) -> dict[str, str]:
    cls = all_ops()[op]
    return cls(cls.Params(**params)).rules()


def _violations(op: str, params: dict[str, Any], keep: dict[str, str], texts: list[str]) -> int:
    """How many of ``texts`` break at least one of ``keep`` (rules over ``op``'s signals), measured afresh."""
    import numpy as np
    import pyarrow as pa

    from gristmill.batch import Batch
    from gristmill.recipe.rules import compile_rule

    cls = all_ops()[op]
    inst = cls(cls.Params(**params))
    inst.setup()
    sig = inst.apply(Batch(pa.table({"text": texts}))) or {}
    env = {f"{op}.{k}": np.asarray(v) for k, v in sig.items()}
    ok = np.ones(len(texts), dtype=bool)
    for name, src in keep.items():
        ok &= compile_rule(name, src, env).keep_mask(env, len(texts))
    return int((~ok).sum())


def set_quality_level(plan: Plan, level: str | None, profile: Any, goal: Goal) -> Plan:
    """``plan`` with its quality steps rebuilt at ``level`` (None removes them); changed in place."""
    plan.steps = [s for s in plan.steps if s.requirement != Quality.name]
    for r in goal.requirements:  # the named operators' rules no longer hold once the level changed
        if r.kind == Quality.name:
            r.params.pop("_rules", None)
    if level:
        plan.steps.extend(Quality().steps_at(level, profile, goal))
    for k in plan.quality_level:
        plan.quality_level[k] = level or "none"
    return plan


def relax(ctx: RepairContext) -> bool:
    """Lower the quality level one step (strict -> standard -> lenient -> none), else the language score."""
    cur = next(iter(ctx.plan.quality_level.values()), None)
    if cur in LEVELS and LEVELS.index(cur) > 0:
        lower = LEVELS[LEVELS.index(cur) - 1]
        set_quality_level(ctx.plan, lower, ctx.profile, ctx.goal)
        ctx.actions.append(f"quality relaxed from {cur} to {lower} to keep more data")
        return True
    if cur == "lenient":
        set_quality_level(ctx.plan, None, ctx.profile, ctx.goal)
        ctx.actions.append("quality filtering removed: even the lenient level drops too much for the retention target")
        return True
    for s in ctx.plan.steps:
        if s.op == "lang_id" and s.params.get("min_score", 0) > 0.2:
            s.params["min_score"] = 0.2
            ctx.actions.append("language score threshold lowered to 0.2")
            return True
    return False
