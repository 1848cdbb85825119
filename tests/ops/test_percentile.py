"""signal_percentile: per-group percentile ranks over the whole input, the same on every engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.engine.local import LocalExecutor, RunOptions
from gristmill.errors import RecipeError
from gristmill.ops.percentile import group_ranks
from gristmill.recipe.compile import compile_recipe
from tests.conftest import gristmill, read_kept, summary, write_recipe


def corpus(n: int = 400, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    doms = rng.choice(["books", "code", "legal", "web"], n, p=[0.4, 0.3, 0.2, 0.1])
    scale = {"books": 3.0, "code": 1.5, "legal": 2.5, "web": 5.0}  # each domain its own loss scale
    excess = np.array([scale[d] + rng.normal(0, 1) for d in doms])
    excess[rng.choice(n, 8, replace=False)] = np.nan
    loss = np.round(rng.normal(4, 1, n), 1)  # rounded: many ties
    return pa.table({
        "id": [f"d{i:04d}" for i in range(n)],
        "text": [f"text {i}" for i in range(n)],
        "domain": doms,
        "train.r1.excess_loss": pa.array(excess, mask=np.isnan(excess)),
        "train.r1.loss": loss,
    })


def brute_force(values, groups, top: float, bottom: float = 0.0) -> tuple[list[float | None], list[bool]]:
    """Rank and keep by the definitions in ops/percentile.py, one document at a time."""
    ranks, keep = [], []
    for v, g in zip(values, groups):
        if v is None or np.isnan(v):
            ranks.append(None)
            keep.append(True)
            continue
        peers = [x for x, h in zip(values, groups) if h == g and x is not None and not np.isnan(x)]
        n = len(peers)
        ranks.append(sum(x <= v for x in peers) / n)
        above, below = sum(x > v for x in peers), sum(x < v for x in peers)
        keep.append(not (top and above < top * n - 1e-9) and not (bottom and below < bottom * n - 1e-9))
    return ranks, keep


def run(steps, inp, out, workers=1, engine="local"):
    recipe = compile_recipe({"steps": steps, "engine": {"chunk_rows": 37}}, input_override=str(inp),
                            output_override=str(out))
    if engine == "ray":
        from gristmill.engine.ray_engine import RayExecutor

        return RayExecutor(recipe, RunOptions(workers=workers, progress=False)).run()
    return LocalExecutor(recipe, RunOptions(workers=workers, progress=False)).run()


@pytest.fixture
def signals(tmp_path):
    path = tmp_path / "signals.parquet"
    pq.write_table(corpus(), path)
    return path


STEP = {"op": "signal_percentile", "name": "noisy",
        "params": {"of": "train.r1.excess_loss", "by": "domain", "drop_top": 0.1}}


@pytest.mark.parametrize("workers", [1, 2])
def test_drop_the_top_tenth_within_each_domain(signals, tmp_path, workers):
    res = run([STEP], signals, tmp_path / "out", workers=workers)
    t = corpus()
    ranks, keep = brute_force(t["train.r1.excess_loss"].to_pylist(), t["domain"].to_pylist(), 0.1)
    ids = t["id"].to_pylist()
    kept = read_kept(tmp_path / "out")
    assert kept["id"].to_pylist() == [i for i, k in zip(ids, keep) if k]
    got = dict(zip(kept["id"].to_pylist(), kept["noisy.rank"].to_pylist()))
    for i, r in zip(ids, ranks):
        if i in got:
            assert got[i] == pytest.approx(r) if r is not None else got[i] is None
    assert res.summary["dropped"]["by_step"]["noisy"] == {"top_share": keep.count(False)}
    # per domain: ⌈10% of the documents with a value⌉ dropped (no ties in a continuous signal)
    frame = t.to_pandas()
    frame["kept"] = keep
    for dom, g in frame.groupby("domain"):
        n = int(g["train.r1.excess_loss"].notna().sum())
        assert int((~g["kept"]).sum()) == int(np.ceil(0.1 * n - 1e-9)), dom
    # a global threshold would have taken most of its drops from the domain with the highest scale
    assert frame[~frame["kept"]]["domain"].nunique() == 4


def test_ranks_match_pandas_and_ties_share_a_fate():
    t = corpus()
    v = np.array(t["train.r1.loss"].to_pylist(), dtype=float)
    g = np.array([hash(d) % 1000 for d in t["domain"].to_pylist()], dtype=np.uint64)
    rank, above, below, size = group_ranks(v, g)
    want = pd.Series(v).groupby(pd.Series(g)).rank(pct=True, method="max").to_numpy()
    np.testing.assert_allclose(rank, want)
    for i in range(len(v)):
        same = g == g[i]
        assert above[i] == int((v[same] > v[i]).sum()) and below[i] == int((v[same] < v[i]).sum())
        assert size[i] == int(same.sum())
    assert len(np.unique(v)) < len(v) / 4  # the check above covered ties


@pytest.mark.parametrize(("n", "share", "dropped"), [(10, 0.1, 1), (15, 0.1, 2), (10, 0.3, 3), (20, 0.05, 1),
                                                      (9, 0.1, 1), (10, 0.0999, 1), (100, 0.1, 10)])
def test_boundaries(tmp_path, n, share, dropped):
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(n)], "text": ["x"] * n,
                             "s": np.arange(n, dtype=float)[::-1]}), path)
    run([{"op": "signal_percentile", "name": "p", "params": {"of": "s", "drop_top": share}}], path, tmp_path / "top")
    kept = read_kept(tmp_path / "top")
    assert kept.num_rows == n - dropped
    assert max(kept["s"].to_pylist()) == n - 1 - dropped  # the highest ones went
    run([{"op": "signal_percentile", "name": "p", "params": {"of": "-s", "drop_bottom": share}}], path, tmp_path / "bot")
    assert read_kept(tmp_path / "bot").num_rows == n - dropped


def test_undefined_values_are_kept_unranked_and_a_later_rule_can_use_the_rank(signals, tmp_path):
    run([{**STEP, "params": {"of": "train.r1.excess_loss * 2", "by": "domain"}},
         {"op": "filter", "name": "mid", "keep": "noisy.rank > 0.25 or isnan(noisy.rank)"}], signals, tmp_path / "out")
    t = corpus()
    ranks, _ = brute_force(t["train.r1.excess_loss"].to_pylist(), t["domain"].to_pylist(), 0)
    want = [i for i, r in zip(t["id"].to_pylist(), ranks) if r is None or r > 0.25]
    kept = read_kept(tmp_path / "out")
    assert kept["id"].to_pylist() == want
    assert sum(r is None for r in kept["noisy.rank"].to_pylist()) == 8


def test_bad_parameters_are_compile_errors(signals, tmp_path):
    def problems(params):
        with pytest.raises(RecipeError) as err:
            compile_recipe({"steps": [{"op": "signal_percentile", "params": params}]}, input_override=str(signals))
        return str(err.value)

    assert "did you mean 'train.r1.excess_loss'" in problems({"of": "train.r1.exces_loss"})
    assert "steps[0].params.of" in problems({"of": "train.r1.exces_loss"})
    assert "no column 'domian'" in problems({"of": "train.r1.loss", "by": "domian"})
    assert "did you mean 'domain'" in problems({"of": "train.r1.loss", "by": "domian"})
    assert "must be below 1" in problems({"of": "train.r1.loss", "drop_top": 0.6, "drop_bottom": 0.4})
    with pytest.raises(RecipeError, match="takes no keep rule"):
        compile_recipe({"steps": [{"op": "signal_percentile", "params": {"of": "train.r1.loss"}, "keep": "x > 1"}]},
                       input_override=str(signals))


def test_the_cli_runs_it_and_exits_2_on_a_typo(signals, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [STEP])
    res = gristmill("run", recipe, "--input", signals, "--output", tmp_path / "out", "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert summary(tmp_path / "out")["balance"]["holds"]
    bad = write_recipe(tmp_path / "bad.yaml", [{**STEP, "params": {**STEP["params"], "by": "domian"}}])
    res = gristmill("run", bad, "--input", signals, "--output", tmp_path / "o2")
    assert res.returncode == 2 and "bad.yaml:" in res.stderr and "'domian'" in res.stderr


@pytest.mark.ray
def test_ray_gives_the_local_result(signals, tmp_path):
    pytest.importorskip("ray")
    run([STEP], signals, tmp_path / "local", workers=2)
    run([STEP], signals, tmp_path / "ray", workers=2, engine="ray")
    assert read_kept(tmp_path / "ray").equals(read_kept(tmp_path / "local"))
