"""Evaluate an operator's default keep rules over its signals with gristmill's own rule language."""

from __future__ import annotations

import numpy as np

from gristmill.recipe.rules import compile_rule


def first_failing(rules: dict[str, str], columns: dict[str, np.ndarray], n: int) -> list[str | None]:
    """Per row, the name of the first rule that fails (None: kept). Columns are ``step.signal`` arrays."""
    env = {k: np.asarray(v) for k, v in columns.items()}
    reasons: list[str | None] = [None] * n
    alive = np.ones(n, bool)
    for name, expr in rules.items():
        ok = compile_rule(name, expr, env).keep_mask(env, n)
        for i in np.flatnonzero(alive & ~ok):
            reasons[i] = name
        alive &= ok
    return reasons
