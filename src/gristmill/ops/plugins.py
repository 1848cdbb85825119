"""Operators saved beside a recipe, made available to `gristmill run` and to engine workers.

Template operators (keyword, regex, field conditions) are built in (:mod:`gristmill.ops.templates`); operators written by an LLM and accepted by
the sandbox are saved beside the recipe in ``operators/`` with a manifest of their SHA-256, and loaded only
when the file still has that hash (an edited file is refused, not silently run).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from gristmill.errors import UsageError

PLUGIN_ENV = "GRISTMILL_PLUGINS"
MANIFEST = "manifest.json"


def operators_dir(recipe_path: str | Path) -> Path:
    return Path(recipe_path).resolve().parent / "operators"


def load_operator_plugins(recipe_path: str | Path | None = None) -> list[str]:
    """Register the accepted generated operators saved beside ``recipe_path`` (and in ``$GRISTMILL_PLUGINS``).

    Also records the folder in ``$GRISTMILL_PLUGINS`` so that spawned engine workers can do the same.
    Returns the names of the generated operators loaded.
    """
    loaded: list[str] = []
    dirs = [operators_dir(recipe_path)] if recipe_path else []
    dirs += [Path(p) for p in os.environ.get(PLUGIN_ENV, "").split(os.pathsep) if p]
    for d in dict.fromkeys(dirs):
        man = d / MANIFEST
        if not man.is_file():
            continue
        entries = json.loads(man.read_text())
        for name, info in entries.items():
            path = d / info["file"]
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != info["sha256"]:
                raise UsageError(f"{path}: operator {name!r} changed since it was accepted (sha256 {digest[:12]} != "
                                 f"{info['sha256'][:12]}); re-run `gristmill prepare` or restore the file")
            spec = importlib.util.spec_from_file_location(f"gristmill_generated_{name}", path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            loaded.append(name)
        paths = [p for p in os.environ.get(PLUGIN_ENV, "").split(os.pathsep) if p]
        if str(d) not in paths:
            os.environ[PLUGIN_ENV] = os.pathsep.join([*paths, str(d)])
    return loaded
