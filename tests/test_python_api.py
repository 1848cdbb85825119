"""The Python API as a user meets it: typed steps from the registry, run, register, read back."""

from __future__ import annotations

import pytest

import gristmill as gm
from gristmill.errors import RecipeError, UsageError
from tests.conftest import SAMPLE


def test_steps_are_built_and_checked_from_the_registry():
    step = gm.ops.length_filter(min_words=20)
    assert step.op == "length_filter" and step.params == {"min_words": 20}
    assert "length_filter" in dir(gm.ops) and gm.ops.length_filter.__doc__
    with pytest.raises(UsageError, match="length_filter"):
        gm.ops.length_filter(min_words=-1)
    with pytest.raises(AttributeError, match="unknown operator"):
        gm.ops.no_such_op()


def test_validate_reports_problems_like_a_yaml_recipe(tmp_path):
    bad = gm.Recipe(input=str(SAMPLE), steps=[gm.Step("length_filter", {"min_wrds": 3})], output=str(tmp_path / "o"))
    with pytest.raises(RecipeError, match="min_wrds"):
        bad.validate()


def test_run_register_and_read_back(tmp_path):
    recipe = gm.Recipe(input=str(SAMPLE), steps=[gm.ops.normalize_text(), gm.ops.length_filter(min_words=50)],
                       output=str(tmp_path / "out"))
    result = recipe.run(workers=1, into="web", catalog=str(tmp_path / "cat"))
    kept = result.summary["kept"]
    assert 0 < kept < result.summary["input"] and result.version.ref == "web@1"
    version = gm.catalog.get("web@1", root=str(tmp_path / "cat"))
    table = version.to_arrow()
    assert table.num_rows == kept and "length_filter.words" in table.column_names
    assert min(table["length_filter.words"].to_pylist()) >= 50
    assert len(version.to_pandas()) == kept
    assert gm.catalog.open(str(tmp_path / "cat")).datasets() == ["web"]


def test_a_yaml_recipe_loads_and_runs(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(f"input: {{path: '{SAMPLE}'}}\nsteps:\n  - op: length_filter\n    params: {{min_words: 50}}\n"
                    f"output: {{path: '{tmp_path / 'o'}'}}\n")
    result = gm.Recipe.load(str(path)).run(workers=1)
    assert result.summary["kept"] + result.summary["dropped"]["total"] == result.summary["input"] == 3118


def test_the_documented_example_runs(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "python_api.py"), str(tmp_path)], capture_output=True,
                          text=True, timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr
    assert "registered web@1" in proc.stdout and (tmp_path / "catalog" / "datasets" / "web" / "versions").is_dir()
    assert "dropped by length_filter/too_few_words, read from sample.jsonl.gz line " in proc.stdout


def test_the_custom_operator_example_runs_on_local_workers(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "custom_operator.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr
    assert "digit_share dropped {'too_many_digits': " in proc.stdout


def test_the_example_in_docs_is_the_one_that_runs():
    """docs/python.md shows examples/python_api.py, which the test above executes: they must not drift apart."""
    import re

    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "python.md").read_text()
    shown = re.search(r"A runnable example[^\n]*\n\n```python\n(.*?)```", doc, re.S)
    assert shown is not None, "docs/python.md lost its runnable example"
    example = (ROOT / "examples" / "python_api.py").read_text()
    body = example.split('"""', 2)[2].lstrip("\n")  # the code after the module docstring
    assert shown.group(1) == body


def test_a_rule_over_an_added_column_compiles_against_the_catalog_given_to_run(tmp_path, monkeypatch):
    """``run(catalog=ROOT)`` looks a ``catalog://`` input's columns up in ROOT, not in the default catalog."""
    import pyarrow as pa

    from gristmill.catalog.core import Catalog

    monkeypatch.setenv("GRISTMILL_HOME", str(tmp_path / "elsewhere"))  # the default catalog: empty
    root = str(tmp_path / "cat")
    v1 = gm.Recipe(input=str(SAMPLE), steps=[], output=str(tmp_path / "v1")).run(into="web", catalog=root).version
    ids = v1.to_arrow()["id"].to_pylist()
    v2 = Catalog(root).add_columns(v1.ref, pa.table({"id": ids, "train.r1.loss": [float(i % 10) for i in range(len(ids))]}),
                                   {"kind": "test"})
    res = gm.Recipe(input=f"catalog://{v2.ref}", steps=[gm.ops.filter(keep="train.r1.loss < 3")],
                    output=str(tmp_path / "low")).run(catalog=root)
    assert res.summary["kept"] == sum(i % 10 < 3 for i in range(len(ids)))


def test_two_runs_in_one_process_do_not_share_dedup_decisions(tmp_path):
    """One worker runs chunks in the calling process, which keeps what it loaded per run: a second run of the
    same recipe into the same folder, over other input, must decide its own duplicates."""
    from tests.conftest import write_jsonl

    texts = [f"document number {i} says something different from the others" for i in range(6)]
    data = tmp_path / "in" / "a.jsonl"
    recipe = gm.Recipe(input=str(data.parent), steps=[gm.ops.exact_dedup()], output=str(tmp_path / "out"))
    write_jsonl(data, [{"id": f"a{i}", "text": t} for i, t in enumerate(texts[:4] + texts[:2])])
    assert recipe.run(workers=1).summary["kept"] == 4
    write_jsonl(data, [{"id": f"b{i}", "text": t} for i, t in enumerate(texts[:3])])
    assert recipe.run(workers=1, overwrite=True).summary["kept"] == 3
