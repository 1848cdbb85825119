"""Token-budget cap: a deterministic content-hash sample trims the output to the budget."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from gristmill.agent.goal import parse_goal
from gristmill.agent.prepare import prepare
from gristmill.agent.verify import read_kept
from gristmill.batch import Batch
from gristmill.ops.registry import all_ops


def test_budget_sample_is_deterministic_and_keeps_about_the_fraction() -> None:
    cls = all_ops()["budget_sample"]
    texts = [f"document number {i}" for i in range(4000)]
    op = cls(cls.Params(fraction=0.25))
    u1 = op.apply(Batch(pa.table({"text": texts})))["u"]
    u2 = op.apply(Batch(pa.table({"text": texts[::-1]})))["u"][::-1]
    assert (u1 == u2).all()  # depends on the text only, not on position or batch
    assert 0.22 < (u1 < 0.25).mean() < 0.28
    other = cls(cls.Params(fraction=0.25, seed=1)).apply(Batch(pa.table({"text": texts})))["u"]
    assert (other != u1).any()


def test_cap_phrasings_become_a_max_budget() -> None:
    for goal, cap in [("at most 150k tokens in total", 150_000), ("cap the output at 300k tokens", 300_000),
                      ("a budget of 200k tokens", 200_000), ("trim it to 1M tokens", 1_000_000)]:
        reqs = [r for r in parse_goal(goal).requirements if r.kind == "token_budget"]
        assert [r.params for r in reqs] == [{"max": cap}], goal
    assert not [r for r in parse_goal("at most 150k tokens in total").requirements if r.kind == "length"]


def test_prepare_trims_to_the_budget(dirty: Path, tmp_path: Path) -> None:
    res = prepare(str(dirty), "remove exact duplicates; at most 50k tokens in total", tmp_path / "o", log=lambda m: None,
                  sample=5000, workers=1)
    steps = [s["op"] for s in res.recipe["steps"]]
    assert steps[-1] == "budget_sample" and res.passed
    texts = read_kept(tmp_path / "o").column("text").to_pylist()
    assert 0.8 * 50_000 < sum(len(t) // 4 for t in texts) <= 50_000
    assert any("sampling to the token budget" in a for h in res.history for a in h.get("repairs", []))
