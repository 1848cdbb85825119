"""The operator registry: every operator by its unique name."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from gristmill.errors import UsageError
from gristmill.ops.base import Operator

_REGISTRY: dict[str, type[Operator]] = {}


def register(cls: type[Operator]) -> type[Operator]:
    """Class decorator adding an operator to the registry under ``cls.name``."""
    for attr in ("name", "family", "description"):
        if not getattr(cls, attr, None):
            raise TypeError(f"operator {cls.__qualname__} must set {attr!r}")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
        raise ValueError(f"two operators named {cls.name!r}: {existing.__qualname__} and {cls.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_builtins() -> None:
    import gristmill.ops.builtin  # noqa: F401 - registers on import


def all_ops() -> dict[str, type[Operator]]:
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def suggest(name: str, choices: list[str] | None = None) -> str | None:
    """The closest operator name, for did-you-mean messages."""
    pool = choices if choices is not None else list(all_ops())
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.5)
    return close[0] if close else None


def get_op(name: str) -> type[Operator]:
    ops = all_ops()
    try:
        return ops[name]
    except KeyError:
        hint = suggest(name, list(ops))
        more = f"; did you mean {hint!r}?" if hint else f"; see `gristmill ops list` ({len(ops)} operators)"
        raise UsageError(f"unknown operator {name!r}{more}") from None


OpFactory = Callable[..., Operator]
