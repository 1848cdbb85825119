"""datatrove's MinHash dedup (its 4 stages, defaults of FineWeb: 5-grams, 14 buckets x 8 hashes), one task.

Runs inside datatrove's own venv (bench/_work/dt-venv), never imported by gristmill:

    bench/_work/dt-venv/bin/python bench/prep_vs_datatrove/dt_minhash.py INPUT.jsonl WORKDIR [BUCKETS HASHES]

Prints one JSON line: seconds per stage, documents in and kept, peak RSS, and writes WORKDIR/kept_ids.txt.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup.minhash import (
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
    MinhashDedupSignature,
)
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter


def main() -> None:
    src, work = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cfg = MinhashConfig()  # FineWeb defaults: n_grams=5, 14 buckets x 8 hashes, 64-bit hashes
    if len(sys.argv) > 4:
        cfg = MinhashConfig(num_buckets=int(sys.argv[3]), hashes_per_bucket=int(sys.argv[4]))
    reader = JsonlReader(str(src.parent), glob_pattern=src.name, id_key="id", text_key="text")
    stages = {
        "signature": [reader, MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg)],
        "buckets": [
            MinhashDedupBuckets(
                input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=cfg
            )
        ],
        "cluster": [
            MinhashDedupCluster(
                input_folder=str(work / "buckets"), output_folder=str(work / "remove"), config=cfg
            )
        ],
        "filter": [
            JsonlReader(str(src.parent), glob_pattern=src.name, id_key="id", text_key="text"),
            MinhashDedupFilter(input_folder=str(work / "remove")),
            JsonlWriter(str(work / "out"), compression=None),
        ],
    }
    tasks = {"signature": 1, "buckets": cfg.num_buckets, "cluster": 1, "filter": 1}
    times = {}
    for name, pipeline in stages.items():
        t = time.perf_counter()
        LocalPipelineExecutor(
            pipeline=pipeline, tasks=tasks[name], workers=1, logging_dir=str(work / f"logs_{name}")
        ).run()
        times[name] = time.perf_counter() - t
    kept = []
    for f in sorted((work / "out").glob("*.jsonl")):
        kept += [json.loads(line)["id"] for line in f.open()]
    (work / "kept_ids.txt").write_text("\n".join(kept))
    rss = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"seconds": times, "kept": len(kept), "peak_rss_mb": rss / 1024}))


if __name__ == "__main__":
    main()
