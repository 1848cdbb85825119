"""Held-out accuracy of ``content_kind`` and its speed beside ``lang_id`` (cld2) on the same documents.

    python bench/content_kind/run.py [--repeats 5] [--small-batch 256]

The held-out set is the quarter of source files that ``train.py`` never saw (split by source file; generated
tables and logs by generator style). Prints per-kind precision/recall, code-vs-prose F1, the code-language
confusion, and the speed of both operators on the held-out excerpts plus the project sample: ``lang_id`` as a
user runs it (default backend, cld2), each operator on a fresh batch, the whole set as one batch and again in
small batches, runs interleaved (lang_id, content_kind, lang_id...) and the best of ``--repeats`` kept, by wall
clock and by CPU time of the process (steadier on a shared machine).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa

from gristmill.batch import Batch
from gristmill.ops.content_kind import ContentKind
from gristmill.ops.content_kind_features import KINDS, LANGUAGES
from gristmill.ops.lang import LangID
from train import is_test, load  # noqa: I001 - sibling script

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of each operator (best kept)")
    ap.add_argument("--small-batch", type=int, default=256, help="documents per batch in the second timing")
    args = ap.parse_args()
    test = [r for r in load() if is_test(r["source"])]
    op = ContentKind()
    sig = op.apply(Batch(pa.table({"text": [r["text"] for r in test]})))
    pred, gold = sig["kind"], [r["kind"] for r in test]
    print(f"held-out: {len(test)} excerpts from {len({r['source'] for r in test})} source files\n")
    print("| kind | n | precision | recall |\n|---|---|---|---|")
    for k in KINDS:
        tp = sum(p == g == k for p, g in zip(pred, gold))
        np_, ng = pred.count(k), gold.count(k)
        print(f"| {k} | {ng} | {tp / np_ if np_ else 0:.3f} | {tp / ng if ng else 0:.3f} |")
    pairs = [(p, g) for p, g in zip(pred, gold) if g in ("code", "prose")]
    tp = sum(p == g == "code" for p, g in pairs)
    prec = tp / max(1, sum(p == "code" for p, _ in pairs))
    rec = tp / max(1, sum(g == "code" for _, g in pairs))
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    acc = sum(p == g for p, g in zip(pred, gold)) / len(gold)
    print(f"\ncode vs prose (held-out code and prose documents, n={len(pairs)}): precision {prec:.3f} recall {rec:.3f} F1 {f1:.3f}")
    print(f"7-kind accuracy: {acc:.3f}")
    conf = Counter((r["language"], lang) for r, lang in zip(test, sig["code_language"]) if r["kind"] == "code" and lang)
    print("\ncode-language confusion (rows: true, columns: predicted; documents predicted code or mixed)")
    print("| true \\ pred | " + " | ".join(LANGUAGES) + " | accuracy |\n|---" * 1 + "|---" * (len(LANGUAGES) + 1) + "|")
    for a in LANGUAGES:
        row = [conf[(a, b)] for b in LANGUAGES]
        print(f"| {a} | " + " | ".join(map(str, row)) + f" | {conf[(a, a)] / max(1, sum(row)):.2f} |")
    with gzip.open(ROOT / "data/sample.jsonl.gz", "rt") as f:
        sample = [json.loads(line)["text"] for line in f]
    speed([r["text"] for r in test] + sample, args.repeats, args.small_batch)


def speed(texts: list[str], repeats: int, small: int) -> None:
    """Both operators on the same documents in the same process, interleaved; best of ``repeats``."""
    mb = sum(len(t.encode()) for t in texts) / 1e6
    ops = {"lang_id (cld2)": LangID(), "content_kind": ContentKind()}
    for o in ops.values():
        o.setup()
    print(f"\nspeed on {len(texts)} documents ({mb:.1f} MB of UTF-8: held-out excerpts + data/sample.jsonl.gz), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; best of {repeats}, interleaved")
    print("| batch size | operator | docs/s | MB/s | ratio (wall) | ratio (CPU time) |\n|---|---|---|---|---|---|")
    for size in (len(texts), small):
        tables = [pa.table({"text": texts[i : i + size]}) for i in range(0, len(texts), size)]
        wall: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for _ in range(repeats):
            for name, o in ops.items():
                batches = [Batch(t) for t in tables]  # fresh, as the engine hands each block to a step
                w0, c0 = time.perf_counter(), time.process_time()
                for b in batches:
                    o.apply(b)
                w, c = time.perf_counter() - w0, time.process_time() - c0
                wall[name], cpu[name] = min(wall.get(name, w), w), min(cpu.get(name, c), c)
        base = "lang_id (cld2)"
        for name in ops:
            print(f"| {size} | {name} | {len(texts) / wall[name]:,.0f} | {mb / wall[name]:.2f} | "
                  f"{wall[base] / wall[name]:.2f}x | {cpu[base] / cpu[name]:.2f}x |")


if __name__ == "__main__":
    main()
