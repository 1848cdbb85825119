"""Cut a compiled recipe into stages at its global operators.

Stage k streams chunk by chunk: it applies the decision of the global step that closed stage k-1 (if any),
runs the per-document steps, and, if a global step follows, computes that step's signatures. Between two
stages the global step decides over all signatures at once. A recipe without global steps is one stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gristmill.recipe.compile import CompiledRecipe, CompiledStep


@dataclass
class Stage:
    index: int
    applies: CompiledStep | None = None
    steps: list[CompiledStep] = field(default_factory=list)
    signs: CompiledStep | None = None

    @property
    def final(self) -> bool:
        return self.signs is None


def plan_stages(recipe: CompiledRecipe) -> list[Stage]:
    stages: list[Stage] = []
    current = Stage(0)
    for step in recipe.steps:
        if step.is_global:
            current.signs = step
            stages.append(current)
            current = Stage(len(stages), applies=step)
        else:
            current.steps.append(step)
    stages.append(current)
    return stages
