"""Check the dedup / PII / language operators against the dirty sample's manifest of injected problems.

    .venv/bin/python bench/dedup_quality/dirty_check.py [--data data/dirty.jsonl.gz]

Reports, per injected kind, how many the operators catch (recall against the manifest) and how much they
flag in the 500 unmodified documents (an upper bound on false positives: real docs may hold real PII).
Operators run directly, in one process, on the whole file as one batch.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa

from gristmill.batch import Batch
from gristmill.ops.base import SignatureSource
from gristmill.ops.dedup import ExactDedup
from gristmill.ops.lang import LangID, LangIDParams
from gristmill.ops.lines_dedup import LinesDedup, LinesDedupParams
from gristmill.ops.minhash import MinHashDedup
from gristmill.ops.pii import find_pii

TYPE_OF = {
    "ipv4": "ip",
    "ipv6": "ip",
    "jwt": "secret",
    "private_key": "secret",
    "aws_access_key_id": "secret",
    "aws_secret_access_key": "secret",
}
CANDIDATES = [Path("data/dirty.jsonl.gz"), Path("/work/wt-sample/data/dirty.jsonl.gz")]


def load(path: Path) -> list[dict]:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(r, dict) and isinstance(r.get("text"), str):
                rows.append(r)
    return rows


def run_global(op, batch: Batch) -> np.ndarray:
    sig = op.signature(batch)
    dec = op.decide(SignatureSource([0], lambda _: sig))
    keep = op.apply_decision(batch, 0, dec)
    return np.ones(batch.num_rows, bool) if keep is None else keep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    path = Path(args.data) if args.data else next((p for p in CANDIDATES if p.exists()), None)
    if path is None:
        raise SystemExit("no dirty.jsonl.gz found; pass --data")
    manifest = json.loads((path.parent / "dirty_manifest.json").read_text())["kinds"]
    rows = load(path)
    ids = [r["id"] for r in rows]
    pos = {i: k for k, i in enumerate(ids)}
    texts = [r["text"] for r in rows]
    unmodified = [i for i in ids if not i.startswith("dirty-")]
    print(f"{path}: {len(rows)} well-formed documents, {len(unmodified)} unmodified\n")

    # PII: every injected value must lie inside a match of its type
    found, total = Counter(), Counter()
    for d in manifest["pii"]["details"]:
        matches = find_pii(texts[pos[d["id"]]])
        for item in d["items"]:
            total[item["type"]] += 1
            v = item["value"]
            if any(
                m.kind == TYPE_OF.get(item["type"], item["type"]) and (v in m.text or m.text in v)
                for m in matches
            ):
                found[item["type"]] += 1
    clean_hits = Counter(m.kind for i in unmodified for m in find_pii(texts[pos[i]]))
    print(f"{'PII type':14} {'injected':>8} {'found':>6} {'recall':>7} {'matches in unmodified docs':>28}")
    for t in sorted(total):
        print(f"{t:14} {total[t]:8d} {found[t]:6d} {found[t] / total[t]:7.1%} {clean_hits.get(t, 0):28d}")

    # exact then near duplicates, as a recipe would run them
    batch = Batch(pa.table({"id": ids, "text": texts}))
    keep_exact = run_global(ExactDedup(), batch)
    kept = batch.filter(keep_exact)
    keep_near = run_global(MinHashDedup(), kept)
    kept_ids = set(np.array(kept.table.column("id").to_pylist())[keep_near])

    def gone(a: str, b: str) -> bool:  # one of the pair removed: the dedup did its job
        return a not in kept_ids or b not in kept_ids

    ex = manifest["exact_duplicate"]["details"]
    print(
        f"\nexact-duplicate pairs resolved (copy or original removed): "
        f"{sum(gone(d['id'], d['original_id']) for d in ex)}/{len(ex)}"
    )
    print(f"{'near-duplicate pairs (5-gram J)':32} {'injected':>8} {'resolved':>8}")
    near = manifest["near_duplicate"]["details"]
    for lo, hi in [(0.0, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01)]:
        sel = [d for d in near if lo <= d["jaccard_5gram"] < hi]
        if sel:
            print(
                f"  J in [{lo:.1f}, {min(hi, 1):.1f}){'':16} {len(sel):8d} {sum(gone(d['id'], d['original_id']) for d in sel):8d}"
            )
    other = manifest["other_similar_pairs"]["details"]
    for lo, hi in [(0.5, 0.8), (0.8, 1.01)]:
        sel = [(a, b) for a, b, j in other if lo <= j < hi]
        print(
            f"  other similar pairs, J in [{lo:.1f}, {min(hi, 1):.1f}) {len(sel):8d} {sum(gone(a, b) for a, b in sel):8d}"
        )
    lost = [i for i in unmodified if i not in kept_ids]
    print(f"unmodified documents removed by dedup: {len(lost)} (e.g. {lost[:4]})")

    # boilerplate lines
    bp = Batch(pa.table({"id": ids, "text": texts}))
    keep_bp = run_global(LinesDedup(LinesDedupParams(min_docs=3), step="bp"), bp)
    removed_lines = np.asarray(bp.table.column("bp.lines_removed").to_pylist())
    bp_ids = manifest["boilerplate"]["ids"]
    hit = sum(removed_lines[pos[i]] > 0 or not keep_bp[pos[i]] for i in bp_ids)
    print(
        f"\nboilerplate docs with lines removed or dropped: {hit}/{len(bp_ids)}; unmodified docs touched: "
        f"{sum(removed_lines[pos[i]] > 0 for i in unmodified)}/{len(unmodified)}"
    )

    # mixed-language documents
    op = LangID(LangIDParams())
    sig = op.apply(Batch(pa.table({"text": texts})))
    mixed_ids = manifest["mixed_language"]["ids"]
    multi_clean = [i for i in unmodified if i.startswith("multilingual-")]
    print(
        f"mixed-language docs flagged mixed: {sum(bool(sig['mixed'][pos[i]]) for i in mixed_ids)}/{len(mixed_ids)}; "
        f"unmodified multilingual docs flagged: {sum(bool(sig['mixed'][pos[i]]) for i in multi_clean)}/{len(multi_clean)}"
    )


if __name__ == "__main__":
    main()
