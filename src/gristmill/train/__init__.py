"""gristmill.train: a plain training loop in which a data policy mixes, selects and reweights the data.

Public surface: :func:`train` (run a config), :func:`load_config`, the policy contract
(:class:`Policy`, :func:`register_policy`, :func:`make_policy`), and the click command
:data:`gristmill.train.cli.train_command`. Importing this package does not import torch until needed.
"""

from __future__ import annotations

from typing import Any

from gristmill.train.config import Config, load_config

__all__ = ["Config", "load_config", "train", "require_train_extra", "Policy", "register_policy", "make_policy", "available_policies"]


# the top-level modules the `train` extra brings; a missing one is reported as the extra to install
TRAIN_EXTRA_MODULES = frozenset({"torch", "transformers", "accelerate", "tokenizers", "matplotlib"})
TRAIN_EXTRA_HINT = "pip install 'gristmill[train]'"


def missing_train_extra(error: ImportError) -> str | None:
    """A one-line explanation when ``error`` comes from a module of the train extra; None for any other import."""
    name = (error.name or "").split(".")[0]
    if name not in TRAIN_EXTRA_MODULES:
        return None
    return f"training needs {name}, which is not installed: {TRAIN_EXTRA_HINT}"


def require_train_extra() -> None:
    """Import what every run needs (torch, transformers) now, so a missing extra is one clear ImportError up front."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        message = missing_train_extra(e)
        if message is None:
            raise
        raise ImportError(message, name=e.name) from None


def train(cfg: Config) -> dict[str, Any]:
    """Run one training job (see :mod:`gristmill.train.loop`)."""
    require_train_extra()
    from gristmill.train.loop import train as _train

    return _train(cfg)


def __getattr__(name: str) -> Any:
    if name in ("Policy", "register_policy", "make_policy", "available_policies"):
        from gristmill.train import policies

        return getattr(policies, name)
    raise AttributeError(name)
