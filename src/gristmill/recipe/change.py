"""What changed between a recipe that made a dataset version and a new one: nothing, decisions, or measuring.

The measure/decide split makes this a comparison of two canonical forms. A step *measures* with its
operator, the operator's version and every parameter not listed in its ``Params.decision_params``; it
*decides* with its keep rules (which those decision parameters only shape). Two recipes whose reading
options, output options and measuring steps are equal differ at most in decisions, and a version made by
one can be re-decided for the other from its stored signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gristmill.ops.registry import find_op
from gristmill.recipe.compile import CompiledRecipe

Kind = Literal["same", "decisions", "measuring"]


@dataclass
class RecipeChange:
    """``kind``: same (identical), decisions (only rules or decision parameters), measuring (anything else).

    ``rule_steps``: names of the steps whose keep rules differ; ``reasons``: one line per measuring change.
    """

    kind: Kind
    rule_steps: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.kind == "same":
            return "the recipe is unchanged"
        if self.kind == "decisions":
            return f"only keep rules or thresholds changed (steps: {', '.join(self.rule_steps)})"
        return "the recipe measures differently: " + "; ".join(self.reasons)


def measuring_params(op_name: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The parameters of a step that shape what it measures; None when the operator is unknown here."""
    cls = find_op(op_name)
    if cls is None:
        return None
    decide = cls.Params.decision_params_for(params)
    return {k: v for k, v in params.items() if k not in decide}


def compare(old: dict[str, Any], new: CompiledRecipe) -> RecipeChange:
    """Compare the canonical form of the recipe that made a version (``CompiledRecipe.canonical()``, as stored
    in its manifest) with a compiled new recipe."""
    cur = new.canonical()
    reasons: list[str] = []
    if old.get("input") != cur["input"]:
        reasons.append(f"input reading options differ ({_diff(old.get('input', {}), cur['input'])})")
    if old.get("output") != cur["output"]:
        reasons.append(f"output options differ ({_diff(old.get('output', {}), cur['output'])})")
    old_steps, new_steps = old.get("steps", []), cur["steps"]
    if [s["name"] for s in old_steps] != [s["name"] for s in new_steps]:
        reasons.append(f"the steps differ: {[s['name'] for s in old_steps]} -> {[s['name'] for s in new_steps]}")
        return RecipeChange("measuring", reasons=reasons)
    rule_steps: list[str] = []
    for a, b in zip(old_steps, new_steps):
        where = f"step {b['name']!r}"
        if (a["op"], a["version"]) != (b["op"], b["version"]):
            reasons.append(f"{where}: operator {a['op']} v{a['version']} -> {b['op']} v{b['version']}")
            continue
        ma, mb = measuring_params(a["op"], a["params"]), measuring_params(b["op"], b["params"])
        if ma is None:
            reasons.append(f"{where}: operator {a['op']!r} is not registered here")
        elif ma != mb:
            reasons.append(f"{where}: measuring parameters changed ({_diff(ma, mb or {})})")
        if _rules(a["rules"]) != _rules(b["rules"]):
            rule_steps.append(b["name"])
    if reasons:
        return RecipeChange("measuring", rule_steps, reasons)
    return RecipeChange("decisions" if rule_steps else "same", rule_steps)


def stored_form(canonical: dict[str, Any]) -> dict[str, Any]:
    """A canonical recipe as a manifest keeps it: rules as [name, source] pairs, since the order of a step's
    rules decides which rule a dropped row is attributed to, and JSON objects lose order when keys are sorted."""
    steps = [{**s, "rules": [[k, v] for k, v in s["rules"].items()]} for s in canonical["steps"]]
    return {**canonical, "steps": steps}


def _rules(rules: dict[str, str] | list) -> list[tuple[str, str]]:
    return list(rules.items()) if isinstance(rules, dict) else [(k, v) for k, v in rules]


def _diff(a: dict[str, Any], b: dict[str, Any]) -> str:
    keys = sorted(set(a) | set(b))
    return ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys if a.get(k) != b.get(k))
