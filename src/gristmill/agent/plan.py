"""What a planner produces: ordered steps, each saying which requirement it serves and why.

Kept apart from the planners so that requirement kinds, the LLM planner and the repair loop share one
shape without importing each other. A step's place in the recipe is its ``order`` (set by the requirement
kind that built it) and ``late`` (set by a repair that moves a filter after the steps that rewrite text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LATE_ORDER = 13.0  # after every text-rewriting step, before the token budget (14)


class Unsupported(Exception):
    """A requirement that no operator (or template) in the registry can serve."""


@dataclass
class PlanStep:
    op: str
    params: dict[str, Any] = field(default_factory=dict)
    keep: dict[str, str] | None = None
    why: str = ""
    requirement: str = ""  # the kind it serves ("llm" for steps chosen by the LLM planner)
    name: str | None = None
    order: float = 5.0  # place in the recipe (the serving kind's order)
    late: bool = False  # moved after the text-rewriting steps by a repair
    # set when the LLM planner chose an operator and its parameters itself: the requirement it serves
    # (kind, clause), whose kind's proposed steps a repair puts in its place if that requirement fails
    serves: tuple[str, str] | None = None

    def same(self, other: PlanStep) -> bool:
        """The same step: operator, name, parameters and rules (the reason and position aside)."""
        return (self.op, self.name, self.params, self.keep) == (other.op, other.name, other.params, other.keep)

    def spec(self) -> dict[str, Any]:
        d: dict[str, Any] = {"op": self.op}
        if self.name:
            d["name"] = self.name
        if self.params:
            d["params"] = self.params
        if self.keep is not None:
            d["keep"] = self.keep
        if self.why:
            d["why"] = self.why
        return d

    @property
    def position(self) -> float:
        return LATE_ORDER if self.late else self.order


@dataclass
class Plan:
    steps: list[PlanStep]
    output_format: str = "parquet"
    notes: list[str] = field(default_factory=list)
    quality_level: dict[str, str] = field(default_factory=dict)  # requested -> current (after repairs)
    generated: list[str] = field(default_factory=list)  # operators written by the LLM, accepted by the sandbox
    # LLM plans: per requirement (kind, clause), the steps its kind proposed, whether or not the model took them
    proposed: dict[tuple[str, str], list[PlanStep]] = field(default_factory=dict)

    def ordered_steps(self) -> list[PlanStep]:
        return sorted(self.steps, key=lambda s: s.position)

    def recipe(self, name: str, description: str, input_path: str | None, output: str | None) -> dict[str, Any]:
        return {
            "name": name,
            "description": description,
            "input": {"path": input_path} if input_path else {},
            "steps": [s.spec() for s in self.ordered_steps()],
            "output": {"format": self.output_format, **({"path": output} if output else {}), "dropped_samples": 5},
        }

    def find(self, requirement: str) -> list[PlanStep]:
        return [s for s in self.steps if s.requirement == requirement]


class NotUnderstood(Unsupported):
    """A requirement the goal states but this installation cannot read (e.g. kinds of content without the
    content_kind operator): reported with the goal's not-understood clauses (exit 2 unless accepted)."""
