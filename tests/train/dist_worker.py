"""Run by torchrun in test_distributed.py: train with per-rank weight logs (gloo, CPU)."""

import sys

from gristmill.train.config import load_config
from gristmill.train.loop import train

if __name__ == "__main__":
    out, shards = sys.argv[1], sys.argv[2]
    for policy in ("odm", "ado", "reweight", "doge"):
        cfg = load_config(None, [
            f"data.train={shards}/train", f"data.heldout={shards}/heldout", f"output={out}/{policy}",
            "model.config={model_type: gpt2, n_layer: 1, n_head: 2, n_embd: 32}", "train.seq_len=32",
            "train.batch_size=4", "train.max_tokens=5120", "train.eval_every=100", "train.eval_tokens=256",
            f"policy.name={policy}", "policy.update_every=1", "policy.min_points=3" if policy == "ado" else "seed=0",
            # doge: a gradient probe every step; 8 samples per probe across both ranks
            "policy.gradient_every=1" if policy == "doge" else "seed=0",
            "log.plot=false", "log.per_rank_weights=true",
        ])
        train(cfg)
