"""(c) Language ID throughput: gristmill's lang_id operator beside pycld2 called alone, same texts, one core.

    .venv/bin/python bench/prep_vs_datatrove/langid_bench.py [--docs 20000] [--slow-docs 300]

Texts: the first documents of bench/_work/mh_big.jsonl (made by minhash_bench.py), or any JSONL given with
--input. The operator's cost over bare pycld2 is the batch plumbing (Arrow -> Python strings, signals as
numpy columns, mixed-language bookkeeping). lingua and langid are timed on fewer documents for scale.
datatrove's language filter uses a fastText model downloaded at run time, which this offline machine cannot
fetch, so it is not in the table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import orjson
import pyarrow as pa
import pycld2

from gristmill.batch import Batch
from gristmill.ops.lang import LangID, LangIDParams

WORK = Path(__file__).resolve().parents[1] / "_work"


def load(path: Path, n: int) -> list[str]:
    out = []
    with path.open("rb") as f:
        for line in f:
            out.append(orjson.loads(line)["text"])
            if len(out) >= n:
                break
    return out


def time_op(params: LangIDParams, texts: list[str], batch: int = 1000) -> float:
    op = LangID(params)
    op.setup()
    op.apply(Batch(pa.table({"text": texts[:20]})))  # warm-up: lingua loads its language models lazily
    t = time.perf_counter()
    for s in range(0, len(texts), batch):
        op.apply(Batch(pa.table({"text": texts[s : s + batch]})))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", default=str(WORK / "mh_big.jsonl"))
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--slow-docs", type=int, default=300)
    args = ap.parse_args()
    texts = load(Path(args.input), args.docs)
    mb = sum(len(t.encode()) for t in texts) / 2**20

    t = time.perf_counter()
    for x in texts:
        pycld2.detect(x)
    bare = time.perf_counter() - t
    ours = time_op(LangIDParams(), texts)
    rows = [("pycld2.detect alone", len(texts), bare), ("gristmill lang_id (cld2)", len(texts), ours)]
    slow = texts[: args.slow_docs]
    for backend in ("langid", "lingua"):
        try:
            rows.append(
                (f"gristmill lang_id ({backend})", len(slow), time_op(LangIDParams(backend=backend), slow))
            )
        except Exception as e:  # missing extra: report, do not fail the whole table
            print(f"{backend}: skipped ({e})")
    print(f"{len(texts)} documents, {mb:.1f} MB; one core")
    print(f"{'':28} {'docs':>6} {'seconds':>8} {'docs/s':>8} {'MB/s':>6}")
    for name, n, s in rows:
        print(f"{name:28} {n:6d} {s:8.2f} {n / s:8.0f} {mb * n / len(texts) / s:6.1f}")
    print(f"lang_id (cld2) / pycld2 alone throughput: {bare / ours:.2f}x")


if __name__ == "__main__":
    main()
