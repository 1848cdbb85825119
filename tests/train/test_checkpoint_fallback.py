"""A damaged latest checkpoint: resume falls back to the newest valid one and trains on exactly as an
uninterrupted run would, the damaged one moved aside (not deleted), the older good ones kept (issue 11 §4)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gristmill.errors import GristmillError
from gristmill.train import checkpoint
from gristmill.train.config import load_config
from gristmill.train.loop import train

pytestmark = pytest.mark.train

# 12 steps of 256 tokens (batch 8 x 32 tokens); checkpoints every 4 steps, none pruned (keep 5)
COMMON = ("train.max_tokens=3072", "train.ckpt_every=4", "train.keep_checkpoints=5", "train.eval_every=4",
          "policy.name=odm", "policy.update_every=2")


def _truncate(f: Path) -> None:
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _flip_a_byte(f: Path) -> None:
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))


DAMAGE = {  # what happens to a checkpoint folder, and which file it happens to
    "state truncated": ("state.pt", _truncate),
    "rank file bit flip": ("rank0.pt", _flip_a_byte),
    "state bit flip": ("state.pt", _flip_a_byte),
    "state deleted": ("state.pt", Path.unlink),
    "manifest deleted (save never completed)": ("manifest.json", Path.unlink),
    "manifest garbled": ("manifest.json", lambda f: f.write_bytes(b"\x00{not json")),
    "manifest of another format": ("manifest.json", lambda f: f.write_text(json.dumps({"files": {}}))),
}


def rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def fingerprint(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def runs(shards, tmp_path_factory) -> dict[str, Path]:
    """An uninterrupted 12-step run, and the same run stopped at step 8 (checkpoints at 4 and 8)."""
    root = tmp_path_factory.mktemp("fallback")

    def cfg(*overrides: str, output: Path):
        base = [f"data.train={shards / 'train'}", f"data.heldout={shards / 'heldout'}", f"output={output}",
                "model.config={model_type: gpt2, n_layer: 1, n_head: 2, n_embd: 64}", "train.seq_len=32",
                "train.batch_size=8", "train.lr=3e-3", "train.warmup_steps=2", "train.eval_tokens=256",
                "log.plot=false"]
        return load_config(None, base + list(COMMON) + list(overrides))

    train(cfg(output=root / "full"))
    train(cfg("train.stop_at_step=8", output=root / "cut"))
    return {"full": root / "full", "cut": root / "cut", "cfg": cfg}  # type: ignore[dict-item]


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_latest_checkpoint_falls_back_and_training_matches(runs, tmp_path, capsys, damage):
    out = tmp_path / "run"
    shutil.copytree(runs["cut"], out)
    ckpts = out / "checkpoints"
    assert (ckpts / checkpoint.LATEST).read_text() == "step_0000008"
    good = fingerprint(ckpts / "step_0000004")
    name, hurt = DAMAGE[damage]
    hurt(ckpts / "step_0000008" / name)
    damaged = fingerprint(ckpts / "step_0000008")

    train(runs["cfg"]("train.resume=true", output=out))

    printed = capsys.readouterr().out
    assert "checkpoint" in printed and "is damaged" in printed and "resuming from step_0000004" in printed
    assert f"resumed from {ckpts / 'step_0000004'} at step 4" in printed
    # the damaged checkpoint is moved aside as it was, never deleted; the older good one is untouched
    assert fingerprint(ckpts / "step_0000008.corrupt") == damaged
    assert fingerprint(ckpts / "step_0000004") == good
    assert checkpoint.problem(ckpts / "step_0000008") is None  # saved again when training re-reached step 8
    assert (ckpts / checkpoint.LATEST).read_text() == "step_0000012"
    # training went on from step 4 exactly as the uninterrupted run did
    full, resumed = rows(runs["full"] / "steps.jsonl"), rows(out / "steps.jsonl")
    assert [r["step"] for r in resumed] == list(range(1, 13))
    for a, b in zip(full, resumed, strict=True):
        assert abs(a["loss"] - b["loss"]) <= 1e-6, (a, b)
    mf, mr = rows(runs["full"] / "metrics.jsonl"), rows(out / "metrics.jsonl")
    assert [r["step"] for r in mf] == [r["step"] for r in mr] and mf[-1]["weights"] == mr[-1]["weights"]


def test_every_checkpoint_damaged_stops_without_touching_them(runs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(runs["cut"], out)
    ckpts = out / "checkpoints"
    _truncate(ckpts / "step_0000004" / "state.pt")
    (ckpts / "step_0000008" / "manifest.json").unlink()
    before = {p.name: fingerprint(p) for p in ckpts.iterdir() if p.is_dir()}
    with pytest.raises(GristmillError, match="no valid checkpoint"):
        train(runs["cfg"]("train.resume=true", output=out))
    assert {p.name: fingerprint(p) for p in ckpts.iterdir() if p.is_dir()} == before  # nothing moved or deleted


def test_latest_naming_no_checkpoint_uses_the_newest_valid_one(runs, tmp_path):
    ckpts = tmp_path / "checkpoints"
    shutil.copytree(runs["cut"] / "checkpoints", ckpts)
    (ckpts / checkpoint.LATEST).write_text("garbage\n")
    warnings: list[str] = []
    assert checkpoint.find_resumable(ckpts, warn=warnings.append) == ckpts / "step_0000008"
    assert len(warnings) == 1 and "not a checkpoint" in warnings[0]


def test_retention_never_counts_a_damaged_checkpoint(runs, tmp_path):
    """keep 1 with a damaged newer checkpoint: the valid older one stays, the damaged one is left alone."""
    ckpts = tmp_path / "checkpoints"
    shutil.copytree(runs["cut"] / "checkpoints", ckpts)
    _truncate(ckpts / "step_0000008" / "rank0.pt")
    checkpoint.prune(ckpts, keep=1)
    assert sorted(p.name for p in ckpts.iterdir() if p.is_dir()) == ["step_0000004", "step_0000008"]
