"""Purpose: what the data is for, when the goal says ("clean text for RAG", "a corpus for retrieval"), and
the requirements that purpose implies beyond what the goal states (``assets/agent/purposes.yaml``): a RAG
corpus also loses the boilerplate lines repeated across pages, which would pollute retrieved chunks. Each
implied requirement is printed as an assumption.
"""

from __future__ import annotations

import re
from typing import Any

from gristmill.agent.kinds.base import GoalText, RequirementKind, register
from gristmill.agent.phrases import vocabulary
from gristmill.agent.requirement import Requirement

PURPOSES: dict[str, dict[str, Any]] = vocabulary("purposes")["purposes"]
_NAMES = {p: re.compile(r"(?<![\w-])(?:" + "|".join(f"(?:{n})" for n in spec["names"]) + r")(?![\w-])") for p, spec in PURPOSES.items()}
_IMPLIED = {
    "boilerplate": ({}, "no line repeated across many documents remains (boilerplate removed)"),
}


@register
class Purpose(RequirementKind):
    name = "purpose"
    description = "what the data is for (RAG, pretraining), and what that implies"
    rank, order = 140, 0
    target = True  # reads the goal only; the requirements it implies are checked by their own kinds

    def parse(self, goal: GoalText) -> list[Requirement]:
        low = goal.free(self.name)
        out: list[Requirement] = []
        for purpose, rx in _NAMES.items():
            ms = list(rx.finditer(low))
            if not ms:
                continue
            spec = PURPOSES[purpose]
            implied = [k for k in spec["implies"] if not any(kind == k for _, kind in goal.claimed)]
            if not implied:
                for m in ms:
                    goal.assume(m.span(), f"{goal.text[m.start():m.end()]!r}: the data is for {purpose}")
                continue
            for k in implied:
                params, text = _IMPLIED[k]
                out.append(Requirement(k, {**params, "implied_by": purpose}, text, goal.text[ms[0].start():ms[0].end()],
                                       f"a {purpose} corpus: {spec['why']}", ms[0].span(), [m.span() for m in ms]))
        return out
