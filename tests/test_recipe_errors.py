"""A recipe is compiled before anything runs; every problem names its line and what would be valid."""

from __future__ import annotations

import json

import pytest

from gristmill.errors import RecipeError
from gristmill.recipe.compile import compile_recipe, load_recipe
from gristmill.recipe.yaml_io import load_yaml_with_lines
from tests.conftest import ROOT, gristmill


def problems(text: str) -> list[str]:
    data, lines = load_yaml_with_lines(text, "r.yaml")
    with pytest.raises(RecipeError) as exc:
        compile_recipe(data, lines, "r.yaml")
    return exc.value.problems


def test_unknown_operator_names_its_line_and_suggests():
    (p,) = problems("name: x\nsteps:\n  - op: normalize_txt\n")
    assert p.startswith("r.yaml:3: steps[0].op:")
    assert "did you mean 'normalize_text'" in p


def test_parameter_out_of_range_gives_the_allowed_range():
    (p,) = problems("steps:\n  - op: length_filter\n    params:\n      min_words: -3\n")
    assert p.startswith("r.yaml:4: steps[0].params.min_words:")
    assert "-3" in p and "allowed: 0 <= min_words <= 10000000" in p


def test_unknown_parameter_suggests_the_closest():
    (p,) = problems("steps:\n  - op: length_filter\n    params: {min_word: 3}\n")
    assert "has no parameter 'min_word'" in p and "did you mean 'min_words'" in p


def test_rule_over_a_signal_no_earlier_step_produces():
    text = "steps:\n  - op: normalize_text\n    keep: length_filter.words > 3\n  - op: length_filter\n"
    (p,) = problems(text)
    assert p.startswith("r.yaml:3: steps[0].keep:")
    assert "'length_filter.words', which no earlier step produces" in p


def test_rule_may_use_signals_of_its_own_and_earlier_steps():
    text = "steps:\n  - op: length_filter\n  - op: filter\n    keep: length_filter.words * 2 > length_filter.lines\n"
    data, lines = load_yaml_with_lines(text)
    recipe = compile_recipe(data, lines)
    assert [r.source for r in recipe.steps[1].rules] == ["length_filter.words * 2 > length_filter.lines"]


def test_rule_syntax_error_points_at_the_rule():
    (p,) = problems("steps:\n  - op: length_filter\n    keep:\n      enough: 'length_filter.words >= '\n")
    assert p.startswith("r.yaml:4: steps[0].keep.enough:") and "syntax error" in p


def test_several_problems_are_reported_together():
    text = "steps:\n  - op: nope\n  - op: length_filter\n    params: {max_chars: 0}\n  - op: exact_dedup\n    keep: x > 1\n"
    ps = problems(text)
    assert len(ps) == 3
    assert [p.split(":")[1] for p in ps] == ["2", "4", "6"]


def test_unknown_top_level_key_and_bad_yaml():
    (p,) = problems("name: x\nstepz: []\n")
    assert p.startswith("r.yaml:2: stepz: unknown key")
    data_err = pytest.raises(RecipeError, load_yaml_with_lines, "steps: [\n  - op: a\n", "r.yaml")
    assert "r.yaml:" in str(data_err.value) and "invalid YAML" in str(data_err.value)


def test_duplicate_step_names_get_a_suffix_and_explicit_clash_is_an_error():
    data, lines = load_yaml_with_lines("steps:\n  - op: length_filter\n  - op: length_filter\n    keep: length_filter_2.chars > length_filter.chars - 1\n")
    recipe = compile_recipe(data, lines)
    assert [s.name for s in recipe.steps] == ["length_filter", "length_filter_2"]
    (p,) = problems("steps:\n  - {op: length_filter, name: a}\n  - {op: normalize_text, name: a}\n")
    assert "used twice" in p


def test_content_hash_ignores_paths_but_not_parameters(tmp_path):
    base = "input: {path: %s}\noutput: {path: %s}\nsteps:\n  - op: length_filter\n    params: {min_words: %d}\n"
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    c = tmp_path / "c.yaml"
    a.write_text(base % ("x.jsonl", "o1", 5))
    b.write_text(base % ("y.jsonl", "o2", 5))
    c.write_text(base % ("x.jsonl", "o1", 6))
    assert load_recipe(a).content_hash() == load_recipe(b).content_hash() != load_recipe(c).content_hash()


def test_validate_command_exit_codes(tmp_path):
    ok = gristmill("validate", ROOT / "examples/recipes/minimal.yaml")
    assert ok.returncode == 0 and "valid" in ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - op: exact_dedupe\n")
    res = gristmill("validate", bad)
    assert res.returncode == 2
    assert f"{bad}:2: steps[0].op: unknown operator 'exact_dedupe'; did you mean 'exact_dedup'?" in res.stderr
    assert gristmill("run", bad, "--output", tmp_path / "o").returncode == 2
    assert gristmill("validate", tmp_path / "missing.yaml").returncode == 2


def test_ops_list_and_show_machine_readable():
    res = gristmill("ops", "list", "--json")
    assert res.returncode == 0
    ops = {o["name"]: o for o in json.loads(res.stdout)}
    assert {"normalize_text", "length_filter", "exact_dedup", "filter"} <= set(ops)
    assert ops["exact_dedup"]["global"] is True
    shown = json.loads(gristmill("ops", "show", "length_filter", "--json").stdout)
    assert shown["params"]["min_words"]["minimum"] == 0
    assert [s["name"] for s in shown["signals"]] == ["chars", "words", "lines"]
    text = gristmill("ops", "show", "length_filter")
    assert "min_words" in text.stdout and ">= 0" in text.stdout
    missing = gristmill("ops", "show", "lenght_filter")
    assert missing.returncode == 2 and "did you mean 'length_filter'" in missing.stderr
