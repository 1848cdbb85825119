"""End-to-end tiny runs: learning happens, metrics are complete, resume is exact, the CLI works."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from gristmill.train.cli import train_command
from gristmill.train.loop import train

pytestmark = pytest.mark.train


def rows(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_tiny_run_learns_and_writes_metrics_and_plot(make_cfg, tmp_path):
    cfg = make_cfg("log.plot=true", "policy.name=odm", "policy.update_every=2")
    last = train(cfg)
    m = rows(tmp_path / "out" / "metrics.jsonl")
    assert [r["step"] for r in m] == [0, 10, 20, 30, 40]
    assert m[-1]["avg"] < m[0]["avg"] - 1.0  # held-out loss falls by more than a nat
    for key in ("step", "tokens", "heldout", "avg", "worst", "worst_domain", "weights", "tokens_per_domain",
                "tokens_per_s", "policy_overhead"):
        assert key in m[-1]
    assert set(m[-1]["heldout"]) == {"books", "code", "legal", "chat", "noisy"}
    assert m[-1]["worst"] == max(m[-1]["heldout"].values())
    assert abs(sum(m[-1]["weights"].values()) - 1) < 1e-9
    assert sum(m[-1]["tokens_per_domain"].values()) == m[-1]["tokens"]
    assert m[-1]["weights"] != m[0]["weights"]  # ODM moved
    assert 0 <= m[-1]["policy_overhead"] < 1
    assert (tmp_path / "out" / "mixing.png").stat().st_size > 1000
    assert (tmp_path / "out" / "model" / "config.json").exists()
    assert last["step"] == 40


@pytest.mark.parametrize(("policy", "accum", "delay"),
                         [("odm", 1, 1), ("reweight", 2, 1), ("ado", 1, 0), ("doge", 2, 1)])
def test_resume_gives_the_same_data_and_losses(make_cfg, tmp_path, policy, accum, delay):
    common = ("train.max_tokens=6144", "train.ckpt_every=6", f"policy.name={policy}", "policy.update_every=2",
              f"train.grad_accum={accum}", f"train.batch_size={8 // accum}", f"train.feedback_delay={delay}",
              *(["policy.gradient_every=1"] if policy == "doge" else []))
    train(make_cfg(*common, output=str(tmp_path / "full")))
    train(make_cfg(*common, "train.stop_at_step=12", output=str(tmp_path / "cut")))
    # with train.feedback_delay = 1, step 12's stats wait in the checkpoint for the policy, unlogged
    assert len(rows(tmp_path / "cut" / "steps.jsonl")) == 12 - delay
    train(make_cfg(*common, "train.resume=true", output=str(tmp_path / "cut")))
    full, cut = rows(tmp_path / "full" / "steps.jsonl"), rows(tmp_path / "cut" / "steps.jsonl")
    assert [r["step"] for r in cut] == list(range(1, 25))
    for a, b in zip(full, cut, strict=True):
        assert abs(a["loss"] - b["loss"]) <= 1e-6, (a, b)
    mf, mc = rows(tmp_path / "full" / "metrics.jsonl"), rows(tmp_path / "cut" / "metrics.jsonl")
    assert [r["step"] for r in mf] == [r["step"] for r in mc]
    assert mf[-1]["weights"] == mc[-1]["weights"]
    assert mf[-1]["tokens_per_domain"] == mc[-1]["tokens_per_domain"]
    assert abs(mf[-1]["avg"] - mc[-1]["avg"]) <= 1e-6


def test_reference_policy_uses_an_earlier_run(make_cfg, tmp_path):
    train(make_cfg("train.max_tokens=2560", output=str(tmp_path / "ref")))
    out = tmp_path / "dm"
    train(make_cfg("policy.name=doremi", f"policy.reference={tmp_path / 'ref'}", "policy.update_every=2",
                   output=str(out)))
    m = rows(out / "metrics.jsonl")
    assert m[-1]["weights"] != m[0]["weights"]
    assert abs(sum(json.loads((out / "average_weights.json").read_text()).values()) - 1) < 1e-9


def test_reference_forward_runs_every_n_steps(make_cfg, tmp_path, monkeypatch):
    """DoReMi needs only the frozen reference's mean loss per domain: one forward every reference_every steps."""
    import gristmill.train.loop as loop

    train(make_cfg("train.max_tokens=2560", output=str(tmp_path / "ref")))
    refs, calls = [], []
    real_load, real_loss = loop.load_reference, loop.per_sample_loss
    monkeypatch.setattr(loop, "load_reference", lambda *a: refs.append(real_load(*a)) or refs[-1])
    monkeypatch.setattr(loop, "per_sample_loss", lambda model, x: calls.append(model) or real_loss(model, x))
    last = train(make_cfg("policy.name=doremi", f"policy.reference={tmp_path / 'ref'}", "policy.update_every=2",
                          "policy.reference_every=4", "train.max_tokens=4096", output=str(tmp_path / "dm")))
    steps = 4096 // (8 * 32)  # make_cfg: batch 8, seq_len 32
    assert sum(1 for m in calls if m is refs[-1]) == steps // 4
    assert len(set(last["weights"].values())) > 1  # the run-averaged reference still moved the mixture


def test_cli_sets_keys_and_trains(make_cfg, tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(make_cfg().model_dump_json())  # JSON is YAML
    res = CliRunner().invoke(
        train_command,
        [str(cfg_file), "--output", str(tmp_path / "cli"), "--set", "policy.name=temperature",
         "--set", "policy.tau=3", "--set", "train.max_tokens=2560"],
    )
    assert res.exit_code == 0, res.output
    m = rows(tmp_path / "cli" / "metrics.jsonl")
    assert m[-1]["policy"] == "temperature" and m[-1]["tokens"] == 2560


def test_cli_bad_config_exits_2(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("train:\n  lr: -1\n")
    res = CliRunner().invoke(train_command, [str(cfg_file)])
    assert res.exit_code == 2 and "train.lr" in res.output


def test_classic_doremi_runs_reference_proxy_and_main(make_cfg, tmp_path):
    from gristmill.train.doremi import run_doremi

    cfg = make_cfg("train.max_tokens=2560", "policy.update_every=2", output=str(tmp_path / "dr"))
    weights = run_doremi(cfg)
    assert abs(sum(weights.values()) - 1) < 1e-9 and set(weights) == {"books", "code", "legal", "chat", "noisy"}
    main = rows(tmp_path / "dr" / "main" / "metrics.jsonl")
    assert main[-1]["policy"] == "static"
    assert main[-1]["weights"] == pytest.approx(weights)
    assert (tmp_path / "dr" / "reference" / "model" / "config.json").exists()


def test_llama_style_config_trains(make_cfg, tmp_path):
    cfg = make_cfg(
        "model.config={model_type: llama, num_hidden_layers: 1, hidden_size: 64, intermediate_size: 128, "
        "num_attention_heads: 2, num_key_value_heads: 1}",
        "train.max_tokens=5120", "policy.name=ado", "policy.update_every=2",
    )
    train(cfg)
    m = rows(tmp_path / "out" / "metrics.jsonl")
    assert m[-1]["avg"] < m[0]["avg"] - 0.5
    assert json.loads((tmp_path / "out" / "model" / "config.json").read_text())["model_type"] == "llama"


def test_a_fresh_run_in_a_used_folder_starts_clean_logs(make_cfg, tmp_path):
    cfg = make_cfg("train.max_tokens=2560", "train.ckpt_every=5")
    train(cfg)
    train(cfg)
    assert [r["step"] for r in rows(tmp_path / "out" / "metrics.jsonl")] == [0, 10]
    assert len(rows(tmp_path / "out" / "steps.jsonl")) == 10


def test_gradient_alignment_policy_gets_its_matrix_and_moves(make_cfg, tmp_path):
    """doge: the loop measures per-domain gradients on probe steps; the policy's matrix fills in and the
    mixture moves away from uniform."""
    cfg = make_cfg("policy.name=doge", "policy.gradient_every=2", "policy.update_every=2", "train.batch_size=16",
                   "train.max_tokens=16384")
    last = train(cfg)
    assert last["policy"] == "doge" and last["policy_overhead"] > 0
    weights = np.array(list(last["weights"].values()))
    assert not np.allclose(weights, 1 / len(weights))
    ckpt = torch.load(next((tmp_path / "out" / "checkpoints").glob("step_*")) / "state.pt", weights_only=False)
    align = np.array(ckpt["policy"]["extra"]["align"])
    assert np.isfinite(align).all() and (np.diag(align) != 0).all()
