"""The Ray engine gives the local engine's output, row for row. Runs where the ray extra is installed."""

from __future__ import annotations

import pytest

from tests.conftest import gristmill, read_kept, summary, write_recipe
from tests.corpus import make_corpus

pytest.importorskip("ray")
pytestmark = pytest.mark.ray


def test_ray_engine_matches_local(tmp_path):
    make_corpus(tmp_path / "in", n=900)
    recipe = write_recipe(
        tmp_path / "r.yaml",
        [{"op": "normalize_text"}, {"op": "length_filter", "params": {"min_words": 5}}, {"op": "exact_dedup"}],
        engine={"chunk_rows": 150},
    )
    outs = {}
    for engine in ("local", "ray"):
        out = tmp_path / engine
        res = gristmill("run", recipe, "--input", tmp_path / "in", "--output", out, "--engine", engine, "--workers", "2", timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
        outs[engine] = read_kept(out, ["id", "text"]).to_pylist()
        assert summary(out)["balance"]["holds"]
    assert outs["local"] == outs["ray"] and len(outs["local"]) > 500
