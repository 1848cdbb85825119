"""Keep rules over training signals written back as input columns (``train.<run>.<signal>``)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.engine.local import LocalExecutor, RunOptions
from gristmill.errors import RecipeError
from gristmill.recipe.compile import compile_recipe
from gristmill.recipe.rules import RuleError, compile_rule
from tests.conftest import gristmill, read_kept, write_jsonl, write_recipe


def signal_table(n: int = 300, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    loss = rng.normal(4.0, 1.0, n)
    excess = rng.normal(2.0, 1.0, n)
    excess[::37] = np.nan  # a few documents without a reference loss
    return pa.table({
        "id": [f"d{i}" for i in range(n)],
        "text": [f"document {i} says something about topic {i % 7}" for i in range(n)],
        "domain": [["books", "code", "legal"][i % 3] for i in range(n)],
        "train.r1.loss": loss,
        "train.r1.excess_loss": pa.array(excess, mask=np.isnan(excess)),
        "train.run-2.loss": loss + 0.5,
    })


@pytest.fixture
def signals_parquet(tmp_path):
    path = tmp_path / "in" / "signals.parquet"
    path.parent.mkdir()
    pq.write_table(signal_table(), path)
    return path


def run(steps: list[dict], inp, out, workers: int = 1, chunk_rows: int = 10_000):
    recipe = compile_recipe({"steps": steps, "engine": {"chunk_rows": chunk_rows}}, input_override=str(inp),
                            output_override=str(out))
    return LocalExecutor(recipe, RunOptions(workers=workers, progress=False)).run()


def test_a_keep_rule_over_a_training_signal_keeps_exactly_the_documents_below(signals_parquet, tmp_path):
    res = run([{"op": "filter", "name": "learnable", "keep": "train.r1.excess_loss < 2.5"}], signals_parquet,
              tmp_path / "out")
    t = signal_table()
    excess = t["train.r1.excess_loss"].to_pylist()
    expected = [i for i, v in zip(t["id"].to_pylist(), excess) if v is not None and v < 2.5]
    kept = read_kept(tmp_path / "out")
    assert kept["id"].to_pylist() == expected
    assert res.summary["dropped"]["by_step"]["learnable"]["keep"] == len(t) - len(expected)
    # a document without the signal fails the threshold and is recorded as dropped by the rule, with its value
    dropped = pq.read_table(tmp_path / "out" / ".gristmill" / "dropped").to_pylist()
    assert {r["id"] for r in dropped} == set(t["id"].to_pylist()) - set(expected)
    by_id = dict(zip(t["id"].to_pylist(), excess))
    assert all(r["train.r1.excess_loss"] == by_id[r["id"]] for r in dropped)
    assert any(r["train.r1.excess_loss"] is None for r in dropped)


def test_signal_reads_a_column_whose_name_is_not_an_identifier(signals_parquet, tmp_path):
    run([{"op": "filter", "keep": "signal('train.run-2.loss') < 4.5 and exp(-train.r1.loss) > 0.02"}],
        signals_parquet, tmp_path / "out")
    t = signal_table()
    loss = np.array(t["train.r1.loss"].to_pylist())
    want = [i for i, a, b in zip(t["id"].to_pylist(), loss + 0.5, loss) if a < 4.5 and np.exp(-b) > 0.02]
    assert read_kept(tmp_path / "out")["id"].to_pylist() == want


def test_a_misspelt_signal_is_a_compile_error_naming_the_close_columns(signals_parquet, tmp_path):
    with pytest.raises(RecipeError) as err:
        compile_recipe({"steps": [{"op": "filter", "keep": "train.r1.exces_loss < 2.5"}]},
                       input_override=str(signals_parquet))
    msg = str(err.value)
    assert "steps[0].keep" in msg and "'train.r1.exces_loss'" in msg
    assert "did you mean 'train.r1.excess_loss'" in msg
    assert "input columns: domain, id, text, train.r1.excess_loss, train.r1.loss, train.run-2.loss" in msg
    with pytest.raises(RecipeError, match="did you mean 'train.run-2.loss'"):
        compile_recipe({"steps": [{"op": "filter", "keep": "signal('train.run-3.loss') < 1"}]},
                       input_override=str(signals_parquet))
    recipe = write_recipe(tmp_path / "r.yaml", [{"op": "filter", "keep": "train.r2.loss < 2"}])
    res = gristmill("run", recipe, "--input", signals_parquet, "--output", tmp_path / "o")
    assert res.returncode == 2 and "r.yaml:" in res.stderr and "'train.r2.loss'" in res.stderr
    assert not (tmp_path / "o").exists()


def test_jsonl_fields_are_read_with_field_and_the_error_says_so(tmp_path):
    rows = signal_table(30).to_pylist()
    path = write_jsonl(tmp_path / "in.jsonl", rows)
    with pytest.raises(RecipeError, match=r"write field\('train.r1.loss'\)"):
        compile_recipe({"steps": [{"op": "filter", "keep": "train.r1.loss < 4"}]}, input_override=str(path))
    run([{"op": "filter", "keep": "field('train.r1.loss') < 4"}], path, tmp_path / "out")
    assert read_kept(tmp_path / "out")["id"].to_pylist() == [r["id"] for r in rows if r["train.r1.loss"] < 4]


def test_a_step_signal_still_wins_and_a_rule_cannot_read_a_later_step(signals_parquet):
    steps = [{"op": "filter", "keep": "length.words > 3"}, {"op": "length_filter", "name": "length"}]
    with pytest.raises(RecipeError, match="'length.words', which no earlier step produces and the input has no"):
        compile_recipe({"steps": steps}, input_override=str(signals_parquet))


def test_a_catalog_version_input_knows_its_columns(tmp_path, monkeypatch, signals_parquet):
    from gristmill.catalog.core import Catalog

    monkeypatch.setenv("GRISTMILL_HOME", str(tmp_path / "cat"))
    res = run([], signals_parquet, tmp_path / "v1")
    assert res.summary["kept"] == 300
    Catalog().commit_run("web", tmp_path / "v1")
    recipe = compile_recipe({"steps": [{"op": "filter", "keep": "train.r1.loss < 4"}]}, input_override="catalog://web@1")
    assert recipe.input_signals == ["train.r1.loss"]
    with pytest.raises(RecipeError, match="did you mean 'train.r1.loss'"):
        compile_recipe({"steps": [{"op": "filter", "keep": "train.r1.los < 4"}]}, input_override="catalog://web")
    run([{"op": "filter", "keep": "train.r1.loss < 4"}], "catalog://web@1", tmp_path / "v2")
    t = signal_table()
    assert read_kept(tmp_path / "v2")["id"].to_pylist() == [
        i for i, v in zip(t["id"].to_pylist(), t["train.r1.loss"].to_pylist()) if v < 4]


def test_compile_rule_with_and_without_input_columns():
    with pytest.raises(RuleError, match="no earlier step produces"):
        compile_rule("r", "train.r1.loss < 3", ["length.words"])
    r = compile_rule("r", "train.r1.loss < 3 and length.words > 2", ["length.words"], inputs=["train.r1.loss"])
    assert r.signals == {"train.r1.loss", "length.words"}
    env = {"train.r1.loss": np.array([2.0, 4.0, np.nan]), "length.words": np.array([5, 5, 5])}
    assert r.keep_mask(env, 3).tolist() == [True, False, False]
    with pytest.raises(RuleError, match="signal\\(\\) takes one string"):
        compile_rule("r", "signal(train.r1.loss) < 3", [], inputs=["train.r1.loss"])
