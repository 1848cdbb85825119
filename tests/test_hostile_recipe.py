"""A hostile or careless recipe is refused fast with exit 2 and its line, never a traceback (issue 11 §3)."""

from __future__ import annotations

import pytest

from tests.conftest import gristmill, read_kept, summary, write_jsonl

BOMB = """name: lol
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
steps: []
"""


def validate(tmp_path, text: str | bytes):
    recipe = tmp_path / "r.yaml"
    recipe.write_bytes(text if isinstance(text, bytes) else text.encode())
    res = gristmill("validate", recipe, timeout=60)
    assert "Traceback" not in res.stderr, res.stderr
    return res, str(recipe)


def test_a_yaml_alias_bomb_is_refused_fast(tmp_path):
    res, recipe = validate(tmp_path, BOMB)
    assert res.returncode == 2
    assert "expands to more than 100,000 values" in res.stderr and f"{recipe}:" in res.stderr


def test_aliases_of_ordinary_size_still_work(tmp_path):
    text = "name: t\nsteps:\n  - op: length_filter\n    params: &p {min_words: 3}\n  - op: length_filter\n    params: *p\n"
    res, _ = validate(tmp_path, text)
    assert res.returncode == 0, res.stderr


def test_a_recipe_that_is_not_utf8(tmp_path):
    res, recipe = validate(tmp_path, "name: caf\u00e9\nsteps: []\n".encode("latin-1"))
    assert res.returncode == 2
    assert f"{recipe}:1: the recipe is not UTF-8 text" in res.stderr


@pytest.mark.parametrize(
    "rule, needle",
    [
        ("(" * 5000 + "length_filter.words > 1" + ")" * 5000, "nested"),
        ("not " * 5000 + "length_filter.words > 1", "nest"),
        (" + ".join(["length_filter.words"] * 100_000) + " > 1", "characters long"),
        (" or ".join(["length_filter.words > 1"] * 2_000), "more than 1,000 terms"),
        ("'a' * 10000000000 == 'b'", "numbers only"),
        ("length_filter.words * [1, 2] == 1", "numbers only"),
    ],
)
def test_oversized_or_unbounded_rules_are_recipe_errors_with_their_line(tmp_path, rule, needle):
    res, recipe = validate(tmp_path, f"name: t\nsteps:\n  - op: length_filter\n    keep: \"{rule}\"\n")
    assert res.returncode == 2, res.stderr
    assert f"{recipe}:4: steps[0].keep:" in res.stderr and needle in res.stderr


def test_a_rule_just_under_the_limits_still_compiles(tmp_path):
    rule = "(" * 40 + "length_filter.words > 1" + ")" * 40 + " or " + " or ".join(["length_filter.words > 2"] * 100)
    res, _ = validate(tmp_path, f"name: t\nsteps:\n  - op: length_filter\n    keep: \"{rule}\"\n")
    assert res.returncode == 0, res.stderr


def test_arithmetic_on_a_text_field_fails_the_rule_instead_of_the_run(tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", [{"text": "one two three", "n": 3}, {"text": "four five", "label": "x"}])
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: t\nsteps:\n  - op: filter\n    keep: \"field('label') * 10000000000 > 1 or field('n') > 1\"\n")
    res = gristmill("run", recipe, "--input", inp, "--output", tmp_path / "out", "--workers", "1")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    s = summary(tmp_path / "out")
    assert (s["kept"], s["dropped"]["total"]) == (1, 1)
    assert read_kept(tmp_path / "out").column("text").to_pylist() == ["one two three"]
