"""A synthetic multi-file corpus with known duplicates, short documents and malformed lines."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import write_jsonl

WORDS = ["data", "model", "token", "corpus", "filter", "recipe", "shard", "loss", "domain", "mixture", "weight", "batch", "stream", "worker", "chunk", "signal", "rule", "threshold", "quality", "language", "code", "books", "legal", "chat", "reference", "the", "a", "of", "and", "to", "in", "is", "it"]


def make_corpus(root: Path, n: int = 1500, seed: int = 0) -> dict:
    """Three files (jsonl, jsonl.gz, parquet); about 10% exact duplicates, 5% short docs, a few bad lines."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        if i > 10 and rng.random() < 0.1:
            text = docs[rng.randrange(len(docs))]["text"]  # exact duplicate of an earlier document
            if rng.random() < 0.5:
                text = "  " + text.replace(" ", "   ", 3) + "\n"  # same after whitespace normalisation
        elif rng.random() < 0.05:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 120)))
        doc = {"text": text, "domain": rng.choice(["web", "code", "books"])}
        if i % 3:
            doc = {"id": f"doc-{i}", **doc}
        docs.append(doc)
    third = n // 3
    a = [json.dumps(d) for d in docs[:third]]
    a.insert(50, '{"text": broken json')
    a.insert(120, json.dumps({"id": "nulltext", "text": None}))
    write_jsonl(root / "a.jsonl", a)
    write_jsonl(root / "b.jsonl.gz", docs[third : 2 * third], gz=True)
    rest = docs[2 * third :]
    pq.write_table(
        pa.table({"id": [d.get("id") for d in rest], "text": [d["text"] for d in rest], "domain": [d["domain"] for d in rest]}),
        root / "c.parquet",
        row_group_size=200,
    )
    return {"docs": n, "bad": 2}
