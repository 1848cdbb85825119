"""Per-document signals at two corpus sizes: scoring throughput and peak memory (flat in the number of
documents?), and what writing the signals back as a version costs next to rewriting the data.

    python bench/doc_signals/run.py --docs 2000 --scale 4 --out bench/_work/signals

For each size (``--docs`` documents of the bundled sample, all 7 domains, and the same documents repeated
``--scale`` times with distinct ids, so only the count differs; committed to a fresh catalog in files of
``--file-rows`` rows, as a run's output holds them) it trains a tiny run on the
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
    """Documents: the first ``--docs`` of a fixed permutation of the sample, repeated (distinct ids) up to
    ``n_docs``, so both sizes hold the same mix of document lengths and only the count differs."""
    import gzip

    import gristmill as gm

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with gzip.open(ROOT / "data" / "sample.jsonl.gz", "rt") as fh:
        sample = [json.loads(line) for line in fh]
    src = work / "corpus.jsonl"
    with src.open("w") as f:  # the bundled sample, repeated with distinct ids up to n_docs
        for i in range(n_docs):
            rec = sample[((i % args.docs) * 7919) % len(sample)]  # a fixed permutation: every domain in the base
            f.write(json.dumps({"id": f"{rec['id']}-r{i // args.docs}", "text": rec["text"],
                                "domain": rec["domain"]}) + "\n")
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
        f"model: {{config: {{model_type: gpt2, n_layer: {args.n_layer}, n_head: 2, n_embd: {args.n_embd}}}}}\n"
        "train: {seq_len: 128, batch_size: 16, max_tokens: 40960, eval_every: 1000, eval_tokens: 1024, threads: 1}\n"
        "signals: {save_init: true}\nlog: {plot: false}\n")
    _child(["train", str(cfg), "--output", str(run)], env)
    seconds, rss, out = _child(["train", "score", str(run), "--reference", "init", "--threads", "1",
                                "--batch-size", str(args.batch_size), "--docs-per-batch", str(args.docs_per_batch),
                                "--json"], env)
    report = json.loads(out)
    data_bytes = sum(f["bytes"] for f in version.manifest["files"])
    from gristmill.train.writeback import write_back

    t0 = time.perf_counter()
    v2 = write_back(run, catalog=str(catalog))
    wb_seconds = time.perf_counter() - t0
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
    ap.add_argument("--docs-per-batch", type=int, default=64,
                    help="documents per scoring batch: keep both sizes several batches long, or the small one "
                         "holds a smaller batch and the comparison says nothing")
    ap.add_argument("--n-layer", type=int, default=1)
    ap.add_argument("--n-embd", type=int, default=64)
    ap.add_argument("--out", default="bench/_work/signals")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # internal: one size, JSON out
    args = ap.parse_args()
    out = Path(args.out)
    if args.one is not None:
        print(json.dumps(one_size(args.one, out / f"n{args.one}", args)))
        return
    rows = []
    for n in (args.docs, args.docs * args.scale):
        proc = subprocess.run([sys.executable, str(HERE), "--one", str(n), "--docs", str(args.docs), "--out", str(out),
                               "--docs-per-batch", str(args.docs_per_batch), "--file-rows",
                               str(args.file_rows), "--batch-size", str(args.batch_size), "--n-layer",
                               str(args.n_layer), "--n-embd", str(args.n_embd)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    a, b = rows
    print(f"Per-document signals: scoring and write-back at two sizes ({args.scale}x) of the bundled sample; GPT-2 "
          f"{args.n_layer}x{args.n_embd}, 2048-token BPE, 128-token pieces, batch {args.batch_size}, 1 thread, run "
          "model + step-0 reference per document\n")
    print("| docs | tokens | data files | score s | docs/s | tokens/s | peak RSS MiB (scoring process) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['docs']:,} | {r['tokens']:,} | {r['files']} | {r['score_s']:.1f} | {r['docs_per_s']:,.0f} | "
              f"{r['tokens_per_s']:,.0f} | {r['peak_rss_mib']:,.0f} |")
    print(f"\npeak RSS ratio {b['peak_rss_mib'] / a['peak_rss_mib']:.2f}x for {b['docs'] / a['docs']:.1f}x the "
          f"documents; throughput ratio {b['docs_per_s'] / a['docs_per_s']:.2f}x\n")
    print("| docs | data MiB | side files MiB (write-back) | write-back s | "
          "rewrite every file MiB | rewrite s | side / data |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['docs']:,} | {r['data_mib']:.2f} | {r['side_mib']:.3f} | {r['writeback_s']:.1f} | "
              f"{r['rewrite_mib']:.2f} | {r['rewrite_s']:.2f} | {r['side_mib'] / r['data_mib']:.3f} |")
    print(f"\ncommand: python bench/doc_signals/run.py --docs {args.docs} --scale {args.scale} --file-rows "
          f"{args.file_rows} --batch-size {args.batch_size} --docs-per-batch {args.docs_per_batch} --n-layer "
          f"{args.n_layer} --n-embd {args.n_embd}")


if __name__ == "__main__":
    main()
