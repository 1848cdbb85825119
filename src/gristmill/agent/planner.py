"""The built-in planner: requirements + profile -> ordered steps with thresholds.

Each requirement's kind (:mod:`gristmill.agent.kinds`) builds its steps: it picks an operator by retrieval
over the registry's descriptions (:mod:`retrieve`) among those it knows how to drive, and sets its
parameters from the profile. Quality thresholds start at each operator's published defaults and are moved
to a profiled quantile where one rule alone would drop an outsized share of *this* corpus
(:mod:`tuning`, on the rule AST). Requirements an installation cannot serve are collected, not guessed.
"""

from __future__ import annotations

from gristmill.agent.kinds import PlanContext, get_kind
from gristmill.agent.kinds.quality import LEVEL_OPS, LEVELS, set_quality_level
from gristmill.agent.plan import NotUnderstood, Plan, PlanStep, Unsupported
from gristmill.agent.profile import Profile
from gristmill.agent.requirement import Goal
from gristmill.agent.retrieve import OperatorIndex
from gristmill.agent.tuning import keeps_lower, threshold_of, tune_rules

__all__ = ["LEVELS", "LEVEL_OPS", "NotUnderstood", "Plan", "PlanStep", "Unsupported", "build_plan", "keeps_lower",
           "set_quality_level", "threshold_of", "tune_rules"]


def build_plan(goal: Goal, profile: Profile, index: OperatorIndex | None = None, accept_partial: bool = False) -> Plan:
    """Map every requirement to steps. A requirement no operator serves raises :class:`Unsupported`; one this
    installation cannot read raises :class:`NotUnderstood` unless ``accept_partial`` (then it becomes a note)."""
    index = index or OperatorIndex()
    plan = Plan(steps=[PlanStep("normalize_text", {}, why="normalise Unicode and whitespace first: dedup and filters see stable text",
                                requirement="normalize", order=0)])
    if index.method != "bm25":
        plan.notes.append(f"operators retrieved by {index.method}")
    ctx = PlanContext(profile, goal, index, plan)
    for req in goal.requirements:
        try:
            plan.steps.extend(get_kind(req.kind).build(req, ctx))
        except NotUnderstood as exc:
            if not accept_partial:
                raise
            plan.notes.append(f"not planned (accepted as partial): {exc}")
    return plan
