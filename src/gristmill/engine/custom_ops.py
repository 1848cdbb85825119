"""Operators a user registered in their own code (``@register``), shipped to the engine's workers.

A worker rebuilds the recipe from data, finding each operator in the registry by name; an operator that
only the driver's process registered is unknown there (a Ray worker imports nothing of the user's script,
and neither does a local worker started by a fork server). So the driver pickles each such operator class
*by value* with cloudpickle: its code travels, not an import path, since the user's module is often not
importable in the worker (a script's ``__main__``, a notebook, a folder missing from the worker's
``sys.path``). When the class cannot be pickled by value (a module-level object its methods use will not
pickle), it is sent by reference and the worker imports its module. The worker registers what it
unpickles before compiling the recipe. Built-in operators and LLM-generated ones (every worker loads those
from their hash-pinned files) are not shipped.
"""

from __future__ import annotations

import pickle
import sys

from gristmill.errors import UsageError
from gristmill.recipe.compile import CompiledRecipe


def _is_shipped_anyway(module: str) -> bool:
    return module == "gristmill" or module.startswith("gristmill.")


def _by_value(cls: type, module) -> bytes:
    import cloudpickle

    if module is None:
        return cloudpickle.dumps(cls)  # __main__ and other unimportable modules: cloudpickle goes by value
    cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(cls)
    finally:
        cloudpickle.unregister_pickle_by_value(module)


def pack(recipe: CompiledRecipe) -> tuple[bytes, ...]:
    """The pickled classes of the recipe's operators that workers cannot find by themselves."""
    import cloudpickle

    blobs: list[bytes] = []
    seen: set[type] = set()
    for step in recipe.steps:
        cls = type(step.op)
        if cls in seen or _is_shipped_anyway(cls.__module__):
            continue
        seen.add(cls)
        module = sys.modules.get(cls.__module__) if cls.__module__ != "__main__" else None
        try:
            blobs.append(_by_value(cls, module))
        except Exception as exc:  # noqa: BLE001 - whatever the class's code drags along
            if module is None:
                raise UsageError(
                    f"operator {cls.name!r} ({cls.__module__}.{cls.__qualname__}) cannot be sent to the engine's "
                    f"workers: {type(exc).__name__}: {exc}; keep unpicklable resources out of the class (load "
                    "them in setup()), or define it in an importable module") from None
            blobs.append(cloudpickle.dumps(cls))  # by reference: the worker imports its module
    return tuple(blobs)


def unpack(blobs: tuple[bytes, ...]) -> None:
    """Register the shipped operator classes in this worker (those it already knows stay as they are)."""
    from gristmill.ops.registry import _REGISTRY, register

    for blob in blobs:
        cls = pickle.loads(blob)
        if cls.name not in _REGISTRY:
            register(cls)
