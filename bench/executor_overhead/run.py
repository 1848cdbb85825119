"""Executor overhead and memory: gristmill's identity recipe beside pyarrow alone, on the same data, same run.

    python bench/executor_overhead/run.py [--mb 100] [--workers 2] [--scales 1,10,100] [--repeats 3]

* Throughput: the identity recipe (read JSONL, validate every row, write Parquet, commit chunks atomically)
  against pyarrow reading the same JSONL (``pyarrow.json.read_json``, all threads) and writing the same
  Parquet: the floor on this machine. Both run as fresh processes, start-up included. Reported per CPU-second
  (user + sys of the process and its workers) and per wall second, as ratios gristmill / pyarrow
  (goal: >= 0.70).
* Memory: peak RSS (largest process) of a streaming recipe (normalize + length filter) over the corpus at 1x,
  10x and 100x a base size (goal: flat).

The corpus is the bundled sample (data/sample.jsonl.gz) repeated with fresh ids until it reaches the size
asked for; it is written under bench/_work (git-ignored).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gristmill.engine.layout import Layout

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / "_work" / "executor_overhead"
SAMPLE = ROOT / "data" / "sample.jsonl.gz"

FLOOR = """
import sys
import pyarrow.json as pj
import pyarrow.parquet as pq
pq.write_table(pj.read_json(sys.argv[1]), sys.argv[2], compression="zstd")
"""

MEASURE = (
    "import resource, subprocess, sys, time, json;"
    "t=time.perf_counter(); r=subprocess.run(sys.argv[1:]); w=time.perf_counter()-t;"
    "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
    "print(json.dumps({'rc': r.returncode, 'wall': w, 'cpu': u.ru_utime + u.ru_stime, 'maxrss_kib': u.ru_maxrss}))"
)


def build_corpus(path: Path, mb: float) -> tuple[int, int]:
    if path.exists():
        with path.open("rb") as f:
            return sum(1 for _ in f), path.stat().st_size
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        base = [json.loads(line) for line in f]
    target = int(mb * (1 << 20))
    n = size = rep = 0
    with path.open("w", encoding="utf-8") as f:
        while size < target:
            for doc in base:
                line = json.dumps({**doc, "id": f"{doc['id']}-r{rep}"}, ensure_ascii=False) + "\n"
                f.write(line)
                n += 1
                size += len(line.encode())
                if size >= target:
                    break
            rep += 1
    return n, path.stat().st_size


def measured(cmd: list[str]) -> dict:
    """Run ``cmd`` in a child: wall time, CPU seconds and the largest peak RSS of it and its descendants."""
    res = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, cwd=ROOT)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    if info["rc"] != 0:
        raise SystemExit(f"{cmd[:4]} failed: {res.stderr[-2000:]}")
    return info


def run_recipe(recipe: Path, src: Path, out: Path, workers: int) -> tuple[dict, dict]:
    shutil.rmtree(out, ignore_errors=True)
    info = measured([sys.executable, "-m", "gristmill.cli", "run", str(recipe), "--input", str(src), "--output",
                     str(out), "--workers", str(workers), "--no-progress"])
    return info, json.loads(Layout(out).summary.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=100.0, help="corpus size for the throughput comparison")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--base-mb", type=float, default=5.0, help="1x size for the memory scaling")
    ap.add_argument("--scales", default="1,10,100")
    ap.add_argument("--repeats", type=int, default=3, help="throughput runs (a shared machine: best by CPU)")
    args = ap.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    identity = WORK / "identity.yaml"
    identity.write_text("name: identity\nsteps: []\n")
    streaming = WORK / "streaming.yaml"
    streaming.write_text(
        "name: streaming\nsteps:\n  - op: normalize_text\n  - op: length_filter\n    params: {min_words: 5}\n"
    )

    src = WORK / f"corpus-{args.mb:g}mb.jsonl"
    n, size = build_corpus(src, args.mb)
    mb = size / (1 << 20)
    runs = []
    for _ in range(args.repeats):
        floor = measured([sys.executable, "-c", FLOOR, str(src), str(WORK / "pyarrow.parquet")])
        gm, s = run_recipe(identity, src, WORK / "out-identity", args.workers)
        assert s["kept"] + s["rejected"]["total"] + s["dropped"]["total"] == s["input"] == n
        runs.append((floor, gm))
    floor = min((r[0] for r in runs), key=lambda m: m["cpu"])
    gm = min((r[1] for r in runs), key=lambda m: m["cpu"])
    print(f"\nExecutor overhead: {n:,} docs, {mb:.1f} MiB JSONL, {os.cpu_count()} cores; process start included;")
    print(f"CPU = user + sys of the process and its workers; best of {args.repeats} runs by CPU\n")
    print(f"| {'path':<44} | wall s | CPU s | docs/s (wall) | docs per CPU-s | MB per CPU-s |")
    print(f"|{'-' * 46}|--------|-------|---------------|----------------|--------------|")
    for name, m in (("pyarrow read_json + write_table (threads)", floor),
                    (f"gristmill identity recipe, {args.workers} workers", gm)):
        print(f"| {name:<44} | {m['wall']:>6.2f} | {m['cpu']:>5.2f} | {n / m['wall']:>13,.0f} | "
              f"{n / m['cpu']:>14,.0f} | {mb / m['cpu']:>12.1f} |")
    print(f"\nratio gristmill / pyarrow: per CPU-second {floor['cpu'] / gm['cpu']:.2f}, "
          f"per wall second {floor['wall'] / gm['wall']:.2f}  (goal >= 0.70)")

    print(f"\nMemory: streaming recipe (normalize_text + length_filter), {args.workers} workers\n")
    print("| scale | MiB input | docs | seconds | peak RSS MiB (largest process) |")
    print("|-------|-----------|------|---------|--------------------------------|")
    for k in (float(x) for x in args.scales.split(",")):
        path = WORK / f"corpus-{args.base_mb * k:g}mb.jsonl"
        n_k, size_k = build_corpus(path, args.base_mb * k)
        m, _ = run_recipe(streaming, path, WORK / f"out-mem-{k:g}", args.workers)
        print(f"| {k:>4g}x | {size_k / (1 << 20):>9.1f} | {n_k:>,} | {m['wall']:>7.1f} | {m['maxrss_kib'] / 1024:>30.0f} |")


if __name__ == "__main__":
    main()
