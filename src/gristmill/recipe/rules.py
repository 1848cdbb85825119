"""Keep rules: small expressions over signal columns, checked at compile time, evaluated on numpy arrays.

The language is a safe subset of Python expressions::

    length.words >= 50 and gopher.mean_word_length < 10
    lang.code in ['en', 'fr'] and not pii.emails > 0
    3 <= length.lines <= 10_000
    field('domain') != 'spam'
    train.r1.excess_loss < 2.5
    signal('train.run-2.loss') < 4

Names are signal columns of earlier steps (``step.signal``) or columns of the input when its schema is known
at compile time (Parquet files, gristmill output folders and catalog versions: a training signal written
back as ``train.<run>.<signal>``, a signal an earlier recipe kept). ``signal('name')`` is the same lookup
for a name that is not a dotted identifier (a run name with a ``-``, a part starting with a digit). An
unknown name is a compile error naming the closest known ones. ``field('x')`` reads an input field of any
input, JSONL and CSV included (checked when the data is seen, not at compile time; a missing field is
null). Only comparisons, ``and``/``or``/``not``, arithmetic, constants, lists of constants and the
functions ``abs``, ``min``, ``max``, ``log``, ``exp``, ``sqrt``, ``isnan`` are allowed. A NaN or null
compares false, so a document whose signal is undefined fails a threshold rule.
"""

from __future__ import annotations

import ast
import difflib
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

Env = Mapping[str, np.ndarray]
Evaluator = Callable[[Env, int], np.ndarray]

_CMP = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_FUNCS: dict[str, Callable[..., np.ndarray]] = {
    "abs": np.abs,
    "min": np.minimum,
    "max": np.maximum,
    "log": np.log,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "isnan": lambda x: np.isnan(np.asarray(x, dtype=float)),
}


class RuleError(ValueError):
    """A rule that cannot be compiled; ``column`` is the 1-based position in the expression when known."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.column = column
        super().__init__(message)


@dataclass(frozen=True)
class Rule:
    """A compiled rule: its name, source, the signals it reads and its evaluator."""

    name: str
    source: str
    signals: frozenset[str]
    fields: frozenset[str]
    evaluate: Evaluator

    def keep_mask(self, env: Env, n: int) -> np.ndarray:
        out = self.evaluate(env, n)
        arr = np.asarray(out)
        if arr.dtype != bool:
            if arr.dtype == object:
                arr = np.array([bool(v) if v is not None else False for v in arr.ravel()], dtype=bool)
            else:
                arr = np.nan_to_num(arr.astype(float), nan=0.0) != 0
        return np.broadcast_to(arr, (n,)).copy()


def dotted_name(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


MAX_RULE_CHARS = 100_000
MAX_RULE_TERMS = 1_000
MAX_RULE_DEPTH = 50


@dataclass
class _Scope:
    """What a rule may name, and what it named: signals of earlier steps, input columns, input fields."""

    available: set[str]
    inputs: frozenset[str] | None  # the input's columns when known at compile time; None: not known
    signals: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)

    def resolve(self, name: str, col: int | None) -> str:
        if name in self.available or (self.inputs is not None and name in self.inputs):
            self.signals.add(name)
            return name
        raise RuleError(self.unknown(name), col)

    def unknown(self, name: str) -> str:
        pool = sorted(self.available | (self.inputs or frozenset()))
        close = difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        steps = _listing(self.available)
        if self.inputs is None:
            tail = "" if close else (
                "; the input's columns are known before the run only for Parquet files and catalog versions "
                f"(for a field of a JSONL or CSV input write field({name!r}))")
            return f"rule uses signal {name!r}, which no earlier step produces{hint} (available: {steps}){tail}"
        return (f"rule uses signal {name!r}, which no earlier step produces and the input has no such column"
                f"{hint} (signals of earlier steps: {steps}; input columns: {_listing(self.inputs)})")


def _listing(names: Iterable[str], most: int = 40) -> str:
    names = sorted(names)
    if not names:
        return "none"
    more = f", ... ({len(names) - most} more)" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def compile_rule(name: str, source: str, available: Iterable[str], inputs: Iterable[str] | None = None) -> Rule:
    """Parse and check a rule against the signal columns available at its step and, when known at compile
    time, the input's columns (``inputs``; None when the input's schema is not known before reading)."""
    scope = _Scope(set(available), frozenset(inputs) if inputs is not None else None)
    if len(source) > MAX_RULE_CHARS:
        raise RuleError(f"rule is {len(source):,} characters long; at most {MAX_RULE_CHARS:,} (split it into named rules)")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        col = exc.offset
        raise RuleError(f"syntax error in rule {_short(source)!r}: {exc.msg}" + (f" at column {col}" if col else ""), col) from None
    except (RecursionError, MemoryError):
        raise RuleError(f"rule nests deeper than {MAX_RULE_DEPTH} levels") from None
    _check_size(tree)
    fn = _build(tree.body, scope)
    return Rule(name=name, source=source, signals=frozenset(scope.signals), fields=frozenset(scope.fields), evaluate=fn)


def _short(source: str) -> str:
    return source if len(source) <= 200 else source[:200] + "..."


def _check_size(tree: ast.AST) -> None:
    """Refuse a rule too big or too deep to build and evaluate by recursion (iterative walk)."""
    terms = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_RULE_DEPTH:
            raise RuleError(f"rule nests deeper than {MAX_RULE_DEPTH} levels")
        terms += 1
        if terms > MAX_RULE_TERMS:
            raise RuleError(f"rule has more than {MAX_RULE_TERMS:,} terms (split it into named rules)")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _text_or_list(node: ast.AST) -> bool:
    """A string or list constant: arithmetic on it could build a value of any size ('a' * 10**10)."""
    return isinstance(node, (ast.List, ast.Tuple, ast.Set)) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str))


def _const(v: object) -> Evaluator:
    return lambda env, n: v  # type: ignore[return-value]


def _build(node: ast.AST, scope: _Scope) -> Evaluator:
    col = getattr(node, "col_offset", None)
    col = col + 1 if col is not None else None
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str, bool)) and node.value is not None:
            raise RuleError(f"unsupported constant {node.value!r}", col)
        return _const(node.value)
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = dotted_name(node)
        if name is None:
            raise RuleError("unsupported expression: only signal names like step.signal may be used", col)
        if name in ("True", "False"):
            return _const(name == "True")
        key = scope.resolve(name, col)
        return lambda env, n, _k=key: env[_k]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        values = []
        for elt in node.elts:
            if not isinstance(elt, ast.Constant):
                raise RuleError("lists in rules may only hold constants", col)
            values.append(elt.value)
        return _const(values)
    if isinstance(node, ast.BoolOp):
        parts = [_build(v, scope) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or

        def boolop(env: Env, n: int) -> np.ndarray:
            out = _truth(parts[0](env, n), n)
            for p in parts[1:]:
                out = combine(out, _truth(p(env, n), n))
            return out

        return boolop
    if isinstance(node, ast.UnaryOp):
        inner = _build(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return lambda env, n: np.logical_not(_truth(inner(env, n), n))
        if isinstance(node.op, ast.USub):
            return lambda env, n: -_num(inner(env, n))
        if isinstance(node.op, ast.UAdd):
            return inner
        raise RuleError("unsupported unary operator", col)
    if isinstance(node, ast.BinOp):
        op = _BIN.get(type(node.op))
        if op is None:
            raise RuleError("unsupported arithmetic operator (use + - * / // %)", col)
        if _text_or_list(node.left) or _text_or_list(node.right):
            raise RuleError("arithmetic works on numbers only, not on text or lists", col)
        left = _build(node.left, scope)
        right = _build(node.right, scope)

        def binop(env: Env, n: int) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return op(_num(left(env, n)), _num(right(env, n)))

        return binop
    if isinstance(node, ast.Compare):
        operands = [_build(node.left, scope)] + [
            _build(c, scope) for c in node.comparators
        ]
        ops = []
        for o in node.ops:
            if isinstance(o, (ast.In, ast.NotIn)):
                ops.append(("in", isinstance(o, ast.NotIn)))
            elif type(o) in _CMP:
                ops.append(("cmp", _CMP[type(o)]))
            else:
                raise RuleError("unsupported comparison (use == != < <= > >= in, not in)", col)

        def compare(env: Env, n: int) -> np.ndarray:
            result = np.ones(n, dtype=bool)
            left_v = operands[0](env, n)
            for (kind, o), right_f in zip(ops, operands[1:]):
                right_v = right_f(env, n)
                if kind == "in":
                    hit = np.isin(np.asarray(left_v, dtype=object), np.asarray(right_v, dtype=object))
                    part = ~hit if o else hit
                else:
                    part = _compare(o, left_v, right_v, n)
                result &= np.broadcast_to(part, (n,))
                left_v = right_v
            return result

        return compare
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise RuleError("only plain function calls are allowed", col)
        fname = node.func.id
        if fname == "field":
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
                raise RuleError("field() takes one string: the input field's name, e.g. field('domain')", col)
            key = node.args[0].value
            scope.fields.add(key)
            return lambda env, n, _k="field:" + key: env[_k]
        if fname == "signal":
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
                raise RuleError("signal() takes one string: a column's name, e.g. signal('train.run-2.loss')", col)
            key = scope.resolve(node.args[0].value, col)
            return lambda env, n, _k=key: env[_k]
        fn = _FUNCS.get(fname)
        if fn is None:
            raise RuleError(f"unknown function {fname!r}; allowed: field, signal, {', '.join(sorted(_FUNCS))}", col)
        args = [_build(a, scope) for a in node.args]
        if fname in ("min", "max") and len(args) != 2:
            raise RuleError(f"{fname}() takes two arguments", col)

        def call(env: Env, n: int) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return fn(*[_num(a(env, n)) for a in args])

        return call
    raise RuleError(f"unsupported syntax in rule: {type(node).__name__}", col)


def numbers(v: object, n: int) -> np.ndarray:
    """An expression's value as ``n`` float64s: null, text or an overflowing number becomes NaN."""
    arr = np.broadcast_to(_num(v), (n,)).astype(np.float64)
    return arr


def _num(v: object) -> np.ndarray:
    """Numbers for arithmetic; a null or a non-number (a text field) is NaN, so a threshold on it fails."""
    arr = np.asarray(v)
    if arr.dtype == object or arr.dtype.kind in "US":
        arr = np.array([_float(x) for x in arr.ravel()], dtype=float).reshape(arr.shape)
    return arr


def _float(x: object) -> float:
    if isinstance(x, (bool, int, float, np.number)) and not isinstance(x, str):
        try:
            return float(x)
        except OverflowError:
            return np.nan
    return np.nan


def _truth(v: object, n: int) -> np.ndarray:
    arr = np.asarray(v)
    if arr.dtype != bool:
        arr = np.nan_to_num(_num(arr).astype(float), nan=0.0) != 0
    return np.broadcast_to(arr, (n,))


def _compare(op: Callable, left: object, right: object, n: int) -> np.ndarray:
    lv, rv = np.asarray(left), np.asarray(right)
    if lv.dtype == object or rv.dtype == object or lv.dtype.kind in "US" or rv.dtype.kind in "US":
        la = np.broadcast_to(np.asarray(left, dtype=object), (n,))
        ra = np.broadcast_to(np.asarray(right, dtype=object), (n,))
        out = np.zeros(n, dtype=bool)
        for i in range(n):
            a, b = la[i], ra[i]
            if a is None or b is None:
                continue
            try:
                out[i] = bool(op(a, b))
            except TypeError:
                out[i] = False
        return out
    with np.errstate(invalid="ignore"):
        return op(lv, rv)
