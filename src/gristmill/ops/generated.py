"""Operators written by an LLM during `gristmill prepare`, accepted by the sandbox, saved beside the recipe.

A generated operator is a Python snippet defining ``score(text) -> bool | number``; the operator measures
that value as the signal ``<step>.score`` and keeps documents where its ``keep`` rule (``score > 0`` by
default) holds. The saved file is pinned by SHA-256 in ``operators/manifest.json`` (:mod:`gristmill.ops.plugins`).

The snippet never runs in gristmill's own process: each engine worker starts one long-lived child per
generated operator inside the OS-level sandbox (:mod:`gristmill.sandbox`) and streams its batches to it, as
the agent did when it tested the code. A child that dies, times out or floods fails that batch with the
reason (the engine then isolates the documents that make it fail); after
:data:`MAX_CONSECUTIVE_FAILURES` failed children in a row the operator fails every batch at once. Where no
sandbox can be made, defining the operator is refused (exit 2) with what to install.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import threading

import numpy as np

from gristmill.batch import Batch
from gristmill.errors import UsageError
from gristmill.ops.base import Operator, OpParams, Signal
from gristmill.ops.registry import _REGISTRY, BUILTIN_MODULES, register
from gristmill.sandbox import CodeError, Limits, SandboxedFunction, SandboxFailure
from gristmill.sandbox.view import SandboxUnavailable, check_available

ALLOWED_IMPORTS: frozenset[str] = frozenset(
    {"re", "math", "string", "unicodedata", "collections", "itertools", "json", "numpy"}
)
FUNCTION = "score"
NAME = re.compile(r"^[a-z][a-z0-9_]{2,39}$")
KEEP = re.compile(r"^\s*score\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
# per child: CPU time over its whole life (a failed child is replaced), wall time per batch
RUN_LIMITS = Limits(cpu_s=3600, wall_s=30.0, wall_per_doc_s=0.01, memory_mb=1024, file_mb=16)
MAX_CONSECUTIVE_FAILURES = 3


class SandboxedScore:
    """The per-process runner of one generated operator: its sandboxed child and its failure count."""

    def __init__(self, name: str, source: str, limits: Limits) -> None:
        self.name = name
        self.fn = SandboxedFunction(source, ALLOWED_IMPORTS, limits)
        self.failures = 0
        self.last_failure = ""
        self.lock = threading.Lock()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self.lock:
            if self.failures >= MAX_CONSECUTIVE_FAILURES:
                raise RuntimeError(f"generated operator {self.name!r} is disabled in this worker: its sandboxed child failed "
                                   f"{self.failures} times in a row (last: {self.last_failure})")
            try:
                values = self.fn(texts)
            except CodeError as exc:
                if exc.index is None:  # the code did not even load
                    self._failed(str(exc))
                raise ValueError(f"generated operator {self.name!r}: {exc}") from None
            except SandboxFailure as exc:
                self._failed(f"the sandboxed child {exc}")
                raise RuntimeError(f"generated operator {self.name!r}: the sandboxed child {exc}") from None
            self.failures = 0
            return np.asarray(values, dtype=np.float64)

    def _failed(self, why: str) -> None:
        self.failures += 1
        self.last_failure = why

    def close(self) -> None:
        with self.lock:
            self.fn.close()


_RUNNERS: list[SandboxedScore] = []
atexit.register(lambda: [r.close() for r in _RUNNERS])


def check_keep(keep: str | None) -> str:
    keep = (keep or "score > 0").strip()
    if not KEEP.match(keep):
        raise ValueError(f"keep rule {keep!r} must compare score with a number, e.g. 'score > 0' or 'score >= 0.5'")
    return keep


def is_generated(name: str) -> bool:
    cls = _REGISTRY.get(name)
    return bool(cls is not None and getattr(cls, "generated", False))


def define(name: str, description: str, source: str, keep: str | None = None) -> type[Operator]:
    """Build and register the operator class for an accepted snippet (called by the saved module)."""
    if not NAME.match(name):
        raise ValueError(f"generated operator name {name!r} must match {NAME.pattern}")
    if (name in _REGISTRY or name in BUILTIN_MODULES) and not is_generated(name):
        raise ValueError(f"generated operator name {name!r} is taken by a built-in operator")
    rule = check_keep(keep)
    try:
        check_available()
    except SandboxUnavailable as exc:
        raise UsageError(f"generated operator {name!r} refused: {exc}") from None
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    state: dict[str, SandboxedScore] = {}

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
            if "runner" not in state:
                state["runner"] = SandboxedScore(name, source, RUN_LIMITS)
                _RUNNERS.append(state["runner"])
            return {FUNCTION: state["runner"]([t if isinstance(t, str) else "" for t in batch.texts()])}

    GeneratedOperator.name = name
    GeneratedOperator.description = f"(generated by an LLM, accepted by the sandbox) {description}".strip()
    GeneratedOperator.__qualname__ = GeneratedOperator.__name__ = f"Generated_{name}"
    return register(GeneratedOperator)


def module_text(name: str, description: str, source: str, keep: str, note: str) -> str:
    """The file saved in ``operators/``: it only calls :func:`define` with the accepted snippet.

    Every value goes in as a Python literal (``repr``); the note, in the docstring, is flattened to one line
    without quotes or backslashes, so no text can end the docstring and become code in gristmill's process."""
    note = " ".join(note.replace("\\", "/").replace('"', "'").split())
    return (
        f'"""Generated operator {name!r}: {note}\n\nDo not edit: operators/manifest.json pins this file\'s SHA-256 and '
        '`gristmill run` refuses a changed file."""\n\n'
        "from gristmill.ops.generated import define\n\n"
        f"define(\n    name={name!r},\n    description={description!r},\n    keep={keep!r},\n    source={source!r},\n)\n"
    )
