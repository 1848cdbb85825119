"""budget_sample weighted by a signal: an exact token budget, preferring documents with higher weight."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.engine.local import LocalExecutor, RunOptions
from gristmill.errors import RecipeError
from gristmill.ops.budget import BudgetSample, BudgetSampleParams, sample_keys
from gristmill.recipe.compile import compile_recipe
from tests.conftest import read_kept


def corpus(n: int = 600, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    words = rng.integers(5, 60, n)
    return pa.table({
        "id": [f"d{i:04d}" for i in range(n)],
        "text": [" ".join(f"w{i}x{j}" for j in range(k)) for i, k in enumerate(words)],
        "train.r1.loss": rng.normal(4.0, 1.0, n),
        "ntok": words * 2,
        "group": ["heavy" if i % 2 else "light" for i in range(n)],
    })


def est_tokens(texts: list[str]) -> np.ndarray:
    return np.array([(len(t) + 3) // 4 for t in texts], dtype=float)


def run(params, inp, out, workers=1, steps_before=()):
    recipe = compile_recipe({"steps": [*steps_before, {"op": "budget_sample", "name": "b", "params": params}],
                             "engine": {"chunk_rows": 50}}, input_override=str(inp), output_override=str(out))
    return LocalExecutor(recipe, RunOptions(workers=workers, progress=False)).run()


@pytest.fixture
def signals(tmp_path):
    path = tmp_path / "in.parquet"
    pq.write_table(corpus(), path)
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_weighted_sample_meets_the_token_budget_exactly_and_prefers_low_loss(signals, tmp_path, workers):
    res = run({"fraction": 0.3, "weight": "exp(-2 * train.r1.loss)"}, signals, tmp_path / "out", workers)
    t = corpus()
    total = est_tokens(t["text"].to_pylist()).sum()
    kept = read_kept(tmp_path / "out")
    got = est_tokens(kept["text"].to_pylist()).sum()
    longest = est_tokens(t["text"].to_pylist()).max()
    assert total * 0.3 - longest < got <= total * 0.3  # never over; short by less than one document
    assert np.mean(kept["train.r1.loss"].to_pylist()) < np.mean(t["train.r1.loss"].to_pylist()) - 0.5
    assert res.summary["dropped"]["by_step"]["b"] == {"over_budget": t.num_rows - kept.num_rows}
    assert kept["id"].to_pylist() == sorted(kept["id"].to_pylist())  # input order is kept


def test_the_same_documents_on_one_or_two_workers(signals, tmp_path):
    run({"fraction": 0.4, "weight": "1 / (1 + abs(train.r1.loss))"}, signals, tmp_path / "a", 1)
    run({"fraction": 0.4, "weight": "1 / (1 + abs(train.r1.loss))"}, signals, tmp_path / "b", 2)
    assert read_kept(tmp_path / "a").equals(read_kept(tmp_path / "b"))


def test_inclusion_follows_efraimidis_spirakis(tmp_path):
    """Equal-length documents, half of weight 4 and half of weight 1. Keeping the keys u^(1/w) above a cut t
    includes a document with probability 1 - t^w; t is set by the share kept. The counts must match those
    probabilities within three binomial standard deviations."""
    n = 2000
    path = tmp_path / "eq.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(n)], "text": [f"doc {i:06d} abc" for i in range(n)],
                             "w": [4.0 if i % 2 else 1.0 for i in range(n)]}), path)
    for share in (0.05, 0.3, 0.7):
        run({"fraction": share, "weight": "w"}, path, tmp_path / f"s{share}")
        ids = [int(i) for i in read_kept(tmp_path / f"s{share}")["id"].to_pylist()]
        heavy = sum(i % 2 for i in ids)
        lo, hi = 0.0, 1.0  # solve 0.5 (1 - t^4) + 0.5 (1 - t) = share for t
        for _ in range(60):
            t = (lo + hi) / 2
            lo, hi = (t, hi) if 0.5 * (1 - t**4) + 0.5 * (1 - t) > share else (lo, t)
        for count, p in ((heavy, 1 - t**4), (len(ids) - heavy, 1 - t)):
            expected, sd = n / 2 * p, np.sqrt(n / 2 * p * (1 - p))
            assert abs(count - expected) <= 3 * sd + 1, (share, count, expected)


def test_max_tokens_without_weight_keeps_the_lowest_hashes_as_the_uniform_mode_does(signals, tmp_path):
    run({"max_tokens": 2000}, signals, tmp_path / "cap")
    kept = read_kept(tmp_path / "cap")
    assert est_tokens(kept["text"].to_pylist()).sum() <= 2000
    run({"fraction": 0.999999}, signals, tmp_path / "all")  # streaming: gives every document its u
    u = dict(zip(*(read_kept(tmp_path / "all")[c].to_pylist() for c in ("id", "b.u"))))
    inside = {u[i] for i in kept["id"].to_pylist()}
    outside = {v for i, v in u.items() if i not in set(kept["id"].to_pylist())}
    assert max(inside) < min(outside)
    assert kept["b.u"].to_pylist() == [u[i] for i in kept["id"].to_pylist()]


def test_a_token_count_column_and_non_positive_weights(signals, tmp_path):
    t = corpus()
    ntok = t["ntok"].to_numpy().astype(float)
    positive = np.array(t["train.r1.loss"].to_pylist()) > 4
    assert ntok[positive].sum() < 0.75 * ntok.sum()  # the budget holds every positive-weight document
    run({"fraction": 0.75, "weight": "train.r1.loss - 4", "tokens": "ntok"}, signals, tmp_path / "out")
    kept = read_kept(tmp_path / "out")
    got = float(np.sum(kept["ntok"].to_numpy()))
    assert 0.75 * ntok.sum() - ntok.max() < got <= 0.75 * ntok.sum()
    ids = t["id"].to_pylist()
    kept_ids = set(kept["id"].to_pylist())
    assert {i for i, p in zip(ids, positive) if p} <= kept_ids
    # weight <= 0 comes last, in input order: the others kept are the first ones that fit
    rest = [i for i, p in zip(ids, positive) if not p]
    taken = [i in kept_ids for i in rest]
    assert taken == sorted(taken, reverse=True) and 0 < sum(taken) < len(rest)


def test_bad_parameters_are_compile_errors(signals):
    def problem(params):
        with pytest.raises(RecipeError) as err:
            compile_recipe({"steps": [{"op": "budget_sample", "params": params}]}, input_override=str(signals))
        return str(err.value)

    assert "did you mean 'train.r1.loss'" in problem({"weight": "exp(-train.r1.los)"})
    assert "steps[0].params.weight: weight uses" in problem({"weight": "exp(-train.r1.los)"})
    assert "tokens is used only by a weighted" in problem({"tokens": "ntok"})
    assert "takes no keep rule" in str(pytest.raises(RecipeError, compile_recipe, {"steps": [
        {"op": "budget_sample", "params": {"weight": "ntok"}, "keep": "b.u < 1"}]}, input_override=str(signals)).value)


def test_uniform_mode_is_unchanged():
    op = BudgetSample(BudgetSampleParams(fraction=0.5))
    assert not op.is_global and op.rules() == {"over_budget": "budget_sample.u < 0.5"}
    assert BudgetSample(BudgetSampleParams(weight="x")).is_global
    keys = sample_keys(np.array([0.1, 0.1, 0.9, 0.5]), np.array([1.0, 0.0, np.inf, -2.0]))
    assert keys[0] == pytest.approx(np.log(0.9)) and keys[1] == -np.inf and keys[2] == 0 and keys[3] == -np.inf
