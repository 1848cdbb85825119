"""Dedup quality: precision / recall / F1 of minhash_dedup against exact Jaccard.

    .venv/bin/python bench/dedup_quality/run.py [--base 4000 --dups 2000 --threshold 0.8]

A document counts as a true duplicate when an earlier document has exact 5-gram Jaccard >= threshold
(exactly what keep='first' should remove); the operator's prediction is the set of documents it drops.
Runs the operator's phases directly in one process (signature per chunk of 1000 documents, then decide):
the streaming engine is not used.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import load_corpus, scores, true_duplicates  # noqa: E402
from gristmill.batch import Batch  # noqa: E402
from gristmill.ops.base import SignatureSource  # noqa: E402
from gristmill.ops.minhash import MinHashDedup, MinHashParams  # noqa: E402


def run_minhash(op: MinHashDedup, texts: list[str], chunk: int = 1000) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    sigs = {}
    for cid, start in enumerate(range(0, len(texts), chunk)):
        sigs[cid] = op.signature(Batch(pa.table({"text": texts[start : start + chunk]})))
    decision = op.decide(SignatureSource(list(sigs), sigs.__getitem__))
    elapsed = time.perf_counter() - t
    return np.concatenate([decision.keep[c] for c in sigs]), elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, default=4000)
    ap.add_argument("--dups", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--source", default=None, help="JSONL(.gz) with a text field instead of the Debian docs")
    args = ap.parse_args()
    texts, injected, pairs = load_corpus(args.base, args.dups, args.seed, args.source)
    true_dup = true_duplicates(len(texts), pairs, args.threshold)
    inj_j = np.array([j for _, _, j in injected])
    print(
        f"corpus: {len(texts)} documents, {len(injected)} injected near-duplicates (J in [{inj_j.min():.2f}, "
        f"{inj_j.max():.2f}]), {int(true_dup.sum())} true duplicates at J >= {args.threshold}"
    )
    t = args.threshold
    configs = [
        ("default: 256 perm + verify", MinHashParams(threshold=t)),
        ("verify with 32-bit values", MinHashParams(threshold=t, verify_bits=32)),
        ("512 perm + verify", MinHashParams(threshold=t, num_perm=512)),
        ("128 perm + verify", MinHashParams(threshold=t, num_perm=128)),
        (
            "LSH only, 256 perm, 0.5/0.5",
            MinHashParams(threshold=t, verify=False, false_positive_weight=0.5, false_negative_weight=0.5),
        ),
        (
            "LSH only, 128 perm, 0.5/0.5",
            MinHashParams(
                threshold=t, verify=False, num_perm=128, false_positive_weight=0.5, false_negative_weight=0.5
            ),
        ),
    ]
    rows = []
    for name, params in configs:
        op = MinHashDedup(params)
        keep, secs = run_minhash(op, texts)
        p, r, f = scores(~keep, true_dup)
        rows.append((name, f"{op.bands}x{op.rows}", p, r, f, len(texts) / secs))
    print(
        f"\n{'configuration':26} {'bands x rows':>12} {'precision':>9} {'recall':>7} {'F1':>6} {'docs/s':>8}"
    )
    for name, br, p, r, f, dps in rows:
        print(f"{name:26} {br:>12} {p:9.4f} {r:7.4f} {f:6.4f} {dps:8.0f}")
    # removal rate by exact Jaccard of the injected copy (default configuration)
    keep, _ = run_minhash(MinHashDedup(configs[0][1]), texts)
    print("\nremoval rate of injected copies by exact Jaccard (default configuration):")
    edges = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0001]
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = [(a, b) for a, b, j in injected if lo <= j < hi]
        if sel:
            removed = np.mean([not keep[max(a, b)] for a, b in sel])
            print(f"  J in [{lo:.2f}, {min(hi, 1):.2f}): {len(sel):5d} copies, {removed:6.1%} removed")


if __name__ == "__main__":
    main()
