"""Test helpers: run an operator on hand-built documents and decide with its default rules."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from gristmill.batch import Batch
from gristmill.ops.base import Operator
from gristmill.recipe.rules import compile_rule


def batch(*texts: str) -> Batch:
    return Batch(pa.table({"id": list(range(len(texts))), "text": list(texts)}))


def signals(op: Operator, *texts: str) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in op.apply(batch(*texts)).items()}


def decide(op: Operator, *texts: str) -> list[str]:
    """Per document: 'keep' or the name of the first failing default rule (datatrove-style reason).

    Rules are compiled and evaluated with the recipe rule language (``gristmill.recipe.rules``), as the
    engine does.
    """
    sig = op.apply(batch(*texts))
    env = {op.signal_column(k): np.asarray(v) for k, v in sig.items()}
    n = len(texts)
    out = ["keep"] * n
    alive = np.ones(n, bool)
    for name, expr in op.rules().items():
        ok = compile_rule(name, expr, env).keep_mask(env, n)
        for i in np.flatnonzero(alive & ~ok):
            out[i] = name
        alive &= ok
    return out


def unique_words(n: int, start: int = 0, prefix: str = "w") -> list[str]:
    """n distinct lower-case alphabetic words of equal length (no digits: they must count as words)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = []
    for i in range(start, start + n):
        s = ""
        k = i
        for _ in range(4):
            s = letters[k % 26] + s
            k //= 26
        out.append(prefix + s)
    return out
