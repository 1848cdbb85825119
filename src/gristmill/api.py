"""The Python API: recipes built from typed steps, run from Python, as ``import gristmill as gm`` exposes them.

    import gristmill as gm
    recipe = gm.Recipe(input="data/sample.jsonl.gz",
                       steps=[gm.ops.normalize_text(), gm.ops.length_filter(min_words=20)], output="out/web")
    result = recipe.run(workers=2)

A recipe built here is the same data as a YAML recipe (``to_dict``), compiled by the same code, so it runs
on every engine and hashes the same as its YAML twin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gristmill.errors import UsageError


@dataclass
class Step:
    """One step of a recipe: an operator with validated parameters and optional keep rule(s)."""

    op: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    keep: str | dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"op": self.op, "params": self.params}
        if self.name:
            d["name"] = self.name
        if self.keep is not None:
            d["keep"] = self.keep
        return d


class _Ops:
    """``gm.ops.<operator>(**params)``: one factory per registered operator, its docstring the description."""

    def __getattr__(self, name: str):
        from gristmill.ops.registry import get_op

        if name.startswith("__"):
            raise AttributeError(name)
        try:
            op_cls = get_op(name)
        except UsageError as exc:
            import importlib

            try:  # gristmill.ops.<submodule>, for code that reaches the package through this object
                return importlib.import_module(f"gristmill.ops.{name}")
            except ModuleNotFoundError:
                raise AttributeError(str(exc)) from None

        def make(*, name: str | None = None, keep: str | dict[str, str] | None = None, **params: Any) -> Step:
            try:
                checked = op_cls.Params.model_validate(params)
            except ValidationError as exc:
                raise UsageError(f"{op_cls.name}: {exc}") from None
            return Step(op_cls.name, checked.model_dump(mode="json", exclude_defaults=True), name, keep)

        make.__name__ = name
        make.__doc__ = op_cls.description
        return make

    def __dir__(self) -> list[str]:
        from gristmill.ops.registry import all_ops

        return list(all_ops())


ops = _Ops()


class Recipe:
    """A recipe as a Python object; ``Recipe.load`` reads a YAML one."""

    def __init__(self, input: str | list[str] | None = None, steps: list[Step] | None = None,
                 output: str | None = None, name: str = "recipe", **options: Any) -> None:
        self.input, self.steps, self.output, self.name = input, list(steps or []), output, name
        self.options = options  # other top-level keys of a recipe: input/output/engine settings
        self.source: str | None = None
        self._raw: dict | None = None

    @classmethod
    def load(cls, path: str) -> Recipe:
        from gristmill.recipe.yaml_io import read_recipe_file

        raw, _ = read_recipe_file(path)
        recipe = cls(name=raw.get("name", "recipe"))
        recipe.source, recipe._raw = str(path), raw
        return recipe

    def to_dict(self) -> dict[str, Any]:
        if self._raw is not None:
            return self._raw
        inp = dict(self.options.get("input_options", {}), path=self.input)
        out = dict(self.options.get("output_options", {}), path=self.output)
        return {"name": self.name, "input": inp, "steps": [s.to_dict() for s in self.steps], "output": out}

    def validate(self):
        """Compile the recipe (operators, parameters, rules); raises RecipeError listing every problem."""
        from gristmill.recipe.compile import compile_recipe, load_recipe

        if self.source is not None:
            return load_recipe(self.source)
        return compile_recipe(self.to_dict(), source=None)

    def run(self, engine: str = "local", workers: int | None = None, into: str | None = None,
            catalog: str | None = None, overwrite: bool = False, incremental: bool = False):
        """Run to the output folder; with ``into``, register the output as the next version of that dataset.
        ``catalog`` is the catalog root for ``into`` and for ``catalog://`` inputs.
        With ``incremental`` too, build on that dataset's latest version (new inputs only, or re-deciding it
        when only thresholds changed), as ``gristmill run --incremental`` does.

        Returns the executor's result: ``.summary`` (the run summary), ``.output``, and ``.version`` when
        registered."""
        from gristmill.catalog.core import Catalog, parse_ref, use_root
        from gristmill.engine.local import LocalExecutor, RunOptions

        if into:  # refuse before running, not after
            parse_ref(into)
            Catalog(catalog).store.check_writable()
        with use_root(catalog):  # catalog:// inputs' columns are looked up where the run will read them
            compiled = self.validate()
        if into and compiled.spec.output.format != "parquet":
            raise UsageError(f"into= needs output format parquet (a catalog version is Parquet), not "
                             f"{compiled.spec.output.format}")
        text = None
        if into:  # read before the run, which may replace the folder the recipe lies in
            import yaml

            text = Path(self.source).read_text(encoding="utf-8") if self.source else yaml.safe_dump(self.to_dict())
        options = RunOptions(workers=workers, overwrite=overwrite, progress=False,
                             replaceable=Catalog(catalog).holds_run if into else None)
        if incremental:
            from gristmill.catalog.incremental import IncrementalRun

            if not into:
                raise UsageError("incremental=True builds on a catalog dataset: give it one with into=NAME")
            executor = IncrementalRun(Catalog(catalog), into, compiled, options, engine)
        elif engine == "ray":
            from gristmill.engine.ray_engine import RayExecutor

            executor: LocalExecutor = RayExecutor(compiled, options)
        elif engine == "local":
            executor = LocalExecutor(compiled, options)
        else:
            raise UsageError(f"unknown engine {engine!r}: local or ray")
        with use_root(catalog):
            result = executor.run()
        result.version = None
        if result.extra.get("up_to_date"):  # nothing new: the latest version already is the answer
            result.version = Catalog(catalog).get(result.extra["up_to_date"])
            return result
        if into:
            result.version = Catalog(catalog).register_run(into, result.output, text, compiled,
                                                           bool(result.extra.get("already_complete")))[0]
        return result
