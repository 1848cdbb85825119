"""What makes a change "decisions only": the operators' declared decision parameters never change what they
measure, and comparing two recipes tells decisions from measuring."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from gristmill.batch import Batch
from gristmill.ops.registry import all_ops
from gristmill.recipe.change import compare, stored_form
from gristmill.recipe.compile import compile_recipe
from tests.conftest import SAMPLE


def _docs() -> pa.Table:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][::80]
    return pa.Table.from_pylist([{"id": r["id"], "text": r["text"]} for r in rows])


def _other(value):
    """Values to try instead of ``value`` for a parameter, most likely valid first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value * 2 + 1, 1, 0]
    if isinstance(value, float):
        return [value * 0.5, value + 0.05, 0.5, 0.1]
    if isinstance(value, dict):
        return [{k: v * 0.5 for k, v in value.items()}, {}]
    if isinstance(value, list):
        return [value[:1], []]
    return [1, 0.5, 10, True]


def _measure(cls, params) -> tuple[dict, list[str]]:
    op = cls(params)
    op.setup()
    batch = Batch(_docs(), "text")
    signals = op.apply(batch) or {}
    return {k: np.asarray(v) for k, v in signals.items()}, batch.texts()


DECIDING = sorted(name for name, cls in all_ops().items() if cls.Params.decision_params)


def test_operators_declare_decision_parameters():
    assert {"length_filter", "gopher_quality", "gopher_repetition", "fineweb_quality"} <= set(DECIDING)
    for name in DECIDING:
        cls = all_ops()[name]
        assert cls.Params.decision_params <= set(cls.Params.model_fields), name
        assert cls.describe()["decision_params"] == sorted(cls.Params.decision_params)


@pytest.mark.parametrize("name", DECIDING)
def test_a_decision_parameter_never_changes_what_is_measured(name):
    cls = all_ops()[name]
    defaults = cls.Params()
    try:
        base_signals, base_texts = _measure(cls, defaults)
    except ImportError as exc:  # an optional backend that is not installed
        pytest.skip(str(exc))
    tried = 0
    for param in sorted(cls.Params.decision_params):
        current = getattr(defaults, param)
        for candidate in _other(current):
            try:
                changed = cls.Params.model_validate({**defaults.model_dump(), param: candidate})
                cls(changed)
            except (ValidationError, ValueError):
                continue
            if getattr(changed, param) == current:
                continue
            signals, texts = _measure(cls, changed)
            assert texts == base_texts, (name, param)
            assert signals.keys() == base_signals.keys(), (name, param)
            for k in signals:
                np.testing.assert_array_equal(signals[k], base_signals[k], err_msg=f"{name}.{param} changes {k}")
            tried += 1
            break
    assert tried, f"no other valid value found for any decision parameter of {name}"


def _compile(steps):
    return compile_recipe({"name": "x", "steps": steps})


BASE = [{"op": "length_filter", "params": {"min_words": 5}},
        {"op": "gopher_quality"},
        {"op": "filter", "name": "pick", "keep": {"a": "length_filter.words < 500", "b": "length_filter.lines > 1"}},
        {"op": "exact_dedup"}]


def _with(i: int, step: dict) -> list[dict]:
    steps = [dict(s) for s in BASE]
    steps[i] = step
    return steps


def test_comparing_recipes_tells_decisions_from_measuring():
    stored = json.loads(json.dumps(stored_form(_compile(BASE).canonical()), sort_keys=True))  # as a manifest keeps it
    assert compare(stored, _compile(BASE)).kind == "same"

    tighter = compare(stored, _compile(_with(1, {"op": "gopher_quality", "params": {"min_doc_words": 80}})))
    assert tighter.kind == "decisions" and tighter.rule_steps == ["gopher_quality"]
    reordered = compare(stored, _compile(_with(2, {**BASE[2], "keep": {"b": "length_filter.lines > 1",
                                                                        "a": "length_filter.words < 500"}})))
    assert reordered.kind == "decisions" and reordered.rule_steps == ["pick"]  # the first failing rule is the reason

    language = compare(stored, _compile(_with(1, {"op": "gopher_quality", "params": {"language": "de"}})))
    assert language.kind == "measuring" and "language: 'en' -> 'de'" in language.describe()
    dedup = compare(stored, _compile(_with(3, {"op": "exact_dedup", "params": {"lowercase": True}})))
    assert dedup.kind == "measuring" and "lowercase" in dedup.describe()
    more = compare(stored, _compile(BASE + [{"op": "minhash_dedup"}]))
    assert more.kind == "measuring" and "the steps differ" in more.describe()
