"""Compile a recipe: validate everything before any data is read.

Problems are collected, not raised one by one, and each names its place: ``recipe.yaml:14: steps[2].params
.min_words: -1 is out of range (allowed: 0 <= min_words <= 10000000)``.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import ValidationError

from gristmill import __version__
from gristmill.errors import RecipeError, UsageError
from gristmill.ops.base import Operator
from gristmill.ops.registry import find_op, suggest
from gristmill.recipe.input_columns import input_columns
from gristmill.recipe.model import RecipeSpec
from gristmill.recipe.rules import Rule, RuleError, compile_rule
from gristmill.recipe.yaml_io import Path_, format_path, line_of, read_recipe_file

_STEP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class CompiledStep:
    index: int
    name: str
    op: Operator
    rules: list[Rule]

    @property
    def is_global(self) -> bool:
        return self.op.is_global

    @property
    def signal_columns(self) -> list[str]:
        return [self.op.signal_column(s.name) for s in self.op.signals]

    def canonical(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "op": self.op.name,
            "version": self.op.version,
            "params": self.op.params.model_dump(mode="json"),
            "rules": {r.name: r.source for r in self.rules},
        }


@dataclass
class CompiledRecipe:
    spec: RecipeSpec
    steps: list[CompiledStep]
    source: str | None = None
    base_dir: str = "."
    raw: dict = field(default_factory=dict)
    input_signals: list[str] = field(default_factory=list)
    """Columns of the input (not of any step) that rules and parameters read, e.g. ``train.r1.loss``: the
    dropped-row records carry them beside the steps' signals, so a drop shows the value that decided it."""

    def canonical(self) -> dict[str, Any]:
        """What determines the output rows: the steps and the reading/writing options, not the paths."""
        inp = self.spec.input
        reading: dict[str, Any] = {
            "format": inp.format,
            "text_field": inp.text_field,
            "id_field": inp.id_field,
            "max_doc_bytes": inp.max_doc_bytes,
            "csv_delimiter": inp.csv_delimiter,
        }
        if inp.chat:  # only when set, so that the hashes of existing recipes do not change
            reading["chat"] = True
        return {
            "input": reading,
            "steps": [s.canonical() for s in self.steps],
            "output": {"format": self.spec.output.format, "keep_signals": self.spec.output.keep_signals},
        }

    def content_hash(self) -> str:
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()

    @property
    def version(self) -> str:
        return __version__


def _range_text(model: type, name: str) -> str:
    info = model.model_fields.get(name)
    if info is None:
        return ""
    lo = hi = None
    lo_op = hi_op = "<="
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            lo = m.ge
        elif isinstance(m, annotated_types.Gt):
            lo, lo_op = m.gt, "<"
        elif isinstance(m, annotated_types.Le):
            hi = m.le
        elif isinstance(m, annotated_types.Lt):
            hi, hi_op = m.lt, "<"
    if lo is None and hi is None:
        return ""
    left = f"{lo} {lo_op} " if lo is not None else ""
    right = f" {hi_op} {hi}" if hi is not None else ""
    return f" (allowed: {left}{name}{right})"


def missing_package(needs: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """The first (module, extra) of ``needs`` that cannot be imported here, or None."""
    for module, extra in needs:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package missing, or a module blocked in sys.modules
            found = False
        if not found:
            return module, extra
    return None


def _missing_module(op: Operator) -> str | None:
    """One line naming the extra to install when an optional package the operator needs is absent."""
    missing = missing_package(op.required_modules())
    if missing is None:
        return None
    module, extra = missing
    return f"{op.name} needs the {module} package: pip install 'gristmill[{extra}]'"


def compile_recipe(
    data: dict,
    lines: dict[Path_, int] | None = None,
    source: str | None = None,
    input_override: str | list[str] | None = None,
    output_override: str | None = None,
) -> CompiledRecipe:
    """Validate a recipe mapping and build its operators and rules."""
    lines = lines or {}
    where_file = source or "<recipe>"

    def where(path: Path_) -> str:
        line = line_of(lines, path)
        loc = f"{where_file}:{line}" if line else where_file
        return f"{loc}: {format_path(path)}" if path else loc

    try:
        spec = RecipeSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = tuple(err["loc"])
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{where(path)}: {msg}")
        raise RecipeError(problems) from None

    if input_override is not None:
        spec.input.path = input_override
    if output_override is not None:
        spec.output.path = output_override

    problems: list[str] = []
    steps: list[CompiledStep] = []
    used_names: dict[str, int] = {}
    available: list[str] = []
    read_names: set[str] = set()
    known_inputs: list[frozenset[str] | None] = []

    def inputs() -> frozenset[str] | None:
        """The input's columns, read (once, and only when a name needs them) from Parquet footers or a manifest."""
        if not known_inputs:
            known_inputs.append(input_columns(spec.input.path, spec.input.format, os.getcwd()))
        return known_inputs[0]

    def expression(what: str, source: str) -> Rule:
        """A rule or expression over the signals so far, then over the input's columns as well."""
        try:
            return compile_rule(what, source, available)
        except RuleError:
            cols = inputs()
            if cols is None:
                raise
            return compile_rule(what, source, available, cols)
    for i, st in enumerate(spec.steps):
        base = ("steps", i)
        op_cls = find_op(st.op)
        if op_cls is None:
            hint = suggest(st.op)
            more = f"; did you mean {hint!r}?" if hint else "; see `gristmill ops list`"
            problems.append(f"{where(base + ('op',))}: unknown operator {st.op!r}{more}")
            continue
        name = st.name or st.op
        if st.name and not _STEP_NAME.match(st.name):
            problems.append(f"{where(base + ('name',))}: step name {st.name!r} must be a Python-style identifier")
            continue
        if name in used_names:
            if st.name:
                problems.append(f"{where(base + ('name',))}: step name {name!r} is used twice")
                continue
            used_names[name] += 1
            name = f"{name}_{used_names[name]}"
        used_names.setdefault(name, 1)
        try:
            params = op_cls.Params.model_validate(st.params)
        except ValidationError as exc:
            for err in exc.errors():
                pname = err["loc"][0] if err["loc"] else ""
                ppath = base + ("params",) + tuple(err["loc"])
                if err["type"] == "extra_forbidden":
                    known = ", ".join(op_cls.Params.model_fields) or "none"
                    close = suggest(str(pname), list(op_cls.Params.model_fields))
                    hint = f"; did you mean {close!r}?" if close else ""
                    problems.append(f"{where(ppath)}: {op_cls.name} has no parameter {pname!r}{hint} (parameters: {known})")
                else:
                    value = err.get("input")
                    problems.append(
                        f"{where(ppath)}: {value!r} is invalid: {err['msg']}{_range_text(op_cls.Params, str(pname))}"
                    )
            continue
        op = op_cls(params, step=name)
        missing = _missing_module(op)
        if missing:
            problems.append(f"{where(base + ('op',))}: {missing}")
            continue
        bad_param = False
        for pname in op.expression_params:
            source = getattr(op.params, pname)
            if source is None:
                continue
            try:
                rule = expression(pname, str(source))
            except RuleError as exc:
                problems.append(f"{where(base + ('params', pname))}: {str(exc).replace('rule uses', f'{pname} uses', 1)}")
                bad_param = True
                continue
            op.bind_expression(pname, rule)
            read_names.update(rule.signals)
        for pname in op.column_params:
            column = getattr(op.params, pname)
            if column is None or column in available:
                continue
            cols = inputs()
            if cols is not None and column not in cols:
                close = difflib.get_close_matches(column, sorted(set(available) | cols), n=3, cutoff=0.6)
                hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                problems.append(f"{where(base + ('params', pname))}: no column {column!r} in the input or from an "
                                f"earlier step{hint}")
                bad_param = True
                continue
            read_names.add(column)
        if bad_param:
            continue
        available.extend(op.signal_column(s.name) for s in op.signals)
        if op.is_global and st.keep is not None:
            problems.append(f"{where(base + ('keep',))}: {op.name} decides globally and takes no keep rule")
            continue
        if st.keep is None:
            rule_src = op.rules()
        elif isinstance(st.keep, str):
            rule_src = {"keep": st.keep}
        else:
            rule_src = dict(st.keep)
        if op.needs_keep and not rule_src:
            problems.append(f"{where(base)}: a filter step needs a keep rule, e.g. keep: \"field('domain') != 'spam'\"")
            continue
        rules = []
        for rname, src in rule_src.items():
            rpath = base + ("keep",) if st.keep is not None else base + ("op",)
            if isinstance(st.keep, dict):
                rpath = base + ("keep", rname)
            try:
                rules.append(expression(rname, str(src)))
            except RuleError as exc:
                problems.append(f"{where(rpath)}: {exc}")
            else:
                read_names.update(rules[-1].signals)
        steps.append(CompiledStep(index=i, name=name, op=op, rules=rules))
    if problems:
        raise RecipeError(problems)
    base_dir = os.path.dirname(os.path.abspath(source)) if source else os.getcwd()
    produced = {c for st in steps for c in st.signal_columns}
    return CompiledRecipe(spec=spec, steps=steps, source=source, base_dir=base_dir, raw=data,
                          input_signals=sorted(read_names - produced))


def load_recipe(
    path: str | Path, input_override: str | list[str] | None = None, output_override: str | None = None
) -> CompiledRecipe:
    from gristmill.ops.plugins import load_operator_plugins

    data, lines = read_recipe_file(path)
    load_operator_plugins(path)  # operators a planner saved beside the recipe, hash-checked
    recipe = compile_recipe(data, lines, str(path), input_override, output_override)
    # relative paths in a recipe file are relative to the current directory, like every CLI path
    recipe.base_dir = os.getcwd()
    return recipe


def require_paths(recipe: CompiledRecipe) -> tuple[str | list[str], str]:
    if not recipe.spec.input.path:
        raise UsageError("no input: set input.path in the recipe or pass --input")
    if not recipe.spec.output.path:
        raise UsageError("no output folder: set output.path in the recipe or pass --output")
    return recipe.spec.input.path, recipe.spec.output.path
