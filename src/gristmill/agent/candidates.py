"""What the LLM planner chooses from: per requirement, the steps its kind proposes and the operators retrieval finds.

Asked for a whole plan against the whole registry, a small model writes plans that compile but miss the goal
(SmolLM2-135M chose ``length_filter`` without the goal's 50 words). So the LLM planner is retrieval-augmented
and constrained: the goal's requirements (with their values) are read by the requirement kinds as for the
built-in planner, and for each requirement the model is offered

- the steps its kind builds from the profile, with the parameters the kind knows how to set from the
  requirement (``min_words: 50``), which the decoding schema binds as ``const``: a model that picks the step
  cannot get its numbers wrong; and
- a few more operators that retrieval over the registry's descriptions finds for the requirement, in the
  families the kind allows, with parameters typed by the operator's schema (the model fills them).

The JSON schema (:func:`choice_schema`) admits, per requirement key, one of these alternatives (as many as
the kind itself uses, for kinds that build several steps) and nothing else; every requirement gets a step. Steps are tagged with their requirement's kind and
order, so verification and repair treat them as the built-in planner's.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from gristmill.agent.kinds import PlanContext, RequirementKind, get_kind
from gristmill.agent.plan import NotUnderstood, Plan, PlanStep
from gristmill.agent.profile import Profile
from gristmill.agent.requirement import Goal, Requirement
from gristmill.agent.retrieve import OperatorIndex
from gristmill.ops.registry import all_ops
from gristmill.recipe.compile import missing_package

_GRAMMAR_KEYS = ("type", "enum", "const", "items", "minItems", "maxItems", "minLength", "maxLength")


def param_schema(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A parameter's pydantic schema reduced to what a decoding grammar can enforce (types, enums, items).

    Ranges are left to the compiler (its errors go back to the model); titles and descriptions only cost tokens.
    """
    if "$ref" in prop:
        prop = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
    if "anyOf" in prop:
        alts = [param_schema(a, defs) for a in prop["anyOf"]]
        return {"anyOf": [a for a in alts if a]} if alts else {}
    out = {k: v for k, v in prop.items() if k in _GRAMMAR_KEYS}
    if isinstance(out.get("items"), dict):
        out["items"] = param_schema(out["items"], defs)
    if out.get("type") == "object" and "properties" in prop:
        out["properties"] = {k: param_schema(v, defs) for k, v in prop["properties"].items()}
    return out


def step_schema(name: str, cls: type, why: bool = True) -> dict[str, Any]:
    """One step of operator ``name``: only its own parameters, typed; ``why`` asks for a short reason too."""
    ps = cls.Params.model_json_schema()
    defs = ps.get("$defs", {})
    params: dict[str, Any] = {"type": "object", "additionalProperties": False,
                              "properties": {k: param_schema(v, defs) for k, v in ps.get("properties", {}).items()}}
    required = ["op", "why"] if why else ["op"]
    props: dict[str, Any] = {"op": {"const": name}, "params": params}
    if why:
        props["why"] = {"type": "string", "maxLength": 120}
    if ps.get("required"):
        params["required"] = list(ps["required"])
        required.append("params")
    return {"type": "object", "additionalProperties": False, "required": required, "properties": props}


def bound_step_schema(op: str, params: dict[str, Any]) -> dict[str, Any]:
    """A step whose parameters the requirement kind set: every one is a ``const``."""
    props: dict[str, Any] = {"op": {"const": op}}
    required = ["op"]
    if params:
        props["params"] = {"type": "object", "additionalProperties": False, "required": list(params),
                           "properties": {k: {"const": v} for k, v in params.items()}}
        required.append("params")
    return {"type": "object", "additionalProperties": False, "required": required, "properties": props}


@dataclass
class Alternative:
    """One step the model may choose for a requirement: the kind's own (``step`` set, parameters bound) or
    an operator found by retrieval (``step`` None, parameters free but typed)."""

    op: str
    step: PlanStep | None = None

    @property
    def bound(self) -> bool:
        return self.step is not None

    def schema(self) -> dict[str, Any]:
        if self.step is not None:
            return bound_step_schema(self.op, self.step.params)
        return step_schema(self.op, all_ops()[self.op], why=False)


@dataclass
class Slot:
    """A requirement the model must serve with at least one of ``alternatives``."""

    key: str  # "2_length": the requirement's position and kind
    req: Requirement
    kind: RequirementKind
    alternatives: list[Alternative]

    @property
    def max_steps(self) -> int:
        """As many steps as the kind itself uses: a choice among the candidates, not a pile of all of them."""
        return max(1, sum(a.bound for a in self.alternatives))

    def prompt(self) -> dict[str, Any]:
        """The requirement as the model sees it: what it asks, its values, and its candidates, the kind's first."""
        cands = []
        for a in self.alternatives:
            if a.step is not None:
                cands.append({"op": a.op, "does": purpose(a.op), "params": a.step.params, "proposed_by": "requirement kind"})
            else:
                cands.append({"op": a.op, "does": purpose(a.op), "params": "defaults unless you set them", "proposed_by": "search"})
        values = {k: v for k, v in self.req.params.items() if not k.startswith("_")}  # "_": the agent's own notes
        return {"key": self.key, "asks": self.req.text, "values": values, "candidates": cands}


def purpose(op: str, limit: int = 100) -> str:
    """The first sentence of an operator's description (not cut at "et al."), at most ``limit`` characters."""
    text = " ".join(all_ops()[op].description.split())
    first = re.split(r"(?:(?<=[a-z]{3}[.!?])|(?<=\)[.!?]))\s+(?=[A-Z])", text, maxsplit=1)[0]
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"


@dataclass
class Candidates:
    """The choices offered to the model, and what the kinds decided that needs no choice."""

    slots: list[Slot]
    base: Plan  # the agent's normalisation step, output format, quality level and notes
    goal: Goal  # the copy of the goal the kinds read (they record what they decided in its requirements' params)
    notes: list[str] = field(default_factory=list)

    def slot(self, key: str) -> Slot | None:
        return next((s for s in self.slots if s.key == key), None)

    def slot_of(self, op: str) -> Slot | None:
        return next((s for s in self.slots if any(a.op == op for a in s.alternatives)), None)


def propose(goal: Goal, profile: Profile, index: OperatorIndex | None = None, extra: int = 2,
            accept_partial: bool = False) -> Candidates:
    """Per requirement, the kind's steps (bound) and up to ``extra`` more operators retrieval finds for it.

    The kinds read a copy of ``goal`` (they may note decisions in a requirement's params); a requirement whose
    kind needs no step of its own (a retention target, the output format, one merged into another's step) gets
    no slot. Raises :class:`~gristmill.agent.plan.Unsupported` as the built-in planner would.
    """
    from gristmill.agent.planner import build_plan

    index = index or OperatorIndex()
    g = copy.deepcopy(goal)
    base = build_plan(Goal(g.text, []), profile, index)  # the agent's own first step (normalize_text) and notes
    ctx = PlanContext(profile, g, index, base)
    built: list[tuple[int, Requirement, RequirementKind, list[PlanStep]]] = []
    notes: list[str] = []
    for i, req in enumerate(g.requirements, 1):
        kind = get_kind(req.kind)
        try:
            steps = kind.build(req, ctx)
        except NotUnderstood as exc:
            if not accept_partial:
                raise
            notes.append(f"not planned (accepted as partial): {exc}")
            continue
        base.steps.extend(steps)
        built.append((i, req, kind, steps))
    slots = []
    for i, req, kind, steps in built:  # after every build: a later kind may have merged into an earlier step
        if not steps:
            continue
        alts = [Alternative(s.op, s) for s in steps]
        query = f"{kind.query or kind.name} {req.text}"
        found = [h.name for h in index.search(query, 12) if h.family in kind.families and h.name not in {a.op for a in alts}
                 and not all_ops()[h.name].needs_keep  # the schema gives a free step no rule to write
                 and missing_package(all_ops()[h.name].needs) is None]  # nor one whose extra is not installed
        alts += [Alternative(n) for n in found[:extra]]
        slots.append(Slot(f"{i}_{req.kind}", req, kind, alts))
    return Candidates(slots, base, g, notes)


def choice_schema(c: Candidates, new_operator_schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON schema of the model's answer: ``{"plan": {KEY: [step, ...], ...}}`` with every requirement key
    required, each step one of that requirement's alternatives. With ``new_operator_schema`` a step may also
    name an operator the answer proposes in ``new_operators`` (tested in the sandbox before it is used)."""
    props: dict[str, Any] = {}
    for s in c.slots:
        alts = [a.schema() for a in s.alternatives]
        if new_operator_schema is not None:
            alts.append({"type": "object", "required": ["op"], "properties": {"op": {"type": "string"}, "params": {"type": "object"}}})
        props[s.key] = {"type": "array", "minItems": 1, "maxItems": s.max_steps, "items": {"anyOf": alts}}
    plan = {"type": "object", "additionalProperties": False, "required": list(props), "properties": props}
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "required": ["plan"], "properties": {"plan": plan}}
    if new_operator_schema is not None:
        out["properties"]["new_operators"] = new_operator_schema
    return out
