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


@register
class Quality(RequirementKind):
    name = "quality"
    description = "heuristic quality filtering (Gopher, C4, FineWeb rules) at a level"
    rank, order = 20, 7
    query = "quality heuristics filter low quality documents repetition stop words"
    families = frozenset({"quality"})
    drives = ("gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality")

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.low
        if _NONE.search(low):
            return []
        m = re.search(_STRICT, low)
        level = "strict" if m else None
        if not level:
            m = re.search(_LENIENT + r".{0,40}\b(?:quality|filter|clean)\w*|\b(?:quality|filter|clean)\w*.{0,25}" + _LENIENT, low)
            level = "lenient" if m else None
        if not level:
            m = re.search(_STANDARD, low)
            level = "standard" if m else None
        if not level or m is None:
            return []
        # every quality word counts as read (its span), not only the first
        spans = [x.span() for pat in (_STRICT, _LENIENT, _STANDARD) for x in re.finditer(pat, low)]
        return [self.requirement({"level": level}, f"quality level: {level}", level, span=m.span(), read=spans)]

    def build(self, req: Requirement, ctx: PlanContext) -> list[PlanStep]:
        level = req.params.get("level", "standard")
        ctx.plan.quality_level[level] = level
        return self.steps_at(level, ctx.profile, ctx.goal)

    def steps_at(self, level: str, profile: Any, goal: Goal) -> list[PlanStep]:
        names, max_drop = LEVEL_OPS[level]
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
            why = f"quality ({level}): {name} with its published defaults" + why_extra
            if notes:
                why += "; tuned on the sample: " + "; ".join(notes)
            steps.append(self.step(name, params, rules if rules != op.rules() else None, why))
        return steps

    def check(self, req: Requirement, dry: DryRun, ctx: CheckContext) -> Check:
        n = len(dry.kept_texts)
        return self.result(req, n > 0, f"{n} documents pass the quality rules; re-measured thresholds below", {"kept": n})


def set_quality_level(plan: Plan, level: str | None, profile: Any, goal: Goal) -> Plan:
    """``plan`` with its quality steps rebuilt at ``level`` (None removes them); changed in place."""
    plan.steps = [s for s in plan.steps if s.requirement != Quality.name]
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
