"""Two ranks on gloo/CPU: every policy update gives bit-identical weights on both ranks."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.train


def torchrun() -> list[str] | None:
    exe = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
    return [exe] if Path(exe).exists() else None


@pytest.mark.skipif(torchrun() is None, reason="torchrun is not available")
def test_weights_identical_on_both_ranks(shards, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parent)}
    cmd = [*torchrun(), "--standalone", "--nproc_per_node", "2", str(Path(__file__).parent / "dist_worker.py"),
           str(tmp_path), str(shards)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    for policy in ("odm", "ado", "reweight", "doge"):
        logs = [
            [json.loads(x) for x in (tmp_path / policy / f"weights.rank{r}.jsonl").read_text().splitlines()]
            if (tmp_path / policy / f"weights.rank{r}.jsonl").exists() else []
            for r in (0, 1)
        ]
        if policy == "reweight":  # a reweighting policy keeps its mixture: no update lines, on both ranks
            assert logs == [[], []]
            continue
        r0, r1 = logs
        assert len(r0) >= 5 and [x["step"] for x in r0] == [x["step"] for x in r1]
        for a, b in zip(r0, r1, strict=True):
            assert a["weights"] == b["weights"], (policy, a["step"])  # exact, not approximate
        assert r0[-1]["weights"] != r0[0]["weights"]
        assert any(a["local_count"] != b["local_count"] for a, b in zip(r0, r1, strict=True))  # ranks saw different data
