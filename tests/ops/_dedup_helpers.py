"""Small helpers shared by the operator tests (no engine needed)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa

from gristmill.batch import Batch
from gristmill.ops.base import GlobalOperator, SignatureSource


def batch_of(texts: list[str], **columns: list[Any]) -> Batch:
    return Batch(pa.table({"id": [str(i) for i in range(len(texts))], "text": texts, **columns}))


def run_global(op: GlobalOperator, chunks: list[Batch]) -> tuple[list[np.ndarray | None], Any]:
    """Signature -> decide -> apply_decision over several chunks, as the engine would."""
    sigs = {i: op.signature(b) for i, b in enumerate(chunks)}
    decision = op.decide(SignatureSource(list(sigs), lambda cid: sigs[cid]))
    return [op.apply_decision(b, i, decision) for i, b in enumerate(chunks)], decision


def eval_rules(rules: dict[str, str], columns: dict[str, Any]) -> np.ndarray:
    """Evaluate keep rules row by row with ``eval`` (a stand-in until the recipe rules helper lands)."""
    n = len(next(iter(columns.values())))
    keep = np.ones(n, dtype=bool)
    for expr in rules.values():
        aliases = {}
        for i, col in enumerate(sorted(columns, key=len, reverse=True)):
            alias = f"_c{i}"
            aliases[alias] = columns[col]
            expr = re.sub(rf"(?<![\w.]){re.escape(col)}(?![\w.])", alias, expr)
        for row in range(n):
            env = {k: (v[row].item() if hasattr(v[row], "item") else v[row]) for k, v in aliases.items()}
            keep[row] &= bool(eval(expr, {"abs": abs, "min": min, "max": max}, env))  # noqa: S307
    return keep
