"""Two ranks on gloo/CPU: per-document draws are every rank's windows summed; first/last losses are kept."""

import os
import subprocess
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from gristmill.shards import open_shards, read_doc_map
from gristmill.train.data import MixtureSampler
from tests.train.test_distributed import torchrun

pytestmark = pytest.mark.train


@pytest.mark.skipif(torchrun() is None, reason="torchrun is not available")
def test_draws_are_summed_over_ranks(shards, tmp_path):
    src = Path(__file__).resolve().parents[2] / "src"  # this tree's gristmill, whatever is installed
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(src), str(Path(__file__).parent)])}
    cmd = [*torchrun(), "--nproc_per_node", "2", "--master_port", "29519",
           str(Path(__file__).parent / "dist_signals_worker.py"), str(tmp_path / "run"), str(shards)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    train = list(open_shards(shards / "train").values())
    expected = [np.zeros(s.n_docs, dtype=np.int64) for s in train]
    steps = 5120 // (4 * 32 * 2)
    for rank in (0, 1):  # each rank's sampler, replayed (uniform weights never change)
        sampler = MixtureSampler(train, 32, seed=0, rank=rank)
        for _ in range(steps):
            sampler.sample(4, np.full(len(train), 1 / len(train)))
            for d, s in zip(*sampler.last_draw, strict=True):
                docs = {int(np.searchsorted(train[d].offsets, t, side="right") - 1) for t in range(s + 1, s + 33)}
                expected[d][sorted(docs)] += 1
    got = pq.read_table(tmp_path / "run" / "doc_signals.parquet").to_pandas()
    by_id = dict(zip(got["id"], got["draws"], strict=True))
    for shard, counts in zip(train, expected, strict=True):
        assert [by_id[i] for i in read_doc_map(shard.path)["id"].to_pylist()] == counts.tolist()
    drawn = got[got.draws > 0]
    assert drawn.first_loss.notna().all() and drawn.last_loss.notna().all()
