"""Requirement kinds: one module per kind, one contract (:mod:`.base`), one registry.

Importing this package imports every module in it, so a new kind is one new file with a class decorated
by :func:`register`. ``all_kinds()`` lists them in parse order; ``get_kind(name)`` finds one.
"""

from __future__ import annotations

import importlib
import pkgutil

from gristmill.agent.kinds.base import (
    CheckContext,
    GoalText,
    PlanContext,
    RepairContext,
    RequirementKind,
    register,
    registered,
)

__all__ = ["CheckContext", "GoalText", "PlanContext", "RepairContext", "RequirementKind", "all_kinds", "get_kind",
           "register"]

_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name != "base":
            importlib.import_module(f"{__name__}.{mod.name}")
    _loaded = True


def all_kinds() -> list[RequirementKind]:
    """Every registered kind, in parse order (``rank``, then name)."""
    _load()
    return sorted(registered().values(), key=lambda k: (k.rank, k.name))


def get_kind(name: str) -> RequirementKind:
    _load()
    try:
        return registered()[name]
    except KeyError:
        raise KeyError(f"no requirement kind {name!r}; known: {sorted(registered())}") from None
