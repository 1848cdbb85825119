"""An existing transformers.Trainer script picks up a gristmill policy with a few added lines."""

import pytest

pytestmark = pytest.mark.train
transformers = pytest.importorskip("transformers")


def test_trainer_with_a_gristmill_policy(shards, tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

    from gristmill.train.hf import PolicyData

    model = GPT2LMHeadModel(GPT2Config(vocab_size=384, n_positions=32, n_layer=1, n_head=2, n_embd=32, bos_token_id=0, eos_token_id=0))
    args = TrainingArguments(
        output_dir=str(tmp_path / "hf"), max_steps=24, per_device_train_batch_size=8, learning_rate=3e-3,
        logging_steps=6, save_steps=12, report_to=[], dataloader_num_workers=0, use_cpu=True,
        gradient_accumulation_steps=2, disable_tqdm=True,
    )
    # --- the gristmill lines -----------------------------------------------------------------------
    gm = PolicyData(shards / "train", policy="odm", seq_len=32, update_every=2)
    trainer = gm.trainer_class(Trainer)(model=model, args=args, train_dataset=gm.dataset, callbacks=[gm.callback])
    # ------------------------------------------------------------------------------------------------
    out = trainer.train()
    assert out.global_step == 24
    assert len(gm.history) == 12  # one update every 2 optimizer steps
    assert gm.history[-1]["weights"] != gm.history[0]["weights"]
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    assert losses[-1] < losses[0] - 0.5
    assert any("weight/chat" in r for r in trainer.state.log_history)
    assert gm.tokens.sum() == 24 * 2 * 8 * 32  # every micro-batch fed the policy
    ckpt = tmp_path / "hf" / "checkpoint-12"
    fresh = PolicyData(shards / "train", policy="odm", seq_len=32, update_every=2)
    fresh.load_state(ckpt)
    assert fresh.policy.steps_seen == 12


def test_selection_policy_masks_the_trainer_loss(shards):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from gristmill.train.hf import PolicyData

    model = GPT2LMHeadModel(GPT2Config(vocab_size=384, n_positions=32, n_layer=1, n_head=2, n_embd=32, bos_token_id=0, eos_token_id=0))
    gm = PolicyData(shards / "train", policy="hard", seq_len=32, keep_fraction=0.25)
    items = [next(iter(gm.dataset)) for _ in range(8)]
    batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    loss, out = gm.loss(model, dict(batch))
    per = torch.nn.functional.cross_entropy(
        out.logits.flatten(0, 1), batch["gm_targets"].flatten(), reduction="none"
    ).view(8, 32).mean(1)
    assert torch.isclose(loss, per.topk(2).values.mean(), atol=1e-5)


def test_a_gradient_probe_policy_is_refused_with_a_reason(shards):
    from gristmill.errors import UsageError
    from gristmill.train.hf import PolicyData

    with pytest.raises(UsageError, match="gradient probes"):
        PolicyData(shards / "train", policy="doge", seq_len=32)
