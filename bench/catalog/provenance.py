"""What per-document provenance costs, and what a trace costs.

    python bench/catalog/provenance.py [--copies 30] [--repeats 3] [--workers 2]

The bundled sample (data/sample.jsonl.gz) repeated ``--copies`` times with fresh ids and distinct texts
becomes one JSONL.gz input (ids given by the input, the case that needs the side table: a generated id
already says its line). The same recipe (normalize_text, length_filter, exact_dedup) runs through
``gristmill run`` with ``output.provenance`` on and off, alternating, ``--repeats`` times each, same machine,
same run. Reported: median wall and CPU seconds of the run (CPU: user+sys of the run and its workers,
the figure to trust on a shared machine) with the spread of the repeats, the ratio on/off, and the bytes of
the provenance side table against the kept data. Since the end-to-end difference is within the noise of
a shared machine, the side table's own cost is also measured directly: building and writing it for the
run's real ids, chunk by chunk, in this process (CPU seconds). Then the "on" output is committed to a scratch catalog and ``catalog trace`` is
timed for a kept and a dropped document (in process, the catalog's files already local).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample.jsonl.gz"
RECIPE = """
name: provenance-bench
input: {{path: "{input}"}}
steps:
  - op: normalize_text
  - op: length_filter
    params: {{min_words: 50}}
  - op: exact_dedup
output: {{path: "{output}", provenance: {provenance}}}
"""


def build_corpus(path: Path, copies: int) -> int:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as f:
        base = [json.loads(line) for line in f]
    n = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        for r in range(copies):
            for doc in base:
                out.write(json.dumps({**doc, "id": f"{doc['id']}-r{r}", "text": f"{doc['text']}\n{r}"}) + "\n")
                n += 1
    return n


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def run_once(work: Path, corpus: Path, provenance: bool, workers: int) -> tuple[float, float, Path]:
    out = work / f"out-{'on' if provenance else 'off'}"
    shutil.rmtree(out, ignore_errors=True)
    recipe = work / f"r-{provenance}.yaml"
    recipe.write_text(RECIPE.format(input=corpus, output=out, provenance=str(provenance).lower()))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "gristmill.cli", "run", str(recipe), "--workers", str(workers)],
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(p.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def direct_cost(layout, scratch: Path) -> dict:
    """CPU seconds to build and write the provenance tables of a finished run again, from its own ids."""
    import pyarrow.parquet as pq

    from gristmill.engine.provenance import provenance_table, write_provenance

    scratch.mkdir()
    tables = [pq.read_table(p) for p in sorted(layout.provenance_dir.glob("*.pq"))]
    t = time.process_time()
    for i, tb in enumerate(tables):
        ids, locs = tb.column("id"), tb.column("location").to_numpy()
        write_provenance(scratch / f"part-{i:06d}.pq", provenance_table(ids, "corpus.jsonl.gz", "line", locs))
    return {"cpu": time.process_time() - t, "rows": sum(t.num_rows for t in tables), "chunks": len(tables)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from gristmill.catalog.core import Catalog
    from gristmill.catalog.trace import trace
    from gristmill.engine.layout import Layout

    work = Path(tempfile.mkdtemp(prefix="gm-prov-bench-"))
    try:
        corpus = work / "corpus.jsonl.gz"
        docs = build_corpus(corpus, args.copies)
        times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        outs = {}
        for _ in range(args.repeats):
            for prov in (True, False):
                wall, cpu, outs[prov] = run_once(work, corpus, prov, args.workers)
                times[prov].append((wall, cpu))
        on_wall, off_wall = (statistics.median(w for w, _ in times[p]) for p in (True, False))
        on_cpu, off_cpu = (statistics.median(c for _, c in times[p]) for p in (True, False))
        spread = {p: (min(c for _, c in times[p]), max(c for _, c in times[p])) for p in (True, False)}
        lay = Layout(outs[True])
        prov_bytes, kept_bytes = du(lay.provenance_dir), sum(p.stat().st_size for p in lay.kept_files())
        summary = json.loads(lay.summary.read_text())
        direct = direct_cost(lay, work / "direct")

        cat = Catalog(str(work / "catalog"))
        t = time.perf_counter()
        v = cat.commit_run("bench", outs[True])
        commit_s = time.perf_counter() - t
        kept_id = f"books-000003-r{args.copies - 1}"
        dropped_id = str(v.dropped().column("id")[0])
        trace_s = {}
        for label, doc in (("kept", kept_id), ("dropped", dropped_id)):
            t = time.perf_counter()
            node = trace(cat, v.ref, doc)
            trace_s[label] = time.perf_counter() - t
            assert node["sources"], node

        print(f"\nProvenance cost: {docs:,} documents ({corpus.stat().st_size / 2**20:.0f} MiB JSONL.gz, ids given by "
              f"the input), {summary['kept']:,} kept, {summary['dropped']['total']:,} dropped; workers "
              f"{args.workers}; median of {args.repeats} alternating runs\n")
        print("| provenance | wall s | CPU s (min-max) | wall vs off | CPU vs off | side table | vs kept data |")
        print("|---|---|---|---|---|---|---|")
        for prov, wall, cpu in ((False, off_wall, off_cpu), (True, on_wall, on_cpu)):
            size = f"{prov_bytes / 2**20:.2f} MiB" if prov else "-"
            share = f"{prov_bytes / kept_bytes:.1%}" if prov else "-"
            lo, hi = spread[prov]
            print(f"| {'on' if prov else 'off'} | {wall:.2f} | {cpu:.2f} ({lo:.2f}-{hi:.2f}) | {wall / off_wall:.3f}x | "
                  f"{cpu / off_cpu:.3f}x | {size} | {share} |")
        print(f"\nThe side table itself, built and written for the run's {direct['rows']:,} ids in {direct['chunks']} "
              f"chunks: {direct['cpu']:.3f} CPU s = {direct['cpu'] / off_cpu:.2%} of the run without it "
              f"({direct['cpu'] / direct['rows'] * 1e6:.2f} us per document).")
        print(f"\nKept data {kept_bytes / 2**20:.1f} MiB. Commit to a local catalog: {commit_s:.2f} s. "
              f"`catalog trace` of one document: kept {trace_s['kept']:.2f} s, dropped {trace_s['dropped']:.2f} s "
              f"(scans the id column of every data, dropped and provenance file).")
        print(f"\ncommand: python bench/catalog/provenance.py --copies {args.copies} --repeats {args.repeats} "
              f"--workers {args.workers}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
