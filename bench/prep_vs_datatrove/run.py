"""Bench (a): the heuristic pipeline through each tool's real executor, same corpus, same worker count.

    python bench/prep_vs_datatrove/run.py --workers 2 --max-docs 4000     # what fits ~10 minutes here
    python bench/prep_vs_datatrove/run.py --workers 2 --max-mb 100        # the issue's full size

gristmill: ``gristmill run`` of a recipe with gopher_quality, gopher_repetition, c4_quality,
c4_line_filter (deletes C4's junk lines before FineWeb, as datatrove's C4 filter does in place) and
fineweb_quality, ``--workers N``. datatrove: ``LocalPipelineExecutor`` (tasks = workers = N) running
JsonlReader -> its four filters -> JsonlWriter. Both read the same N JSONL shards (cut from the first
documents of bench/_work/corpus.jsonl.gz) and write gzipped JSONL. Each side runs under ``measure.py``:
docs/s per core = documents / CPU seconds of the whole process tree (robust on a shared machine; wall-clock
docs/s is printed too), peak RSS = the largest process and the summed tree.

Needs bench/_work/corpus.jsonl.gz (bench/common/make_corpus.py) and datatrove in bench/_work/dt-venv.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

from gristmill.engine.layout import Layout

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WORK = ROOT / "bench/_work/prep_a"
STEPS = ("gopher_quality", "gopher_repetition", "c4_quality", "c4_line_filter", "fineweb_quality")


def make_shards(corpus: Path, out: Path, n: int, max_mb: float, max_docs: int) -> tuple[int, float]:
    """The first documents of the corpus (up to max_mb of text / max_docs), round-robin into n shards."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    docs, size = 0, 0
    with contextlib.ExitStack() as stack, gzip.open(corpus, "rt", encoding="utf-8") as f:
        files = [
            stack.enter_context(open(out / f"shard-{i:03d}.jsonl", "w", encoding="utf-8")) for i in range(n)
        ]
        for line in f:
            d = json.loads(line)
            files[docs % n].write(
                json.dumps({"id": d["id"], "text": d["text"], "domain": d.get("domain")}) + "\n"
            )
            docs += 1
            size += len(d["text"].encode())
            if (max_docs and docs >= max_docs) or (max_mb and size >= max_mb * 1e6):
                break
    return docs, size / 1e6


def measure(cmd: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / "measure.py"), "--", *cmd],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if r["rc"] != 0:
        sys.exit(f"{cmd[0]} failed with exit code {r['rc']}")
    return r


def count_lines_gz(folder: Path, pattern: str) -> int:
    n = 0
    for p in folder.rglob(pattern):
        with gzip.open(p, "rt") as f:
            n += sum(1 for _ in f)
    return n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(ROOT / "bench/_work/corpus.jsonl.gz"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-mb", type=float, default=0, help="stop after this many MB of text (0: no limit)")
    ap.add_argument("--max-docs", type=int, default=0, help="stop after this many documents (0: no limit)")
    ap.add_argument("--chunk-rows", type=int, default=1000)
    ap.add_argument("--dt-python", default=str(ROOT / "bench/_work/dt-venv/bin/python"))
    ap.add_argument("--skip-datatrove", action="store_true")
    args = ap.parse_args()
    if not args.max_mb and not args.max_docs:
        ap.error("give --max-mb and/or --max-docs")
    n = args.workers
    shards = WORK / "input"
    docs, mb = make_shards(Path(args.corpus), shards, n, args.max_mb, args.max_docs)

    recipe = WORK / "heuristic.yaml"
    steps = "\n".join(f"  - op: {s}" for s in STEPS)
    recipe.write_text(
        f"name: bench_heuristic\ninput: {{path: {shards}, text_field: text, id_field: id}}\n"
        f"steps:\n{steps}\noutput: {{path: {WORK / 'gm_out'}, format: jsonl.gz}}\n"
        f"engine: {{chunk_rows: {args.chunk_rows}}}\n"
    )
    gm_bin = str(Path(sys.executable).with_name("gristmill"))
    res = {
        "gristmill": measure(
            [gm_bin, "run", str(recipe), "--workers", str(n), "--overwrite", "--no-progress"]
        )
    }
    summary = json.loads(Layout(WORK / "gm_out").summary.read_text())
    res["gristmill"]["kept"] = summary.get("kept", summary.get("counts", {}).get("kept"))
    if not args.skip_datatrove:
        dt_out = WORK / "dt_out"
        shutil.rmtree(dt_out, ignore_errors=True)
        res["datatrove"] = measure(
            [args.dt_python, str(HERE / "dt_pipeline.py"), str(shards), str(dt_out), str(n)],
            env={"PATH": "/usr/bin:/bin", "HOME": str(WORK), "HF_HUB_OFFLINE": "1"},
        )
        res["datatrove"]["kept"] = count_lines_gz(dt_out / "out", "*.jsonl.gz")

    print(f"corpus: {docs} documents, {mb:.2f} MB of text, {n} shards; {n} workers each\n")
    print(
        "| side | docs/s per core (CPU) | docs/s (wall) | CPU s | wall s | peak RSS largest proc MB | peak RSS tree MB | kept |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for side, r in res.items():
        r["docs_per_cpu_s"] = docs / r["cpu_s"]
        print(
            f"| {side} | {r['docs_per_cpu_s']:.1f} | {docs / r['wall_s']:.1f} | {r['cpu_s']} | {r['wall_s']} | "
            f"{r['max_rss_mb']} | {r['tree_rss_mb']} | {r['kept']} |"
        )
    if "datatrove" in res:
        g, d = res["gristmill"], res["datatrove"]
        print(
            f"\ngristmill / datatrove: {g['docs_per_cpu_s'] / d['docs_per_cpu_s']:.2f}x docs/s per core (CPU), "
            f"{d['wall_s'] / g['wall_s']:.2f}x wall; tree RSS ratio {g['tree_rss_mb'] / d['tree_rss_mb']:.2f}"
        )
    (WORK / "result.json").write_text(json.dumps({"docs": docs, "mb": mb, "workers": n, **res}, indent=1))


if __name__ == "__main__":
    main()
