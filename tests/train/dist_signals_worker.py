"""Run by torchrun in test_distributed_signals.py: a uniform run with per-document signals on two ranks."""

import sys

from gristmill.train.config import load_config
from gristmill.train.loop import train

if __name__ == "__main__":
    out, shards = sys.argv[1], sys.argv[2]
    train(load_config(None, [
        f"data.train={shards}/train", f"data.heldout={shards}/heldout", f"output={out}",
        "model.config={model_type: gpt2, n_layer: 1, n_head: 2, n_embd: 32}", "train.seq_len=32",
        "train.batch_size=4", "train.max_tokens=5120", "train.eval_every=100", "train.eval_tokens=256",
        "signals.doc_losses=true", "log.plot=false",
    ]))
