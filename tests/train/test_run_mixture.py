"""A run's learnt mixture starts (policy.init_weights_from) or fixes (static weights_from) the next run's."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from gristmill.errors import UsageError
from gristmill.train.cli import train_command
from gristmill.train.loop import train
from gristmill.train.policies import make_policy
from gristmill.train.run_mixture import read_run_mixture, weights_for

pytestmark = pytest.mark.train

DOMAINS = ["books", "code", "legal", "chat", "noisy"]


def rows(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


@pytest.fixture(scope="module")
def learnt_run(tmp_path_factory, shards):
    """A tiny ODM run: its mixture moves away from uniform, and it writes no average (ODM keeps none)."""
    from gristmill.train.config import load_config

    out = tmp_path_factory.mktemp("run1") / "r1"
    cfg = load_config(None, [
        f"data.train={shards / 'train'}", f"data.heldout={shards / 'heldout'}", f"output={out}",
        "model.config={model_type: gpt2, n_layer: 1, n_head: 2, n_embd: 64}", "train.seq_len=32",
        "train.batch_size=8", "train.max_tokens=10240", "train.lr=3e-3", "train.warmup_steps=5",
        "train.eval_every=10", "train.eval_tokens=512", "log.plot=false", "policy.name=odm", "policy.update_every=2",
    ])
    train(cfg)
    return out


def test_next_run_starts_from_the_learnt_mixture(learnt_run, make_cfg, tmp_path):
    learnt = rows(learnt_run / "metrics.jsonl")[-1]["weights"]
    assert max(learnt.values()) - min(learnt.values()) > 0.02  # ODM learnt something other than uniform
    train(make_cfg("policy.name=odm", "policy.update_every=2", "policy.min_weight=0",
                   f"policy.init_weights_from={learnt_run}", output=str(tmp_path / "r2")))
    first = rows(tmp_path / "r2" / "metrics.jsonl")[0]
    assert first["step"] == 0
    for d in DOMAINS:
        assert first["weights"][d] == pytest.approx(learnt[d], abs=1e-9)
    # uniform is where it would have started without the option
    train(make_cfg("policy.name=odm", "policy.update_every=2", output=str(tmp_path / "plain")))
    assert rows(tmp_path / "plain" / "metrics.jsonl")[0]["weights"]["books"] == pytest.approx(0.2)


def test_static_weights_from_keeps_the_learnt_mixture_fixed(learnt_run, make_cfg, tmp_path):
    learnt = rows(learnt_run / "metrics.jsonl")[-1]["weights"]
    train(make_cfg("policy.name=static", f"policy.weights_from={learnt_run}", output=str(tmp_path / "fixed")))
    m = rows(tmp_path / "fixed" / "metrics.jsonl")
    assert len(m) == 5
    for row in m:
        for d in DOMAINS:
            assert row["weights"][d] == pytest.approx(learnt[d], abs=1e-9)
    # and the sampler followed it: tokens drawn per domain track the fixed mixture
    drawn = m[-1]["tokens_per_domain"]
    total = sum(drawn.values())
    heavy = max(learnt, key=learnt.get)
    light = min(learnt, key=learnt.get)
    assert drawn[heavy] / total > drawn[light] / total


def test_a_mixture_over_other_domains_is_refused_with_exit_2(make_cfg, tmp_path):
    run = tmp_path / "other"
    run.mkdir()
    (run / "mixture.json").write_text(json.dumps({"domains": ["books", "code", "web"], "policy": "doremi",
                                                  "final": {"books": 0.2, "code": 0.3, "web": 0.5}, "average": None}))
    cfg_file = tmp_path / "c.yaml"
    cfg = make_cfg(output=str(tmp_path / "o"))
    cfg_file.write_text(json.dumps(cfg.model_dump(mode="json")))
    res = CliRunner().invoke(train_command, [str(cfg_file), "--check", "--set", "policy.name=ado",
                                             "--set", f"policy.init_weights_from={run}"])
    assert res.exit_code == 2, res.output
    assert "does not match this run's domains" in res.output
    assert "'web'" in res.output and "'legal'" in res.output
    assert not (tmp_path / "o" / "metrics.jsonl").exists()
    res = CliRunner().invoke(train_command, [str(cfg_file), "--check", "--set", "policy.name=static",
                                             "--set", f"policy.weights_from={tmp_path / 'nothing'}"])
    assert res.exit_code == 2 and "is not a folder" in res.output


def write(path, obj):
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj))


def test_which_file_wins(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    write(run / "metrics.jsonl", json.dumps({"step": 0, "weights": {"a": 0.5, "b": 0.5}}) + "\n"
          + json.dumps({"step": 10, "weights": {"a": 0.9, "b": 0.1}}) + "\n" + '{"step": 20, "weig')  # cut short
    got = read_run_mixture(run)
    assert got.weights == {"a": 0.9, "b": 0.1} and got.source == "metrics.jsonl (step 10)"
    write(run / "average_weights.json", {"a": 0.3, "b": 0.7})
    assert read_run_mixture(run).weights == {"a": 0.3, "b": 0.7}
    write(run / "mixture.json", {"domains": ["a", "b"], "final": {"a": 0.6, "b": 0.4}, "average": None, "policy": "odm"})
    got = read_run_mixture(run)
    assert got.weights == {"a": 0.6, "b": 0.4} and got.source == "mixture.json (final)" and got.policy == "odm"
    write(run / "mixture.json", {"domains": ["a", "b"], "final": {"a": 0.6, "b": 0.4}, "average": {"a": 1, "b": 3}})
    got = read_run_mixture(run)
    assert got.weights == {"a": 0.25, "b": 0.75} and got.source == "mixture.json (average)"
    assert weights_for(got, ["b", "a"]).tolist() == [0.75, 0.25]


@pytest.mark.parametrize("bad", [{"a": -0.1, "b": 1.1}, {"a": 0, "b": 0}, {"a": "x", "b": 1}, {}, [0.5, 0.5]])
def test_weights_that_are_not_a_mixture_are_refused(tmp_path, bad):
    write(tmp_path / "mixture.json", {"final": bad, "average": None})
    with pytest.raises(UsageError, match="policy.init_weights_from"):
        read_run_mixture(tmp_path)


def test_static_takes_one_source_of_weights(tmp_path):
    write(tmp_path / "mixture.json", {"final": {"a": 0.4, "b": 0.6}, "average": None})
    nat = np.array([1.0, 1.0])
    with pytest.raises(UsageError, match="one of policy.weights, policy.weights_from"):
        make_policy("static", ["a", "b"], nat, {"weights": {"a": 0.5, "b": 0.5}, "weights_from": str(tmp_path)})
    p = make_policy("static", ["a", "b"], nat, {"weights_from": str(tmp_path)})
    assert p.weights.tolist() == [0.4, 0.6]
    p = make_policy("static", ["a", "b"], nat, {"init_weights_from": str(tmp_path)})
    assert p.weights.tolist() == [0.4, 0.6]
    # a policy with a floor lifts a learnt weight below it (its guard rails hold from the first step)
    write(tmp_path / "mixture.json", {"final": {"a": 0.001, "b": 0.999}, "average": None})
    p = make_policy("odm", ["a", "b"], nat, {"init_weights_from": str(tmp_path), "min_weight": 0.05})
    assert p.weights[0] == pytest.approx(0.05) and p.weights.sum() == pytest.approx(1)
