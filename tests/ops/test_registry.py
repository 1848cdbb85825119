"""The registry's index of built-in operators, which lets a recipe import only the modules it names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gristmill.ops import registry
from gristmill.ops.base import Operator


def test_the_index_names_the_module_of_every_built_in_operator():
    found = {name: cls.__module__ for name, cls in registry.all_ops().items() if cls.__module__.startswith("gristmill.ops.")}
    assert {name: f"gristmill.ops.{m}" for name, m in registry.BUILTIN_MODULES.items()} == found


def test_a_recipe_imports_only_the_operator_modules_it_names():
    code = (
        "import sys\n"
        "from gristmill.recipe.compile import compile_recipe\n"
        "compile_recipe({'input': {'path': 'x.jsonl'}, 'output': {'path': 'out'},\n"
        "                'steps': [{'op': 'normalize_text'}, {'op': 'gopher_quality'}]})\n"
        "print(sorted(m for m in sys.modules if m.startswith('gristmill.ops.') and m.count('.') == 2))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = eval(out)  # noqa: S307 - a list of module names printed above
    assert "gristmill.ops.clean" in loaded and "gristmill.ops.quality" in loaded
    assert "gristmill.ops.pii" not in loaded and "gristmill.ops.builtin" not in loaded


def test_an_unknown_operator_still_gets_a_did_you_mean_over_all_of_them():
    from gristmill.errors import UsageError

    with pytest.raises(UsageError, match="did you mean 'pii'"):
        registry.get_op("pi")


def test_a_user_operator_cannot_take_a_built_in_name_even_before_its_module_is_loaded():
    class Impostor(Operator):
        name = "semantic_dedup"
        family = "dedup"
        description = "not the real one"

    with pytest.raises(ValueError, match="two operators named 'semantic_dedup'"):
        registry.register(Impostor)
