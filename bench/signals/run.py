"""What selecting by a signal costs: a streaming threshold beside the global steps that need the whole input.

One synthetic input (N documents of ~60 words in 4 domains, each with train.r1.loss / excess_loss columns, as
a run writes them back), four one-step recipes run side by side with the local engine on the same machine:

- `filter` with `train.r1.excess_loss < 2.5`          (streaming, the baseline)
- `signal_percentile` drop the top 10% per domain      (global: signature, decide, apply)
- `budget_sample` uniform, fraction 0.5                 (streaming)
- `budget_sample` weighted by exp(-loss), fraction 0.5  (global, exact token budget)

Prints a markdown table: wall seconds, documents per second, ratio to the baseline, kept documents and, for
the budgets, kept tokens over the budget; and, for the weighted sample, how much lower the kept mean loss is.

    python bench/signals/run.py [--docs 200000] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gristmill.engine.local import LocalExecutor, RunOptions
from gristmill.recipe.compile import compile_recipe

WORDS = np.array(["river", "stone", "garden", "letter", "window", "market", "winter", "signal", "number", "valley",
                  "the", "of", "and", "a", "to", "in", "is", "was", "for", "on"])
SCALE = {"books": 3.0, "code": 1.5, "legal": 2.5, "web": 4.0}


def make_input(path: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    doms = rng.choice(list(SCALE), n)
    lengths = rng.integers(20, 100, n)
    words = rng.integers(0, len(WORDS), int(lengths.sum()))
    texts, at = [], 0
    for k in lengths:
        texts.append(" ".join(WORDS[words[at : at + k]]))
        at += k
    loss = np.array([SCALE[d] for d in doms]) + 2 + rng.normal(0, 0.6, n)
    pq.write_table(pa.table({
        "id": [f"d{i:08d}" for i in range(n)], "text": texts, "domain": doms,
        "train.r1.loss": loss, "train.r1.excess_loss": loss - 2 + rng.normal(0, 0.3, n),
    }), path, row_group_size=50_000)


CASES = [
    ("filter (threshold, streaming)", {"op": "filter", "keep": "train.r1.excess_loss < 2.5"}),
    ("signal_percentile top 10% per domain (global)",
     {"op": "signal_percentile", "params": {"of": "train.r1.excess_loss", "by": "domain", "drop_top": 0.1}}),
    ("budget_sample uniform 0.5 (streaming)", {"op": "budget_sample", "params": {"fraction": 0.5}}),
    ("budget_sample weighted exp(-loss) 0.5 (global)",
     {"op": "budget_sample", "params": {"fraction": 0.5, "weight": "exp(-train.r1.loss)"}}),
]


def tokens(table: pa.Table) -> int:
    return int(pc.sum(pc.divide(pc.add(pc.utf8_length(table["text"]), 3), 4).cast(pa.int64())).as_py() or 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-rows", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.parquet"
        make_input(src, args.docs)
        full = pq.read_table(src)
        total_tokens, mean_loss = tokens(full), float(pc.mean(full["train.r1.loss"]).as_py())
        rows = []
        for label, step in CASES:
            out = Path(tmp) / f"out{len(rows)}"
            recipe = compile_recipe({"steps": [step], "engine": {"chunk_rows": args.chunk_rows}},
                                    input_override=str(src), output_override=str(out))
            t0 = time.perf_counter()
            res = LocalExecutor(recipe, RunOptions(workers=args.workers, progress=False)).run()
            wall = time.perf_counter() - t0
            kept = pq.read_table(out, columns=["text", "train.r1.loss"])
            budget = ""
            if step["op"] == "budget_sample":
                budget = f"{tokens(kept) / (0.5 * total_tokens):.4f}"
            loss = f"{float(pc.mean(kept['train.r1.loss']).as_py()) - mean_loss:+.3f}"
            rows.append((label, wall, res.summary["kept"], budget, loss))
    base = rows[0][1]
    print(f"{args.docs:,} documents ({total_tokens:,} tokens est.), {args.workers} workers, chunks of "
          f"{args.chunk_rows:,} rows; command: python bench/signals/run.py --docs {args.docs} --workers {args.workers}\n")
    print("| step | wall s | docs/s | × filter | kept | kept tokens / budget | kept mean loss − input mean |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, wall, kept, budget, loss in rows:
        print(f"| {label} | {wall:.2f} | {args.docs / wall:,.0f} | {wall / base:.2f} | {kept:,} | {budget or '–'} | {loss} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
