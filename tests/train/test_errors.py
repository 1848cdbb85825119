"""Each bad configuration is a clear UsageError raised before the first training step."""

import shutil

import pytest

from gristmill.errors import UsageError
from gristmill.shards import ShardWriter
from gristmill.train.loop import train

pytestmark = pytest.mark.train


def fails_before_training(cfg, match):
    with pytest.raises(UsageError, match=match) as info:
        train(cfg)
    assert not (cfg.output and (__import__("pathlib").Path(cfg.output) / "steps.jsonl").exists())
    return str(info.value)


def copy_shards(shards, tmp_path):
    dst = tmp_path / "shards"
    shutil.copytree(shards, dst)
    return dst


def test_unknown_strategy(make_cfg):
    msg = fails_before_training(make_cfg("policy.name=odn"), "unknown strategy 'odn'")
    assert "did you mean 'odm'" in msg and "uniform" in msg


def test_weights_not_summing_to_one(make_cfg):
    cfg = make_cfg(
        "policy.name=static", "policy.weights={books: 0.5, code: 0.3, legal: 0.1, chat: 0.05, noisy: 0.1}"
    )
    fails_before_training(cfg, r"must sum to 1, they sum to 1.05")


def test_domain_with_no_data(make_cfg, shards, tmp_path):
    root = copy_shards(shards, tmp_path)
    for split in ("train", "heldout"):
        ShardWriter(root / split / "empty", domain="empty", vocab_size=384, eos_id=0).close()
    cfg = make_cfg(f"data.train={root / 'train'}", f"data.heldout={root / 'heldout'}")
    fails_before_training(cfg, r"domain 'empty' has no data")


def test_vocabulary_mismatch(make_cfg):
    cfg = make_cfg("model.config={model_type: gpt2, n_layer: 1, n_head: 2, n_embd: 64, vocab_size: 50257}")
    fails_before_training(cfg, r"vocabulary size 50257 does not match the token shards' vocabulary 384")


def test_heldout_split_missing(make_cfg, shards, tmp_path):
    root = copy_shards(shards, tmp_path)
    shutil.rmtree(root / "heldout" / "chat")
    cfg = make_cfg(f"data.train={root / 'train'}", f"data.heldout={root / 'heldout'}")
    fails_before_training(cfg, r"held-out split missing for domain 'chat'")


def test_reference_policy_without_reference(make_cfg):
    fails_before_training(make_cfg("policy.name=rho"), r"needs a reference model: set policy.reference")


@pytest.mark.parametrize(("split", "file"), [("train", "index.npy"), ("heldout", "tokens.bin")])
def test_a_truncated_shard_exits_2_naming_the_file(make_cfg, shards, tmp_path, split, file):
    from click.testing import CliRunner

    from gristmill.cli import main

    root = copy_shards(shards, tmp_path)
    damaged = root / split / "code" / file
    damaged.write_bytes(damaged.read_bytes()[:-10])
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text(make_cfg(f"data.train={root / 'train'}", f"data.heldout={root / 'heldout'}").model_dump_json())
    res = CliRunner().invoke(main, ["train", str(cfg_file)])
    assert res.exit_code == 2, res.output
    assert f"error: data.{split}: {damaged}: " in res.output
    assert "cut short" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out" / "steps.jsonl").exists()
