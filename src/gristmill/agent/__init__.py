"""gristmill prepare: turn a plain-language goal into a verified, reusable recipe.

``prepare(input, goal, output)`` profiles a sample, turns the goal into checkable requirements, plans
operators from the registry, dry-runs and verifies on the sample, repairs, writes the recipe and a plan
report, and runs the recipe on the whole input.
"""

from __future__ import annotations

from typing import Any


def prepare(*args: Any, **kwargs: Any) -> Any:
    from gristmill.agent.prepare import prepare as _prepare

    return _prepare(*args, **kwargs)


__all__ = ["prepare"]
