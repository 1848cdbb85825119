"""gristmill's minhash_dedup over a JSONL file, its three phases run directly in one process.

    .venv/bin/python bench/prep_vs_datatrove/gm_minhash.py INPUT.jsonl WORKDIR [--param key=value ...]

The streaming engine has not landed yet, so this drives the operator as the engine will: signature per
chunk of 2000 documents while reading, decide once, then apply_decision per chunk (reading the file again)
and write the kept documents as JSONL. Prints one JSON line like dt_minhash.py.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.json as pj

from gristmill.batch import Batch
from gristmill.ops.base import SignatureSource
from gristmill.ops.minhash import MinHashDedup, MinHashParams

CHUNK_BYTES = 8 << 20


def chunks(path: Path):
    reader = pj.open_json(path, read_options=pj.ReadOptions(block_size=CHUNK_BYTES))
    for i, rb in enumerate(reader):
        yield i, Batch(pa.Table.from_batches([rb]))


def main() -> None:
    src, work = Path(sys.argv[1]), Path(sys.argv[2])
    params = {}
    for kv in sys.argv[3:]:
        k, v = kv.split("=", 1)
        params[k] = json.loads(v)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    op = MinHashDedup(MinHashParams(**params))
    times = {}
    t = time.perf_counter()
    sigs = {cid: op.signature(b) for cid, b in chunks(src)}
    times["signature"] = time.perf_counter() - t
    t = time.perf_counter()
    decision = op.decide(SignatureSource(list(sigs), sigs.__getitem__))
    times["decide"] = time.perf_counter() - t
    t = time.perf_counter()
    kept_ids = []
    with (work / "kept.jsonl").open("wb") as out:
        for cid, b in chunks(src):
            keep = op.apply_decision(b, cid, decision)
            kept = b.filter(keep).table if keep is not None else b.table
            for row in kept.to_pylist():
                out.write(orjson.dumps(row) + b"\n")
            kept_ids += kept.column("id").to_pylist()
    times["filter"] = time.perf_counter() - t
    (work / "kept_ids.txt").write_text("\n".join(kept_ids))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": times,
                "kept": len(kept_ids),
                "peak_rss_mb": rss / 1024,
                "bands": op.bands,
                "rows": op.rows,
            }
        )
    )


if __name__ == "__main__":
    main()
