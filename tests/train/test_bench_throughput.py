"""The throughput benchmark runs end to end at its smallest size and prints both sides of the comparison."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.train
ROOT = Path(__file__).resolve().parents[2]


def test_throughput_bench_compares_plain_hf_with_the_loop(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "train_throughput" / "run.py"), "--window", "2", "--windows", "3",
         "--policies", "ado", "--threads", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {m.group(1): m.groups()[1:] for m in re.finditer(r"^\| ([^|]+?) \| ([\d,]+) \| ([\d.]+) \|", proc.stdout, re.M)}
    assert set(rows) == {"plain Hugging Face step", "gristmill loop, policy ado"}, proc.stdout
    assert rows["plain Hugging Face step"][1] == "1.00"
    assert float(rows["gristmill loop, policy ado"][1]) > 0
    assert (tmp_path / "run-ado" / "metrics.jsonl").exists()  # the real loop ran, with its metrics
