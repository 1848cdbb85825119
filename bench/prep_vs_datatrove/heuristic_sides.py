"""One side of bench (a): the heuristic pipeline Gopher quality -> Gopher repetition -> C4 quality -> FineWeb.

    python heuristic_sides.py gristmill|datatrove --corpus FILE --max-mb MB

Each side runs in one process (no engine yet for gristmill: operators are applied to Batches directly),
drops a document at its first failing filter as datatrove does, and rewrites the text with the C4 line
rules before FineWeb (datatrove's C4QualityFilter does that in place). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from pathlib import Path


def read(corpus: str, max_mb: float) -> list[tuple[str, str]]:
    docs, total = [], 0
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            docs.append((d["id"], d["text"]))
            total += len(d["text"].encode())
            if total >= max_mb * 1e6:
                break
    return docs


def run_datatrove(docs: list[tuple[str, str]]) -> int:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = [GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter(), FineWebQualityFilter()]
    kept = 0
    for did, text in docs:
        doc = Document(text=text, id=did)
        for flt in filters:
            try:
                r = flt.filter(doc)
            except ZeroDivisionError:
                r = False
            if r is not True:
                break
        else:
            kept += 1
    return kept


def run_gristmill(docs: list[tuple[str, str]], batch_size: int) -> int:
    import numpy as np
    import pyarrow as pa

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
    from rules_eval import first_failing

    from gristmill.batch import Batch
    from gristmill.ops.registry import get_op

    steps = [
        get_op(n)()
        for n in ("gopher_quality", "gopher_repetition", "c4_quality", "c4_line_filter", "fineweb_quality")
    ]
    kept = 0
    for s in range(0, len(docs), batch_size):
        chunk = docs[s : s + batch_size]
        b = Batch(pa.table({"id": [d[0] for d in chunk], "text": [d[1] for d in chunk]}))
        for op in steps:
            sig = op.apply(b) or {}
            rules = op.rules()
            if rules:
                cols = {op.signal_column(k): np.asarray(v) for k, v in sig.items()}
                keep = np.array([r is None for r in first_failing(rules, cols, b.num_rows)])
                b = b.filter(keep)
            if not b.num_rows:
                break
        kept += b.num_rows
    return kept


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("side", choices=["gristmill", "datatrove"])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--max-mb", type=float, default=100.0)
    ap.add_argument("--batch-size", type=int, default=1000)
    args = ap.parse_args()
    docs = read(args.corpus, args.max_mb)
    mb = sum(len(t.encode()) for _, t in docs) / 1e6
    t0 = time.process_time()
    w0 = time.perf_counter()
    kept = run_datatrove(docs) if args.side == "datatrove" else run_gristmill(docs, args.batch_size)
    cpu = time.process_time() - t0
    wall = time.perf_counter() - w0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "side": args.side,
                "docs": len(docs),
                "mb": round(mb, 2),
                "kept": kept,
                "cpu_s": round(cpu, 2),
                "wall_s": round(wall, 2),
                "docs_per_cpu_s": round(len(docs) / cpu, 1),
                "peak_rss_mb": round(rss),
            }
        )
    )


if __name__ == "__main__":
    main()
