"""The mixing benchmark runs end to end at its smallest size, fixed mixtures (``--static``) included."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.train
ROOT = Path(__file__).resolve().parents[2]
BENCH = [sys.executable, str(ROOT / "bench" / "mixing" / "run.py")]
TINY = ["--seeds", "1", "--max-tokens", "20000", "--seq-len", "32", "--batch-size", "8", "--n-layer", "1",
        "--n-embd", "32", "--n-head", "2", "--vocab-size", "512", "--evals", "2", "--eval-tokens", "256",
        "--threads", "1"]
TILT = "books:0.2,chat:0.05,code:0.15,docs:0.1,legal:0.15,multilingual:0.2,noisy:0.05,reference:0.1"


def test_mixing_bench_runs_policies_and_a_static_mixture(tmp_path):
    proc = subprocess.run(
        [*BENCH, "--out", str(tmp_path), "--policies", "uniform,natural,ado", "--static", f"tilt={TILT}", *TINY],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {m.group(1) for m in re.finditer(r"^\| (\w+) \| [\d.]+ ± ", proc.stdout, re.M)}
    assert rows == {"uniform", "natural", "ado", "tilt"}, proc.stdout
    assert "tokens to reach natural's final avg" in proc.stdout  # the better static yardstick, beside uniform
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert results["uniform"][0]["ratio"] == 1.0 and results["natural"][0]["ratio_natural"] == 1.0
    want = dict(item.split(":") for item in TILT.split(","))
    got = results["tilt"][0]["weights"]
    assert {d: round(w, 6) for d, w in got.items()} == {d: float(w) for d, w in want.items()}
    drawn = json.loads((tmp_path / "runs" / "tilt-s0" / "metrics.jsonl").read_text().splitlines()[-1])
    share = drawn["tokens_per_domain"]
    assert share["multilingual"] > share["chat"]  # the mixture was really used to draw batches


@pytest.mark.parametrize("spec", ["tilt", "ado=books:1", "tilt=books:x"])
def test_mixing_bench_rejects_a_malformed_static_mixture(tmp_path, spec):
    proc = subprocess.run([*BENCH, "--out", str(tmp_path), "--static", spec, *TINY],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode != 0
    assert "--static" in proc.stderr and "Traceback" not in proc.stderr
