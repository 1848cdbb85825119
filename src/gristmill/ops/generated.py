"""Operators written by an LLM during `gristmill prepare`, accepted by the sandbox, saved beside the recipe.

A generated operator is a Python snippet defining ``score(text) -> bool | number``; the operator measures
that value as the signal ``<step>.score`` and keeps documents where its ``keep`` rule (``score > 0`` by
default) holds. Before acceptance the snippet ran in a sandboxed subprocess on the sample
(:mod:`gristmill.agent.sandbox`); the saved file is pinned by SHA-256 in ``operators/manifest.json``
(:mod:`gristmill.ops.plugins`). At run time the snippet executes in-process, with a restricted set of
builtins: imports only from :data:`ALLOWED_IMPORTS`, and no ``open``, ``exec``, ``eval`` or ``compile``.
That restriction is a second line of defence, not a sandbox: the sandbox run and the pinned hash are what
make the code trusted.
"""

from __future__ import annotations

import builtins
import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from gristmill.batch import Batch
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import _REGISTRY, register

ALLOWED_IMPORTS: frozenset[str] = frozenset(
    {"re", "math", "string", "unicodedata", "collections", "itertools", "json", "numpy"}
)
FUNCTION = "score"
NAME = re.compile(r"^[a-z][a-z0-9_]{2,39}$")
KEEP = re.compile(r"^\s*score\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_DENIED_BUILTINS = ("open", "exec", "eval", "compile", "input", "breakpoint", "help", "exit", "quit", "__import__")


def guarded_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:  # noqa: A002
    top = name.split(".")[0]
    if level != 0 or top not in ALLOWED_IMPORTS:
        raise ImportError(f"import of {name!r} is not allowed in a generated operator (allowed: {', '.join(sorted(ALLOWED_IMPORTS))})")
    return builtins.__import__(name, globals, locals, fromlist, level)


def restricted_builtins() -> dict[str, Any]:
    b = {k: v for k, v in vars(builtins).items() if k not in _DENIED_BUILTINS}
    b["__import__"] = guarded_import
    return b


def load_function(source: str, name: str = "generated") -> Callable[[str], Any]:
    """Execute ``source`` with restricted builtins and return its ``score`` function."""
    env: dict[str, Any] = {"__builtins__": restricted_builtins(), "__name__": f"gristmill_generated_{name}"}
    exec(compile(source, f"<generated operator {name}>", "exec"), env)  # noqa: S102 - accepted by the sandbox, pinned by hash
    fn = env.get(FUNCTION)
    if not callable(fn):
        raise ValueError(f"the code does not define a function {FUNCTION}(text)")
    return fn


def check_keep(keep: str | None) -> str:
    keep = (keep or "score > 0").strip()
    if not KEEP.match(keep):
        raise ValueError(f"keep rule {keep!r} must compare score with a number, e.g. 'score > 0' or 'score >= 0.5'")
    return keep


def to_number(value: Any) -> float:
    """A generated function's value as a float; anything but a bool or a finite number is an error."""
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(float(value)):
        return float(value)
    raise TypeError(f"{FUNCTION}() returned {type(value).__name__} {value!r:.40}; expected a bool or a finite number")


def is_generated(name: str) -> bool:
    cls = _REGISTRY.get(name)
    return bool(cls is not None and getattr(cls, "generated", False))


def define(name: str, description: str, source: str, keep: str | None = None) -> type[Operator]:
    """Build and register the operator class for an accepted snippet (called by the saved module)."""
    if not NAME.match(name):
        raise ValueError(f"generated operator name {name!r} must match {NAME.pattern}")
    if name in _REGISTRY and not is_generated(name):
        raise ValueError(f"generated operator name {name!r} is taken by a built-in operator")
    rule = check_keep(keep)
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    state: dict[str, Callable[[str], Any]] = {}

    class GeneratedOperator(Operator):
        generated = True
        family = "select"
        Params = OpParams
        signals = (Signal(FUNCTION, "float", "value of the generated score(text) function"),)
        version = f"gen-{digest}"
        code = source
        keep_rule = rule

        def rules(self) -> dict[str, str]:
            return {"generated_rule": KEEP.sub(lambda m: f"{self.signal_column(FUNCTION)} {m.group(1)} {m.group(2)}", rule)}

        def apply(self, batch: Batch) -> dict[str, np.ndarray]:
            if "fn" not in state:
                state["fn"] = load_function(source, name)
            fn = state["fn"]
            texts = batch.texts()
            return {FUNCTION: np.fromiter((to_number(fn(t or "")) for t in texts), np.float64, len(texts))}

    GeneratedOperator.name = name
    GeneratedOperator.description = f"(generated by an LLM, accepted by the sandbox) {description}".strip()
    GeneratedOperator.__qualname__ = GeneratedOperator.__name__ = f"Generated_{name}"
    return register(GeneratedOperator)


def module_text(name: str, description: str, source: str, keep: str, note: str) -> str:
    """The file saved in ``operators/``: it only calls :func:`define` with the accepted snippet."""
    return (
        f'"""Generated operator {name!r}: {note}\n\nDo not edit: operators/manifest.json pins this file\'s SHA-256 and '
        '`gristmill run` refuses a changed file."""\n\n'
        "from gristmill.ops.generated import define\n\n"
        f"define(\n    name={name!r},\n    description={description!r},\n    keep={keep!r},\n    source={source!r},\n)\n"
    )
