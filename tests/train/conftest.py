"""Shared fixtures: a deterministic multi-domain corpus tokenized once per session, and tiny configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

import torch  # noqa: E402

# One thread: on a shared 2-core machine torch's default of 2 is several times slower when others are busy.
torch.set_num_threads(int(os.environ.get("GRISTMILL_TEST_THREADS", "1")))

from gristmill.shards import build_shards  # noqa: E402
from gristmill.train.config import load_config  # noqa: E402
from gristmill.train.synthetic import make_corpus, write_jsonl_gz  # noqa: E402

DOCS = {"books": 80, "code": 80, "legal": 80, "chat": 12, "noisy": 40}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    return write_jsonl_gz(make_corpus(DOCS, seed=0), tmp_path_factory.mktemp("corpus") / "corpus.jsonl.gz")


@pytest.fixture(scope="session")
def shards(corpus, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shards")
    build_shards(str(corpus), root, vocab_size=384)
    return root


@pytest.fixture
def make_cfg(shards, tmp_path):
    """A config for a tiny, fast run (1-layer GPT-2, 32-token windows); pass --set style overrides."""

    def make(*overrides: str, output: str | None = None):
        base = [
            f"data.train={shards / 'train'}",
            f"data.heldout={shards / 'heldout'}",
            f"output={output or tmp_path / 'out'}",
            "model.config={model_type: gpt2, n_layer: 1, n_head: 2, n_embd: 64}",
            "train.seq_len=32",
            "train.batch_size=8",
            "train.max_tokens=10240",
            "train.lr=3e-3",
            "train.warmup_steps=5",
            "train.eval_every=10",
            "train.eval_tokens=512",
            "log.plot=false",
        ]
        return load_config(None, base + list(overrides))

    return make
