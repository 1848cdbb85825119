"""gristmill.train: a plain training loop in which a data policy mixes, selects and reweights the data.

Public surface: :func:`train` (run a config), :func:`load_config`, the policy contract
(:class:`Policy`, :func:`register_policy`, :func:`make_policy`), and the click command
:data:`gristmill.train.cli.train_command`. Importing this package does not import torch until needed.
"""

from __future__ import annotations

from typing import Any

from gristmill.train.config import Config, load_config

__all__ = ["Config", "load_config", "train", "Policy", "register_policy", "make_policy", "available_policies"]


def train(cfg: Config) -> dict[str, Any]:
    """Run one training job (see :mod:`gristmill.train.loop`)."""
    from gristmill.train.loop import train as _train

    return _train(cfg)


def __getattr__(name: str) -> Any:
    if name in ("Policy", "register_policy", "make_policy", "available_policies"):
        from gristmill.train import policies

        return getattr(policies, name)
    raise AttributeError(name)
