"""Per-document signals at two corpus sizes: scoring throughput and peak memory (flat in the number of
documents?), and what writing the signals back as a version costs next to rewriting the data.

    python bench/signals/run.py --docs 2000 --scale 4 --out bench/_work/signals

For each size (``--docs`` and ``--docs × --scale`` synthetic documents, 7 domains, committed to a fresh
catalog in files of ``--file-rows`` rows, as a run's output folder holds them) it trains a tiny run on the
version (a few steps: the point is the scoring pass, not the model), then in a child process runs
``gristmill train score`` (with the run's step-0 weights as reference: two models per document) and
records the child's peak RSS (``wait4``), documents/s and tokens/s; then ``gristmill train writeback``,
whose side files are compared with rewriting every data file with the new columns (what a format without
column-only files must do).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a gristmill command in a child; (seconds, the child's own peak RSS in MiB, stdout)."""
    import tempfile

    t0 = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "gristmill.cli", *args], stdout=subprocess.PIPE, stderr=err,
                                text=True, env=env)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, so its rusage is its own
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"gristmill {' '.join(args)} failed:\n{err.read()}")
    return seconds, usage.ru_maxrss / 1024, out


def one_size(n_docs: int, work: Path, args: argparse.Namespace) -> dict:
    import gristmill as gm
    from gristmill.train.synthetic import make_corpus, write_jsonl_gz

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    per = {"books": 0.2, "code": 0.2, "legal": 0.15, "reference": 0.15, "chat": 0.1, "noisy": 0.2}
    counts = {d: max(2, int(n_docs * p)) for d, p in per.items()}
    src = write_jsonl_gz(make_corpus(counts, seed=0), work / "corpus.jsonl.gz")
    recipe = work / "r.yaml"
    recipe.write_text(f"input: {{path: '{src}'}}\nsteps: []\noutput: {{path: '{work / 'prepared'}'}}\n"
                      f"engine: {{chunk_rows: {args.file_rows}}}\n")
    catalog = work / "catalog"
    version = gm.Recipe.load(str(recipe)).run(workers=1, into="corpus", catalog=str(catalog)).version
    env = {**os.environ, "GRISTMILL_HOME": str(catalog), "PYTHONPATH": str(ROOT / "src")}
    run = work / "run"
    cfg = work / "train.yaml"
    cfg.write_text(
        "data: {train: 'catalog://corpus@1', vocab_size: 2048, min_heldout_tokens: 256}\n"
        "model: {config: {model_type: gpt2, n_layer: 2, n_head: 2, n_embd: 128}}\n"
        "train: {seq_len: 128, batch_size: 16, max_tokens: 40960, eval_every: 1000, eval_tokens: 1024, threads: 1}\n"
        "signals: {save_init: true}\nlog: {plot: false}\n")
    _child(["train", str(cfg), "--output", str(run)], env)
    seconds, rss, out = _child(["train", "score", str(run), "--reference", "init", "--threads", "1",
                                "--batch-size", str(args.batch_size), "--json"], env)
    report = json.loads(out)
    data_bytes = sum(f["bytes"] for f in version.manifest["files"])
    t0 = time.perf_counter()
    _child(["train", "writeback", str(run)], env)
    wb_seconds = time.perf_counter() - t0
    from gristmill.catalog.core import Catalog

    v2 = Catalog(str(catalog)).get("corpus@2")
    side_bytes = sum(s["bytes"] for s in v2.manifest["side_files"])
    # the alternative: rewrite every data file with the new columns joined
    t0 = time.perf_counter()
    rewrite_bytes = 0
    for i, path in enumerate(v2.local_files()):
        target = work / f"rewrite-{i}.parquet"
        pq.write_table(v2._read_file(i, path), target, compression="zstd")
        rewrite_bytes += target.stat().st_size
    rewrite_seconds = time.perf_counter() - t0
    return {"docs": report["rows"], "tokens": report["tokens"], "files": len(version.manifest["files"]),
            "score_s": report["seconds"], "score_wall_s": seconds, "docs_per_s": report["docs_per_s"],
            "tokens_per_s": report["tokens_per_s"], "peak_rss_mib": rss, "data_mib": data_bytes / 2**20,
            "side_mib": side_bytes / 2**20, "writeback_s": wb_seconds, "rewrite_mib": rewrite_bytes / 2**20,
            "rewrite_s": rewrite_seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--file-rows", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--out", default="bench/_work/signals")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # internal: one size, JSON out
    args = ap.parse_args()
    out = Path(args.out)
    if args.one is not None:
        print(json.dumps(one_size(args.one, out / f"n{args.one}", args)))
        return
    rows = []
    for n in (args.docs, args.docs * args.scale):
        proc = subprocess.run([sys.executable, str(HERE), "--one", str(n), "--out", str(out), "--file-rows",
                               str(args.file_rows), "--batch-size", str(args.batch_size)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    a, b = rows
    print(f"Per-document signals: scoring and write-back at two sizes ({args.scale}x); GPT-2 2x128, 128-token "
          f"pieces, batch {args.batch_size}, 1 thread, run model + step-0 reference per document\n")
    print("| docs | tokens | data files | score s | docs/s | tokens/s | peak RSS MiB (scoring process) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['docs']:,} | {r['tokens']:,} | {r['files']} | {r['score_s']:.1f} | {r['docs_per_s']:,.0f} | "
              f"{r['tokens_per_s']:,.0f} | {r['peak_rss_mib']:,.0f} |")
    print(f"\npeak RSS ratio {b['peak_rss_mib'] / a['peak_rss_mib']:.2f}x for {b['docs'] / a['docs']:.1f}x the "
          f"documents; throughput ratio {b['docs_per_s'] / a['docs_per_s']:.2f}x\n")
    print("| docs | data MiB | side files MiB (write-back) | write-back s (CLI, incl. start-up) | "
          "rewrite every file MiB | rewrite s | side / data |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['docs']:,} | {r['data_mib']:.2f} | {r['side_mib']:.3f} | {r['writeback_s']:.1f} | "
              f"{r['rewrite_mib']:.2f} | {r['rewrite_s']:.2f} | {r['side_mib'] / r['data_mib']:.3f} |")
    print(f"\ncommand: python bench/signals/run.py --docs {args.docs} --scale {args.scale} --file-rows "
          f"{args.file_rows} --batch-size {args.batch_size}")


if __name__ == "__main__":
    main()
