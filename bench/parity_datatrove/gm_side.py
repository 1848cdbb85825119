"""gristmill side of the parity run: the same four filters as operators over Batches, keep/reason per doc."""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "common"))
from rules_eval import first_failing  # noqa: E402

from gristmill.batch import Batch  # noqa: E402
from gristmill.ops.registry import get_op  # noqa: E402

FILTERS = ("gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    ops = {name: get_op(name)() for name in FILTERS}
    t0 = time.time()
    ids: list[str] = []
    texts: list[str] = []
    n = 0
    with gzip.open(args.corpus, "rt", encoding="utf-8") as f, open(args.out, "w") as out:

        def flush() -> None:
            b = Batch(pa.table({"id": ids, "text": texts}))
            per: dict[str, list] = {}
            for name, op in ops.items():
                sig = op.apply(b)
                cols = {op.signal_column(k): v for k, v in sig.items()}
                per[name] = first_failing(op.rules(), cols, len(ids))
            for i, did in enumerate(ids):
                out.write(json.dumps({"id": did, **{k: (v[i] or "keep") for k, v in per.items()}}) + "\n")
            ids.clear()
            texts.clear()

        for line in f:
            d = json.loads(line)
            ids.append(d["id"])
            texts.append(d["text"])
            n += 1
            if len(ids) >= args.batch_size:
                flush()
            if args.limit and n >= args.limit:
                break
        if ids:
            flush()
    print(f"gristmill: {n} docs in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
