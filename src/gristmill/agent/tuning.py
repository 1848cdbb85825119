"""Tune a quality operator's keep rules to the measured distribution, on the recipe rule AST.

A rule is read with the same grammar the recipe compiler uses (:mod:`gristmill.recipe.rules`): Python's
expression AST, checked by :func:`compile_rule` against the profiled signals. A *threshold rule* is one
comparison of a signal with a number, either way round and optionally under ``not``
(``gopher.words >= 50``, ``50 <= gopher.words``, ``not (gopher.words < 50)``); anything else is left as
it is. Tuning rewrites only the number (and a strict comparison to the inclusive one), so the rule keeps
its shape and its source stays readable.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from gristmill.agent.profile import Profile
from gristmill.recipe.rules import RuleError, compile_rule, dotted_name

_FLIP = {ast.Lt: ast.Gt, ast.LtE: ast.GtE, ast.Gt: ast.Lt, ast.GtE: ast.LtE}
_INCLUSIVE = {ast.Lt: ast.LtE, ast.Gt: ast.GtE}
_STRICT = {ast.LtE: ast.Lt, ast.GtE: ast.Gt}


@dataclass
class Threshold:
    """``column`` compared with ``value``; ``keeps_above`` when documents above the bound are kept."""

    column: str
    value: float
    keeps_above: bool
    tree: ast.Expression
    constant: ast.Constant
    compare: ast.Compare
    signal_left: bool
    negated: bool


def threshold_of(source: str, available: list[str] | None = None) -> Threshold | None:
    """The threshold a rule expresses, or None when it is not one comparison of a signal with a number."""
    try:
        if available is not None:
            compile_rule("probe", source, available)
        tree = ast.parse(source.strip(), mode="eval")
    except (RuleError, SyntaxError):
        return None
    node, negated = tree.body, False
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        node, negated = node.operand, not negated
    if not isinstance(node, ast.Compare) or len(node.ops) != 1 or type(node.ops[0]) not in _FLIP:
        return None
    left, right = node.left, node.comparators[0]
    if isinstance(right, ast.Constant) and isinstance(right.value, (int, float)) and not isinstance(right.value, bool):
        col, const, signal_left = dotted_name(left), right, True
    elif isinstance(left, ast.Constant) and isinstance(left.value, (int, float)) and not isinstance(left.value, bool):
        col, const, signal_left = dotted_name(right), left, False
    else:
        return None
    if col is None:
        return None
    op = type(node.ops[0]) if signal_left else _FLIP[type(node.ops[0])]  # as "column OP number"
    above = op in (ast.Gt, ast.GtE)
    return Threshold(col, float(const.value), above != negated, tree, const, node, signal_left, negated)


def with_value(t: Threshold, value: float) -> str:
    """The rule's source with its number set to ``value`` and the bound itself kept (``>`` becomes ``>=``;
    under ``not``, ``<=`` becomes ``<``)."""
    t.constant.value = int(value) if float(value).is_integer() else round(value, 4)
    op = type(t.compare.ops[0])
    table = _STRICT if t.negated else _INCLUSIVE
    if op in table:
        t.compare.ops[0] = table[op]()
    return ast.unparse(t.tree)


def keeps_lower(op: str, neg: bool) -> bool:
    """True when a rule ``column OP number`` (negated when ``neg``) keeps values above the bound."""
    return (op in (">=", ">")) != neg


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.4g}"


def tune_rules(op_name: str, rules: dict[str, str], profile: Profile, max_drop: float | None) -> tuple[dict[str, str], list[str]]:
    """Relax every threshold rule that alone drops more than ``max_drop`` of the sample to the quantile that
    drops exactly ``max_drop``. Returns the rules and a note per relaxed rule."""
    out, notes = dict(rules), []
    if max_drop is None:
        return out, notes
    for rname, src in rules.items():
        t = threshold_of(src, list(profile.signals))
        if t is None or t.column not in profile.signals:
            continue
        values = np.asarray(profile.signals[t.column], dtype=float)
        values = values[~np.isnan(values)]
        if not len(values):
            continue
        kept = profile.share_where(src)
        if 1 - kept <= max_drop:
            continue
        if t.keeps_above:
            new = min(float(np.quantile(values, max_drop)), t.value)
        else:
            new = max(float(np.quantile(values, 1 - max_drop)), t.value)
        new = round(new, 4)
        out[rname] = with_value(t, new)
        pct = round(max_drop * 100) if t.keeps_above else round((1 - max_drop) * 100)
        notes.append(f"{rname}: default {src!r} would drop {1 - kept:.0%} of the sample; set to {_fmt(new)} (the sample's p{pct})")
    return out, notes
