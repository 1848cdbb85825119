"""Held-out accuracy of ``content_kind`` and its speed beside ``lang_id`` (cld2) on the same documents.

    python bench/content_kind/run.py

The held-out set is the quarter of source files that ``train.py`` never saw (split by source file; generated
tables and logs by generator style). Prints per-kind precision/recall, code-vs-prose F1, the code-language
confusion, and documents per second of both operators on the held-out excerpts plus the project sample.
"""

from __future__ import annotations

import gzip
import json
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
    texts = [r["text"] for r in test] + sample
    mb = sum(map(len, texts)) / 1e6
    lang = LangID()
    lang.setup()
    op.setup()
    print(f"\nspeed on {len(texts)} documents ({mb:.1f} MB: held-out excerpts + data/sample.jsonl.gz), best of 3")
    print("| operator | docs/s | MB/s | ratio |\n|---|---|---|---|")
    best = {}
    for name, o in (("lang_id (cld2)", lang), ("content_kind", op)):
        times = []
        for _ in range(3):
            b = Batch(pa.table({"text": texts}))
            t0 = time.perf_counter()
            o.apply(b)
            times.append(time.perf_counter() - t0)
        best[name] = min(times)
    for name, t in best.items():
        print(f"| {name} | {len(texts) / t:,.0f} | {mb / t:.2f} | {best['lang_id (cld2)'] / t:.2f}x |")


if __name__ == "__main__":
    main()
