"""gristmill: prepare LLM training data with verified recipes, then mix it while the model trains.

``import gristmill as gm`` gives ``gm.Recipe``, ``gm.ops.<operator>(...)``, ``gm.catalog`` and, for custom operators,
``gm.register``, ``gm.Operator``, ``gm.OpParams`` and ``gm.Signal`` (docs/python.md);
they load on first use, so that the CLI starts fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gristmill")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"

import gristmill.ops as _ops_package  # noqa: E402,F401 - loaded first, so that `ops` below stays the factories
from gristmill.api import ops  # noqa: E402 - gm.ops.<operator>(**params); submodules stay reachable through it

__all__ = ["OpParams", "Operator", "Recipe", "Signal", "Step", "__version__", "catalog", "ops", "register"]


def __getattr__(name: str):
    if name in ("Recipe", "Step"):
        from gristmill import api

        return getattr(api, name)
    if name in ("Operator", "OpParams", "Signal"):  # what a custom operator is made of (docs/python.md)
        from gristmill.ops import base

        return getattr(base, name)
    if name == "register":
        from gristmill.ops.registry import register

        return register
    if name == "catalog":
        import importlib

        return importlib.import_module("gristmill.catalog")
    raise AttributeError(f"module 'gristmill' has no attribute {name!r}")
