"""Executor overhead and memory: gristmill's identity recipe beside pyarrow alone, on the same data, same run.

    python bench/executor_overhead/run.py [--mb 100] [--workers 2] [--scales 1,10,100]

* Throughput: the identity recipe (read JSONL, validate, write Parquet) against pyarrow reading the same
  JSONL (``pyarrow.json.read_json``) and writing the same Parquet: the floor on this machine. Reported per
  core, with the ratio gristmill / pyarrow (goal: >= 0.70).
* Memory: peak RSS (main process plus workers) of a streaming recipe (normalize + length filter) over the
  corpus at 1x, 10x and 100x a base size (goal: flat).

The corpus is the bundled sample (data/sample.jsonl.gz) repeated with fresh ids until it reaches the size
asked for; it is written under bench/_work (git-ignored).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / "_work" / "executor_overhead"
SAMPLE = ROOT / "data" / "sample.jsonl.gz"


def build_corpus(path: Path, mb: float) -> tuple[int, int]:
    if path.exists():
        n = sum(1 for _ in path.open("rb"))
        return n, path.stat().st_size
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        base = [json.loads(line) for line in f]
    target = int(mb * (1 << 20))
    n = size = rep = 0
    with path.open("w", encoding="utf-8") as f:
        while size < target:
            for doc in base:
                doc = {**doc, "id": f"{doc['id']}-r{rep}"}
                line = json.dumps(doc, ensure_ascii=False) + "\n"
                f.write(line)
                n += 1
                size += len(line.encode())
                if size >= target:
                    break
            rep += 1
    return n, path.stat().st_size


def pyarrow_floor(src: Path, out: Path) -> float:
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    table = pj.read_json(src)
    pq.write_table(table, out, compression="zstd")
    return time.perf_counter() - t0


def run_recipe(recipe: Path, src: Path, out: Path, workers: int) -> tuple[float, float, dict]:
    """Wall time, peak RSS in MiB of the run and its children, and the summary."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "gristmill.cli",
        "run",
        str(recipe),
        "--input",
        str(src),
        "--output",
        str(out),
        "--workers",
        str(workers),
        "--no-progress",
    ]
    code = (
        "import resource, subprocess, sys, time, json;"
        "t=time.perf_counter(); r=subprocess.run(sys.argv[1:]); w=time.perf_counter()-t;"
        "u=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(json.dumps({'rc': r.returncode, 'wall': w, 'maxrss_kib': u}))"
    )
    res = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, cwd=ROOT)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    if info["rc"] != 0:
        raise SystemExit(f"gristmill failed: {res.stderr[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    return info["wall"], info["maxrss_kib"] / 1024, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=100.0, help="corpus size for the throughput comparison")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--base-mb", type=float, default=5.0, help="1x size for the memory scaling")
    ap.add_argument("--scales", default="1,10,100")
    args = ap.parse_args()

    WORK.mkdir(parents=True, exist_ok=True)
    identity = WORK / "identity.yaml"
    identity.write_text("name: identity\nsteps: []\nengine: {chunk_rows: 10000}\n")
    streaming = WORK / "streaming.yaml"
    streaming.write_text(
        "name: streaming\nsteps:\n  - op: normalize_text\n  - op: length_filter\n    params: {min_words: 5}\n"
    )

    src = WORK / f"corpus-{args.mb:g}mb.jsonl"
    n, size = build_corpus(src, args.mb)
    mb = size / (1 << 20)
    t_pa = pyarrow_floor(src, WORK / "pyarrow.parquet")
    import pyarrow as pa

    pa_cores = pa.cpu_count()
    t_gm, rss_gm, s = run_recipe(identity, src, WORK / "out-identity", args.workers)
    assert s["kept"] + s["rejected"]["total"] + s["dropped"]["total"] == s["input"]

    rows = [
        ("pyarrow read_json + write_parquet", pa_cores, t_pa, n / t_pa / pa_cores, mb / t_pa / pa_cores),
        (
            f"gristmill identity recipe, {args.workers} workers",
            args.workers,
            t_gm,
            n / t_gm / args.workers,
            mb / t_gm / args.workers,
        ),
    ]
    print(f"\nExecutor overhead: {n:,} docs, {mb:.1f} MiB JSONL ({sys.platform}, {os.cpu_count()} cores)\n")
    print(f"| {'path':<40} | cores | seconds | docs/s/core | MB/s/core |")
    print(f"|{'-' * 42}|-------|---------|-------------|-----------|")
    for name, cores, t, dps, mbs in rows:
        print(f"| {name:<40} | {cores:>5} | {t:>7.2f} | {dps:>11,.0f} | {mbs:>9.1f} |")
    print(f"\nratio gristmill / pyarrow (per core, docs/s): {rows[1][3] / rows[0][3]:.2f}  (goal >= 0.70)")

    print(f"\nMemory: streaming recipe (normalize_text + length_filter), {args.workers} workers\n")
    print("| scale | MiB input | docs | seconds | peak RSS MiB (largest process) |")
    print("|-------|-----------|------|---------|--------------------------------|")
    for k in (float(x) for x in args.scales.split(",")):
        path = WORK / f"corpus-{args.base_mb * k:g}mb.jsonl"
        n_k, size_k = build_corpus(path, args.base_mb * k)
        t_k, rss_k, _ = run_recipe(streaming, path, WORK / f"out-mem-{k:g}", args.workers)
        print(f"| {k:>4g}x | {size_k / (1 << 20):>9.1f} | {n_k:>,} | {t_k:>7.1f} | {rss_k:>30.0f} |")
    _ = resource  # imported for the docstring's claim: ru_maxrss is the largest child's peak


if __name__ == "__main__":
    main()
