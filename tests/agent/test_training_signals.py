"""The agent on goals over training signals: parse, plan, verify on the data, and the full run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from gristmill.agent.cli import prepare_command
from gristmill.agent.goal import parse_goal
from gristmill.agent.prepare import prepare

DOMAINS = {"books": 3.0, "code": 1.5, "legal": 2.5}  # each domain its own loss scale
WORDS = ["river", "stone", "garden", "letter", "window", "market", "winter", "signal", "number", "valley"]


def quiet(_: str) -> None:
    pass


@pytest.fixture(autouse=True)
def bm25_retrieval(monkeypatch):
    """This kind names its operators itself: spare the tests loading the embedding model for retrieval."""
    monkeypatch.setattr("gristmill.agent.retrieve.semantic_encoder", lambda: None)


def corpus(n: int = 240, *, excess: bool = True, seed: int = 0) -> pd.DataFrame:
    """Documents with signals of two runs: r1 (older) and r2 (latest, whose columns come last)."""
    rng = np.random.default_rng(seed)
    doms = [list(DOMAINS)[i % 3] for i in range(n)]
    texts = [" ".join(rng.choice(WORDS, 30)) + f" number {i}." for i in range(n)]
    frame = pd.DataFrame({"id": [f"d{i:04d}" for i in range(n)], "text": texts, "domain": doms})
    for run, shift in (("r1", 0.0), ("r2", -0.3)):
        loss = np.array([DOMAINS[d] + 2 for d in doms]) + rng.normal(0, 0.5, n) + shift
        frame[f"train.{run}.loss"] = loss
        frame[f"train.{run}.excess_loss"] = (loss - 2 + rng.normal(0, 0.3, n)) if excess else np.nan
        frame[f"train.{run}.draws"] = rng.integers(0, 5, n)
    return frame


def write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path


def kept_ids(out: Path) -> list[str]:
    return [i for f in sorted(out.glob("part-*.parquet")) for i in pq.read_table(f, columns=["id"])["id"].to_pylist()]


def top_share(frame: pd.DataFrame, column: str, share: float, by: str | None) -> set[str]:
    """The documents a share cut drops, computed with pandas: fewer than share × n of the group above."""
    groups = frame.groupby(by) if by else [("", frame)]
    out = set()
    for _, g in groups:
        vals = g[column].dropna()
        n = len(vals)
        above = vals.apply(lambda v, vals=vals: int((vals > v).sum()))
        out |= set(g.loc[above[above < share * n - 1e-9].index, "id"])
    return out


def test_goals_are_read_and_their_words_taken_from_other_kinds():
    g = parse_goal("drop what the last model found noisy or unlearnable")
    assert [r.kind for r in g.requirements] == ["training_signals"]  # not heuristic quality ("noisy")
    assert g.requirements[0].params == {"action": "drop_share", "signal": None, "share": 0.1, "end": "top",
                                        "per_domain": None}
    g = parse_goal("remove the 10% of documents with the highest excess loss")
    assert [r.kind for r in g.requirements] == ["training_signals"]  # not a retention target
    assert g.requirements[0].params["signal"] == "excess_loss" and g.requirements[0].params["share"] == 0.1
    p = parse_goal("keep the 95% of documents with the lowest loss per domain").requirements[0].params
    assert (p["share"], p["end"], p["per_domain"]) == (0.05, "top", True)
    p = parse_goal("keep documents with excess loss at most -0.5").requirements[0].params
    assert (p["action"], p["cmp"], p["value"], p["keep"]) == ("threshold", "<=", -0.5, True)
    assert parse_goal("mix the way the last run learnt").requirements[0].params == {"action": "mixture", "start": False}
    assert parse_goal("drop noisy documents").requirements[0].kind == "quality"  # no model named: heuristics
    assert not parse_goal("drop what the last model found noisy").not_understood


def test_loss_as_a_word_of_a_topic_is_not_a_training_signal():
    # "weight-loss pill adverts" was read as "drop the 10% with the highest loss" and refused for lack of signals
    for goal in ("Keep everything except the weight-loss pill adverts.", "drop documents about hair loss"):
        kinds = [r.kind for r in parse_goal(goal).requirements]
        assert "training_signals" not in kinds and "topic" in kinds, (goal, kinds)
    # a ranking word, a share, a threshold or a model still make it one, hyphenated or not
    for goal in ("drop high-loss documents", "loss below 3", "remove the 5% of documents with the lowest loss",
                 "prefer documents with low perplexity under the last model"):
        assert [r.kind for r in parse_goal(goal).requirements] == ["training_signals"], goal


def test_noisy_or_unlearnable_drops_the_top_tenth_per_domain_of_the_latest_run(tmp_path):
    frame = corpus()
    src = write(frame, tmp_path / "in" / "v.parquet")
    res = prepare(str(src), "drop what the last model found noisy or unlearnable", tmp_path / "out", log=quiet,
                  workers=1)
    assert res.passed, [c.line() for c in res.checks]
    step = next(s for s in res.recipe["steps"] if s["op"] == "signal_percentile")
    assert step["params"] == {"of": "field('train.r2.excess_loss')", "by": "domain", "drop_top": 0.1}
    expected = top_share(frame, "train.r2.excess_loss", 0.1, "domain")
    assert len(expected) == 24
    assert kept_ids(tmp_path / "out") == [i for i in frame["id"] if i not in expected]
    check = next(c for c in res.checks if c.kind == "training_signals")
    assert check.passed and "24 documents" in check.evidence
    assert any("'r2' (the latest of ['r1', 'r2'])" in s["why"] for s in res.recipe["steps"] if "why" in s)
    assert any("ranked within each domain" in a for a in res.goal.assumptions)


def test_without_excess_loss_the_check_fails_and_repair_ranks_by_loss(tmp_path):
    frame = corpus(excess=False)
    src = write(frame, tmp_path / "in" / "v.parquet")
    res = prepare(str(src), "drop what the last model found unlearnable", tmp_path / "out", log=quiet, workers=1)
    assert res.passed and len(res.history) == 2
    assert "ranked by train.r2.loss" in " ".join(res.history[0]["repairs"])
    expected = top_share(frame, "train.r2.loss", 0.1, "domain")
    assert set(kept_ids(tmp_path / "out")) == set(frame["id"]) - expected
    # asked for excess loss by name, there is nothing to fall back to: exit 1 with the evidence
    r = CliRunner().invoke(prepare_command, [str(src), "--goal", "remove the 10% of documents with the highest "
                                             "excess loss", "--output", str(tmp_path / "o2")])
    assert r.exit_code == 1 and "has a value of train.r2.excess_loss" in r.output


def test_a_threshold_and_a_global_share(tmp_path):
    frame = corpus()
    src = write(frame, tmp_path / "in" / "v.parquet")
    res = prepare(str(src), "keep documents with excess loss below 2.5", tmp_path / "t", log=quiet, workers=1)
    assert res.passed
    want = frame[frame["train.r2.excess_loss"] < 2.5]["id"].tolist()
    assert kept_ids(tmp_path / "t") == want and 0 < len(want) < len(frame)
    res = prepare(str(src), "remove the 5% of documents with the lowest loss", tmp_path / "g", log=quiet, workers=1)
    assert res.passed
    low = -frame["train.r2.loss"]
    expected = top_share(frame.assign(neg=low), "neg", 0.05, None)
    assert len(expected) == 12
    assert set(kept_ids(tmp_path / "g")) == set(frame["id"]) - expected


def test_prefer_easy_documents_within_a_token_budget(tmp_path):
    frame = corpus(400)
    src = write(frame, tmp_path / "in" / "v.parquet")
    total = sum((len(t) + 3) // 4 for t in frame["text"])
    res = prepare(str(src), f"prefer documents the last model found easy, at most {total // 2} tokens in total; "
                  "at least 10 words", tmp_path / "out", log=quiet, workers=1)
    assert res.passed, [c.line() for c in res.checks]
    assert [s["op"] for s in res.recipe["steps"]][-2:] == ["length_filter", "budget_sample"]  # the budget cuts last
    step = res.recipe["steps"][-1]
    assert step["params"]["weight"] == "exp(-field('train.r2.loss'))" and step["params"]["fraction"] < 0.5
    ids = set(kept_ids(tmp_path / "out"))
    kept = frame[frame["id"].isin(ids)]
    assert sum((len(t) + 3) // 4 for t in kept["text"]) <= total // 2
    assert kept["train.r2.loss"].mean() < frame["train.r2.loss"].mean() - 0.2


def test_no_training_signals_is_refused_clearly(tmp_path):
    frame = corpus()[["id", "text", "domain"]]
    src = write(frame, tmp_path / "in" / "plain.parquet")
    r = CliRunner().invoke(prepare_command, [str(src), "--goal", "drop what the last model found noisy",
                                             "--output", str(tmp_path / "o")])
    assert r.exit_code == 1 and "carries no training signals" in r.output
    assert not kept_ids(tmp_path / "o")


def test_mix_the_way_the_last_run_learnt_reads_the_run_from_the_catalog(tmp_path, monkeypatch):
    from gristmill.catalog.core import Catalog
    from gristmill.engine.local import LocalExecutor, RunOptions
    from gristmill.recipe.compile import compile_recipe

    monkeypatch.setenv("GRISTMILL_HOME", str(tmp_path / "cat"))
    src = write(corpus(), tmp_path / "in" / "v.parquet")
    recipe = compile_recipe({"steps": []}, input_override=str(src), output_override=str(tmp_path / "v1"))
    LocalExecutor(recipe, RunOptions(workers=1, progress=False)).run()
    cat = Catalog()
    v1 = cat.commit_run("web", tmp_path / "v1")
    run_dir = tmp_path / "runs" / "r2"
    run_dir.mkdir(parents=True)
    (run_dir / "mixture.json").write_text(json.dumps({"domains": list(DOMAINS), "policy": "doremi", "final": {
        "books": 0.5, "code": 0.3, "legal": 0.2}, "average": {"books": 0.4, "code": 0.35, "legal": 0.25}}))
    # the version the run's signals were written into names the run in its lineage (catalog.add_columns)
    manifest = dict(v1.manifest, lineage={"kind": "run", "run": "r2", "run_dir": str(run_dir), "version": "web@1"})
    cat._claim("web", manifest)
    res = prepare("catalog://web@2", "mix the way the last run learnt", tmp_path / "out", log=quiet, workers=1)
    assert res.passed, [c.line() for c in res.checks]
    note = next(n for n in res.plan.notes if n.startswith("training:"))
    assert f"policy: {{name: static, weights_from: {run_dir}}}" in note
    assert "books 0.400, code 0.350, legal 0.250" in note and "mixture.json (average)" in note
    assert [s["op"] for s in res.recipe["steps"]] == ["normalize_text"]  # the data is left as it is
    r = CliRunner().invoke(prepare_command, [str(src), "--goal", "start from the mixture the last run learnt",
                                             "--output", str(tmp_path / "o2"), "--plan-only"])
    assert r.exit_code == 0, r.output
    assert f"init_weights_from: {run_dir}" in r.output
    (run_dir / "mixture.json").unlink()
    r = CliRunner().invoke(prepare_command, [str(src), "--goal", "mix the way the last run learnt", "--output",
                                             str(tmp_path / "o3"), "--plan-only"])
    assert r.exit_code == 1 and "holds no learnt mixture" in r.output


@pytest.mark.parametrize("goal", ["drop what the last model found noisy or unlearnable",
                                  "remove the 10% of documents with the highest excess loss per domain"])
def test_the_recipe_runs_again_the_same_on_two_workers(tmp_path, goal):
    from gristmill.engine.local import LocalExecutor, RunOptions
    from gristmill.recipe.compile import load_recipe

    src = write(corpus(), tmp_path / "in" / "v.parquet")
    res = prepare(str(src), goal, tmp_path / "out", log=quiet, workers=1)
    recipe = load_recipe(res.recipe_path, output_override=str(tmp_path / "again"))
    LocalExecutor(recipe, RunOptions(workers=2, progress=False)).run()
    assert kept_ids(tmp_path / "again") == kept_ids(tmp_path / "out")
