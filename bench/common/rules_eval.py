"""Evaluate an operator's keep rules over its signals (stand-in until gristmill.recipe.rules lands)."""

from __future__ import annotations

import re

import numpy as np

_NAME = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+")


def first_failing(rules: dict[str, str], columns: dict[str, np.ndarray], n: int) -> list[str | None]:
    """Per row, the name of the first rule that fails (None: kept). Columns are ``step.signal`` arrays."""
    reasons: list[str | None] = [None] * n
    alive = np.ones(n, bool)
    for rule, expr in rules.items():
        py = _NAME.sub(lambda m: f"_c[{m.group()!r}]", expr)
        py = py.replace(" and ", " & ").replace(" or ", " | ")
        py = re.sub(r"\bnot\s*\(", "~(", py)
        ok = np.asarray(eval(py, {"_c": columns, "abs": np.abs}), bool)  # noqa: S307 - our own rule strings
        for i in np.flatnonzero(alive & ~ok):
            reasons[i] = rule
        alive &= ok
    return reasons
