"""Test helpers: run an operator on hand-built documents and decide with its default rules."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa

from gristmill.batch import Batch
from gristmill.ops.base import Operator

_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def batch(*texts: str) -> Batch:
    return Batch(pa.table({"id": list(range(len(texts))), "text": list(texts)}))


def signals(op: Operator, *texts: str) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in op.apply(batch(*texts)).items()}


def decide(op: Operator, *texts: str) -> list[str]:
    """Per document: 'keep' or the name of the first failing default rule (datatrove-style reason)."""
    sig = op.apply(batch(*texts))
    cols: dict[str, Any] = {op.signal_column(k): np.asarray(v) for k, v in sig.items()}
    out: list[str] = []
    for i in range(len(texts)):
        row = {k: v[i].item() for k, v in cols.items()}
        reason = "keep"
        for name, expr in op.rules().items():
            py = _NAME.sub(lambda m: f"_r[{m.group()!r}]", expr)
            if not eval(py, {"_r": row, "abs": abs, "min": min, "max": max}):  # noqa: S307 - our rule strings
                reason = name
                break
        out.append(reason)
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
